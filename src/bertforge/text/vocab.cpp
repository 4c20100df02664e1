#include "bertforge/text/vocab.h"

#include <cstring>
#include <fstream>

#include "bertforge/text/utf8.h"
#include "bertforge/util/error.h"

namespace bertforge::text {

namespace {

// Word-at-a-time multiplicative hash: tokens are short, so the per-call cost matters more than quality.
std::uint32_t hash_bytes(std::string_view s) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  if (i < s.size()) {
    std::uint64_t w = 0;
    std::memcpy(&w, s.data() + i, s.size() - i);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  h *= 0xC4CEB9FE1A85EC53ull;
  return static_cast<std::uint32_t>(h >> 32);
}

}  // namespace

void TokenTable::reserve(std::size_t n) {
  std::size_t want = 16;
  while (want < n * 2) want *= 2;
  if (want <= slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(want, Slot{});
  std::size_t mask = want - 1;
  for (const Slot& s : old) {
    if (s.id < 0) continue;
    std::size_t j = s.hash & mask;
    while (slots_[j].id >= 0) j = (j + 1) & mask;
    slots_[j] = s;
  }
}

void TokenTable::grow() { reserve(slots_.empty() ? 8 : slots_.size()); }

bool TokenTable::insert(std::string_view key, std::int32_t id) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  if (find(key) >= 0) return false;
  std::uint32_t h = hash_bytes(key);
  std::size_t mask = slots_.size() - 1, j = h & mask;
  while (slots_[j].id >= 0) j = (j + 1) & mask;
  slots_[j] = {h, static_cast<std::uint32_t>(keys_.size()), static_cast<std::uint32_t>(key.size()), id};
  keys_.append(key);
  ++count_;
  return true;
}

std::int32_t TokenTable::find(std::string_view key) const {
  if (slots_.empty()) return -1;
  std::uint32_t h = hash_bytes(key);
  std::size_t mask = slots_.size() - 1;
  for (std::size_t j = h & mask;; j = (j + 1) & mask) {
    const Slot& s = slots_[j];
    if (s.id < 0) return -1;
    if (s.hash == h && s.length == key.size() && std::memcmp(keys_.data() + s.offset, key.data(), key.size()) == 0)
      return s.id;
  }
}

Vocab Vocab::from_tokens(std::vector<std::string> tokens, const std::string& source) {
  Vocab v;
  v.index_.reserve(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (!v.index_.insert(tokens[i], static_cast<std::int32_t>(i)))
      fail_at(source, i + 1, "token \"" + tokens[i] + "\" is listed twice (first as id " +
                                 std::to_string(v.index_.find(tokens[i])) + ")");
  }
  if (tokens.empty()) fail_at(source, 0, "the vocabulary is empty");
  v.tokens_ = std::move(tokens);
  return v;
}

Vocab Vocab::load_txt(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_at(path, 0, "cannot open the vocabulary file");
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    check_utf8(line, path, tokens.size() + 1);
    if (line.empty()) fail_at(path, tokens.size() + 1, "empty line in the vocabulary (a token cannot be empty)");
    tokens.push_back(std::move(line));
  }
  if (in.bad()) fail_at(path, tokens.size() + 1, "read error");
  return from_tokens(std::move(tokens), path);
}

std::int32_t Vocab::add(const std::string& token) {
  std::int32_t id = find(token);
  if (id >= 0) return id;
  id = size();
  index_.insert(token, id);
  tokens_.push_back(token);
  return id;
}

}  // namespace bertforge::text
