// read_labelled against HF: every case of tests/golden/finetune_data/cases.json (written by
// tools/gen_golden/finetune_data.py from HF's loaders, run_glue.py's / run_classification.py's / run_ner.py's
// preprocessing and BertTokenizerFast) read from tests/fixtures/finetune/ must give HF's input_ids,
// token_type_ids, labels and label list exactly. Then bad input: each a one-line Error naming file, line or
// row, and column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "bertforge/data/labelled_files.h"
#include "bertforge/util/json_file.h"
#include "common/paths.h"
#include "common/replay.h"
#include "common/shared_data.h"

using namespace bertforge;
using namespace bertforge::data;
using namespace bertforge::testing;

namespace {

LabelledFileOptions options_of(const nlohmann::json& o) {
  LabelledFileOptions out;
  out.task_name = o.value("task_name", "");
  out.text_column = o.value("text_column", "");
  out.text_pair_column = o.value("text_pair_column", "");
  out.label_column = o.value("label_column", "");
  out.token_classification = o.value("token_classification", false);
  out.multi_label = o.value("multi_label", false);
  out.label_all_tokens = o.value("label_all_tokens", false);
  out.max_seq_length = o.value("max_seq_length", 128);
  out.threads = 2;
  return out;
}

const text::Tokenizer& tokenizer(bool lower_case) {
  static std::map<bool, text::Tokenizer> made;
  auto it = made.find(lower_case);
  if (it != made.end()) return it->second;
  text::TokenizerOptions o;
  if (lower_case) o.lower_case = true;
  const std::string root = shared_data_root() + "/vocab/";
  const std::string path = lower_case ? root + "bert-base-uncased/vocab.txt" : root + "bert-base-cased";
  return made.emplace(lower_case, text::Tokenizer::from_pretrained(path, o)).first->second;
}

void expect_equal(const LabelledExamples& got, const nlohmann::json& want, const std::string& name) {
  SCOPED_TRACE(name);
  EXPECT_EQ(problem_type_name(got.problem), want["problem"].get<std::string>());
  EXPECT_EQ(got.label_names, want["label_names"].get<std::vector<std::string>>());
  const auto ids = want["input_ids"].get<std::vector<std::vector<std::int32_t>>>();
  const auto types = want["token_type_ids"].get<std::vector<std::vector<std::int32_t>>>();
  ASSERT_EQ(got.rows(), ids.size());
  for (std::size_t r = 0; r < got.rows(); ++r) {
    std::vector<std::int32_t> row(got.input_ids.begin() + got.offsets[r], got.input_ids.begin() + got.offsets[r + 1]);
    std::vector<std::int32_t> type(got.token_type_ids.begin() + got.offsets[r],
                                   got.token_type_ids.begin() + got.offsets[r + 1]);
    EXPECT_EQ(row, ids[r]) << "row " << r;
    EXPECT_EQ(type, types[r]) << "row " << r;
  }
  std::vector<float> labels;
  for (const auto& l : want["labels"]) labels.push_back(static_cast<float>(l.get<double>()));
  EXPECT_EQ(got.labels, labels);
}

}  // namespace

TEST(LabelledFiles, EveryGoldenCaseIsWhatHfMakes) {
  SHARED_DATA(fixtures, "finetune");
  const auto golden = read_json_file(source_dir() + "/tests/golden/finetune_data/cases.json", "golden");
  std::map<std::string, LabelledExamples> done;
  ASSERT_GT(golden["cases"].size(), 30u);
  for (const auto& c : golden["cases"]) {
    const std::string name = c["name"];
    const LabelledExamples* train = nullptr;
    if (c.contains("train")) train = &done.at(c["train"].get<std::string>());
    try {
      done[name] = read_labelled(fixtures + "/" + c["file"].get<std::string>(), tokenizer(c["lower_case"]),
                                 options_of(c["options"]), train);
    } catch (const Error& e) {
      ADD_FAILURE() << name << ": " << e.what();
      continue;
    }
    expect_equal(done[name], c["expected"], name);
  }
}

TEST(LabelledFiles, ProblemTypeNamesRoundTrip) {
  for (auto p : {ProblemType::single_label_classification, ProblemType::multi_label_classification,
                 ProblemType::regression, ProblemType::token_classification})
    EXPECT_EQ(problem_type_from_name(problem_type_name(p)), p);
  expect_error_containing([] { problem_type_from_name("binary"); }, "unknown problem type \"binary\" (choices: ");
  LabelledExamples e;
  e.label_names = {"a", "b", "c"};
  EXPECT_EQ(e.labels_per_row(), 1u);
  e.problem = ProblemType::multi_label_classification;
  EXPECT_EQ(e.labels_per_row(), 3u);
  e.problem = ProblemType::token_classification;
  EXPECT_EQ(e.labels_per_row(), 0u);
}

namespace {
// Reads `text` written as `name` in a fresh folder, expecting an Error that holds "<path><part>".
void refused(const std::string& name, const std::string& text, const std::string& part,
             LabelledFileOptions o = {}, const LabelledExamples* train = nullptr) {
  const std::string path = write_bytes(replay_dir("labelled") + "/" + name, text);
  expect_error_containing([&] { read_labelled(path, tokenizer(false), o, train); }, path + part);
}
}  // namespace

TEST(LabelledFiles, AMissingColumnNamesTheColumnsThereAre) {
  LabelledFileOptions o;
  o.label_column = "stars";
  refused("a.csv", "review,label\nfine,1\n", ":1: no column \"stars\" (the columns are \"review\", \"label\")", o);
  refused("b.jsonl", "{\"text\": \"x\"}\n", ":1: no column \"label\" (the columns are \"text\")");
  LabelledFileOptions glue;
  glue.task_name = "rte";
  refused("c.tsv", "index\tsentence\tlabel\n0\tx\tentailment\n",
          ":1: no column \"sentence1\" (the columns are \"index\", \"sentence\", \"label\")", glue);
}

TEST(LabelledFiles, ARowWithoutTextOrLabelNamesItsLineAndColumn) {
  refused("a.csv", "sentence,label\nfine,1\n,0\n", ":3: column \"sentence\": no text");
  refused("b.csv", "sentence,label\nfine,1\n\"two\nlines\",\n", ":3: column \"label\": no label");
  refused("c.jsonl", "{\"sentence\": \"x\", \"label\": 1}\n{\"sentence\": null, \"label\": 0}\n",
          ":2: column \"sentence\": no text");
}

TEST(LabelledFiles, AnUnknownLabelAtEvaluationIsAnError) {
  const std::string dir = replay_dir("labelled_eval");
  const std::string train_path = write_bytes(dir + "/train.csv", "s,label\na,pos\nb,neg\n");
  const auto train = read_labelled(train_path, tokenizer(false), {});
  EXPECT_EQ(train.label_names, (std::vector<std::string>{"neg", "pos"}));
  refused("valid.csv", "s,label\nc,pos\nd,meh\n",
          ":3: column \"label\": unknown label \"meh\" (the training labels are \"neg\", \"pos\")", {}, &train);
  LabelledFileOptions glue;
  glue.task_name = "sst2";
  refused("dev.tsv", "sentence\tlabel\nfine\t2\n", ":2: column \"label\": unknown label \"2\"", glue);
}

TEST(LabelledFiles, ARegressionLabelMustBeANumber) {
  const std::string dir = replay_dir("labelled_regression");
  const auto train = read_labelled(write_bytes(dir + "/train.csv", "s,label\na,0.5\nb,2\n"), tokenizer(false), {});
  ASSERT_EQ(train.problem, ProblemType::regression);
  EXPECT_EQ(train.labels, (std::vector<float>{0.5f, 2.0f}));
  refused("valid.csv", "s,label\nc,1.5\nd,high\n", ":3: column \"label\": \"high\" is not a number", {}, &train);
  LabelledFileOptions stsb;
  stsb.task_name = "stsb";
  refused("dev.tsv", "index\tsentence1\tsentence2\tscore\n0\ta\tb\tfive\n",
          ":2: column \"score\": \"five\" is not a number", stsb);
}

TEST(LabelledFiles, ACoNLLLineWithoutATagIsAnError) {
  LabelledFileOptions o;
  o.token_classification = true;
  refused("a.conll", "-DOCSTART- -X- O\n\nEU B-ORG\nrejects\n", ":4: \"rejects\" has no tag", o);
  refused("b.jsonl", "{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [\"O\"]}\n",
          ":1: column \"ner_tags\": 1 tags for 2 words", o);
}

TEST(LabelledFiles, MalformedFilesAreErrorsNotCrashes) {
  refused("a.csv", "s,label\n\"open quote,1\n", ":2: the file ends inside the quoted field this record starts");
  refused("b.csv", "s,label\na,1,extra\n", ":2: 3 fields, but the header has 2");
  refused("c.jsonl", "{\"s\": \"a\", \"label\": 1}\n[1]\n", ":2: not a JSON object");
  refused("d.jsonl", "{\"s\": \"a\", \"label\": 1}\n{\"s\": \"b\", \"label\": \"x\"}\n",
          ": column \"label\" mixes numbers and text");
  refused("e.csv", "s,label\n", ": no rows");
  refused("f.csv", "s,label\nok,1\n\"caf\xE9\",2\n", ":3: column \"s\": invalid UTF-8 at byte 4");
  LabelledFileOptions o;
  o.task_name = "glue9";
  expect_error_containing([&] { read_labelled("x.tsv", tokenizer(false), o); }, "unknown GLUE task \"glue9\"");
  o = {};
  o.max_seq_length = 1;
  expect_error_containing([&] { read_labelled("x.csv", tokenizer(false), o); }, "max_seq_length 1");
}
