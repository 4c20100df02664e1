// JSON files: written and read as Python's json module does (indent 2; NaN, Infinity, -Infinity), every
// failure one line naming the file.
#include "bertforge/util/json_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bertforge/util/error.h"

namespace fs = std::filesystem;
using namespace bertforge;

namespace {

struct JsonFileTest : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("bf_json_" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }
  std::string error_of(const std::string& text) {
    std::ofstream((dir / "f.json").string()) << text;
    try {
      read_json_file((dir / "f.json").string(), "config");
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

}  // namespace

TEST_F(JsonFileTest, WriteThenReadGivesTheSameObjectWithIndentAndNewline) {
  nlohmann::json j = {{"a", 1}, {"b", {1, 2}}, {"c", "x"}};
  write_json_file((dir / "w.json").string(), j);
  EXPECT_EQ(read_json_file((dir / "w.json").string(), "test file"), j);
  std::ifstream in(dir / "w.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, j.dump(2) + "\n");
}

TEST_F(JsonFileTest, EveryFailureIsOneLineNamingTheFile) {
  const std::string f = (dir / "f.json").string();
  // A syntax error names the line, as a compiler does, and says what was found there.
  std::string what = error_of("{\n  \"a\": 1,\n  oops\n}");
  EXPECT_EQ(what.rfind(f + ":3: not valid JSON (column ", 0), 0u) << what;
  EXPECT_EQ(what.find("[json.exception"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  EXPECT_EQ(error_of("[1, 2]"), f + ": expected a JSON object (config), found array");
  EXPECT_EQ(error_of("").rfind(f + ":1: not valid JSON", 0), 0u);
  // A number no double holds is nlohmann's out_of_range, not a parse error (the fuzzer's training_args case).
  EXPECT_EQ(error_of("{\n  \"learning_rate\": 1e999\n}"),
            f + ":2: not valid JSON (number overflow parsing '1e999': beyond the range of a double)");
  try {
    read_json_file(dir.string(), "config");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.string() + ": is a folder, not a config file");
  }
  EXPECT_THROW(read_json_file((dir / "missing.json").string(), "config"), Error);
}

TEST(JsonFile, NonFiniteNumbersAsPythonWritesThem) {
  nlohmann::json j = {{"a", NAN}, {"b", {INFINITY, -INFINITY, 1.5}}, {"s", "NaN Infinity"}};
  // Python: json.dumps({"a": float("nan"), "b": [float("inf"), float("-inf"), 1.5], "s": "NaN Infinity"})
  EXPECT_EQ(dump_json(j), R"({"a":NaN,"b":[Infinity,-Infinity,1.5],"s":"NaN Infinity"})");
  nlohmann::json back = parse_json(R"({"a": NaN, "b": [Infinity, -Infinity, 1.5], "s": "NaN \"Infinity\""})");
  EXPECT_TRUE(std::isnan(back["a"].get<double>()));
  EXPECT_EQ(back["b"][0].get<double>(), INFINITY);
  EXPECT_EQ(back["b"][1].get<double>(), -INFINITY);
  EXPECT_EQ(back["b"][2].get<double>(), 1.5);
  EXPECT_EQ(back["s"], "NaN \"Infinity\"");
  EXPECT_EQ(dump_json({{"x", 1}}, 2), nlohmann::json({{"x", 1}}).dump(2));  // finite: nlohmann's own text
  EXPECT_THROW(parse_json("{\"a\": Nan}"), nlohmann::json::parse_error);
}

TEST_F(JsonFileTest, WriteThenReadKeepsNonFiniteValues) {
  const std::string path = (dir / "nonfinite.json").string();
  write_json_file(path, {{"loss", NAN}, {"grad_norm", INFINITY}});
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "{\n  \"grad_norm\": Infinity,\n  \"loss\": NaN\n}\n");
  nlohmann::json j = read_json_file(path, "test file");
  EXPECT_TRUE(std::isnan(j["loss"].get<double>()));
  EXPECT_EQ(j["grad_norm"].get<double>(), INFINITY);
}
