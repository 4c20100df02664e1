#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "bertforge/data/shard.h"
#include "bertforge/util/checksum.h"
#include "bertforge/util/error.h"

using namespace bertforge::data;
namespace fs = std::filesystem;

namespace {

std::string fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("bf_shard_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

Examples sample(int n, std::int32_t vocab) {
  Examples ex;
  const SpecialIds sp{1, 2, 0, 3, 4};
  for (int i = 0; i < n; ++i) {
    std::vector<std::int32_t> a(1 + i % 7), b(2 + i % 5);
    for (std::size_t k = 0; k < a.size(); ++k) a[k] = (i * 31 + k) % vocab;
    for (std::size_t k = 0; k < b.size(); ++k) b[k] = (i * 17 + k * 3) % vocab;
    ex.add(a.data(), a.size(), b.data(), b.size(), true, i % 2, sp);
  }
  return ex;
}

void expect_error(const std::function<void()>& fn, const std::string& part) {
  try {
    fn();
    FAIL() << "no error, expected one containing " << part;
  } catch (const bertforge::Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(part));
  }
}

}  // namespace

TEST(Shard, RoundTripAcrossShardsAndWidths) {
  for (std::uint32_t vocab : {200u, 30000u, 70000u}) {
    auto dir = fresh_dir("rt" + std::to_string(vocab));
    ShardMeta meta{0xabcdef, vocab, SentenceTask::nsp, {1, 2, 0, 3, 4}};
    Examples ex = sample(1000, vocab);
    ShardWriter w(dir, meta, 2000);  // several shards
    w.add(ex);
    auto shards = w.finish();
    EXPECT_GT(shards.size(), 2u);
    write_manifest(dir, meta, shards, {{"statistics", {{"sequences", ex.size()}}}});
    ShardSet set(dir, 0xabcdef);
    ASSERT_EQ(set.size(), ex.size());
    EXPECT_EQ(set.token_bytes(), vocab <= 256 ? 1 : vocab <= 65536 ? 2 : 4);
    Examples back;
    for (std::size_t i = 0; i < ex.size(); ++i) set.append(i, back);
    EXPECT_EQ(back.ids, ex.ids);
    EXPECT_EQ(back.ends, ex.ends);
    EXPECT_EQ(back.type0, ex.type0);
    EXPECT_EQ(back.labels, ex.labels);
  }
}

TEST(Shard, InterruptedWriteLeavesNothingAReaderAccepts) {
  auto dir = fresh_dir("interrupted");
  {
    ShardWriter w(dir, {1, 100, SentenceTask::nsp, {}});
    w.add(sample(10, 100));  // destroyed without finish(): the temporary shard is removed
  }
  EXPECT_TRUE(fs::is_empty(dir));
  expect_error([&] { ShardSet s(dir); }, dir + "/manifest.json: no manifest");
}

TEST(Shard, TruncatedShardVocabMismatchAndIdsOutOfRange) {
  auto dir = fresh_dir("bad");
  ShardMeta meta{42, 100, SentenceTask::nsp, {}};
  ShardWriter w(dir, meta);
  w.add(sample(50, 100));
  write_manifest(dir, meta, w.finish(), nlohmann::json::object());
  expect_error([&] { ShardSet s(dir, 43); }, "prepared with another vocabulary");
  const auto shard = dir + "/shard-00000.bin";
  fs::resize_file(shard, fs::file_size(shard) - 10);
  expect_error([&] { ShardSet s(dir); }, shard + ": truncated shard");
  Examples big;
  std::int32_t a = 150;
  big.add(&a, 1, &a, 1, true, 0, {1, 2, 0, 3, 4});
  ShardWriter w2(fresh_dir("range"), meta);
  expect_error([&] { w2.add(big); }, "token id 150 outside the vocabulary");
}

TEST(Shard, FlippedByteIsCaughtByTheManifestChecksum) {
  auto dir = fresh_dir("flip");
  ShardMeta meta{42, 30000, SentenceTask::nsp, {1, 2, 0, 3, 4}};
  ShardWriter w(dir, meta);
  w.add(sample(50, 30000));
  auto shards = w.finish();
  ASSERT_TRUE(shards[0].contains("crc32"));
  write_manifest(dir, meta, shards, nlohmann::json::object());
  ShardSet ok(dir);  // opens as written
  const auto shard = dir + "/shard-00000.bin";
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(128 + 7);  // a token id's byte
    char c = 0;
    f.read(&c, 1);
    f.seekp(128 + 7);
    c ^= 0x10;
    f.write(&c, 1);
  }
  expect_error([&] { ShardSet s(dir); }, shard + ": checksum differs from manifest.json");
}

TEST(Shard, TokenIdOutsideTheVocabularyIsNamedOnOpen) {
  auto dir = fresh_dir("oov");
  ShardMeta meta{42, 300, SentenceTask::nsp, {1, 2, 0, 3, 4}};  // 2-byte ids: 300..65535 fit the width
  ShardWriter w(dir, meta);
  Examples ex = sample(20, 300);
  w.add(ex);
  auto shards = w.finish();
  const auto shard = dir + "/shard-00000.bin";
  const std::uint64_t seq = 5, at = ex.ends[seq - 1] + 1;  // the second token of sequence 5
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    const std::uint16_t bad = 40000;
    f.seekp(128 + at * 2);
    f.write(reinterpret_cast<const char*>(&bad), 2);
  }
  shards[0]["crc32"] = bertforge::crc32_file(shard);  // a writer's bug, not a flipped byte: the checksum agrees
  write_manifest(dir, meta, shards, nlohmann::json::object());
  expect_error([&] { ShardSet s(dir); },
               shard + ": sequence 5 holds token id 40000, outside the vocabulary of 300");
}

// Inputs the shards fuzzer (fuzz/shards_fuzz.cpp) found or aims at: each is refused with an Error naming the
// file, never nlohmann's exception, a wrapped-around number or a read outside the mapped file.
TEST(Shard, ManifestFieldsOfTheWrongTypeOrRangeNameTheFileAndKey) {
  auto dir = fresh_dir("manifest_types");
  ShardMeta meta{42, 100, SentenceTask::nsp, {1, 2, 0, 3, 4}};
  ShardWriter w(dir, meta);
  w.add(sample(5, 100));
  write_manifest(dir, meta, w.finish(), nlohmann::json::object());
  const std::string path = dir + "/manifest.json";
  nlohmann::json good;
  std::ifstream(path) >> good;
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json m = good;
    m[key] = value;
    std::ofstream(path) << m.dump();
  };
  with("vocab_size", "100");
  expect_error([&] { ShardSet s(dir); }, path + ": vocab_size: unexpected value \"100\"");
  with("vocab_size", std::uint64_t(4294967396));  // 2^32 + 100: read as uint32 it was 100
  expect_error([&] { ShardSet s(dir); }, path + ": vocab_size: unexpected value 4294967396");
  nlohmann::json m = good;
  m.erase("vocab_size");
  std::ofstream(path) << m.dump();
  expect_error([&] { ShardSet s(dir); }, path + ": vocab_size: missing");
  with("special_ids", 7);
  expect_error([&] { ShardSet s(dir); }, path + ": special_ids.cls: the parent is not a JSON object");
  with("task", "mlm");
  expect_error([&] { ShardSet s(dir); }, path + ": task: unknown sentence task");
  with("shards", {{{"file", "../outside.bin"}}});
  expect_error([&] { ShardSet s(dir); }, path + ": shards[].file: \"../outside.bin\" is not a file name");
  with("shards", {{{"name", "shard-00000.bin"}}});
  expect_error([&] { ShardSet s(dir); }, path + ": shards[].file: missing");
  std::ofstream(path) << "[1, 2]";
  expect_error([&] { ShardSet s(dir); }, path + ": expected a JSON object (manifest), found array");
  with("format", 3);
  expect_error([&] { ShardSet s(dir); }, path + ": not a bertforge-shards manifest");
}

TEST(Shard, HeaderSectionsPastTheFileOrOfAnotherWidthAreRefused) {
  auto dir = fresh_dir("header");
  ShardMeta meta{42, 30000, SentenceTask::nsp, {1, 2, 0, 3, 4}};  // 2-byte ids
  ShardWriter w(dir, meta);
  w.add(sample(5, 30000));
  auto shards = w.finish();
  shards[0].erase("crc32");  // a manifest without checksums (as older ones are): the header checks alone
  write_manifest(dir, meta, shards, nlohmann::json::object());
  const std::string shard = dir + "/shard-00000.bin";
  std::string good;
  {
    std::ifstream in(shard, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto field = [&](std::size_t offset) {
    std::uint64_t v = 0;
    std::memcpy(&v, &good[offset], 8);
    return v;
  };
  auto write = [&](std::string bytes) { std::ofstream(shard, std::ios::binary | std::ios::trunc) << bytes; };
  auto patched = [&](std::string bytes, std::size_t offset, std::uint64_t value, std::size_t width) {
    std::memcpy(&bytes[offset], &value, width);
    return bytes;
  };
  // tokens and the last sequence end set 2^63 further: tokens * 2 wraps around 2^64 to the true size, so the
  // old bounds check passed and the last sequence was read far outside the file.
  const std::uint64_t tokens = field(40), ends_at = field(56), sequences = field(32);
  std::string wrapped = patched(good, 40, tokens + (std::uint64_t(1) << 63), 8);
  write(patched(wrapped, ends_at + 8 * (sequences - 1), tokens + (std::uint64_t(1) << 63), 8));
  expect_error([&] { ShardSet s(dir); }, shard + ": corrupt shard header (sections out of bounds)");
  // A 1-byte width for a 30000-token vocabulary: ids would be read 2 bytes wide from 1-byte data.
  write(patched(good, 12, 1, 4));
  expect_error([&] { ShardSet s(dir); }, shard + ": corrupt shard header (token_bytes 1 for vocab_size 30000)");
  write(patched(good, 28, 0, 4));
  expect_error([&] { ShardSet s(dir); }, shard + ": shard task differs from its manifest");
}
