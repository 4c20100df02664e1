// Examples: training sequences in column form, as pair building produces them, shards store them and the
// loader serves them. Each sequence is stored unpadded with its special tokens:
//   [CLS] A [SEP] B [SEP]   (a sentence task: NSP or SOP)      [CLS] A [SEP]   (--no-nsp)
// token_type_ids are 0 for the first `type0` tokens ([CLS] A [SEP]) and 1 after, so they are not stored.
// Labels follow HF: next_sentence_label 0 = B follows A, 1 = B is random; sentence_order_label 0 = in
// order, 1 = swapped.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bertforge::data {

enum class SentenceTask { nsp, none, sop };
SentenceTask parse_task(const std::string& name);  // "nsp", "none", "sop"
const char* task_name(SentenceTask t);
const char* label_column(SentenceTask t);  // "next_sentence_label", "sentence_order_label", "" for none

// The ids the pipeline inserts or must never mask (HF's all_special_ids of a BERT vocabulary).
struct SpecialIds {
  std::int32_t cls = 101, sep = 102, pad = 0, mask = 103, unk = 100;
  bool contains(std::int32_t id) const { return id == cls || id == sep || id == pad || id == mask || id == unk; }
};

struct Examples {
  std::vector<std::int32_t> ids;     // every sequence's input_ids, back to back
  std::vector<std::uint64_t> ends;   // sequence i is ids[i ? ends[i-1] : 0, ends[i])
  std::vector<std::uint32_t> type0;  // how many leading tokens have token_type_ids 0
  std::vector<std::int8_t> labels;   // one per sequence, or empty when there is no sentence task

  std::size_t size() const { return ends.size(); }
  std::uint64_t begin_of(std::size_t i) const { return i ? ends[i - 1] : 0; }
  // Appends [CLS] a [SEP] (b [SEP] when with_b); label < 0 means none.
  void add(const std::int32_t* a, std::size_t na, const std::int32_t* b, std::size_t nb, bool with_b, int label,
           const SpecialIds& special);
  void append(const Examples& other);
  void clear();
};

}  // namespace bertforge::data
