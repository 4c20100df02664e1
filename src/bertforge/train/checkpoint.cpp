#include "bertforge/train/checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <torch/serialize/archive.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <regex>
#include <sstream>

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/atomic_folder.h"
#include "bertforge/util/error.h"

namespace fs = std::filesystem;

namespace bertforge::train {

namespace {
const std::regex kCheckpoint(R"(^checkpoint-(\d+)$)");
const char* kTempPrefix = "tmp-checkpoint-";       // being written
const char* kDoomedPrefix = "tmp-old-checkpoint-";  // being deleted

// Deleting a folder file by file is not atomic: a kill midway would leave a checkpoint-N without some of its
// files, which resume would pick up. Renaming it out of the checkpoint-N namespace first is atomic.
void remove_checkpoint(const fs::path& folder) {
  fs::path doomed = folder.parent_path() / (kDoomedPrefix + std::to_string(checkpoint_step(folder.string())));
  std::error_code ec;
  fs::remove_all(doomed, ec);
  fs::rename(folder, doomed, ec);
  if (ec) fail_at(folder.string(), 0, "cannot remove old checkpoint: " + ec.message());
  fs::remove_all(doomed, ec);
}
}  // namespace

std::string checkpoint_name(std::int64_t step) { return "checkpoint-" + std::to_string(step); }

std::int64_t checkpoint_step(const std::string& folder) {
  std::smatch m;
  const std::string name = fs::path(folder).filename().string();
  if (!std::regex_match(name, m, kCheckpoint)) fail_at(folder, 0, "not a checkpoint-<step> folder");
  return std::stoll(m[1].str());
}

std::string write_checkpoint(const std::string& output_dir, std::int64_t step,
                             const std::function<void(const std::string&)>& fill) {
  fs::path temp = fs::path(output_dir) / (kTempPrefix + std::to_string(step));
  fs::path final = fs::path(output_dir) / checkpoint_name(step);
  std::error_code ec;
  fs::remove_all(temp, ec);
  if (!fs::create_directories(temp, ec) && ec)
    fail_at(temp.string(), 0, "cannot create checkpoint folder: " + ec.message());
  try {
    fill(temp.string());
    fsync_tree(temp.string());
    // A checkpoint of the same step (a run resumed from it and saved again) is replaced, not merged.
    if (fs::exists(final)) remove_checkpoint(final);
    durable_rename(temp.string(), final.string());
  } catch (...) {
    fs::remove_all(temp, ec);
    throw;
  }
  return final.string();
}

std::vector<std::string> list_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<std::int64_t, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(output_dir, ec)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (entry.is_directory() && std::regex_match(name, m, kCheckpoint))
      found.emplace_back(std::stoll(m[1].str()), entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(f.second);
  return out;
}

std::optional<std::string> last_checkpoint(const std::string& output_dir) {
  auto all = list_checkpoints(output_dir);
  if (all.empty()) return std::nullopt;
  return all.back();
}

void rotate_checkpoints(const std::string& output_dir, std::int64_t limit, const std::string& best) {
  auto all = list_checkpoints(output_dir);
  if (limit <= 0 || static_cast<std::int64_t>(all.size()) <= limit) return;
  std::vector<std::string> protect{all.back()};
  if (!best.empty()) protect.push_back(fs::path(best).lexically_normal().string());
  std::int64_t keep = std::max<std::int64_t>(limit, protect.size());
  std::int64_t remaining = all.size();
  for (const auto& c : all) {
    if (remaining <= keep) break;
    if (std::find(protect.begin(), protect.end(), fs::path(c).lexically_normal().string()) != protect.end())
      continue;
    remove_checkpoint(c);
    --remaining;
  }
}

void remove_checkpoints_except(const std::string& output_dir, const std::string& keep) {
  const fs::path kept = fs::path(keep).lexically_normal();
  for (const auto& c : list_checkpoints(output_dir))
    if (fs::path(c).lexically_normal() != kept) remove_checkpoint(c);
}

void remove_partial_checkpoints(const std::string& output_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(output_dir, ec))
    for (const char* prefix : {kTempPrefix, kDoomedPrefix})
      if (entry.path().filename().string().rfind(prefix, 0) == 0) fs::remove_all(entry.path(), ec);
}

std::string set_aside_previous_run(const std::string& output_dir) {
  std::vector<fs::path> old;
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    const std::string name = entry.path().filename().string();
    if (name != "prepared" && name != "bertforge.lock" && name.rfind("overwritten-", 0) != 0) old.push_back(entry.path());
  }
  if (old.empty()) return "";
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  fs::path aside = fs::path(output_dir) / (std::string("overwritten-") + stamp);
  for (int n = 2; fs::exists(aside); ++n) aside = fs::path(output_dir) / (std::string("overwritten-") + stamp + "-" + std::to_string(n));
  std::error_code ec;
  fs::create_directory(aside, ec);
  if (ec) fail_at(aside.string(), 0, "cannot create folder for the previous run: " + ec.message());
  for (const auto& p : old) {
    fs::rename(p, aside / p.filename(), ec);
    if (ec) fail_at(p.string(), 0, "cannot move aside to " + aside.string() + ": " + ec.message());
  }
  return aside.string();
}

void save_rng_state(const std::string& path) {
  torch::serialize::OutputArchive archive;
  archive.write("cpu", at::detail::getDefaultCPUGenerator().get_state());
  for (int d = 0; d < static_cast<int>(at::getNumGPUs()); ++d)
    archive.write("cuda/" + std::to_string(d),
                  at::globalContext().defaultGenerator(at::Device(at::kCUDA, d)).get_state());
  save_archive(archive, path);
}

void save_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::ostringstream bytes;
  archive.save_to(bytes);
  AtomicFile out(path);
  out.stream() << bytes.str();
  out.commit();
}

void load_rng_state(const std::string& path) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error&) {
    fail_at(path, 0, "cannot read RNG state");
  }
  at::Tensor state;
  if (!archive.try_read("cpu", state)) fail_at(path, 0, "no CPU generator state");
  at::Generator cpu = at::detail::getDefaultCPUGenerator();  // a handle: copies share the generator
  std::lock_guard<std::mutex> lock(cpu.mutex());
  cpu.set_state(state);
  for (int d = 0; d < static_cast<int>(at::getNumGPUs()); ++d) {
    at::Tensor s;
    at::Generator gpu = at::globalContext().defaultGenerator(at::Device(at::kCUDA, d));
    if (archive.try_read("cuda/" + std::to_string(d), s)) gpu.set_state(s);
  }
}

}  // namespace bertforge::train
