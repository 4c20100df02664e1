#include "bertforge/model/safetensors.h"

#include <ATen/ops/allclose.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bertforge/util/error.h"

namespace fs = std::filesystem;
using bertforge::Error;
using namespace bertforge::model;

namespace {

struct SafetensorsTest : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / ("bf_st_" + std::to_string(::getpid()));
  void SetUp() override { fs::create_directories(dir); }
  void TearDown() override { fs::remove_all(dir); }

  std::string write(const std::string& name, const std::string& bytes) {
    auto path = (dir / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // A file whose header is `json` (length-prefixed) followed by `data_bytes` zero bytes.
  std::string raw(const std::string& json, std::size_t data_bytes, std::uint64_t claimed_len = 0) {
    std::uint64_t n = claimed_len ? claimed_len : json.size();
    std::string out(8, '\0');
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return write("raw.safetensors", out + json + std::string(data_bytes, '\0'));
  }
  std::string error_of(const std::string& path) {
    try {
      SafetensorsFile f(path);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
};

}  // namespace

TEST_F(SafetensorsTest, RoundTripKeepsValuesDtypesAndMetadata) {
  auto a = at::arange(12, at::kFloat).view({3, 4});
  auto b = at::arange(5, at::kLong);
  auto c = at::arange(6, at::kFloat).to(at::kBFloat16).view({2, 3});
  auto path = (dir / "x.safetensors").string();
  save_safetensors(path, {{"b", b}, {"a", a}, {"c", c}}, {{"format", "pt"}, {"note", "hi"}});
  SafetensorsFile f(path);
  EXPECT_TRUE(at::equal(f.tensor("a"), a));
  EXPECT_TRUE(at::equal(f.tensor("b"), b));
  EXPECT_TRUE(at::equal(f.tensor("c"), c));
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().at("note"), "hi");
  EXPECT_EQ((fs::file_size(path) - 8 - (40 + 48 + 12)) % 8, 0u);  // header padded to a multiple of 8
  EXPECT_EQ(f.entries()[0].name, "b");  // 8-byte dtypes first, then 4, then 2 (ties by name)
  EXPECT_EQ(f.entries()[1].name, "a");
  EXPECT_EQ(f.entries().back().name, "c");
  EXPECT_THROW(f.tensor("missing"), Error);
}

TEST_F(SafetensorsTest, TruncatedFile) {
  auto path = (dir / "t.safetensors").string();
  save_safetensors(path, {{"a", at::arange(100, at::kFloat)}});
  fs::resize_file(path, fs::file_size(path) - 4);
  EXPECT_NE(error_of(path).find("truncated"), std::string::npos) << error_of(path);
  EXPECT_NE(error_of(write("short", "abc")).find("shorter than the 8-byte header length"), std::string::npos);
}

TEST_F(SafetensorsTest, HeaderLengthPastTheEnd) {
  auto what = error_of(raw(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4, 1000));
  EXPECT_NE(what.find("header length 1000 runs past the end of the file"), std::string::npos) << what;
  EXPECT_NE(error_of(raw("{}", 0, 1ull << 40)).find("exceeds the 100 MB limit"), std::string::npos);
}

// The safetensors fuzzer's case: a metadata key holding a newline is shown escaped, so the error is one line.
TEST_F(SafetensorsTest, MetadataKeysAreShownOnOneLine) {
  auto what = error_of(raw(R"({"__metadata__":{"for\nmat":[0,8]}})", 0));
  EXPECT_NE(what.find("__metadata__ value for 'for\\nmat' is not a string"), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << what;
}

TEST_F(SafetensorsTest, OverlappingOffsets) {
  auto what = error_of(raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},
                               "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12));
  EXPECT_NE(what.find("overlaps"), std::string::npos) << what;
}

TEST_F(SafetensorsTest, OutOfRangeOffsets) {
  auto what = error_of(raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4));
  EXPECT_NE(what.find("tensors cover 8 data bytes but the file holds 4"), std::string::npos) << what;
  what = error_of(raw(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})", 12));
  EXPECT_NE(what.find("(hole)"), std::string::npos) << what;
}

TEST_F(SafetensorsTest, SizeDisagreesWithShapeOrDtype) {
  auto what = error_of(raw(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(what.find("tensor 'a': data_offsets span 8 bytes but dtype and shape need 12"), std::string::npos)
      << what;
  what = error_of(raw(R"({"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(what.find("unknown dtype 'F31'"), std::string::npos) << what;
  what = error_of(raw(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(what.find("non-negative"), std::string::npos) << what;
  what = error_of(raw(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,8]}})", 8));
  EXPECT_NE(what.find("overflow"), std::string::npos) << what;
}

TEST_F(SafetensorsTest, MalformedHeader) {
  EXPECT_NE(error_of(raw("{\"a\": ", 0)).find("header is not valid JSON"), std::string::npos);
  EXPECT_NE(error_of(raw("[]", 0)).find("not a JSON object"), std::string::npos);
  EXPECT_NE(error_of(raw(std::string("{}\0{", 4), 0)).find("NUL byte"), std::string::npos);
  EXPECT_NE(error_of(raw(R"({"__metadata__":{"k":1}})", 0)).find("not a string"), std::string::npos);
  EXPECT_NE(error_of(raw(R"({"a":{"dtype":"F32","shape":[1]}})", 4)).find("data_offsets"), std::string::npos);
}
