// The tokenizer folder train-tokenizer writes: contents, and refusals that leave nothing behind.
// (That HF loads it is tests/python/test_train_tokenizer.py's job.)
#include "bertforge/text/save_tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bertforge/util/error.h"

namespace fs = std::filesystem;
using namespace bertforge::text;

namespace {

fs::path fresh_dir() {
  auto dir = fs::temp_directory_path() /
             ("bf_save_tok_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
  fs::remove_all(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::vector<std::string> kVocab{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "é", "##a", "aé"};

}  // namespace

TEST(SaveTokenizer, WritesVocabTokenizerJsonAndConfig) {
  auto dir = fresh_dir();
  SaveTokenizerOptions o;
  o.lower_case = true;
  save_tokenizer(dir.string(), kVocab, o);
  EXPECT_EQ(slurp(dir / "vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\né\n##a\naé\n");
  auto tok = nlohmann::json::parse(slurp(dir / "tokenizer.json"));
  EXPECT_EQ(tok["model"]["type"], "WordPiece");
  EXPECT_EQ(tok["model"]["vocab"].size(), kVocab.size());
  EXPECT_EQ(tok["model"]["vocab"]["aé"], 8);
  EXPECT_EQ(tok["normalizer"]["lowercase"], true);
  EXPECT_EQ(tok["added_tokens"].size(), 5u);
  EXPECT_EQ(tok["added_tokens"][4]["content"], "[MASK]");
  EXPECT_EQ(tok["post_processor"]["special_tokens"]["[SEP]"]["ids"][0], 3);
  auto config = nlohmann::json::parse(slurp(dir / "tokenizer_config.json"));
  EXPECT_EQ(config["do_lower_case"], true);
  EXPECT_EQ(config["mask_token"], "[MASK]");
}

TEST(SaveTokenizer, RefusesBadVocabulariesAndWritesNothing) {
  auto dir = fresh_dir();
  auto dup = kVocab;
  dup.push_back("a");
  EXPECT_THROW(
      {
        try {
          save_tokenizer(dir.string(), dup, {});
        } catch (const bertforge::Error& e) {
          EXPECT_NE(std::string(e.what()).find("vocab.txt:10: duplicate token 'a'"), std::string::npos) << e.what();
          throw;
        }
      },
      bertforge::Error);
  std::vector<std::string> no_unk{"[CLS]", "[SEP]", "a"};
  SaveTokenizerOptions o;
  o.special_tokens = {"[CLS]", "[SEP]"};
  EXPECT_THROW(save_tokenizer(dir.string(), no_unk, o), bertforge::Error);
  o.special_tokens = {"[UNK]", "[CLS]", "[SEP]", "[X]"};  // a special token missing from the vocabulary
  EXPECT_THROW(save_tokenizer(dir.string(), kVocab, o), bertforge::Error);
  EXPECT_FALSE(fs::exists(dir));
}

TEST(SaveTokenizer, SavePretrainedKeepsEveryResolvedSetting) {
  auto src = fresh_dir();
  save_tokenizer(src.string(), kVocab, {});
  TokenizerOptions o;
  o.lower_case = true;  // an override on loading, as `prepare --lower-case` makes: the saved files must keep it
  o.strip_accents = false;
  Tokenizer original = Tokenizer::from_pretrained(src.string(), o);
  auto dir = src.string() + "_saved";
  fs::remove_all(dir);
  save_pretrained(original, dir);
  for (const char* name : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_TRUE(fs::exists(fs::path(dir) / name)) << name;
  Tokenizer loaded = Tokenizer::from_pretrained(dir);
  EXPECT_TRUE(loaded.config().normalizer.lowercase);
  EXPECT_EQ(loaded.config().normalizer.strip_accents, std::optional<bool>(false));
  EXPECT_EQ(loaded.vocab().tokens(), original.vocab().tokens());
  for (const char* text : {"A aé", "AÉ [MASK] a", "é a"}) EXPECT_EQ(loaded.encode(text), original.encode(text)) << text;
  EXPECT_EQ(loaded.encode("AÉ"), std::vector<std::int32_t>({8}));  // lower-cased, accent kept: "aé"
  auto map = nlohmann::json::parse(slurp(fs::path(dir) / "special_tokens_map.json"));
  EXPECT_EQ(map, nlohmann::json({{"cls_token", "[CLS]"}, {"mask_token", "[MASK]"}, {"pad_token", "[PAD]"},
                                 {"sep_token", "[SEP]"}, {"unk_token", "[UNK]"}}));
  fs::remove_all(dir);
  fs::remove_all(src);
}
