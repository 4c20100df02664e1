#include "bertforge/train/resume_point.h"

#include <cmath>
#include <filesystem>
#include <limits>
#include <regex>

#include "bertforge/train/trainer_state.h"
#include "bertforge/util/checksum.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace fs = std::filesystem;

namespace bertforge::train {

namespace {
constexpr int kResumeFormat = 2;  // 2: "files" with each file's size and CRC-32, learning_rate_scale

// parent[key], a non-negative integer up to `max`; `name` is the key as the error shows it ("loader.batch").
std::uint64_t field(const nlohmann::json& parent, const char* key, std::uint64_t max, const std::string& path,
                    const std::string& name) {
  auto it = parent.find(key);
  if (it == parent.end() || !it->is_number_unsigned() || it->get<std::uint64_t>() > max)
    fail_at(path, 0, name + ": expected an integer in [0, " + std::to_string(max) + "], found " +
                         (it == parent.end() ? std::string("nothing") : it->dump()));
  return it->get<std::uint64_t>();
}
}  // namespace

void save_resume_point(const std::string& path, ResumePoint p) {
  const fs::path folder = fs::path(path).parent_path();
  p.files = nlohmann::json::object();
  for (const auto& e : fs::directory_iterator(folder))
    if (e.is_regular_file() && e.path() != fs::path(path))
      p.files[e.path().filename().string()] = {{"bytes", e.file_size()}, {"crc32", crc32_file(e.path().string())}};
  write_json_file(path, {{"format", "bertforge-resume"},
                         {"version", kResumeFormat},
                         {"phase", p.phase},
                         {"phase_start_step", p.phase_start_step},
                         {"loader", {{"epoch", p.loader.epoch}, {"batch", p.loader.batch}}},
                         {"learning_rate_scale", p.lr_scale},
                         {"files", p.files}});
}

ResumePoint load_resume_point(const std::string& path) {
  if (!fs::exists(path)) fail_at(path, 0, "missing (not a bertforge checkpoint? HF folders continue with --model DIR)");
  nlohmann::json j = read_json_file(path, "bertforge resume file");
  if (j.value("format", nlohmann::json()) != "bertforge-resume") fail_at(path, 0, "not a bertforge resume file");
  const nlohmann::json version = j.value("version", nlohmann::json());
  if (version != 1 && version != kResumeFormat)
    fail_at(path, 0, "resume format version " + version.dump() + " is not supported");
  const auto& loader = j.value("loader", nlohmann::json());
  if (!loader.is_object()) fail_at(path, 0, "loader: expected an object {\"epoch\", \"batch\"}");
  constexpr std::uint64_t any = std::numeric_limits<std::uint64_t>::max();
  ResumePoint p;
  p.phase = static_cast<int>(field(j, "phase", std::numeric_limits<int>::max(), path, "phase"));
  p.phase_start_step = static_cast<std::int64_t>(
      field(j, "phase_start_step", std::numeric_limits<std::int64_t>::max(), path, "phase_start_step"));
  p.loader.epoch = field(loader, "epoch", any, path, "loader.epoch");
  p.loader.batch = field(loader, "batch", any, path, "loader.batch");
  const nlohmann::json scale = j.value("learning_rate_scale", nlohmann::json(1.0));
  if (!scale.is_number() || !(scale.get<double>() > 0 && scale.get<double>() <= 1))
    fail_at(path, 0, "learning_rate_scale: expected a number in (0, 1], found " + dump_json(scale));
  p.lr_scale = scale.get<double>();
  if (version == 1) return p;
  // A checkpoint always holds its weights beside this file: no list, or an empty one, is a damaged file.
  const auto& files = j.value("files", nlohmann::json());
  if (!files.is_object() || files.empty()) fail_at(path, 0, "files: expected an object of the checkpoint's files");
  for (const auto& [name, f] : files.items()) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      fail_at(path, 0, "files: \"" + name + "\" is not a file name inside the checkpoint");
    if (!f.is_object()) fail_at(path, 0, "files." + name + ": expected an object {\"bytes\", \"crc32\"}");
    field(f, "bytes", any, path, "files." + name + ".bytes");
    field(f, "crc32", std::numeric_limits<std::uint32_t>::max(), path, "files." + name + ".crc32");
  }
  p.files = files;
  return p;
}

ResumePoint verify_checkpoint(const std::string& checkpoint) {
  const std::string state_path = checkpoint + "/bertforge_state.json";
  if (!fs::exists(state_path) && fs::exists(checkpoint + "/model.safetensors"))
    fail_at(checkpoint, 0, "holds the model only (saved with save_only_model), nothing to resume from (start a new "
                           "run from its weights with --model " + checkpoint + ")");
  ResumePoint p = load_resume_point(state_path);
  for (const auto& [name, f] : p.files.items()) {
    const std::string file = checkpoint + "/" + name;
    std::error_code ec;
    const auto bytes = fs::file_size(file, ec);
    if (ec) fail_at(file, 0, "missing (listed in bertforge_state.json)");
    if (bytes != f["bytes"].get<std::uint64_t>())
      fail_at(file, 0, std::to_string(bytes) + " bytes, bertforge_state.json says " + f["bytes"].dump() + " (truncated?)");
    if (crc32_file(file) != f["crc32"].get<std::uint32_t>())
      fail_at(file, 0, "checksum differs from bertforge_state.json (the file is corrupt)");
  }
  const std::string trainer_path = checkpoint + "/trainer_state.json";
  TrainerState s = TrainerState::load(trainer_path);
  auto bad = [&](const std::string& field, const std::string& what) { fail_at(trainer_path, 0, field + " " + what); };
  if (s.global_step < 0) bad("global_step", "is " + std::to_string(s.global_step) + ", must be >= 0");
  std::smatch m;
  const std::string name = fs::path(checkpoint).lexically_normal().filename().string();
  static const std::regex numbered(R"(^checkpoint-(\d+)$)");
  if (std::regex_match(name, m, numbered) && std::to_string(s.global_step) != m[1].str())
    bad("global_step", "is " + std::to_string(s.global_step) + " in a folder named " + name);
  if (s.global_step < p.phase_start_step)
    bad("global_step", "is " + std::to_string(s.global_step) + ", before the phase's start (step " +
                           std::to_string(p.phase_start_step) + " in bertforge_state.json)");
  if (!(s.epoch >= 0) || !std::isfinite(s.epoch)) bad("epoch", "is " + std::to_string(s.epoch) + ", must be >= 0");
  if (!(s.total_flos >= 0) || !std::isfinite(s.total_flos)) bad("total_flos", "must be a finite number >= 0");
  if (s.best_global_step && (*s.best_global_step < 0 || *s.best_global_step > s.global_step))
    bad("best_global_step", "is " + std::to_string(*s.best_global_step) + ", outside [0, global_step]");
  if (!s.log_history.is_array()) bad("log_history", "is not a list");
  return p;
}

}  // namespace bertforge::train
