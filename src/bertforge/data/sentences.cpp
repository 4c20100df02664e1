#include "bertforge/data/sentences.h"

#include <unordered_set>

namespace bertforge::data {

namespace {

// Words that end in '.' without ending a sentence (case-sensitive: "No." yes, "no." ends one).
const std::unordered_set<std::string_view> kAbbreviations = {
    "Mr", "Mrs", "Ms", "Dr", "Prof", "Rev", "Hon", "St", "Sr", "Jr", "Mt", "Ft", "Gen", "Col", "Maj", "Capt",
    "Lt", "Sgt", "Cpl", "Adm", "Cmdr", "Gov", "Sen", "Rep", "Pres", "Fr", "Bros", "Inc", "Ltd", "Co", "Corp",
    "vs", "etc", "cf", "al", "approx", "ca", "c", "No", "Nos", "no", "Vol", "vol", "Vols", "Fig", "fig", "p",
    "pp", "Ch", "ch", "Ed", "ed", "eds", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
    "Nov", "Dec", "Ave", "Blvd", "Rd", "Ps", "Op", "op", "est", "Est", "viz", "Univ", "Dept", "Assn"};

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_opener(char c) { return c == '"' || c == '\'' || c == '(' || c == '['; }

std::size_t skip_spaces(std::string_view p, std::size_t k) {
  while (k < p.size() && is_space(p[k])) ++k;
  return k;
}

// Closing quotes/brackets glued to the terminator: '"', '\'', ')', ']', and UTF-8 ” ’.
std::size_t skip_closers(std::string_view p, std::size_t j, int& quotes, int& depth) {
  while (j < p.size()) {
    if (p[j] == '"') ++quotes, ++j;
    else if (p[j] == ')' || p[j] == ']') depth -= depth > 0, ++j;
    else if (p[j] == '\'') ++j;
    else if (p.compare(j, 3, "\xE2\x80\x9D") == 0 || p.compare(j, 3, "\xE2\x80\x99") == 0) j += 3;
    else break;
  }
  return j;
}

// A capital, a digit, a non-ASCII letter, or an opening quote/bracket before one.
bool starts_sentence(std::string_view p, std::size_t k) {
  char c = p[k];
  if (is_upper(c) || is_digit(c) || static_cast<unsigned char>(c) >= 0x80) return true;
  if (!is_opener(c)) return false;
  k = skip_spaces(p, k + 1);
  return k < p.size() && (is_upper(p[k]) || is_digit(p[k]) || static_cast<unsigned char>(p[k]) >= 0x80);
}

// The word before the '.' at `dot` is an abbreviation, an initial, or dotted ("U.S", "e.g").
bool abbreviation_before(std::string_view p, std::size_t start, std::size_t dot) {
  std::size_t b = dot;
  while (b > start && !is_space(p[b - 1])) --b;
  while (b < dot && is_opener(p[b])) ++b;
  std::string_view word = p.substr(b, dot - b);
  if (word.empty()) return false;  // a spaced terminator, as WikiText writes them
  if (word.size() == 1 && (is_upper(word[0]) || (word[0] >= 'a' && word[0] <= 'z'))) return true;
  return word.find('.') != std::string_view::npos || kAbbreviations.count(word) > 0;
}

std::string_view trimmed(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::vector<std::string_view> split_sentences(std::string_view p) {
  std::vector<std::string_view> out;
  auto emit = [&](std::size_t b, std::size_t e) {
    auto s = trimmed(p.substr(b, e - b));
    if (!s.empty()) out.push_back(s);
  };
  std::size_t start = 0;
  int depth = 0, quotes = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '(' || c == '[') ++depth;
    if ((c == ')' || c == ']') && depth > 0) --depth;
    if (c == '"') ++quotes;
    if (c != '.' && c != '!' && c != '?') continue;
    std::size_t j = i + 1;
    while (j < p.size() && (p[j] == '.' || p[j] == '!' || p[j] == '?')) ++j;
    const bool single_dot = c == '.' && j == i + 1;
    int q = quotes, d = depth;
    j = skip_closers(p, j, q, d);
    if (d > 0) continue;  // inside brackets, unless they close right after: "(An aside.) Then"
    if (j < p.size() && !is_space(p[j])) continue;  // inside a token: "3.14", "U.S"
    std::size_t k = skip_spaces(p, j);
    if (k < p.size() && p[k] == '"' && q % 2 == 1) {  // a spaced closing quote: `said " Stop . " Then`
      j = k + 1;
      k = skip_spaces(p, j);
    }
    if (k >= p.size()) break;
    if (!starts_sentence(p, k)) continue;
    if (single_dot && abbreviation_before(p, start, i)) continue;
    emit(start, j);
    start = k;
    i = k - 1;
    quotes = depth = 0;
  }
  emit(start, p.size());
  return out;
}

}  // namespace bertforge::data
