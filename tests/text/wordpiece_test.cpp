#include "bertforge/text/wordpiece.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bertforge/util/error.h"

using bertforge::text::Vocab;
using bertforge::text::WordPiece;
using bertforge::text::WordPieceOptions;
using Ids = std::vector<std::int32_t>;

namespace {
Vocab tiny() { return Vocab::from_tokens({"[UNK]", "un", "##aff", "##able", "a", "##ff", "##a", "é", "##é"}, "tiny"); }

Ids encode(const WordPiece& wp, std::string_view word) {
  Ids ids;
  wp.encode_word(word, ids);
  return ids;
}

std::string write_temp(const std::string& name, const std::string& content) {
  auto path = (std::filesystem::temp_directory_path() / ("bf_vocab_" + name)).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const bertforge::Error& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(WordPiece, GreedyLongestMatchFirst) {
  Vocab v = tiny();
  WordPiece wp(v, {}, "tiny");
  EXPECT_EQ(encode(wp, "unaffable"), (Ids{1, 2, 3}));
  EXPECT_EQ(encode(wp, "aaff"), (Ids{4, 2}));   // "a" + "##aff", not "a" "##a" "##ff"
  EXPECT_EQ(encode(wp, "aff"), (Ids{4, 5}));
  EXPECT_EQ(encode(wp, "éé"), (Ids{7, 8}));      // cuts only on character boundaries
  EXPECT_EQ(encode(wp, "unx"), (Ids{0}));        // one unmatched position: the whole word is [UNK]
}

TEST(WordPiece, OverlongWordsAreUnknownCountingCharacters) {
  Vocab v = tiny();
  WordPieceOptions o;
  o.max_input_chars_per_word = 4;
  WordPiece wp(v, o, "tiny");
  EXPECT_EQ(encode(wp, "éééé"), (Ids{7, 8, 8, 8}));  // 8 bytes, 4 characters
  EXPECT_EQ(encode(wp, "aaaaa"), (Ids{0}));
}

TEST(WordPiece, MissingUnknownTokenIsAnError) {
  Vocab v = Vocab::from_tokens({"a"}, "v.txt");
  EXPECT_EQ(error_of([&] { WordPiece(v, {}, "v.txt"); }), "v.txt: the vocabulary has no unknown token \"[UNK]\"");
}

TEST(Vocab, LoadsTxtWithCrlfAndFinalNewline) {
  Vocab v = Vocab::load_txt(write_temp("ok.txt", "[UNK]\r\nhello\r\n##s\n"));
  EXPECT_EQ(v.size(), 3);
  EXPECT_EQ(v.find("##s"), 2);
  EXPECT_EQ(v.token(1), "hello");
  EXPECT_EQ(v.find("nope"), -1);
}

TEST(Vocab, BadFilesAreErrorsNamingFileAndLine) {
  auto dup = write_temp("dup.txt", "[UNK]\na\nb\na\n");
  EXPECT_EQ(error_of([&] { Vocab::load_txt(dup); }), dup + ":4: token \"a\" is listed twice (first as id 1)");
  auto empty = write_temp("empty.txt", "");
  EXPECT_EQ(error_of([&] { Vocab::load_txt(empty); }), empty + ": the vocabulary is empty");
  auto blank = write_temp("blank.txt", "[UNK]\n\nb\n");
  EXPECT_NE(error_of([&] { Vocab::load_txt(blank); }).find(blank + ":2: empty line"), std::string::npos);
  auto bad = write_temp("bad.txt", "[UNK]\nok\nb\xFFx\n");
  EXPECT_EQ(error_of([&] { Vocab::load_txt(bad); }), bad + ":3: invalid UTF-8 at byte 2 of the line");
  EXPECT_NE(error_of([] { Vocab::load_txt("/nonexistent/vocab.txt"); }).find("/nonexistent/vocab.txt"),
            std::string::npos);
}
