// bertforge's BERT tokenizer: BasicTokenizer + WordPiece + special tokens, id for id the same as HF
// BertTokenizerFast (tokenizers' BertNormalizer, BertPreTokenizer, WordPiece, BertProcessing).
//
//   TokenizerOptions o;  o.lower_case = true;
//   auto tok = Tokenizer::from_pretrained("path/to/folder-or-vocab.txt", o);
//   tok.encode("Hello world")                      -> ids, no special tokens
//   EncodeOptions e;  e.truncation = Truncation::longest_first;  e.max_length = 128;  e.padding = Padding::max_length;
//   tok.encode_plus("a", "b", e)                   -> Encoding {input_ids, token_type_ids, attention_mask}
//   tok.decode(ids, /*skip_special_tokens=*/true)
//   e.return_offsets_mapping = true;  tok.encode_plus("Héllo", e).offsets -> {0,0} {0,5} {0,0}  (one piece)
//
// from_pretrained accepts a vocab.txt file or a folder with tokenizer.json and/or vocab.txt (tokenizer.json
// wins, as in HF) plus an optional tokenizer_config.json. Settings come from, in order: the options passed,
// tokenizer_config.json, tokenizer.json, then these defaults: cased (do_lower_case false; note HF's
// BertTokenizer defaults to lower-casing a bare vocab.txt, we do not), strip_accents following lower-casing,
// CJK splitting and text cleaning on, [UNK] [CLS] [SEP] [PAD] [MASK], "##", 100 characters per word.
// Every method is const and thread-safe.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bertforge/text/basic_tokenizer.h"
#include "bertforge/text/vocab.h"
#include "bertforge/text/wordpiece.h"

namespace bertforge::text {

// Overrides for what the tokenizer files say (HF's names: do_lower_case, strip_accents, ...).
struct TokenizerOptions {
  std::optional<bool> lower_case;
  std::optional<bool> strip_accents;
  std::optional<bool> tokenize_chinese_chars;
  std::optional<bool> clean_text;
};

// Everything that defines a tokenizer, resolved.
struct TokenizerConfig {
  NormalizerOptions normalizer;
  WordPieceOptions wordpiece;
  std::string cls_token = "[CLS]", sep_token = "[SEP]", pad_token = "[PAD]", mask_token = "[MASK]";
  // Added tokens beyond the five above: matched whole in the raw text, never split. `special` ones are
  // dropped by decode(skip_special_tokens) like the five.
  std::vector<std::pair<std::string, bool>> added_tokens;  // (content, special)
  bool decoder_cleanup = true;   // tokenizer.json decoder.cleanup: per-token " ." -> "." etc.
  int model_max_length = 512;    // used when EncodeOptions::max_length is 0
};

enum class Truncation { none, longest_first, only_first, only_second };
enum class Padding { none, longest, max_length };

struct EncodeOptions {
  bool add_special_tokens = true;  // [CLS] a [SEP] (b [SEP])
  Truncation truncation = Truncation::none;
  int max_length = 0;              // 0: the tokenizer's model_max_length
  Padding padding = Padding::none;
  // Fill Encoding::offsets and byte_offsets (a path of its own: encoding without them costs nothing more).
  bool return_offsets_mapping = false;
};

// [start, end) of a token in its text.
using Offset = std::pair<std::uint32_t, std::uint32_t>;

// One encoded input, as HF's BatchEncoding fields.
struct Encoding {
  std::vector<std::int32_t> input_ids, token_type_ids, attention_mask;
  // Only with EncodeOptions::return_offsets_mapping, one per id. HF's offset_mapping: each token's characters
  // in the ORIGINAL text (before lower-casing, accent stripping, cleaning), counted in code points as Python
  // str indices are; a "##" piece covers its own characters, an [UNK] its whole word; (0, 0) for the special
  // tokens added around the text and for padding. The second text of a pair counts from its own start.
  std::vector<Offset> offsets;
  // The same in bytes of the UTF-8 text, for slicing a std::string.
  std::vector<Offset> byte_offsets;
};

class Tokenizer {
 public:
  static Tokenizer from_pretrained(const std::string& path_or_vocab, const TokenizerOptions& options = {});
  // `source` names the origin in error messages.
  Tokenizer(Vocab vocab, TokenizerConfig config, const std::string& source);

  // WordPiece pieces of text (no special tokens added).
  std::vector<std::string> tokenize(std::string_view text) const;
  // Ids of text, no special tokens added.
  std::vector<std::int32_t> encode(std::string_view text) const;
  // The hot path: appends the ids of text to ids, reusing `words` as scratch space.
  void encode_into(std::string_view text, std::vector<std::int32_t>& ids, Words& words) const;
  // encode() with each id's span of text in bytes (see Encoding::offsets; encode_plus gives code points too).
  std::vector<std::int32_t> encode_with_offsets(std::string_view text, std::vector<Offset>& byte_offsets) const;

  // HF tokenizer(a[, b], ...): special tokens, token_type_ids, truncation, padding, attention_mask.
  Encoding encode_plus(std::string_view a, const EncodeOptions& options = {}) const;
  Encoding encode_plus(std::string_view a, std::string_view b, const EncodeOptions& options = {}) const;
  // The same from ids already encoded (no special tokens in them); b may be null. No offsets: they need
  // the text (return_offsets_mapping is an Error here).
  Encoding prepare_for_model(std::vector<std::int32_t> a, const std::vector<std::int32_t>* b,
                             const EncodeOptions& options = {}) const;
  // Batches: Padding::longest pads to the longest encoding of the batch.
  std::vector<Encoding> encode_batch(const std::vector<std::string>& texts, const EncodeOptions& options = {}) const;
  std::vector<Encoding> encode_batch(const std::vector<std::pair<std::string, std::string>>& pairs,
                                     const EncodeOptions& options = {}) const;

  // HF decode: pieces joined with spaces, "##" continuations glued, per-token cleanup of spaces before
  // punctuation when the decoder says so; clean_up_tokenization_spaces adds transformers' whole-string
  // cleanup (off by default, as in transformers 5). Ids outside the vocabulary are skipped, as HF does.
  std::string decode(const std::vector<std::int32_t>& ids, bool skip_special_tokens = false,
                     bool clean_up_tokenization_spaces = false) const;
  // HF convert_tokens_to_string (tokenizers' WordPiece decoder): decode() of tokens given as text, which
  // need not be in the vocabulary (HF's token-classification pipeline passes an [UNK]'s original text).
  std::string convert_tokens_to_string(const std::vector<std::string>& tokens) const;

  int vocab_size() const { return vocab_->size(); }
  std::int32_t cls_id() const { return cls_id_; }
  std::int32_t sep_id() const { return sep_id_; }
  std::int32_t mask_id() const { return mask_id_; }
  std::int32_t pad_id() const { return pad_id_; }
  std::int32_t unk_id() const { return wordpiece_->unk_id(); }
  bool is_special(std::int32_t id) const;
  const std::string& id_to_token(std::int32_t id) const { return vocab_->token(id); }
  std::int32_t token_to_id(std::string_view token) const { return vocab_->find(token); }
  const Vocab& vocab() const { return *vocab_; }
  const BasicTokenizer& basic_tokenizer() const { return basic_; }
  const TokenizerConfig& config() const { return config_; }

 private:
  // Appends the ids of word i; true when it is a never_split token of the vocabulary (one id, kept whole).
  bool encode_word(const Words& words, std::size_t i, std::vector<std::int32_t>& ids) const;
  // a and b as Encodings with input_ids (and offsets, when options ask for them) alone.
  Encoding assemble(Encoding a, Encoding* b, const EncodeOptions& options) const;
  Encoding encode_one(std::string_view text, const EncodeOptions& options) const;
  std::string join_tokens(const std::vector<std::string_view>& tokens, bool clean_up_tokenization_spaces) const;
  void pad(Encoding& e, std::size_t length, bool offsets) const;
  void pad_to_longest(std::vector<Encoding>& batch, bool offsets) const;
  std::size_t resolved_max_length(const EncodeOptions& options) const;

  // Behind pointers so a Tokenizer can move while WordPiece keeps its reference to the vocabulary.
  std::unique_ptr<Vocab> vocab_;
  TokenizerConfig config_;
  BasicTokenizer basic_;
  std::unique_ptr<WordPiece> wordpiece_;
  std::string source_;  // the tokenizer's file, named by errors about what its vocabulary lacks
  std::int32_t cls_id_, sep_id_, pad_id_, mask_id_;
  std::vector<std::int32_t> special_ids_;  // sorted
  std::vector<std::int32_t> never_split_ids_;  // id of each BasicTokenizer never_split entry
};

}  // namespace bertforge::text
