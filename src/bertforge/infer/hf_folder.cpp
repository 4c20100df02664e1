#include "bertforge/infer/hf_folder.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "bertforge/model/pretrained.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::infer {

void write_hf_folder(ModelDir& m, const std::string& out) {
  for (const char* name : {"config.json", "model.safetensors"})
    if (fs::exists(fs::path(out) / name)) fail_at(out, 0, std::string("already holds ") + name + "; choose a new folder");
  text::SaveTokenizerOptions options;  // BERT's five special tokens, which save_tokenizer checks are there
  options.lower_case = m.tokenizer.config().normalizer.lowercase;
  fs::create_directories(out);
  text::save_tokenizer(out, m.tokenizer.vocab().tokens(), options);
  nlohmann::json map = {{"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"},
                        {"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}};
  AtomicFile special((fs::path(out) / "special_tokens_map.json").string());
  special.stream() << map.dump(2) << "\n";
  special.commit();
  model::save_pretrained(*m.model, out);
}

}  // namespace bertforge::infer
