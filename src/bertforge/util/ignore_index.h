// The label of a position no loss is taken at: PyTorch's cross_entropy ignore_index default, which HF's models
// and DataCollatorForLanguageModeling use for every token that is not predicted. The collator writes it, the
// model's loss and the masked-token metrics skip it.
#pragma once
#include <cstdint>

namespace bertforge {

constexpr std::int64_t kIgnoreIndex = -100;

}  // namespace bertforge
