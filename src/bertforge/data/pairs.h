// Pair building: tokenized documents -> training sequences (Examples), deterministic for a given Rng.
//
// Strategies (PairOptions::strategy):
//   sentence  the reference's: every sentence that has a successor is an A; B is that successor, or with
//             probability random_next_prob a random sentence of a random other document.
//   segment   original BERT create_instances_from_document (= HF TextDatasetForNextSentencePrediction):
//             sentences are packed into a chunk up to a target length (max_seq_length - 3, or with
//             short_seq_prob a uniform length in [2, that]); A is the chunk's first a_end sentences (a_end
//             random), B the rest or, with random_next_prob (always for a one-sentence chunk), sentences of a
//             random other document from a random start, the unused sentences going back to the pool.
// Both truncate a pair to max_seq_length - 3 with BERT's truncate_seq_pair (drop a token from the longer
// side, at its front or back with p = 0.5), which HF's dataset does not do (its pairs may overflow).
// Tasks: nsp as above; sop swaps A and B with p = 0.5 (label 1 = swapped; B is always A's successor);
// none (RoBERTa-style, no pairs): contiguous sentences of one document packed into [CLS] ... [SEP] up to
// max_seq_length, a longer sentence split into pieces.
// The pool of "other documents" is the documents passed in one call (prepare passes a chunk of the corpus).
#pragma once
#include <cstdint>
#include <vector>

#include "bertforge/data/examples.h"
#include "bertforge/data/rng.h"

namespace bertforge::data {

enum class PairStrategy { sentence, segment };
PairStrategy parse_strategy(const std::string& name);  // "sentence", "segment"

struct PairOptions {
  PairStrategy strategy = PairStrategy::sentence;
  SentenceTask task = SentenceTask::nsp;
  int max_seq_length = 128;
  double short_seq_prob = 0.1;    // segment strategy only
  double random_next_prob = 0.5;  // nsp: B random; sop: swapped
  SpecialIds special;
};

// Tokenized documents in flat form: sentence s is ids[sentence_end[s-1], sentence_end[s]); document d is
// sentences [doc_end[d-1], doc_end[d]). Empty sentences are never added.
struct TokenizedDocuments {
  std::vector<std::int32_t> ids;
  std::vector<std::uint64_t> sentence_end;
  std::vector<std::uint32_t> doc_end;

  std::size_t documents() const { return doc_end.size(); }
  std::uint32_t first_sentence(std::size_t d) const { return d ? doc_end[d - 1] : 0; }
  std::uint64_t sentence_begin(std::size_t s) const { return s ? sentence_end[s - 1] : 0; }
  std::size_t sentence_length(std::size_t s) const { return sentence_end[s] - sentence_begin(s); }
  void add_sentence(const std::vector<std::int32_t>& sentence);  // to the open document
  void end_document();  // closes the open document (a document with no sentence is dropped)
  void append(const TokenizedDocuments& other);
};

// Appends one pass over every document (one --dupe_factor round) to `out`.
void build_examples(const TokenizedDocuments& docs, const PairOptions& options, Rng& rng, Examples& out);

}  // namespace bertforge::data
