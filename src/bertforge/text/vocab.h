// A WordPiece vocabulary: ids 0..size-1 <-> token strings, with a hash table tuned for the tokenizer's hot
// path (lookups by string_view, no allocation).
//
// Vocab::load_txt reads HF's vocab.txt (one token per line, the line number minus one is the id; a final
// newline and CRLF line ends are accepted). A missing or empty file, an empty line, invalid UTF-8 or a token
// listed twice is an Error naming the file and line.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertforge::text {

// Open-addressing map string -> id that owns copies of its keys.
class TokenTable {
 public:
  void reserve(std::size_t n);
  // Returns false (and changes nothing) when key is already present.
  bool insert(std::string_view key, std::int32_t id);
  std::int32_t find(std::string_view key) const;  // -1 when absent

 private:
  struct Slot {
    std::uint32_t hash = 0, offset = 0, length = 0;
    std::int32_t id = -1;
  };
  void grow();
  std::vector<Slot> slots_;
  std::string keys_;
  std::size_t count_ = 0;
};

class Vocab {
 public:
  Vocab() = default;
  // `source` names the origin in error messages (a path, or "path: model.vocab").
  static Vocab load_txt(const std::string& path);
  static Vocab from_tokens(std::vector<std::string> tokens, const std::string& source);

  std::int32_t size() const { return static_cast<std::int32_t>(tokens_.size()); }
  std::int32_t find(std::string_view token) const { return index_.find(token); }
  const std::string& token(std::int32_t id) const { return tokens_.at(static_cast<std::size_t>(id)); }
  const std::vector<std::string>& tokens() const { return tokens_; }
  // Appends `token` unless present; returns its id.
  std::int32_t add(const std::string& token);

 private:
  std::vector<std::string> tokens_;
  TokenTable index_;
};

}  // namespace bertforge::text
