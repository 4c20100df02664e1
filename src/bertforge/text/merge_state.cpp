#include "bertforge/text/merge_state.h"

#include <algorithm>

namespace bertforge::text::detail {

namespace {

// Bytes in the UTF-8 character that starts with `lead` (the input is well-formed).
std::size_t char_length(unsigned char lead) { return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4; }

template <typename F>
void for_each_char(const std::string& word, F f) {
  for (std::size_t i = 0; i < word.size();) {
    std::size_t n = char_length(static_cast<unsigned char>(word[i]));
    f(word.substr(i, n), i == 0);
    i += n;
  }
}

}  // namespace

MergeState::MergeState(const WordCounts& counts, const TrainerOptions& options) : prefix_(options.prefix) {
  for (const auto& s : options.special_tokens) add_token(s);
  add_alphabet(counts, options);
  add_words(counts, options.prefix);
  for (std::uint32_t w = 0; w < length_.size(); ++w) {
    const std::uint32_t* s = &symbols_[begin_[w]];
    for (std::uint32_t k = 0; k < length_[w]; ++k) {
      token_counts_[s[k]] += static_cast<std::int64_t>(word_counts_[w]);
      if (k + 1 < length_[w]) change(make_pair_key(s[k], s[k + 1]), w, +1, nullptr);
    }
  }
}

std::uint32_t MergeState::add_token(const std::string& token) {
  auto [it, added] = token_to_id_.emplace(token, static_cast<std::uint32_t>(id_to_token_.size()));
  if (added) {
    id_to_token_.push_back(token);
    token_counts_.push_back(0);
  }
  return it->second;
}

// Every character seen, weighted by word counts; with a limit, the most frequent (ties to the smaller code
// point, where HF's unstable sort leaves ties to chance), then added in code-point (= UTF-8 byte) order.
void MergeState::add_alphabet(const WordCounts& counts, const TrainerOptions& options) {
  std::unordered_map<std::string, std::uint64_t> freq;
  for (const auto& [word, count] : counts)
    for_each_char(word, [&, count = count](std::string c, bool) { freq[std::move(c)] += count; });
  std::vector<std::pair<std::string, std::uint64_t>> chars(freq.begin(), freq.end());
  if (options.limit_alphabet && chars.size() > *options.limit_alphabet) {
    std::sort(chars.begin(), chars.end(),
              [](const auto& x, const auto& y) { return x.second != y.second ? x.second > y.second : x.first < y.first; });
    chars.resize(*options.limit_alphabet);
  }
  std::sort(chars.begin(), chars.end());
  for (const auto& c : chars) add_token(c.first);
}

void MergeState::add_words(const WordCounts& counts, const std::string& prefix) {
  std::vector<const WordCounts::value_type*> words;
  words.reserve(counts.size());
  for (const auto& entry : counts) words.push_back(&entry);
  std::sort(words.begin(), words.end(), [](auto* x, auto* y) { return x->first < y->first; });
  for (const auto* entry : words) {
    begin_.push_back(symbols_.size());
    for_each_char(entry->first, [&](const std::string& c, bool first) {
      if (!token_to_id_.count(c)) return;  // outside the kept alphabet
      symbols_.push_back(first ? token_to_id_[c] : add_token(prefix + c));
    });
    length_.push_back(static_cast<std::uint32_t>(symbols_.size() - begin_.back()));
    word_counts_.push_back(entry->second);
  }
}

std::uint32_t MergeState::add_merged(Pair pair) {
  const std::string& right = id_to_token_[right_of(pair)];
  bool continues = right.compare(0, prefix_.size(), prefix_) == 0;
  std::string token = id_to_token_[left_of(pair)] + right.substr(continues ? prefix_.size() : 0);
  return add_token(token);
}

std::int64_t MergeState::pair_count(Pair p) const {
  auto it = pair_counts_.find(p);
  return it == pair_counts_.end() ? 0 : it->second;
}

void MergeState::change(Pair p, std::uint32_t w, int delta, std::vector<Pair>* grown) {
  auto& count = pair_counts_[p];
  count += delta * static_cast<std::int64_t>(word_counts_[w]);
  if (count == 0) pair_counts_.erase(p);  // where_ keeps its words: a later +1 in this word may revive it
  if (delta > 0) {
    auto& words = where_[p];
    if (words.empty() || words.back() != w) words.push_back(w);
    if (grown) grown->push_back(p);
  }
}

std::vector<Pair> MergeState::merge(Pair pair, std::uint32_t merged) {
  std::vector<Pair> grown;
  auto it = where_.find(pair);
  if (it == where_.end()) return grown;
  std::vector<std::uint32_t> words = std::move(it->second);
  where_.erase(it);
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  for (std::uint32_t w : words) merge_word(w, left_of(pair), right_of(pair), merged, grown);
  std::sort(grown.begin(), grown.end());
  grown.erase(std::unique(grown.begin(), grown.end()), grown.end());
  return grown;
}

// Left to right, like HF's Word::merge: an occurrence's neighbours lose their pair with a (or b) and gain
// one with `merged`; a left neighbour may itself be a fresh `merged` ("a b a b" -> "ab ab").
void MergeState::merge_word(std::uint32_t w, std::uint32_t a, std::uint32_t b, std::uint32_t merged,
                            std::vector<Pair>& grown) {
  std::uint32_t* s = &symbols_[begin_[w]];
  std::uint32_t n = length_[w], out = 0;
  std::int64_t occurrences = 0;
  for (std::uint32_t r = 0; r < n;) {
    if (r + 1 < n && s[r] == a && s[r + 1] == b) {
      if (out > 0) {
        change(make_pair_key(s[out - 1], a), w, -1, nullptr);
        change(make_pair_key(s[out - 1], merged), w, +1, &grown);
      }
      if (r + 2 < n) {
        change(make_pair_key(b, s[r + 2]), w, -1, nullptr);
        change(make_pair_key(merged, s[r + 2]), w, +1, &grown);
      }
      s[out++] = merged;
      r += 2;
      ++occurrences;
    } else {
      s[out++] = s[r++];
    }
  }
  length_[w] = out;
  std::int64_t merged_count = occurrences * static_cast<std::int64_t>(word_counts_[w]);
  token_counts_[a] -= merged_count;
  token_counts_[b] -= merged_count;
  token_counts_[merged] += merged_count;
}

}  // namespace bertforge::text::detail
