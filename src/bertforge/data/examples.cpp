#include "bertforge/data/examples.h"

#include "bertforge/util/error.h"

namespace bertforge::data {

SentenceTask parse_task(const std::string& name) {
  if (name == "nsp") return SentenceTask::nsp;
  if (name == "none") return SentenceTask::none;
  if (name == "sop") return SentenceTask::sop;
  throw Error("unknown sentence task \"" + name + "\" (nsp, none, sop)");
}

const char* task_name(SentenceTask t) {
  return t == SentenceTask::nsp ? "nsp" : t == SentenceTask::sop ? "sop" : "none";
}

const char* label_column(SentenceTask t) {
  return t == SentenceTask::nsp ? "next_sentence_label" : t == SentenceTask::sop ? "sentence_order_label" : "";
}

void Examples::add(const std::int32_t* a, std::size_t na, const std::int32_t* b, std::size_t nb, bool with_b,
                   int label, const SpecialIds& special) {
  ids.push_back(special.cls);
  ids.insert(ids.end(), a, a + na);
  ids.push_back(special.sep);
  type0.push_back(static_cast<std::uint32_t>(na + 2));
  if (with_b) {
    ids.insert(ids.end(), b, b + nb);
    ids.push_back(special.sep);
  }
  ends.push_back(ids.size());
  if (label >= 0) labels.push_back(static_cast<std::int8_t>(label));
}

void Examples::append(const Examples& other) {
  const std::uint64_t base = ids.size();
  ids.insert(ids.end(), other.ids.begin(), other.ids.end());
  for (auto e : other.ends) ends.push_back(base + e);
  type0.insert(type0.end(), other.type0.begin(), other.type0.end());
  labels.insert(labels.end(), other.labels.begin(), other.labels.end());
}

void Examples::clear() {
  ids.clear();
  ends.clear();
  type0.clear();
  labels.clear();
}

}  // namespace bertforge::data
