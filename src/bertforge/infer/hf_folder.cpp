#include "bertforge/infer/hf_folder.h"

#include <unistd.h>

#include <filesystem>

#include "bertforge/model/pretrained.h"
#include "bertforge/model/safetensors.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::infer {
namespace {

// Rewrites a saved pre-training folder as BertForMaskedLM's: without the pooler and the NSP head.
void keep_masked_lm_only(const std::string& out) {
  std::string weights = (fs::path(out) / "model.safetensors").string();
  std::vector<std::pair<std::string, at::Tensor>> kept;
  {
    model::SafetensorsFile f(weights);
    for (const auto& e : f.entries())
      if (e.name.rfind("bert.pooler.", 0) != 0 && e.name.rfind("cls.seq_relationship.", 0) != 0)
        kept.emplace_back(e.name, f.tensor(e.name).clone());  // clone: the mapping closes before the rewrite
  }
  model::save_safetensors(weights, kept);
  std::string config_path = (fs::path(out) / "config.json").string();
  model::BertConfig config = model::BertConfig::load(config_path);
  config.extra["architectures"] = R"(["BertForMaskedLM"])";
  config.save(config_path);
}

// Refuses an `out` that holds anything: nothing of the user's (a model, a tokenizer, notes) is replaced.
void check_new_folder(const std::string& out) {
  if (!fs::exists(out)) return;
  if (!fs::is_directory(out)) fail_at(out, 0, "exists and is not a folder; choose a new folder");
  for (const char* name : {"config.json", "model.safetensors"})
    if (fs::exists(fs::path(out) / name)) fail_at(out, 0, std::string("already holds ") + name + "; choose a new folder");
  if (!fs::is_empty(out))
    fail_at(out, 0, "already holds " + fs::directory_iterator(out)->path().filename().string() +
                        "; choose a new or empty folder (nothing in it is replaced)");
}

void write_files(ModelDir& m, const std::string& out, Head head) {
  text::save_pretrained(m.tokenizer, out);
  model::save_pretrained(*m.model, out);
  if (head == Head::masked_lm) keep_masked_lm_only(out);
}

}  // namespace

void write_hf_folder(ModelDir& m, const std::string& out, Head head) {
  check_new_folder(out);
  // Written beside `out` and renamed into place: an export that fails leaves no half-written folder.
  const std::string tmp = out + ".partial." + std::to_string(getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    write_files(m, tmp, head);
    if (fs::exists(out)) fs::remove(out);  // the empty folder check_new_folder allowed
    durable_rename(tmp, out);
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw;
  }
}

}  // namespace bertforge::infer
