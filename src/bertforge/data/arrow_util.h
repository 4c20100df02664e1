// Arrow C++ helpers shared by the Parquet/HF readers and the HF dataset import/export: Status -> Error with
// file and row, and iteration over the record batches of an HF `save_to_disk` folder or a Parquet file.
//
// An HF folder holds state.json ({"_data_files": [{"filename": ...}], ...}), dataset_info.json and Arrow IPC
// *stream* files (not the Arrow file format), read through a memory map.
#pragma once
#include <arrow/api.h>

#include <functional>
#include <string>
#include <vector>

#include "bertforge/data/records.h"  // hf_data_files
#include "bertforge/util/error.h"

namespace bertforge::data {

// Arrow's message can span lines (Thrift's, for a damaged Parquet footer): joined into one, as errors are.
inline void check(const arrow::Status& s, const std::string& path, std::uint64_t row) {
  if (s.ok()) return;
  std::string message = s.message();
  for (char& c : message)
    if (c == '\n' || c == '\r') c = ' ';
  fail_at(path, row, "arrow: " + message);
}
template <class T>
T check(arrow::Result<T> r, const std::string& path, std::uint64_t row) {
  check(r.status(), path, row);
  return std::move(r).ValueUnsafe();
}

// fn(batch, file, first_row): every record batch of every data file, rows numbered from 1 across files.
using BatchFn = std::function<void(const arrow::RecordBatch&, const std::string& file, std::uint64_t first_row)>;
void for_each_hf_batch(const std::string& dir, const BatchFn& fn);
// The same for a Parquet file, one row group in memory at a time; groups_done(done, groups) after each group.
using GroupsFn = std::function<void(int done, int groups)>;
void for_each_parquet_batch(const std::string& path, const BatchFn& fn, const GroupsFn& groups_done = {});

}  // namespace bertforge::data
