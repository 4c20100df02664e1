#include "bertforge/text/tokenizer.h"

#include <algorithm>

#include "bertforge/util/strings.h"

namespace bertforge::text {

namespace {

std::vector<std::string> never_split_of(const TokenizerConfig& c) {
  std::vector<std::string> tokens{c.wordpiece.unk_token, c.sep_token, c.pad_token, c.cls_token, c.mask_token};
  for (const auto& [content, special] : c.added_tokens) tokens.push_back(content);
  return tokens;
}

using Rules = std::vector<std::pair<std::string_view, std::string_view>>;
// HF's cleanup of spaces before punctuation and in English contractions: tokenizers' decoder (per token)
// has one rule more than transformers' clean_up_tokenization (whole string).
const Rules kDecoderRules = {{" .", "."},   {" ?", "?"},   {" !", "!"},           {" ,", ","},
                             {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},     {" do not", " don't"},
                             {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
const Rules kTransformersRules = {{" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},   {" ' ", "'"},
                                  {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};

// Each rule in turn replaces every non-overlapping occurrence, left to right (Rust's and Python's replace).
void cleanup_spaces(std::string& s, const Rules& rules) {
  for (const auto& [f, t] : rules) replace_all(s, f, t);
}

}  // namespace

Tokenizer::Tokenizer(Vocab vocab, TokenizerConfig config, const std::string& source)
    : vocab_(std::make_unique<Vocab>(std::move(vocab))),
      config_(std::move(config)),
      basic_(config_.normalizer, never_split_of(config_)),
      wordpiece_(std::make_unique<WordPiece>(*vocab_, config_.wordpiece, source)),
      source_(source) {
  // Added tokens missing from the vocabulary get the next ids, as HF's added vocabulary does.
  for (const auto& [content, special] : config_.added_tokens) {
    std::int32_t id = vocab_->add(content);
    if (special) special_ids_.push_back(id);
  }
  auto id_of = [&](const std::string& token) { return vocab_->find(token); };
  cls_id_ = id_of(config_.cls_token);
  sep_id_ = id_of(config_.sep_token);
  pad_id_ = id_of(config_.pad_token);
  mask_id_ = id_of(config_.mask_token);
  for (std::int32_t id : {unk_id(), cls_id_, sep_id_, pad_id_, mask_id_})
    if (id >= 0) special_ids_.push_back(id);
  std::sort(special_ids_.begin(), special_ids_.end());
  for (const std::string& token : basic_.never_split()) never_split_ids_.push_back(id_of(token));
}

bool Tokenizer::is_special(std::int32_t id) const {
  return std::binary_search(special_ids_.begin(), special_ids_.end(), id);
}

bool Tokenizer::encode_word(const Words& words, std::size_t i, std::vector<std::int32_t>& ids) const {
  std::int32_t special = words.special[i];
  std::int32_t id = special >= 0 ? never_split_ids_[special] : -1;
  if (id < 0) {
    wordpiece_->encode_word(words[i], ids);
    return false;
  }
  ids.push_back(id);
  return true;
}

void Tokenizer::encode_into(std::string_view text, std::vector<std::int32_t>& ids, Words& words) const {
  words.clear();
  basic_.split(text, words);
  for (std::size_t i = 0; i < words.size(); ++i) encode_word(words, i, ids);
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids;
  Words words;
  encode_into(text, ids, words);
  return ids;
}

std::vector<std::int32_t> Tokenizer::encode_with_offsets(std::string_view text,
                                                        std::vector<Offset>& byte_offsets) const {
  Words words;
  std::vector<ByteSpan> origin;
  basic_.split(text, words, origin);
  std::vector<std::int32_t> ids;
  byte_offsets.clear();
  const std::size_t prefix = config_.wordpiece.continuing_subword_prefix.size();
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::size_t first = ids.size();
    const bool special = encode_word(words, i, ids);
    // The pieces spell the word (a continuation less its prefix), except an [UNK], which stands for it whole.
    const std::size_t word_begin = i ? words.ends[i - 1] : 0, word_end = words.ends[i];
    const bool whole = special || (ids.size() - first == 1 && ids[first] == unk_id());
    for (std::size_t k = first, at = word_begin; k < ids.size(); ++k) {
      std::size_t end = whole ? word_end : at + vocab_->token(ids[k]).size() - (k > first ? prefix : 0);
      byte_offsets.emplace_back(origin[at].begin, origin[end - 1].end);
      at = end;
    }
  }
  return ids;
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> pieces;
  for (std::int32_t id : encode(text)) pieces.push_back(vocab_->token(id));
  return pieces;
}

std::string Tokenizer::join_tokens(const std::vector<std::string_view>& tokens,
                                   bool clean_up_tokenization_spaces) const {
  const std::string& prefix = config_.wordpiece.continuing_subword_prefix;
  std::string out, piece;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::string_view token = tokens[i];
    // As HF's WordPiece decoder: the first piece is kept whole; later ones lose the prefix or gain a space.
    if (i == 0)
      piece = token;
    else if (!prefix.empty() && token.compare(0, prefix.size(), prefix) == 0)
      piece = token.substr(prefix.size());
    else
      piece = " " + std::string(token);
    if (config_.decoder_cleanup) cleanup_spaces(piece, kDecoderRules);
    out += piece;
  }
  if (clean_up_tokenization_spaces) cleanup_spaces(out, kTransformersRules);
  return out;
}

std::string Tokenizer::decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens,
                              bool clean_up_tokenization_spaces) const {
  std::vector<std::string_view> tokens;
  for (std::int32_t id : ids)
    if (id >= 0 && id < vocab_->size() && !(skip_special_tokens && is_special(id)))
      tokens.emplace_back(vocab_->token(id));
  return join_tokens(tokens, clean_up_tokenization_spaces);
}

std::string Tokenizer::convert_tokens_to_string(const std::vector<std::string>& tokens) const {
  return join_tokens(std::vector<std::string_view>(tokens.begin(), tokens.end()), false);
}

}  // namespace bertforge::text
