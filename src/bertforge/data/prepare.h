// prepare: corpus -> documents -> sentences -> ids -> pairs -> shards + manifest, in bounded memory.
//
// The corpus is cut into chunks of whole documents of about chunk_bytes of text, in input order. Each chunk
// is split into sentences, tokenized and turned into pairs on its own (its documents are the pool random
// B sentences come from), with an Rng seeded from (seed, chunk, dupe round), and the chunks are written in
// order. So the output depends on seed and chunk_bytes, never on the thread count; memory holds at most
// threads + 2 chunks (one being read, one per worker, one being written). A one-chunk corpus (up to
// chunk_bytes, 8 MB of text by default) draws random sentences from all its documents, as the reference does.
// The output folder gets shard files, the tokenizer's files as resolved (text::save_pretrained: vocab.txt,
// tokenizer.json, tokenizer_config.json, special_tokens_map.json, so that training finds the tokenizer the
// ids came from) and, last, manifest.json (see shard.h) with the options and statistics.
// It is built under a temporary name and swapped in only when complete (util/atomic_folder.h AtomicFolder): a
// run that fails (a bad option, a bad input line, an empty corpus, a full disk) leaves what was there before
// intact. A folder that already holds a dataset is replaced only with `overwrite`; any other non-empty
// folder never is.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bertforge/data/corpus.h"
#include "bertforge/data/pairs.h"
#include "bertforge/data/sentences.h"
#include "bertforge/data/shard.h"
#include "bertforge/text/tokenizer.h"

namespace bertforge::data {

// The most dupe rounds: each chunk's RNG streams are numbered chunk * 1024 + round, so more rounds would
// repeat the next chunk's streams (Google's BERT uses 10).
constexpr int kMaxDupeFactor = 1024;

struct PrepareOptions {
  std::vector<std::string> inputs;
  std::string output;                       // folder (created)
  bool overwrite = false;                   // replace a prepared dataset already in `output`
  CorpusOptions corpus;
  SentenceSplit split = SentenceSplit::english;
  PairOptions pairs;
  int dupe_factor = 1;
  std::uint64_t seed = 42;
  std::size_t chunk_bytes = std::size_t(8) << 20;
  int threads = 1;
};

// The vocabulary identity and special ids of a tokenizer, as shards record them.
ShardMeta shard_meta(const text::Tokenizer& tokenizer, SentenceTask task);
// continuation[id]: the token is a WordPiece continuation ("##" piece), the collator's whole-word boundaries.
std::vector<bool> continuation_table(const text::Tokenizer& tokenizer);

// Runs the whole preparation; returns the manifest written. Options out of range (max_seq_length < 5,
// short_seq_prob outside [0, 1] or NaN, dupe_factor outside [1, kMaxDupeFactor] or more rounds than this
// machine's memory holds for the corpus) are UsageErrors before anything is read or written; so in plan().
nlohmann::json prepare(const text::Tokenizer& tokenizer, const PrepareOptions& options);

// --dry-run: reads the whole corpus (documents, sentences), runs the full pipeline on its first chunk
// (at most sample_bytes) and extrapolates pairs, tokens, disk, RAM and time. Writes nothing.
nlohmann::json plan(const text::Tokenizer& tokenizer, const PrepareOptions& options,
                    std::size_t sample_bytes = std::size_t(4) << 20);

}  // namespace bertforge::data
