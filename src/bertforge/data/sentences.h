// English sentence splitting of one paragraph, by rule (no model): a sentence ends at '.', '!' or '?' (and any
// closing quotes or brackets after it) followed by white space and a capital letter, digit, non-ASCII letter
// or opening quote/bracket — unless
//   - the '.' ends an abbreviation (Mr. Dr. St. e.g. U.S. Jan. No. ...), or an initial ("H. americanus"),
//   - the '.' is inside a number ("3.14": no space follows), or
//   - it is inside brackets "(...)" or "[...]".
// Works on spaced text (WikiText " . ") and on ordinary prose. A closing double quote after the terminator
// stays with its sentence when the sentence has an odd number of double quotes.
// Returns views into `paragraph`, trimmed, none empty; a paragraph without a boundary is one sentence.
#pragma once
#include <string_view>
#include <vector>

namespace bertforge::data {

enum class SentenceSplit { english, none };  // none: each line is a sentence already

std::vector<std::string_view> split_sentences(std::string_view paragraph);

}  // namespace bertforge::data
