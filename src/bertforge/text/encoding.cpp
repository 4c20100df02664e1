// Tokenizer's pair/batch encoding: special tokens, truncation and padding with HF tokenizers' semantics
// (truncate_encodings and BertProcessing in the Rust crate).
#include <algorithm>

#include "bertforge/text/tokenizer.h"
#include "bertforge/text/utf8.h"
#include "bertforge/util/error.h"

namespace bertforge::text {

namespace {

// Keeps the first n ids of e, and their offsets when it has them.
void keep(Encoding& e, std::size_t n) {
  e.input_ids.resize(std::min(e.input_ids.size(), n));
  if (!e.offsets.empty()) e.offsets.resize(e.input_ids.size());
  if (!e.byte_offsets.empty()) e.byte_offsets.resize(e.input_ids.size());
}

// Truncates a and b so that together they hold at most max_tokens ids.
void truncate(Encoding& a, Encoding* b, std::size_t max_tokens, Truncation strategy) {
  std::size_t total = a.input_ids.size() + (b ? b->input_ids.size() : 0);
  if (total <= max_tokens) return;
  std::size_t to_remove = total - max_tokens;
  if (strategy == Truncation::longest_first) {
    if (!b) {
      keep(a, max_tokens);
      return;
    }
    // HF: keep the shorter whole if the longer can absorb the cut, else split max_tokens evenly with the
    // odd one going to the longer.
    std::size_t n1 = a.input_ids.size(), n2 = b->input_ids.size();
    bool swapped = n1 > n2;
    if (swapped) std::swap(n1, n2);
    n2 = n1 > max_tokens ? n1 : std::max(n1, max_tokens - n1);
    if (n1 + n2 > max_tokens) {
      n1 = max_tokens / 2;
      n2 = n1 + max_tokens % 2;
    }
    if (swapped) std::swap(n1, n2);
    keep(a, n1);
    keep(*b, n2);
    return;
  }
  Encoding* target = strategy == Truncation::only_first ? &a : b;
  if (!target) throw Error("truncation only_second needs a pair of texts");
  if (target->input_ids.size() <= to_remove)
    throw Error("truncation " + std::string(strategy == Truncation::only_first ? "only_first" : "only_second") +
                ": the sequence to truncate is too short to respect max_length " + std::to_string(max_tokens));
  keep(*target, target->input_ids.size() - to_remove);
}

}  // namespace

std::size_t Tokenizer::resolved_max_length(const EncodeOptions& options) const {
  int max_length = options.max_length > 0 ? options.max_length : config_.model_max_length;
  return static_cast<std::size_t>(std::max(max_length, 0));
}

void Tokenizer::pad(Encoding& e, std::size_t length, bool offsets) const {
  if (e.input_ids.size() >= length) return;
  if (pad_id_ < 0) fail_at(source_, 0, "padding needs the pad token \"" + config_.pad_token + "\" in the vocabulary");
  e.input_ids.resize(length, pad_id_);
  e.token_type_ids.resize(length, 0);
  e.attention_mask.resize(length, 0);
  if (offsets) {
    e.offsets.resize(length, {0, 0});
    e.byte_offsets.resize(length, {0, 0});
  }
}

Encoding Tokenizer::assemble(Encoding a, Encoding* b, const EncodeOptions& options) const {
  std::size_t n_special = options.add_special_tokens ? (b ? 3 : 2) : 0;
  if (options.add_special_tokens && (cls_id_ < 0 || sep_id_ < 0))
    fail_at(source_, 0, "special tokens need \"" + config_.cls_token + "\" and \"" + config_.sep_token +
                            "\" in the vocabulary");
  std::size_t max_length = resolved_max_length(options);
  if (options.truncation != Truncation::none) {
    if (max_length < n_special)
      throw Error("max_length " + std::to_string(max_length) + " leaves no room for the special tokens");
    truncate(a, b, max_length - n_special, options.truncation);
  }
  const bool offsets = options.return_offsets_mapping;
  Encoding e;
  auto add_special = [&](std::int32_t id) {
    e.input_ids.push_back(id);
    if (offsets) e.offsets.emplace_back(0, 0), e.byte_offsets.emplace_back(0, 0);
  };
  auto append = [&](const Encoding& s, std::int32_t type) {
    e.input_ids.insert(e.input_ids.end(), s.input_ids.begin(), s.input_ids.end());
    if (offsets) {
      e.offsets.insert(e.offsets.end(), s.offsets.begin(), s.offsets.end());
      e.byte_offsets.insert(e.byte_offsets.end(), s.byte_offsets.begin(), s.byte_offsets.end());
    }
    if (options.add_special_tokens) add_special(sep_id_);
    e.token_type_ids.resize(e.input_ids.size(), type);
  };
  if (options.add_special_tokens) add_special(cls_id_);
  append(a, 0);
  if (b) append(*b, 1);
  e.attention_mask.assign(e.input_ids.size(), 1);
  if (options.padding == Padding::max_length) pad(e, max_length, offsets);
  return e;
}

Encoding Tokenizer::prepare_for_model(std::vector<std::int32_t> a, const std::vector<std::int32_t>* b,
                                      const EncodeOptions& options) const {
  if (options.return_offsets_mapping) throw Error("offsets need the text: encode_plus gives them, ids cannot");
  Encoding first, second;
  first.input_ids = std::move(a);
  if (b) second.input_ids = *b;
  return assemble(std::move(first), b ? &second : nullptr, options);
}

// One text's ids, and with return_offsets_mapping their offsets in bytes and in code points.
Encoding Tokenizer::encode_one(std::string_view text, const EncodeOptions& options) const {
  Encoding e;
  if (!options.return_offsets_mapping) {
    e.input_ids = encode(text);
    return e;
  }
  e.input_ids = encode_with_offsets(text, e.byte_offsets);
  const std::vector<std::uint32_t> index = code_point_index(text);
  for (const auto& [begin, end] : e.byte_offsets) e.offsets.emplace_back(index[begin], index[end]);
  return e;
}

Encoding Tokenizer::encode_plus(std::string_view a, const EncodeOptions& options) const {
  return assemble(encode_one(a, options), nullptr, options);
}

Encoding Tokenizer::encode_plus(std::string_view a, std::string_view b, const EncodeOptions& options) const {
  Encoding second = encode_one(b, options);
  return assemble(encode_one(a, options), &second, options);
}

void Tokenizer::pad_to_longest(std::vector<Encoding>& batch, bool offsets) const {
  std::size_t longest = 0;
  for (const Encoding& e : batch) longest = std::max(longest, e.input_ids.size());
  for (Encoding& e : batch) pad(e, longest, offsets);
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                              const EncodeOptions& options) const {
  std::vector<Encoding> batch;
  for (const std::string& text : texts) batch.push_back(encode_plus(text, options));
  if (options.padding == Padding::longest) pad_to_longest(batch, options.return_offsets_mapping);
  return batch;
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::pair<std::string, std::string>>& pairs,
                                              const EncodeOptions& options) const {
  std::vector<Encoding> batch;
  for (const auto& [a, b] : pairs) batch.push_back(encode_plus(a, b, options));
  if (options.padding == Padding::longest) pad_to_longest(batch, options.return_offsets_mapping);
  return batch;
}

}  // namespace bertforge::text
