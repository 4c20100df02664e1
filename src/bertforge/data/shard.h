// Shards: the on-disk form of prepared Examples, memory-mapped by the loader, plus the folder's manifest.
//
// A prepared folder holds shard-NNNNN.bin files and manifest.json. The manifest is written last (temp name,
// then rename), so a folder from an interrupted prepare has no manifest and is rejected; every shard is also
// written under a temporary name and renamed when complete.
//
// Shard file, version 1, little-endian, sections 64-byte aligned (offsets from the start of the file):
//   0   char[8]  magic "BFSHARD\0"
//   8   u32      version (1)
//   12  u32      token_bytes: 1, 2 or 4 — the smallest unsigned type holding every id < vocab_size
//   16  u64      vocab_hash (FNV-1a 64 of the vocabulary, see the tokenizer's vocab file; 0 = unknown)
//   24  u32      vocab_size
//   28  u32      task: 0 none, 1 nsp, 2 sop (whether labels exist and what they mean)
//   32  u64      sequences n
//   40  u64      tokens t
//   48  u64      tokens_at: t ids of token_bytes each, every sequence unpadded ([CLS] A [SEP] B [SEP])
//   56  u64      ends_at:   n x u64, sequence i is tokens [ends[i-1], ends[i])
//   64  u64      type0_at:  n x u32, leading tokens with token_type_ids 0
//   72  u64      labels_at: n x i8 (0 when task is none)
//   80  u64      file_size: the whole file, so a truncated shard is detected on open
// The manifest (manifest.json) records format "bertforge-shards", version, vocab_hash, vocab_size, task,
// special ids, the options that made it, the shard list and statistics (see prepare.h). Each shard entry has
// "file", "sequences", "tokens" and "crc32", the CRC-32 of the whole file (util/checksum.h; manifests written
// before it existed have none and are not checked).
//
// Opening checks every shard before a single batch is made, so a bad file fails in the first second of a
// run, not hours into it: its CRC-32 against the manifest (a flipped byte anywhere), the header and offsets,
// and every token id against vocab_size ("shard-00000.bin: sequence 17 holds token id 40000, outside the
// vocabulary of 30522"). Each is an Error naming the file.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bertforge/data/examples.h"

namespace bertforge::data {

struct ShardMeta {
  std::uint64_t vocab_hash = 0;
  std::uint32_t vocab_size = 0;
  SentenceTask task = SentenceTask::nsp;
  SpecialIds special;
};

// Writes Examples into shard files of at most max_tokens tokens each; finish() returns their manifest
// entries ({"file", "sequences", "tokens", "crc32"}). Ids >= vocab_size throw Error.
class ShardWriter {
 public:
  ShardWriter(std::string dir, ShardMeta meta, std::uint64_t max_tokens = std::uint64_t(1) << 28);
  ~ShardWriter();
  void add(const Examples& examples);
  nlohmann::json finish();

 private:
  struct Open;
  void close_shard();
  std::string dir_;
  ShardMeta meta_;
  std::uint64_t max_tokens_;
  std::unique_ptr<Open> open_;
  nlohmann::json shards_ = nlohmann::json::array();
};

// Writes manifest.json into dir atomically: meta, shard entries, and `extra` keys (options, statistics).
void write_manifest(const std::string& dir, const ShardMeta& meta, const nlohmann::json& shards,
                    const nlohmann::json& extra);

// Fails unless `dir` may receive a prepared folder: absent, empty, or (with `overwrite`) holding a manifest.
// Writers (prepare, import) call it before reading any input and build the folder with AtomicFolder.
void check_output(const std::string& dir, bool overwrite);

// One sequence as the loader sees it: ids point into the mapped file (token_bytes wide).
struct SequenceView {
  const void* ids;
  std::uint32_t length, type0;
  int label;  // -1 when the task is none
};

// A prepared folder, memory-mapped: manifest checked, every shard validated (checksum, magic, version, size,
// offsets, token ids) on open; a mismatch throws Error naming the file. expected_vocab_hash != 0 must equal
// the shards'.
class ShardSet {
 public:
  explicit ShardSet(const std::string& dir, std::uint64_t expected_vocab_hash = 0);
  ~ShardSet();
  std::uint64_t size() const { return total_; }
  const ShardMeta& meta() const { return meta_; }
  const nlohmann::json& manifest() const { return manifest_; }
  int token_bytes() const { return token_bytes_; }
  SequenceView get(std::uint64_t i) const;
  // Appends sequence i to `out` (ids, type0, label).
  void append(std::uint64_t i, Examples& out) const;
  std::uint32_t length(std::uint64_t i) const { return get(i).length; }

 private:
  struct Mapped;
  std::vector<std::unique_ptr<Mapped>> shards_;
  std::vector<std::uint64_t> first_;  // global index of each shard's first sequence
  std::uint64_t total_ = 0;
  int token_bytes_ = 4;
  ShardMeta meta_;
  nlohmann::json manifest_;
};

// FNV-1a 64 of the vocabulary tokens joined by '\n' (in id order): identifies a vocabulary in shard headers.
std::uint64_t vocab_hash(const std::vector<std::string>& tokens);

}  // namespace bertforge::data
