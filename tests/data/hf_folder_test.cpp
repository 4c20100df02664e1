// HF save_to_disk folders and Parquet files that are not what they claim (inputs of the hf_arrow and parquet
// fuzz targets): a state.json of the wrong shape, a data file outside the folder, a data file without the
// label column the first one has, a damaged Parquet footer. Each is a one-line Error naming the file, never
// nlohmann's exception or a null column dereferenced.
#include <gtest/gtest.h>

#include <filesystem>

#include "bertforge/data/corpus.h"
#include "bertforge/data/hf_dataset.h"
#include "bertforge/data/records.h"
#include "common/paths.h"
#include "common/replay.h"

using namespace bertforge::data;
using namespace bertforge::testing;
namespace fs = std::filesystem;

namespace {
// A prepared folder of `n` short sequences with the given task, exported as an HF folder into `hf`.
void export_sample(const std::string& dir, SentenceTask task, const std::string& hf) {
  std::filesystem::create_directories(dir);
  ShardMeta meta{7, 50, task, {1, 2, 0, 3, 4}};
  Examples ex;
  for (int i = 0; i < 4; ++i) {
    std::int32_t a[] = {5, 6, 7}, b[] = {8, 9};
    ex.add(a, 3, b, 2, true, task == SentenceTask::none ? -1 : i % 2, meta.special);
  }
  ShardWriter w(dir, meta);
  w.add(ex);
  write_manifest(dir, meta, w.finish(), nlohmann::json::object());
  export_hf(ShardSet(dir), hf);
}
}  // namespace

TEST(HfFolder, StateJsonOfTheWrongShapeNamesTheFile) {
  const std::string dir = replay_dir("hf_state"), state = dir + "/state.json";
  auto refused = [&](const std::string& text, const std::string& part) {
    write_bytes(state, text);
    expect_error_containing([&] { hf_data_files(dir); }, state + part);
  };
  refused("[]", ": expected a JSON object (datasets state), found array");
  refused(R"({"_data_files":{"filename":"x.arrow"}})", ": no \"_data_files\" list");
  refused(R"({"_data_files":[3]})", ": _data_files[].filename: the parent is not a JSON object");
  refused(R"({"_data_files":[{"filename":5}]})", ": _data_files[].filename: unexpected value 5");
  refused(R"({"_data_files":[{"filename":"../../etc/passwd"}]})",
          ": _data_files[].filename: \"../../etc/passwd\" is not a file name inside the folder");
}

TEST(HfFolder, ADataFileWithoutTheLabelColumnIsAnErrorNotACrash) {
  const std::string root = replay_dir("hf_labels");
  export_sample(root + "/nsp", SentenceTask::nsp, root + "/hf");
  export_sample(root + "/mlm", SentenceTask::none, root + "/hf_mlm");
  fs::copy_file(root + "/hf_mlm/data-00000-of-00001.arrow", root + "/hf/data-00001-of-00002.arrow");
  write_bytes(root + "/hf/state.json", R"({"_data_files":[{"filename":"data-00000-of-00001.arrow"},)"
                                       R"({"filename":"data-00001-of-00002.arrow"}]})");
  ShardMeta meta{7, 50, SentenceTask::nsp, {1, 2, 0, 3, 4}};
  expect_error_containing([&] { import_hf(root + "/hf", root + "/imported", meta); },
                          root + "/hf/data-00001-of-00002.arrow:5: no next_sentence_label column");
}

// The parquet fuzz target's first crash: a damaged footer made Thrift's message, and so the error, two lines.
TEST(ParquetFile, ADamagedFooterIsAOneLineErrorNamingTheFile) {
  const std::string path =
      bertforge::testing::source_dir() + "/tests/data/fuzz_regressions/parquet-thrift-message-of-two-lines.parquet";
  try {
    read_corpus({path}, {}, [](Document&&) {});
    FAIL() << "no error";
  } catch (const bertforge::Error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind(path + ": arrow: ", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

// The parquet fuzz target's out-of-memory: a footer whose first row group claims 66 689 365 630 rows for two
// values made Arrow reserve gigabytes before reading a page.
TEST(ParquetFile, RowCountsTheColumnsDoNotHoldAreRefusedBeforeReading) {
  const std::string path = bertforge::testing::source_dir() +
                           "/tests/data/fuzz_regressions/parquet-row-group-claims-billions-of-rows.parquet";
  expect_error_containing([&] { read_corpus({path}, {}, [](Document&&) {}); },
                          path + ": row group 0 claims 66689365630 rows");
}
