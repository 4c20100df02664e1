// HF save_to_disk import and export through Arrow C++ (see hf_dataset.h).
#include <arrow/io/file.h>
#include <arrow/ipc/reader.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/key_value_metadata.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "bertforge/data/arrow_util.h"
#include "bertforge/data/hf_dataset.h"
#include "bertforge/data/stats.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/util/atomic_file.h"
#include "bertforge/util/atomic_folder.h"

namespace bertforge::data {

namespace {

// A list<integer> column of one record batch, read as int64 whatever the integer width.
class IntLists {
 public:
  IntLists(const std::shared_ptr<arrow::Array>& column, const std::string& name, const std::string& path,
           std::uint64_t row) {
    if (!column) fail_at(path, row, "no " + name + " column");
    if (column->type_id() != arrow::Type::LIST) fail_at(path, row, name + " is not a list column");
    list_ = std::static_pointer_cast<arrow::ListArray>(column);
    values_ = list_->values();
    type_ = values_->type_id();
    if (!arrow::is_integer(type_)) fail_at(path, row, name + " holds " + values_->type()->ToString());
    data_ = values_->data()->buffers[1]->data();
    offset_ = values_->offset();
  }
  std::int64_t begin(std::int64_t row) const { return list_->value_offset(row); }
  std::int64_t end(std::int64_t row) const { return list_->value_offset(row + 1); }
  std::int64_t at(std::int64_t j) const {
    j += offset_;
    switch (type_) {
      case arrow::Type::INT8: return reinterpret_cast<const std::int8_t*>(data_)[j];
      case arrow::Type::UINT8: return data_[j];
      case arrow::Type::INT16: return reinterpret_cast<const std::int16_t*>(data_)[j];
      case arrow::Type::UINT16: return reinterpret_cast<const std::uint16_t*>(data_)[j];
      case arrow::Type::INT32: return reinterpret_cast<const std::int32_t*>(data_)[j];
      case arrow::Type::UINT32: return reinterpret_cast<const std::uint32_t*>(data_)[j];
      default: return reinterpret_cast<const std::int64_t*>(data_)[j];
    }
  }

 private:
  std::shared_ptr<arrow::ListArray> list_;
  std::shared_ptr<arrow::Array> values_;
  arrow::Type::type type_;
  const std::uint8_t* data_;
  std::int64_t offset_;
};

SentenceTask task_of(const arrow::Schema& schema) {
  if (schema.GetFieldByName("next_sentence_label")) return SentenceTask::nsp;
  if (schema.GetFieldByName("sentence_order_label")) return SentenceTask::sop;
  return SentenceTask::none;
}

// Appends one batch's rows to `out`, unpadded; checks masks, token types and ids.
void import_batch(const arrow::RecordBatch& batch, const std::string& path, std::uint64_t first_row,
                  const ShardMeta& meta, Examples& out) {
  IntLists ids(batch.GetColumnByName("input_ids"), "input_ids", path, first_row);
  auto mask_col = batch.GetColumnByName("attention_mask"), type_col = batch.GetColumnByName("token_type_ids");
  std::optional<IntLists> mask, types;
  if (mask_col) mask.emplace(mask_col, "attention_mask", path, first_row);
  if (type_col) types.emplace(type_col, "token_type_ids", path, first_row);
  std::shared_ptr<arrow::Int64Array> labels;
  if (meta.task != SentenceTask::none) {
    auto col = batch.GetColumnByName(label_column(meta.task));
    if (!col) fail_at(path, first_row, std::string("no ") + label_column(meta.task) + " column");
    if (col->type_id() != arrow::Type::INT64) fail_at(path, first_row, std::string(label_column(meta.task)) + " is not int64");
    labels = std::static_pointer_cast<arrow::Int64Array>(col);
  }
  for (std::int64_t r = 0; r < batch.num_rows(); ++r) {
    const std::uint64_t row = first_row + r;
    const std::int64_t b = ids.begin(r), total = ids.end(r) - b;
    std::int64_t n = total;
    if (mask) {
      if (mask->end(r) - mask->begin(r) != total) fail_at(path, row, "attention_mask length differs from input_ids");
      while (n > 0 && mask->at(mask->begin(r) + n - 1) == 0) --n;
      for (std::int64_t k = 0; k < n; ++k)
        if (mask->at(mask->begin(r) + k) != 1) fail_at(path, row, "attention_mask is not ones then zeros");
    }
    if (n == 0) fail_at(path, row, "empty sequence");
    std::int64_t type0 = n;
    if (types) {
      const std::int64_t tb = types->begin(r);
      if (types->end(r) - tb != total) fail_at(path, row, "token_type_ids length differs from input_ids");
      type0 = 0;
      while (type0 < n && types->at(tb + type0) == 0) ++type0;
      for (std::int64_t k = type0; k < n; ++k)
        if (types->at(tb + k) != 1) fail_at(path, row, "token_type_ids are not 0...0 1...1");
    }
    for (std::int64_t k = 0; k < n; ++k) {
      const std::int64_t id = ids.at(b + k);
      if (id < 0 || id >= meta.vocab_size)
        fail_at(path, row, "input_ids holds " + std::to_string(id) + ", outside the vocabulary (size " +
                               std::to_string(meta.vocab_size) + ")");
      out.ids.push_back(static_cast<std::int32_t>(id));
    }
    out.ends.push_back(out.ids.size());
    out.type0.push_back(static_cast<std::uint32_t>(type0));
    if (labels) out.labels.push_back(static_cast<std::int8_t>(labels->Value(r)));
  }
}

}  // namespace

bool is_tokenized_hf(const std::string& dir) {
  if (container_of(dir) != Container::hf) return false;
  const auto files = hf_data_files(dir);
  if (files.empty()) return false;
  auto file = check(arrow::io::MemoryMappedFile::Open(files[0], arrow::io::FileMode::READ), files[0], 0);
  auto reader = check(arrow::ipc::RecordBatchStreamReader::Open(file), files[0], 0);
  return reader->schema()->GetFieldByName("input_ids") != nullptr;
}

nlohmann::json import_hf(const std::string& hf_dir, const std::string& output, ShardMeta meta, bool overwrite,
                         const text::Tokenizer* tokenizer, int max_seq_length) {
  check_output(output, overwrite);
  const auto files = hf_data_files(hf_dir);
  if (files.empty()) fail_at(hf_dir + "/state.json", 0, "no data files");
  {
    auto file = check(arrow::io::MemoryMappedFile::Open(files[0], arrow::io::FileMode::READ), files[0], 0);
    meta.task = task_of(*check(arrow::ipc::RecordBatchStreamReader::Open(file), files[0], 0)->schema());
  }
  nlohmann::json extra;
  AtomicFolder(output).build([&](const std::string& folder) {
    ShardWriter writer(folder, meta);
    Statistics stats(max_seq_length);
    Examples ex;
    for_each_hf_batch(hf_dir, [&](const arrow::RecordBatch& batch, const std::string& path, std::uint64_t row) {
      ex.clear();
      import_batch(batch, path, row, meta, ex);
      writer.add(ex);
      stats.add(ex);
    });
    extra = {{"options", {{"imported_from", hf_dir}}}, {"statistics", stats.to_json()}};
    if (tokenizer) text::save_pretrained(*tokenizer, folder);
    write_manifest(folder, meta, writer.finish(), extra);
  });
  return extra;
}

}  // namespace bertforge::data
