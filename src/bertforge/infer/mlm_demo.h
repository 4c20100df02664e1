// The reference's closing demo: mask a text as pre-training does and show what the model predicts.
//   tokenize ([CLS] text [SEP]; longer than max_position_embeddings is an Error, as in fill-mask) -> mask with the data pipeline's MLM collator
//   (HF DataCollatorForLanguageModeling semantics: 15% selected, 80/10/10, specials never; seeded, so a run
//   repeats) -> forward -> argmax at every position.
// The decoded masked input and argmax output show the first `shown` tokens, as the reference prints them;
// the accuracy counts argmax == original token over the selected positions.
#pragma once
#include <cstdint>
#include <string>

#include "bertforge/infer/model_dir.h"

namespace bertforge::infer {

struct MlmDemoOptions {
  double mlm_probability = 0.15;
  std::uint64_t seed = 42;
  int shown = 30;  // tokens decoded for display (>= 1)
};

struct MlmDemo {
  std::string input, output;  // decoded, special tokens kept (so [MASK] shows)
  std::int64_t tokens = 0, masked = 0, correct = 0;
};

MlmDemo mlm_demo(ModelDir& m, const std::string& text, const MlmDemoOptions& options);

}  // namespace bertforge::infer
