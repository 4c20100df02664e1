#include "bertforge/data/pairs.h"

#include <algorithm>

#include "bertforge/util/error.h"

namespace bertforge::data {

PairStrategy parse_strategy(const std::string& name) {
  if (name == "sentence") return PairStrategy::sentence;
  if (name == "segment") return PairStrategy::segment;
  throw Error("unknown pair strategy \"" + name + "\" (sentence, segment)");
}

void TokenizedDocuments::add_sentence(const std::vector<std::int32_t>& sentence) {
  if (sentence.empty()) return;
  ids.insert(ids.end(), sentence.begin(), sentence.end());
  sentence_end.push_back(ids.size());
}

void TokenizedDocuments::end_document() {
  const std::uint32_t n = sentence_end.size();
  if (n > (doc_end.empty() ? 0u : doc_end.back())) doc_end.push_back(n);
}

void TokenizedDocuments::append(const TokenizedDocuments& other) {
  const std::uint64_t id_base = ids.size();
  const std::uint32_t sentence_base = sentence_end.size();
  ids.insert(ids.end(), other.ids.begin(), other.ids.end());
  for (auto e : other.sentence_end) sentence_end.push_back(id_base + e);
  for (auto e : other.doc_end) doc_end.push_back(sentence_base + e);
}

namespace {

using Ids = std::vector<std::int32_t>;

class Builder {
 public:
  Builder(const TokenizedDocuments& docs, const PairOptions& o, Rng& rng, Examples& out)
      : docs_(docs), o_(o), rng_(rng), out_(out), max_pair_(o.max_seq_length - 3) {
    if (o.max_seq_length < 5) throw Error("--max_seq_length must be at least 5");
  }

  void sentence_pairs(std::size_t d) {
    const std::uint32_t first = docs_.first_sentence(d), last = docs_.doc_end[d];
    for (std::uint32_t s = first; s + 1 < last; ++s) {
      Ids a = sentences(s, s + 1), b;
      int label = 0;
      if (o_.task == SentenceTask::nsp && rng_.bernoulli(o_.random_next_prob)) {
        const std::size_t rd = other_document(d);
        const std::uint32_t rfirst = docs_.first_sentence(rd);
        const std::uint32_t rs = rfirst + rng_.below(docs_.doc_end[rd] - rfirst);
        b = sentences(rs, rs + 1);
        label = 1;
      } else {
        b = sentences(s + 1, s + 2);
      }
      emit_pair(std::move(a), std::move(b), label);
    }
  }

  // Original BERT's create_instances_from_document, with sop swapping instead of random documents.
  void segment_pairs(std::size_t d) {
    const std::uint32_t first = docs_.first_sentence(d), last = docs_.doc_end[d];
    std::size_t target = max_pair_;
    if (rng_.bernoulli(o_.short_seq_prob)) target = 2 + rng_.below(max_pair_ - 1);
    std::uint32_t chunk_begin = first;
    std::size_t length = 0;
    for (std::uint32_t s = first; s < last; ++s) {
      length += docs_.sentence_length(s);
      if (s + 1 < last && length < target) continue;
      const std::uint32_t chunk_size = s + 1 - chunk_begin;
      const std::uint32_t a_end = chunk_begin + (chunk_size >= 2 ? 1 + rng_.below(chunk_size - 1) : 1);
      Ids a = sentences(chunk_begin, a_end), b;
      int label = 0;
      if (o_.task == SentenceTask::nsp && (chunk_size == 1 || rng_.bernoulli(o_.random_next_prob))) {
        b = random_b(d, target > a.size() ? target - a.size() : 1);
        label = 1;
        s = a_end - 1;  // the chunk's unused sentences start the next chunk
      } else if (chunk_size >= 2) {
        b = sentences(a_end, s + 1);
      }
      if (!b.empty()) emit_pair(std::move(a), std::move(b), label);
      chunk_begin = s + 1;
      length = 0;
    }
  }

  // --no-nsp: contiguous sentences packed up to max_seq_length - 2; a longer sentence is cut into pieces.
  void full_segments(std::size_t d) {
    const std::size_t room = o_.max_seq_length - 2;
    Ids cur;
    auto flush = [&] {
      if (!cur.empty()) out_.add(cur.data(), cur.size(), nullptr, 0, false, -1, o_.special);
      cur.clear();
    };
    for (std::uint32_t s = docs_.first_sentence(d); s < docs_.doc_end[d]; ++s) {
      const std::int32_t* p = docs_.ids.data() + docs_.sentence_begin(s);
      std::size_t n = docs_.sentence_length(s);
      if (cur.size() + n > room) flush();
      while (n > room) {
        out_.add(p, room, nullptr, 0, false, -1, o_.special);
        p += room;
        n -= room;
      }
      cur.insert(cur.end(), p, p + n);
    }
    flush();
  }

 private:
  Ids sentences(std::uint32_t from, std::uint32_t to) const {
    return Ids(docs_.ids.begin() + docs_.sentence_begin(from), docs_.ids.begin() + docs_.sentence_end[to - 1]);
  }

  std::size_t other_document(std::size_t d) {
    std::size_t r = d;
    for (int tries = 0; tries < 10 && r == d && docs_.documents() > 1; ++tries) r = rng_.below(docs_.documents());
    return r;
  }

  // Sentences of a random other document from a random start until `target` tokens.
  Ids random_b(std::size_t d, std::size_t target) {
    const std::size_t rd = other_document(d);
    const std::uint32_t rfirst = docs_.first_sentence(rd), rlast = docs_.doc_end[rd];
    Ids b;
    for (std::uint32_t s = rfirst + rng_.below(rlast - rfirst); s < rlast && b.size() < target; ++s) {
      const auto* p = docs_.ids.data() + docs_.sentence_begin(s);
      b.insert(b.end(), p, p + docs_.sentence_length(s));
    }
    return b;
  }

  void emit_pair(Ids a, Ids b, int label) {
    if (o_.task == SentenceTask::sop && rng_.bernoulli(o_.random_next_prob)) {
      std::swap(a, b);
      label = 1;
    }
    // truncate_seq_pair: trim the longer side, at its front or back at random.
    std::size_t a0 = 0, a1 = a.size(), b0 = 0, b1 = b.size();
    while ((a1 - a0) + (b1 - b0) > max_pair_) {
      const bool trim_a = (a1 - a0) > (b1 - b0);
      std::size_t& front = trim_a ? a0 : b0;
      std::size_t& back = trim_a ? a1 : b1;
      if (rng_.bernoulli(0.5)) ++front;
      else --back;
    }
    out_.add(a.data() + a0, a1 - a0, b.data() + b0, b1 - b0, true, label, o_.special);
  }

  const TokenizedDocuments& docs_;
  const PairOptions& o_;
  Rng& rng_;
  Examples& out_;
  const std::size_t max_pair_;
};

}  // namespace

void build_examples(const TokenizedDocuments& docs, const PairOptions& options, Rng& rng, Examples& out) {
  Builder builder(docs, options, rng, out);
  for (std::size_t d = 0; d < docs.documents(); ++d) {
    if (options.task == SentenceTask::none) builder.full_segments(d);
    else if (options.strategy == PairStrategy::sentence) builder.sentence_pairs(d);
    else builder.segment_pairs(d);
  }
}

}  // namespace bertforge::data
