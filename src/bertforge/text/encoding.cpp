// Tokenizer's pair/batch encoding: special tokens, truncation and padding with HF tokenizers' semantics
// (truncate_encodings and BertProcessing in the Rust crate).
#include <algorithm>

#include "bertforge/text/tokenizer.h"
#include "bertforge/util/error.h"

namespace bertforge::text {

namespace {

// Truncates a and b so that together they hold at most max_tokens ids.
void truncate(std::vector<std::int32_t>& a, std::vector<std::int32_t>* b, std::size_t max_tokens,
              Truncation strategy) {
  std::size_t total = a.size() + (b ? b->size() : 0);
  if (total <= max_tokens) return;
  std::size_t to_remove = total - max_tokens;
  if (strategy == Truncation::longest_first) {
    if (!b) {
      a.resize(max_tokens);
      return;
    }
    // HF: keep the shorter whole if the longer can absorb the cut, else split max_tokens evenly with the
    // odd one going to the longer.
    std::size_t n1 = a.size(), n2 = b->size();
    bool swapped = n1 > n2;
    if (swapped) std::swap(n1, n2);
    n2 = n1 > max_tokens ? n1 : std::max(n1, max_tokens - n1);
    if (n1 + n2 > max_tokens) {
      n1 = max_tokens / 2;
      n2 = n1 + max_tokens % 2;
    }
    if (swapped) std::swap(n1, n2);
    a.resize(std::min(a.size(), n1));
    b->resize(std::min(b->size(), n2));
    return;
  }
  std::vector<std::int32_t>* target = strategy == Truncation::only_first ? &a : b;
  if (!target) throw Error("truncation only_second needs a pair of texts");
  if (target->size() <= to_remove)
    throw Error("truncation " + std::string(strategy == Truncation::only_first ? "only_first" : "only_second") +
                ": the sequence to truncate is too short to respect max_length " + std::to_string(max_tokens));
  target->resize(target->size() - to_remove);
}

}  // namespace

std::size_t Tokenizer::resolved_max_length(const EncodeOptions& options) const {
  int max_length = options.max_length > 0 ? options.max_length : config_.model_max_length;
  return static_cast<std::size_t>(std::max(max_length, 0));
}

void Tokenizer::pad(Encoding& e, std::size_t length) const {
  if (e.input_ids.size() >= length) return;
  if (pad_id_ < 0) fail_at(source_, 0, "padding needs the pad token \"" + config_.pad_token + "\" in the vocabulary");
  e.input_ids.resize(length, pad_id_);
  e.token_type_ids.resize(length, 0);
  e.attention_mask.resize(length, 0);
}

Encoding Tokenizer::prepare_for_model(std::vector<std::int32_t> a, const std::vector<std::int32_t>* b,
                                      const EncodeOptions& options) const {
  std::vector<std::int32_t> second = b ? *b : std::vector<std::int32_t>{};
  std::size_t n_special = options.add_special_tokens ? (b ? 3 : 2) : 0;
  if (options.add_special_tokens && (cls_id_ < 0 || sep_id_ < 0))
    fail_at(source_, 0, "special tokens need \"" + config_.cls_token + "\" and \"" + config_.sep_token +
                            "\" in the vocabulary");
  std::size_t max_length = resolved_max_length(options);
  if (options.truncation != Truncation::none) {
    if (max_length < n_special)
      throw Error("max_length " + std::to_string(max_length) + " leaves no room for the special tokens");
    truncate(a, b ? &second : nullptr, max_length - n_special, options.truncation);
  }
  Encoding e;
  auto append = [&](const std::vector<std::int32_t>& ids, std::int32_t type) {
    e.input_ids.insert(e.input_ids.end(), ids.begin(), ids.end());
    if (options.add_special_tokens) e.input_ids.push_back(sep_id_);
    e.token_type_ids.resize(e.input_ids.size(), type);
  };
  if (options.add_special_tokens) e.input_ids.push_back(cls_id_);
  append(a, 0);
  if (b) append(second, 1);
  e.attention_mask.assign(e.input_ids.size(), 1);
  if (options.padding == Padding::max_length) pad(e, max_length);
  return e;
}

Encoding Tokenizer::encode_plus(std::string_view a, const EncodeOptions& options) const {
  return prepare_for_model(encode(a), nullptr, options);
}

Encoding Tokenizer::encode_plus(std::string_view a, std::string_view b, const EncodeOptions& options) const {
  std::vector<std::int32_t> ids_b = encode(b);
  return prepare_for_model(encode(a), &ids_b, options);
}

void Tokenizer::pad_to_longest(std::vector<Encoding>& batch) const {
  std::size_t longest = 0;
  for (const Encoding& e : batch) longest = std::max(longest, e.input_ids.size());
  for (Encoding& e : batch) pad(e, longest);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                              const EncodeOptions& options) const {
  std::vector<Encoding> batch;
  for (const std::string& text : texts) batch.push_back(encode_plus(text, options));
  if (options.padding == Padding::longest) pad_to_longest(batch);
  return batch;
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::pair<std::string, std::string>>& pairs,
                                              const EncodeOptions& options) const {
  std::vector<Encoding> batch;
  for (const auto& [a, b] : pairs) batch.push_back(encode_plus(a, b, options));
  if (options.padding == Padding::longest) pad_to_longest(batch);
  return batch;
}

}  // namespace bertforge::text
