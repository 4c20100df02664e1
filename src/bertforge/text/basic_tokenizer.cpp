#include "bertforge/text/basic_tokenizer.h"

#include <algorithm>

#include "bertforge/text/unicode.h"
#include "bertforge/text/utf8.h"

namespace bertforge::text {

std::string_view Words::operator[](std::size_t i) const {
  std::uint32_t begin = i ? ends[i - 1] : 0;
  return std::string_view(chars).substr(begin, ends[i] - begin);
}

void Words::clear() {
  chars.clear();
  ends.clear();
  special.clear();
}

void Words::close_word() {
  if (chars.size() > (ends.empty() ? 0 : ends.back())) {
    ends.push_back(static_cast<std::uint32_t>(chars.size()));
    special.push_back(-1);
  }
}

BasicTokenizer::BasicTokenizer(NormalizerOptions options, std::vector<std::string> never_split)
    : options_(options),
      strip_accents_(options.strip_accents.value_or(options.lowercase)),
      never_split_(std::move(never_split)) {
  // The ASCII table is derived from the general per-character path, so the fast path cannot disagree.
  for (char32_t b = 0; b < 128; ++b) {
    char32_t norm[unicode::kMaxDecomposition * 2];
    bool dropped = options_.clean_text && (b == 0 || unicode::is_control(b));
    char32_t c = dropped ? b : (normalize(b, norm), norm[0]);
    Kind kind = dropped                       ? Kind::drop
                : unicode::is_whitespace(c)   ? Kind::space
                : unicode::is_punctuation(c)  ? Kind::punct
                                              : Kind::letter;
    ascii_[b] = {kind, static_cast<char>(c)};
  }
  for (std::size_t i = 0; i < never_split_.size(); ++i) {
    if (never_split_[i].empty()) continue;
    by_length_.push_back(static_cast<std::int32_t>(i));
    first_byte_[static_cast<unsigned char>(never_split_[i][0])] = true;
  }
  std::stable_sort(by_length_.begin(), by_length_.end(),
                   [&](auto a, auto b) { return never_split_[a].size() > never_split_[b].size(); });
}

int BasicTokenizer::normalize(char32_t c, char32_t* out) const {
  int n = 1;
  out[0] = c;
  if (strip_accents_) {
    char32_t decomposed[unicode::kMaxDecomposition];
    int m = unicode::nfd(c, decomposed);
    n = 0;
    for (int i = 0; i < m; ++i)
      if (!unicode::is_nonspacing_mark(decomposed[i])) out[n++] = decomposed[i];
  }
  if (options_.lowercase) {
    char32_t lowered[unicode::kMaxDecomposition * 2];
    int m = 0;
    for (int i = 0; i < n; ++i) m += unicode::to_lower(out[i], lowered + m);
    std::copy(lowered, lowered + m, out);
    n = m;
  }
  return n;
}

void BasicTokenizer::add_codepoint(char32_t c, Words& out) const {
  if (options_.clean_text && (c == 0 || c == kReplacementChar || unicode::is_control(c))) return;
  bool cjk = options_.handle_chinese_chars && unicode::is_chinese_char(c);
  if (cjk) out.close_word();
  char32_t norm[unicode::kMaxDecomposition * 2];
  int n = normalize(c, norm);
  for (int i = 0; i < n; ++i) {
    if (unicode::is_whitespace(norm[i])) {
      out.close_word();
    } else if (unicode::is_punctuation(norm[i])) {
      out.close_word();
      append_utf8(out.chars, norm[i]);
      out.close_word();
    } else {
      append_utf8(out.chars, norm[i]);
    }
  }
  if (cjk) out.close_word();
}

namespace {

// The hot path's Origin: records nothing, compiles to nothing.
struct NoOrigin {
  void fill(std::size_t, std::size_t, std::size_t) {}
};

// Gives every byte of the words not yet given a span (those just appended) the span [begin, end).
struct SpanOrigin {
  std::vector<ByteSpan>& spans;
  void fill(std::size_t bytes, std::size_t begin, std::size_t end) {
    spans.resize(bytes, {static_cast<std::uint32_t>(begin), static_cast<std::uint32_t>(end)});
  }
};

}  // namespace

template <class Origin>
void BasicTokenizer::split_plain(std::string_view text, std::size_t base, Words& out, Origin& origin) const {
  out.close_word();
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t begin = i;
    auto b = static_cast<unsigned char>(text[i]);
    if (b >= 0x80) {
      add_codepoint(decode_utf8(text, i), out);
      origin.fill(out.chars.size(), base + begin, base + i);
      continue;
    }
    ++i;
    const AsciiClass& cls = ascii_[b];
    switch (cls.kind) {
      case Kind::letter:
        out.chars += cls.mapped;
        break;
      case Kind::space:
        out.close_word();
        break;
      case Kind::punct:
        out.close_word();
        out.chars += cls.mapped;
        out.close_word();
        break;
      case Kind::drop:
        break;
    }
    origin.fill(out.chars.size(), base + begin, base + i);
  }
  out.close_word();
}

std::size_t BasicTokenizer::match_never_split(std::string_view text, std::size_t i, std::int32_t& index) const {
  for (auto k : by_length_) {
    const std::string& token = never_split_[k];
    if (text.compare(i, token.size(), token) == 0) {
      index = k;
      return token.size();
    }
  }
  return 0;
}

template <class Origin>
void BasicTokenizer::split_with(std::string_view text, Words& out, Origin& origin) const {
  std::size_t segment = 0;
  if (!by_length_.empty()) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (!first_byte_[static_cast<unsigned char>(text[i])]) continue;
      std::int32_t index = -1;
      std::size_t len = match_never_split(text, i, index);
      if (!len) continue;
      split_plain(text.substr(segment, i - segment), segment, out, origin);
      out.chars += never_split_[index];
      out.ends.push_back(static_cast<std::uint32_t>(out.chars.size()));
      out.special.push_back(index);
      origin.fill(out.chars.size(), i, i + len);
      segment = i + len;
      i = segment - 1;
    }
  }
  split_plain(text.substr(segment), segment, out, origin);
}

void BasicTokenizer::split(std::string_view text, Words& out) const {
  NoOrigin origin;
  split_with(text, out, origin);
}

void BasicTokenizer::split(std::string_view text, Words& out, std::vector<ByteSpan>& origin) const {
  origin.assign(out.chars.size(), ByteSpan{0, 0});
  SpanOrigin spans{origin};
  split_with(text, out, spans);
}

std::vector<std::string> BasicTokenizer::words(std::string_view text) const {
  Words w;
  split(text, w);
  std::vector<std::string> result;
  for (std::size_t i = 0; i < w.size(); ++i) result.emplace_back(w[i]);
  return result;
}

}  // namespace bertforge::text
