#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bertforge/data/corpus.h"
#include "bertforge/util/error.h"
#include "common/shared_data.h"

using namespace bertforge::data;
using Lines = std::vector<std::string>;

namespace {

std::string write_temp(const std::string& name, const std::string& content) {
  auto path = (std::filesystem::temp_directory_path() / ("bf_corpus_" + name)).string();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::vector<Document> read(const std::string& path, CorpusOptions o = {}, CorpusStats* stats = nullptr) {
  std::vector<Document> docs;
  auto s = read_corpus({path}, o, [&](Document&& d) { docs.push_back(std::move(d)); });
  if (stats) *stats = s;
  return docs;
}

}  // namespace

TEST(Corpus, BlankLineBlocksAndPerFile) {
  auto path = write_temp("blocks.txt", "a b.\nc d.\n\n\n e f. \r\n\nlast");
  auto docs = read(path);
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].lines, (Lines{"a b.", "c d."}));
  EXPECT_EQ(docs[1].lines, (Lines{"e f."}));
  EXPECT_EQ(docs[1].source, path + ":5");
  EXPECT_EQ(docs[2].lines, (Lines{"last"}));
  CorpusOptions o;
  o.layout = Layout::file;
  docs = read(path, o);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].lines.size(), 4u);
}

TEST(Corpus, WikiTextArticlesHeadingsAndEscapes) {
  auto path = write_temp("wiki.raw",
                         " \n = Lobster = \n \n It is 1 @,@ 000 @-@ year @.@ old . \n \n = = Description = = \n"
                         " \n More text . \n = Empty = \n \n = Crab = \n Crabs . \n");
  CorpusStats stats;
  auto docs = read(path, {}, &stats);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].lines, (Lines{"It is 1,000-year.old .", "More text ."}));
  EXPECT_EQ(docs[0].source, path + ":2");
  EXPECT_EQ(docs[1].lines, (Lines{"Crabs ."}));
  EXPECT_EQ(stats.empty_documents, 1u);
  CorpusOptions keep;
  keep.wikitext_keep_escapes = true;
  EXPECT_EQ(read(path, keep)[0].lines[0], "It is 1 @,@ 000 @-@ year @.@ old .");
}

TEST(Corpus, WikiTextValidHasItsArticles) {
  SHARED_DATA(path, "wikitext-103-raw/wiki.valid.raw");
  CorpusStats stats;
  auto docs = read(path, {}, &stats);
  EXPECT_EQ(docs.size(), 60u);  // the 60 articles of WikiText-103's validation split
  EXPECT_EQ(docs[0].lines[0].rfind("Homarus gammarus , known as the European lobster", 0), 0u);
  EXPECT_EQ(stats.invalid_utf8 + stats.long_lines, 0u);
}

TEST(Corpus, JsonlRecordsAndField) {
  auto path = write_temp("c.jsonl", "{\"text\": \"One. Two.\\nThree.\", \"id\": 1}\n\n{\"body\": \"x\", \"text\": \"Four.\"}\n");
  auto docs = read(path);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].lines, (Lines{"One. Two.", "Three."}));
  EXPECT_EQ(docs[1].source, path + ":3");
  CorpusOptions o;
  o.field = "body";
  EXPECT_THROW(read(path, o), bertforge::Error);  // line 1 has no "body"
}

TEST(Corpus, MalformedJsonNamesFileAndLine) {
  auto path = write_temp("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"cut\n");
  try {
    read(path);
    FAIL() << "no error";
  } catch (const bertforge::Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(path + ":2: not a JSON object"));
  }
}

TEST(Corpus, BibleChaptersOrBooksVersesPresplit) {
  auto path = write_temp("kjv.txt", "Ge1:1 In the beginning.\nGe1:2 And the earth.\nGe2:1 Thus.\n1Sm1:1 Now.\n");
  auto docs = read(path);
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0].lines, (Lines{"In the beginning.", "And the earth."}));
  EXPECT_TRUE(docs[0].presplit);
  EXPECT_EQ(docs[2].lines, (Lines{"Now."}));
  CorpusOptions books;
  books.bible_books = true;
  EXPECT_EQ(read(path, books).size(), 2u);
}

// Found by the text fuzzer: a chapter number of 15 digits overflowed int.
TEST(Corpus, HugeChapterNumberIsNotAVerse) {
  auto path = write_temp("kjv.txt", "Ge1:1 In the beginning.\nG999999999999999e4:a1:1\n");
  try {
    read(path);
    FAIL() << "no error";
  } catch (const bertforge::Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(path + ":2: not a verse line"));
  }
}

TEST(Corpus, InvalidUtf8AndLongLinesAreCountedSkips) {
  std::string longline(5000, 'x');
  auto path = write_temp("bad.txt", "good one.\nbad \xC3\x28 byte.\n" + longline + "\nsurrogate \xED\xA0\x80.\nend.\n");
  CorpusOptions o;
  o.max_line_bytes = 1000;
  CorpusStats stats;
  auto docs = read(path, o, &stats);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].lines, (Lines{"good one.", "end."}));
  EXPECT_EQ(stats.invalid_utf8, 2u);
  EXPECT_EQ(stats.long_lines, 1u);
}

TEST(Corpus, MissingFileIsAnError) {
  EXPECT_THROW(read("/nonexistent/corpus.txt"), bertforge::Error);
}
