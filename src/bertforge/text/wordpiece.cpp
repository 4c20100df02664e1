#include "bertforge/text/wordpiece.h"

#include <algorithm>

#include "bertforge/util/error.h"

namespace bertforge::text {

WordPiece::WordPiece(const Vocab& vocab, WordPieceOptions options, const std::string& source)
    : vocab_(&vocab), options_(std::move(options)), unk_id_(vocab.find(options_.unk_token)) {
  if (unk_id_ < 0) fail_at(source, 0, "the vocabulary has no unknown token \"" + options_.unk_token + "\"");
  const std::string& prefix = options_.continuing_subword_prefix;
  continuations_.reserve(vocab.tokens().size());
  for (std::int32_t id = 0; id < vocab.size(); ++id) {
    const std::string& token = vocab.token(id);
    max_piece_bytes_ = std::max(max_piece_bytes_, token.size());
    if (!prefix.empty() && token.size() > prefix.size() && token.compare(0, prefix.size(), prefix) == 0)
      continuations_.insert(std::string_view(token).substr(prefix.size()), id);
  }
}

void WordPiece::encode_word(std::string_view word, std::vector<std::int32_t>& ids) const {
  auto is_boundary = [&](std::size_t i) {
    return i == word.size() || (static_cast<unsigned char>(word[i]) & 0xC0) != 0x80;
  };
  if (word.size() > static_cast<std::size_t>(options_.max_input_chars_per_word)) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < word.size(); ++i) chars += is_boundary(i);
    if (chars > static_cast<std::size_t>(options_.max_input_chars_per_word)) {
      ids.push_back(unk_id_);
      return;
    }
  }
  const std::size_t first = ids.size();
  for (std::size_t start = 0; start < word.size();) {
    // No piece is longer than the longest token, so longer candidates need no lookup.
    std::size_t end = std::min(word.size(), start + max_piece_bytes_);
    std::int32_t id = -1;
    for (; end > start; --end) {
      if (!is_boundary(end)) continue;
      std::string_view piece = word.substr(start, end - start);
      id = start == 0 ? vocab_->find(piece) : continuations_.find(piece);
      if (id >= 0) break;
    }
    if (id < 0) {
      ids.resize(first);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(id);
    start = end;
  }
}

}  // namespace bertforge::text
