// Parquet and HF folders as text records; the Arrow helpers of arrow_util.h.
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <nlohmann/json.hpp>
#include <parquet/arrow/reader.h>
#include <parquet/exception.h>
#include <parquet/file_reader.h>
#include <parquet/metadata.h>
#include <parquet/schema.h>

#include <filesystem>

#include "bertforge/data/arrow_util.h"
#include "bertforge/data/records.h"
#include "bertforge/util/json_file.h"

namespace bertforge::data {

std::vector<std::string> hf_data_files(const std::string& dir) {
  const std::string state = dir + "/state.json";
  if (!std::filesystem::exists(state)) fail_at(state, 0, "missing (not a datasets.save_to_disk folder?)");
  nlohmann::json j = read_json_file(state, "datasets state");
  if (!j.contains("_data_files") || !j["_data_files"].is_array()) fail_at(state, 0, "no \"_data_files\" list");
  std::vector<std::string> files;
  for (const auto& f : j["_data_files"]) {
    const std::string name = json_field<std::string>(f, "filename", state, "_data_files[].");
    // datasets writes plain names; anything else would read outside the folder.
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      fail_at(state, 0, "_data_files[].filename: \"" + name + "\" is not a file name inside the folder");
    files.push_back(dir + "/" + name);
  }
  return files;
}

void for_each_hf_batch(const std::string& dir, const BatchFn& fn) {
  std::uint64_t row = 1;
  for (const auto& path : hf_data_files(dir)) {
    auto file = check(arrow::io::MemoryMappedFile::Open(path, arrow::io::FileMode::READ), path, 0);
    auto reader = check(arrow::ipc::RecordBatchStreamReader::Open(file), path, 0);
    while (true) {
      auto batch = check(reader->Next(), path, row);
      if (!batch) break;
      check(batch->ValidateFull(), path, row);
      fn(*batch, path, row);
      row += batch->num_rows();
    }
  }
}

// Calls fn on every non-null string of `column` (string or large_string), numbering rows from first_row;
// returns the bytes of text passed.
static std::uint64_t each_string(const arrow::RecordBatch& batch, const std::string& column, const std::string& path,
                        std::uint64_t first_row, const RecordFn& fn) {
  auto array = batch.GetColumnByName(column);
  if (!array) fail_at(path, first_row, "no column \"" + column + "\"");
  auto emit = [&](const auto& strings) {
    std::uint64_t total = 0;
    for (std::int64_t i = 0; i < strings.length(); ++i) {
      if (strings.IsNull(i)) continue;
      auto view = strings.GetView(i);
      fn(view, first_row + i);
      total += view.size();
    }
    return total;
  };
  if (array->type_id() == arrow::Type::STRING) return emit(static_cast<const arrow::StringArray&>(*array));
  if (array->type_id() == arrow::Type::LARGE_STRING)
    return emit(static_cast<const arrow::LargeStringArray&>(*array));
  fail_at(path, first_row, "column \"" + column + "\" is " + array->type()->ToString() + ", not a string");
}

void for_each_hf_text(const std::string& dir, const std::string& column, const RecordFn& fn, const BytesFn& bytes) {
  std::uint64_t done = 0;
  for_each_hf_batch(dir, [&](const arrow::RecordBatch& batch, const std::string& path, std::uint64_t row) {
    done += each_string(batch, column, path, row, fn);
    if (bytes) bytes(done);
  });
}

namespace {
// Arrow sizes its buffers by the row counts in the footer: a damaged one that claims billions of rows for a few
// values would take all memory before a page is read. Every column of a row group holds at least one value
// (or null) per row, and the row groups add up to the file's rows.
void check_row_counts(const parquet::FileMetaData& meta, const std::string& path) try {
  const std::int64_t total = meta.num_rows();
  std::int64_t rows = 0;
  for (int g = 0; g < meta.num_row_groups(); ++g) {
    const auto group = meta.RowGroup(g);
    if (group->num_rows() < 0 || group->num_rows() > total - rows)
      fail_at(path, 0, "row group " + std::to_string(g) + " claims " + std::to_string(group->num_rows()) +
                           " rows, more than the footer's " + std::to_string(total) + " (a damaged Parquet file)");
    for (int c = 0; c < group->num_columns(); ++c)
      if (group->ColumnChunk(c)->num_values() < group->num_rows())
        fail_at(path, 0, "row group " + std::to_string(g) + " claims " + std::to_string(group->num_rows()) +
                             " rows but its column \"" + meta.schema()->Column(c)->path()->ToDotString() +
                             "\" holds " + std::to_string(group->ColumnChunk(c)->num_values()) +
                             " values (a damaged Parquet file)");
    rows += group->num_rows();
  }
  if (rows != total)
    fail_at(path, 0, "the row groups hold " + std::to_string(rows) + " rows, the footer says " +
                         std::to_string(total) + " (a damaged Parquet file)");
} catch (const parquet::ParquetException& e) {  // the footer's accessors throw on what they cannot read
  fail_at(path, 0, std::string("parquet: ") + e.what());
}
}  // namespace

void for_each_parquet_batch(const std::string& path, const BatchFn& fn, const GroupsFn& groups_done) {
  auto file = check(arrow::io::ReadableFile::Open(path), path, 0);
  // Without pre-buffering a row group is read on this thread: Arrow's I/O pool (uninstrumented) would only
  // hide a local file's reads from the sanitizers, and pre-buffering pays off on remote storage alone.
  parquet::ArrowReaderProperties properties;
  properties.set_pre_buffer(false);
  parquet::arrow::FileReaderBuilder builder;
  check(builder.Open(file), path, 0);
  auto reader = check(builder.properties(properties)->Build(), path, 0);
  check_row_counts(*reader->parquet_reader()->metadata(), path);
  std::uint64_t row = 1;
  const int groups = reader->num_row_groups();
  for (int g = 0; g < groups; ++g) {  // one row group in memory at a time
    auto table = check(reader->ReadRowGroup(g), path, row);
    auto batches = check(arrow::TableBatchReader(*table).ToRecordBatches(), path, row);
    for (const auto& batch : batches) {
      fn(*batch, path, row);
      row += batch->num_rows();
    }
    if (groups_done) groups_done(g + 1, groups);
  }
}

void for_each_parquet_text(const std::string& path, const std::string& column, const RecordFn& fn,
                           const BytesFn& bytes) {
  std::uint64_t size = 0;
  if (bytes) {
    auto file = check(arrow::io::ReadableFile::Open(path), path, 0);
    size = static_cast<std::uint64_t>(check(file->GetSize(), path, 0));
  }
  for_each_parquet_batch(
      path,
      [&](const arrow::RecordBatch& batch, const std::string& file, std::uint64_t row) {
        each_string(batch, column, file, row, fn);
      },
      [&](int done, int groups) {
        if (bytes) bytes(size * done / groups);
      });
}

}  // namespace bertforge::data
