// Greedy longest-match-first WordPiece, as Google's tokenization.py and HF tokenizers' WordPiece model: a
// word is cut into the longest vocabulary piece at its start, then the longest continuation piece
// (`continuing_subword_prefix` + text) at each next position; if some position has no piece, or the word has
// more than max_input_chars_per_word characters, the whole word becomes the unknown token.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bertforge/text/vocab.h"

namespace bertforge::text {

struct WordPieceOptions {
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  int max_input_chars_per_word = 100;
};

class WordPiece {
 public:
  // Keeps a reference to vocab, which must outlive this object. The unknown token must be in vocab.
  WordPiece(const Vocab& vocab, WordPieceOptions options, const std::string& source);

  // Appends the ids of word's pieces to ids.
  void encode_word(std::string_view word, std::vector<std::int32_t>& ids) const;

  std::int32_t unk_id() const { return unk_id_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  const Vocab* vocab_;
  WordPieceOptions options_;
  std::int32_t unk_id_;
  TokenTable continuations_;   // continuation pieces without their prefix
  std::size_t max_piece_bytes_ = 0;
};

}  // namespace bertforge::text
