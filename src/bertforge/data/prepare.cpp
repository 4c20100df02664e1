#include "bertforge/data/prepare.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>

#include "bertforge/data/stats.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/util/atomic_folder.h"
#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"
#include "bertforge/util/ordered_pool.h"
#include "bertforge/util/progress.h"

namespace bertforge::data {

ShardMeta shard_meta(const text::Tokenizer& tokenizer, SentenceTask task) {
  std::vector<std::string> tokens;
  for (std::int32_t id = 0; id < tokenizer.vocab_size(); ++id) tokens.push_back(tokenizer.id_to_token(id));
  return {vocab_hash(tokens), static_cast<std::uint32_t>(tokenizer.vocab_size()), task,
          {tokenizer.cls_id(), tokenizer.sep_id(), tokenizer.pad_id(), tokenizer.mask_id(), tokenizer.unk_id()}};
}

std::vector<bool> continuation_table(const text::Tokenizer& tokenizer) {
  const std::string& prefix = tokenizer.config().wordpiece.continuing_subword_prefix;
  std::vector<bool> out(tokenizer.vocab_size());
  for (std::int32_t id = 0; id < tokenizer.vocab_size(); ++id) out[id] = tokenizer.id_to_token(id).rfind(prefix, 0) == 0;
  return out;
}

namespace {

struct Chunk {
  std::uint64_t index = 0, text_bytes = 0;
  std::vector<Document> docs;
};

struct ChunkResult {
  Examples examples;
  std::uint64_t sentences = 0;
};

// One chunk's work: sentences, ids, pairs. Pure function of (chunk, options): the thread count never matters.
ChunkResult process(const text::Tokenizer& tok, const PrepareOptions& o, Chunk& chunk) {
  TokenizedDocuments docs;
  std::vector<std::int32_t> ids;
  text::Words words;
  ChunkResult r;
  auto add = [&](std::string_view s) {
    ids.clear();
    tok.encode_into(s, ids, words);
    docs.add_sentence(ids);
    ++r.sentences;
  };
  for (const auto& d : chunk.docs) {
    for (const auto& line : d.lines) {
      if (d.presplit || o.split == SentenceSplit::none) add(line);
      else for (auto s : split_sentences(line)) add(s);
    }
    docs.end_document();
  }
  chunk.docs = {};
  for (int round = 0; round < o.dupe_factor; ++round) {
    Rng rng(o.seed, chunk.index * 1024 + round);
    build_examples(docs, o.pairs, rng, r.examples);
  }
  return r;
}

// Reads the corpus and cuts it into chunks of whole documents; calls fn(chunk) for each, in order.
CorpusStats for_each_chunk(const PrepareOptions& o, const std::function<void(Chunk&&)>& fn,
                           const std::function<void(std::uint64_t)>& on_bytes) {
  Chunk chunk;
  auto stats = read_corpus(o.inputs, o.corpus, [&](Document&& d) {
    for (const auto& l : d.lines) chunk.text_bytes += l.size();
    chunk.docs.push_back(std::move(d));
    if (chunk.text_bytes < o.chunk_bytes) return;
    const std::uint64_t next = chunk.index + 1;
    fn(std::move(chunk));
    chunk = Chunk{next, 0, {}};
  }, on_bytes);
  if (!chunk.docs.empty()) fn(std::move(chunk));
  return stats;
}

// How errors about the whole corpus name it.
std::string corpus_name(const PrepareOptions& o) {
  if (o.inputs.empty()) return "the corpus";
  return o.inputs.size() == 1 ? o.inputs[0] : o.inputs[0] + " (and " + std::to_string(o.inputs.size() - 1) + " more)";
}

std::string gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, bytes < 1e10 ? "%.3g GB" : "%.0f GB", bytes / 1e9);
  return buf;
}

// Refused before anything is read or written, with the range allowed. A chunk's pairs of every dupe round
// are held until written: about 2 bytes per text byte and round (4-byte ids, about one per 4 text bytes,
// with vector slack), besides the text and its sentence ids; with threads + 2 chunks in flight that has to
// fit in this machine's memory, or the run would end in an out-of-memory error after reading for minutes.
void check_options(const PrepareOptions& o) {
  const double inf = std::numeric_limits<double>::infinity();
  check_option("--max_seq_length", o.pairs.max_seq_length, {5, inf});
  check_option("--short_seq_prob", o.pairs.short_seq_prob, {0, 1});
  check_option("--dupe_factor", o.dupe_factor, {1, kMaxDupeFactor});
  const double corpus = static_cast<double>(corpus_bytes(o.inputs));  // 0 for standard input
  const double chunk = corpus > 0 ? std::min<double>(o.chunk_bytes, corpus) : static_cast<double>(o.chunk_bytes);
  const double in_flight = o.threads > 1 ? std::min(o.threads + 2.0, std::ceil(std::max(corpus, 1.0) / chunk)) : 1;
  const double need = in_flight * chunk * (2.0 + 2.0 * o.dupe_factor);
  const double ram = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (ram > 0 && need > ram)
    throw UsageError("--dupe_factor: " + std::to_string(o.dupe_factor) + " rounds over chunks of " + gigabytes(chunk) +
                     " need about " + gigabytes(need) + " of memory, more than this machine's " + gigabytes(ram) +
                     " (lower --dupe_factor or --chunk-mb)");
}

nlohmann::json options_json(const PrepareOptions& o) {
  return {{"inputs", o.inputs}, {"strategy", o.pairs.strategy == PairStrategy::sentence ? "sentence" : "segment"},
          {"max_seq_length", o.pairs.max_seq_length}, {"short_seq_prob", o.pairs.short_seq_prob},
          {"dupe_factor", o.dupe_factor}, {"seed", o.seed}, {"chunk_bytes", o.chunk_bytes},
          {"sentence_split", o.split == SentenceSplit::english ? "english" : "none"},
          {"wikitext_keep_escapes", o.corpus.wikitext_keep_escapes}};
}

nlohmann::json corpus_json(const CorpusStats& c, std::uint64_t sentences) {
  return {{"bytes", c.bytes}, {"records", c.records}, {"documents", c.documents}, {"sentences", sentences},
          {"skipped_invalid_utf8", c.invalid_utf8}, {"skipped_long_lines", c.long_lines},
          {"empty_documents", c.empty_documents}};
}

}  // namespace

nlohmann::json prepare(const text::Tokenizer& tokenizer, const PrepareOptions& o) {
  check_options(o);
  check_output(o.output, o.overwrite);
  const ShardMeta meta = shard_meta(tokenizer, o.pairs.task);
  nlohmann::json extra;
  AtomicFolder(o.output).build([&](const std::string& folder) {
    ShardWriter writer(folder, meta);
    Statistics stats(o.pairs.max_seq_length);
    std::uint64_t sentences = 0;
    Progress progress("prepare", corpus_bytes(o.inputs), "MB", 1e-6);
    // At most threads + 1 chunks in flight (check_options counts on it); one thread: all in the caller.
    OrderedPool pool(o.threads, o.threads + 1);
    auto corpus = for_each_chunk(o, [&](Chunk&& c) {
      auto chunk = std::make_shared<Chunk>(std::move(c));
      auto r = std::make_shared<ChunkResult>();
      pool.submit([&, chunk, r] { *r = process(tokenizer, o, *chunk); }, [&, r] {
        writer.add(r->examples);
        stats.add(r->examples);
        sentences += r->sentences;
      });
    }, [&](std::uint64_t bytes) { progress.update(bytes); });
    pool.finish();
    progress.finish();
    if (stats.sequences() == 0)
      fail_at(corpus_name(o), 0, "the corpus gave no training sequences (too little text for --max_seq_length?)");
    auto shards = writer.finish();
    extra = {{"options", options_json(o)}, {"corpus", corpus_json(corpus, sentences)},
             {"statistics", stats.to_json()}};
    text::save_pretrained(tokenizer, folder);
    write_manifest(folder, meta, shards, extra);
    extra["shards"] = shards;
  });
  return extra;
}

nlohmann::json plan(const text::Tokenizer& tokenizer, const PrepareOptions& o, std::size_t sample_bytes) {
  using Clock = std::chrono::steady_clock;
  check_options(o);
  PrepareOptions sample_o = o;
  sample_o.chunk_bytes = std::min(o.chunk_bytes, sample_bytes);
  std::uint64_t text_bytes = 0, sample_text = 0, sentences = 0;
  double sample_seconds = 0;
  ChunkResult sample;
  const auto start = Clock::now();
  auto corpus = for_each_chunk(sample_o, [&](Chunk&& c) {
    text_bytes += c.text_bytes;
    for (const auto& d : c.docs)
      for (const auto& l : d.lines) sentences += d.presplit || o.split == SentenceSplit::none ? 1 : split_sentences(l).size();
    if (c.index > 0) return;
    sample_text = c.text_bytes;
    const auto t0 = Clock::now();
    sample = process(tokenizer, o, c);
    sample_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  }, {});
  const double read_seconds = std::chrono::duration<double>(Clock::now() - start).count() - sample_seconds;
  if (sample_text == 0) fail_at(corpus_name(o), 0, "the corpus has no text");
  const double scale = double(text_bytes) / sample_text;
  Statistics s(o.pairs.max_seq_length);
  s.add(sample.examples);
  const double pairs = s.sequences() * scale, tokens = s.tokens() * scale;
  const int token_bytes = tokenizer.vocab_size() <= 256 ? 1 : tokenizer.vocab_size() <= 65536 ? 2 : 4;
  // Memory: up to threads + 1 chunks in flight plus the one being read, each holding its text, its sentence ids
  // (4 B per token) and its pairs (4 B per token, 13 B per pair), on top of the process's own baseline.
  const double chunk_text = std::min<double>(o.chunk_bytes, text_bytes);
  const double per_text_byte = 1.0 + (s.tokens() * 8.0 + s.sequences() * 13.0) / sample_text;
  const double chunks = std::min<double>(o.threads > 1 ? o.threads + 2.0 : 1.0, std::ceil(text_bytes / chunk_text));
  return {{"documents", corpus.documents}, {"sentences", sentences}, {"input_bytes", corpus.bytes},
          {"text_bytes", text_bytes}, {"sample_text_bytes", sample_text},
          {"expected_pairs", std::llround(pairs)}, {"expected_tokens", std::llround(tokens)},
          {"disk_bytes", std::llround(tokens * token_bytes + pairs * 13)},
          {"ram_bytes", std::llround(chunks * chunk_text * per_text_byte)},
          {"eta_seconds", read_seconds + sample_seconds * scale / o.threads},
          {"sample_statistics", s.to_json()}};
}

}  // namespace bertforge::data
