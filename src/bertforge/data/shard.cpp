#include "bertforge/data/shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bertforge/util/atomic_file.h"
#include "bertforge/util/atomic_folder.h"
#include "bertforge/util/checksum.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::data {

namespace {

constexpr char kMagic[8] = {'B', 'F', 'S', 'H', 'A', 'R', 'D', '\0'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint64_t kHeaderBytes = 128;

struct Header {
  char magic[8];
  std::uint32_t version, token_bytes;
  std::uint64_t vocab_hash;
  std::uint32_t vocab_size, task;
  std::uint64_t sequences, tokens, tokens_at, ends_at, type0_at, labels_at, file_size;
};
static_assert(sizeof(Header) == 88, "the documented layout");

int bytes_for(std::uint32_t vocab_size) { return vocab_size <= 256 ? 1 : vocab_size <= 65536 ? 2 : 4; }
std::uint64_t align64(std::uint64_t x) { return (x + 63) / 64 * 64; }
std::uint32_t task_code(SentenceTask t) { return t == SentenceTask::none ? 0 : t == SentenceTask::nsp ? 1 : 2; }

}  // namespace

std::uint64_t vocab_hash(const std::vector<std::string>& tokens) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto feed = [&](unsigned char c) { h = (h ^ c) * 0x100000001b3ULL; };
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i) feed('\n');
    for (unsigned char c : tokens[i]) feed(c);
  }
  return h;
}

struct ShardWriter::Open {
  explicit Open(const std::string& path) : path(path), file(path) {}
  std::string path;
  AtomicFile file;
  std::uint64_t tokens = 0;
  Examples index;  // ends (relative to this shard), type0, labels; ids stay empty
};

ShardWriter::ShardWriter(std::string dir, ShardMeta meta, std::uint64_t max_tokens)
    : dir_(std::move(dir)), meta_(meta), max_tokens_(max_tokens) {}

ShardWriter::~ShardWriter() = default;

void ShardWriter::add(const Examples& ex) {
  const int width = bytes_for(meta_.vocab_size);
  std::vector<char> buf;
  for (std::size_t i = 0; i < ex.size(); ++i) {
    if (open_ && open_->tokens >= max_tokens_) close_shard();
    if (!open_) {
      char name[32];
      std::snprintf(name, sizeof name, "shard-%05zu.bin", shards_.size());
      open_ = std::make_unique<Open>(dir_ + "/" + name);
      open_->file.stream().write(std::string(kHeaderBytes, '\0').data(), kHeaderBytes);
    }
    const std::uint64_t b = ex.begin_of(i), n = ex.ends[i] - b;
    buf.resize(n * width);
    for (std::uint64_t k = 0; k < n; ++k) {
      const std::uint32_t id = static_cast<std::uint32_t>(ex.ids[b + k]);
      if (ex.ids[b + k] < 0 || id >= meta_.vocab_size)
        fail_at(open_->path, 0, "token id " + std::to_string(ex.ids[b + k]) + " outside the vocabulary");
      std::memcpy(buf.data() + k * width, &id, width);  // little-endian: the low bytes first
    }
    open_->file.stream().write(buf.data(), buf.size());
    open_->tokens += n;
    open_->index.ends.push_back(open_->tokens);
    open_->index.type0.push_back(ex.type0[i]);
    if (!ex.labels.empty()) open_->index.labels.push_back(ex.labels[i]);
  }
}

void ShardWriter::close_shard() {
  auto& o = *open_;
  auto& out = o.file.stream();
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.token_bytes = bytes_for(meta_.vocab_size);
  h.vocab_hash = meta_.vocab_hash;
  h.vocab_size = meta_.vocab_size;
  h.task = task_code(meta_.task);
  h.sequences = o.index.size();
  h.tokens = o.tokens;
  h.tokens_at = kHeaderBytes;
  std::uint64_t at = kHeaderBytes + o.tokens * h.token_bytes;
  auto section = [&](const void* data, std::uint64_t bytes) {
    const std::uint64_t start = align64(at);
    out.write(std::string(start - at, '\0').data(), start - at);
    out.write(static_cast<const char*>(data), bytes);
    at = start + bytes;
    return start;
  };
  h.ends_at = section(o.index.ends.data(), o.index.ends.size() * 8);
  h.type0_at = section(o.index.type0.data(), o.index.type0.size() * 4);
  h.labels_at = section(o.index.labels.data(), o.index.labels.size());
  h.file_size = at;
  out.seekp(0);
  out.write(reinterpret_cast<const char*>(&h), sizeof h);
  o.file.commit();
  shards_.push_back({{"file", o.path.substr(dir_.size() + 1)}, {"sequences", h.sequences}, {"tokens", h.tokens},
                     {"crc32", crc32_file(o.path)}});
  open_.reset();
}

nlohmann::json ShardWriter::finish() {
  if (open_) close_shard();
  return shards_;
}

void write_manifest(const std::string& dir, const ShardMeta& meta, const nlohmann::json& shards,
                    const nlohmann::json& extra) {
  nlohmann::json m = {{"format", "bertforge-shards"}, {"version", kVersion},
                      {"vocab_hash", meta.vocab_hash}, {"vocab_size", meta.vocab_size},
                      {"task", task_name(meta.task)}, {"label_column", label_column(meta.task)},
                      {"special_ids", {{"cls", meta.special.cls}, {"sep", meta.special.sep},
                                       {"pad", meta.special.pad}, {"mask", meta.special.mask},
                                       {"unk", meta.special.unk}}},
                      {"shards", shards}};
  m.update(extra);
  write_json_file(dir + "/manifest.json", m);
}

void check_output(const std::string& dir, bool overwrite) {
  check_replaceable(dir, "manifest.json", "a prepared dataset", overwrite, "--overwrite");
}

struct ShardSet::Mapped {
  Mapped(const std::string& path, const ShardMeta& meta, const nlohmann::json& entry);
  ~Mapped() {
    if (base) munmap(const_cast<char*>(base), size);
  }
  const char* base = nullptr;
  std::size_t size = 0;
  Header h{};
  const std::uint64_t* ends = nullptr;
  const std::uint32_t* type0 = nullptr;
  const std::int8_t* labels = nullptr;
};

namespace {
// The first id >= vocab_size, as (sequence, id); the scan is a plain max over the ids, so it vectorises.
template <typename T>
void check_ids(const std::string& path, const T* ids, std::uint64_t tokens, const std::uint64_t* ends,
               std::uint64_t sequences, std::uint32_t vocab_size) {
  T top = 0;
  for (std::uint64_t i = 0; i < tokens; ++i) top = std::max(top, ids[i]);
  if (tokens == 0 || top < vocab_size) return;
  const std::uint64_t at = std::find_if(ids, ids + tokens, [&](T id) { return id >= vocab_size; }) - ids;
  const std::uint64_t seq = std::upper_bound(ends, ends + sequences, at) - ends;
  fail_at(path, 0, "sequence " + std::to_string(seq) + " holds token id " + std::to_string(ids[at]) +
                       ", outside the vocabulary of " + std::to_string(vocab_size) + " (re-run prepare)");
}
}  // namespace

ShardSet::Mapped::Mapped(const std::string& path, const ShardMeta& meta, const nlohmann::json& entry) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail_at(path, 0, "cannot open shard");
  struct stat st {};
  fstat(fd, &st);
  size = st.st_size;
  if (size < sizeof(Header)) {
    ::close(fd);
    fail_at(path, 0, "truncated shard (" + std::to_string(size) + " bytes)");
  }
  void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) fail_at(path, 0, "cannot map shard");
  base = static_cast<const char*>(p);
  std::memcpy(&h, base, sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0) fail_at(path, 0, "not a bertforge shard (bad magic)");
  if (h.version != kVersion) fail_at(path, 0, "shard version " + std::to_string(h.version) + ", expected 1");
  if (h.file_size != size) fail_at(path, 0, "truncated shard: header says " + std::to_string(h.file_size) +
                                                " bytes, file has " + std::to_string(size));
  if (entry.contains("crc32") && crc32_bytes(base, size) != entry["crc32"].get<std::uint32_t>())
    fail_at(path, 0, "checksum differs from manifest.json (the file is corrupt: re-run prepare or restore it)");
  if (h.vocab_hash != meta.vocab_hash || h.vocab_size != meta.vocab_size)
    fail_at(path, 0, "shard vocabulary differs from its manifest");
  if (h.token_bytes != static_cast<std::uint32_t>(bytes_for(h.vocab_size)))
    fail_at(path, 0, "corrupt shard header (token_bytes " + std::to_string(h.token_bytes) + " for vocab_size " +
                         std::to_string(h.vocab_size) + ")");
  if (h.task != task_code(meta.task)) fail_at(path, 0, "shard task differs from its manifest");
  // Each section [at, at + count * width) inside the file, computed without overflow.
  auto inside = [&](std::uint64_t at, std::uint64_t count, std::uint64_t width) {
    return at <= size && count <= (size - at) / width;
  };
  const bool fits = inside(h.tokens_at, h.tokens, h.token_bytes) && inside(h.ends_at, h.sequences, 8) &&
                    inside(h.type0_at, h.sequences, 4) && inside(h.labels_at, h.task ? h.sequences : 0, 1);
  if (!fits || h.tokens_at % h.token_bytes || h.ends_at % 8 || h.type0_at % 4)
    fail_at(path, 0, "corrupt shard header (sections out of bounds)");
  ends = reinterpret_cast<const std::uint64_t*>(base + h.ends_at);
  type0 = reinterpret_cast<const std::uint32_t*>(base + h.type0_at);
  labels = reinterpret_cast<const std::int8_t*>(base + h.labels_at);
  std::uint64_t prev = 0;
  for (std::uint64_t i = 0; i < h.sequences; ++i) {
    if (ends[i] <= prev || ends[i] > h.tokens || type0[i] > ends[i] - prev)
      fail_at(path, 0, "corrupt shard: sequence " + std::to_string(i) + " has bad bounds");
    prev = ends[i];
  }
  if (prev != h.tokens) fail_at(path, 0, "corrupt shard: offsets do not cover the tokens");
  const char* ids = base + h.tokens_at;
  if (h.token_bytes == 1) check_ids(path, reinterpret_cast<const std::uint8_t*>(ids), h.tokens, ends, h.sequences, h.vocab_size);
  else if (h.token_bytes == 2) check_ids(path, reinterpret_cast<const std::uint16_t*>(ids), h.tokens, ends, h.sequences, h.vocab_size);
  else check_ids(path, reinterpret_cast<const std::uint32_t*>(ids), h.tokens, ends, h.sequences, h.vocab_size);
}

ShardSet::ShardSet(const std::string& dir, std::uint64_t expected_vocab_hash) {
  const std::string path = dir + "/manifest.json";
  if (!std::filesystem::exists(path)) fail_at(path, 0, "no manifest (not a prepared folder, or prepare did not finish)");
  manifest_ = read_json_file(path, "manifest");
  if (manifest_.value("format", nlohmann::json()) != "bertforge-shards")
    fail_at(path, 0, "not a bertforge-shards manifest");
  if (manifest_.value("version", nlohmann::json()) != kVersion)
    fail_at(path, 0, "manifest version " + manifest_.value("version", nlohmann::json()).dump() + ", expected 1");
  meta_.vocab_hash = json_field<std::uint64_t>(manifest_, "vocab_hash", path);
  meta_.vocab_size = json_field<std::uint32_t>(manifest_, "vocab_size", path);
  try {
    meta_.task = parse_task(json_field<std::string>(manifest_, "task", path));
  } catch (const Error& e) {
    fail_at(path, 0, std::string("task: ") + e.what());
  }
  const auto& sp = manifest_["special_ids"];
  auto special = [&](const char* key) { return json_field<std::int32_t>(sp, key, path, "special_ids."); };
  meta_.special = {special("cls"), special("sep"), special("pad"), special("mask"), special("unk")};
  if (expected_vocab_hash && expected_vocab_hash != meta_.vocab_hash)
    fail_at(path, 0, "prepared with another vocabulary (vocab hash differs from the tokenizer's)");
  token_bytes_ = bytes_for(meta_.vocab_size);
  const auto& list = manifest_["shards"];
  if (!list.is_array()) fail_at(path, 0, "shards: expected a list of shard files");
  for (const auto& s : list) {
    const std::string file = json_field<std::string>(s, "file", path, "shards[].");
    if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..")
      fail_at(path, 0, "shards[].file: \"" + file + "\" is not a file name inside the folder");
    if (s.contains("crc32")) json_field<std::uint32_t>(s, "crc32", path, "shards[].");  // checked on open
    json_optional<std::uint64_t>(s, "tokens", path, "shards[].");                     // summed by export_hf
    shards_.push_back(std::make_unique<Mapped>(dir + "/" + file, meta_, s));
    first_.push_back(total_);
    total_ += shards_.back()->h.sequences;
  }
}

ShardSet::~ShardSet() = default;

SequenceView ShardSet::get(std::uint64_t i) const {
  const std::size_t s = std::upper_bound(first_.begin(), first_.end(), i) - first_.begin() - 1;
  const Mapped& m = *shards_[s];
  const std::uint64_t k = i - first_[s], b = k ? m.ends[k - 1] : 0;
  return {m.base + m.h.tokens_at + b * m.h.token_bytes, static_cast<std::uint32_t>(m.ends[k] - b), m.type0[k],
          m.h.task ? m.labels[k] : -1};
}

void ShardSet::append(std::uint64_t i, Examples& out) const {
  const SequenceView v = get(i);
  auto widen = [&](const auto* p) { out.ids.insert(out.ids.end(), p, p + v.length); };
  if (token_bytes_ == 1) widen(static_cast<const std::uint8_t*>(v.ids));
  else if (token_bytes_ == 2) widen(static_cast<const std::uint16_t*>(v.ids));
  else widen(static_cast<const std::uint32_t*>(v.ids));
  out.ends.push_back(out.ids.size());
  out.type0.push_back(v.type0);
  if (v.label >= 0) out.labels.push_back(static_cast<std::int8_t>(v.label));
}

}  // namespace bertforge::data
