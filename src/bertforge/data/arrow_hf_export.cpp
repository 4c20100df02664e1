// export_hf: prepared shards -> an HF save_to_disk folder (see hf_dataset.h).
#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/key_value_metadata.h>

#include <cstdio>
#include <filesystem>

#include "bertforge/data/arrow_util.h"
#include "bertforge/data/hf_dataset.h"
#include "bertforge/util/atomic_folder.h"
#include "bertforge/util/json_file.h"

namespace bertforge::data {

namespace {

nlohmann::json features(SentenceTask task) {
  auto list = [](const char* dtype) {
    return nlohmann::json{{"feature", {{"dtype", dtype}, {"_type", "Value"}}}, {"_type", "Sequence"}};
  };
  nlohmann::json f = {{"input_ids", list("int32")}, {"token_type_ids", list("int8")},
                      {"attention_mask", list("int8")}};
  if (task != SentenceTask::none) f[label_column(task)] = {{"dtype", "int64"}, {"_type", "Value"}};
  return f;
}

std::shared_ptr<arrow::Schema> schema_for(SentenceTask task) {
  arrow::FieldVector fields = {arrow::field("input_ids", arrow::list(arrow::int32())),
                               arrow::field("token_type_ids", arrow::list(arrow::int8())),
                               arrow::field("attention_mask", arrow::list(arrow::int8()))};
  if (task != SentenceTask::none) fields.push_back(arrow::field(label_column(task), arrow::int64()));
  nlohmann::json hf = {{"info", {{"features", features(task)}}}};
  return arrow::schema(fields, arrow::key_value_metadata({"huggingface"}, {hf.dump()}));
}

// Rows [first, last) as one record batch.
std::shared_ptr<arrow::RecordBatch> make_batch(const ShardSet& shards, const std::shared_ptr<arrow::Schema>& schema,
                                               std::uint64_t first, std::uint64_t last, const std::string& path) {
  auto ids_values = std::make_shared<arrow::Int32Builder>();
  auto type_values = std::make_shared<arrow::Int8Builder>();
  auto mask_values = std::make_shared<arrow::Int8Builder>();
  arrow::ListBuilder ids(arrow::default_memory_pool(), ids_values), types(arrow::default_memory_pool(), type_values),
      mask(arrow::default_memory_pool(), mask_values);
  arrow::Int64Builder labels;
  Examples ex;
  std::vector<std::int8_t> t;
  for (std::uint64_t i = first; i < last; ++i) {
    ex.clear();
    shards.append(i, ex);
    const std::size_t n = ex.ids.size();
    t.assign(n, 1);
    std::fill(t.begin(), t.begin() + ex.type0[0], 0);
    check(ids.Append(), path, i);
    check(ids_values->AppendValues(ex.ids.data(), n), path, i);
    check(types.Append(), path, i);
    check(type_values->AppendValues(t.data(), n), path, i);
    check(mask.Append(), path, i);
    t.assign(n, 1);
    check(mask_values->AppendValues(t.data(), n), path, i);
    if (!ex.labels.empty()) check(labels.Append(ex.labels[0]), path, i);
  }
  arrow::ArrayVector columns = {check(ids.Finish(), path, first), check(types.Finish(), path, first),
                                check(mask.Finish(), path, first)};
  if (schema->num_fields() == 4) columns.push_back(check(labels.Finish(), path, first));
  return arrow::RecordBatch::Make(schema, last - first, columns);
}

}  // namespace

void check_export_output(const std::string& hf_dir, bool overwrite) {
  check_replaceable(hf_dir, "state.json", "an HF dataset", overwrite, "--overwrite");
}

void export_hf(const ShardSet& shards, const std::string& hf_dir, bool overwrite) {
  check_export_output(hf_dir, overwrite);
  AtomicFolder(hf_dir).build([&](const std::string& tmp) {
    const auto task = shards.meta().task;
    const auto schema = schema_for(task);
    const std::uint64_t rows = shards.size();
    std::uint64_t tokens = 0;
    for (const auto& s : shards.manifest().at("shards")) tokens += s.at("tokens").get<std::uint64_t>();
    // HF: int(dataset bytes / 500 MB) + 1 files of contiguous rows, the first rows % files one row longer.
    const std::uint64_t files = (tokens * 6 + rows * 24) / 500'000'000 + 1;
    nlohmann::json data_files = nlohmann::json::array();
    std::uint64_t first = 0;
    for (std::uint64_t f = 0; f < files; ++f) {
      const std::uint64_t count = rows / files + (f < rows % files);
      char name[48];
      std::snprintf(name, sizeof name, "data-%05llu-of-%05llu.arrow", static_cast<unsigned long long>(f),
                    static_cast<unsigned long long>(files));
      const std::string path = tmp + "/" + name;
      auto out = check(arrow::io::FileOutputStream::Open(path), path, 0);
      auto writer = check(arrow::ipc::MakeStreamWriter(out, schema), path, 0);
      for (std::uint64_t b = first; b < first + count; b += 1000) {  // HF's writer_batch_size
        const auto batch = make_batch(shards, schema, b, std::min(b + 1000, first + count), path);
        check(writer->WriteRecordBatch(*batch), path, b);
      }
      check(writer->Close(), path, 0);
      check(out->Close(), path, 0);
      data_files.push_back({{"filename", name}});
      first += count;
    }
    char fingerprint[17];
    std::snprintf(fingerprint, sizeof fingerprint, "%016llx",
                  static_cast<unsigned long long>(shards.meta().vocab_hash ^ (rows * 0x9e3779b97f4a7c15ULL) ^ tokens));
    write_json_file(tmp + "/state.json", {{"_data_files", data_files}, {"_fingerprint", fingerprint},
                                     {"_format_columns", nullptr}, {"_format_kwargs", nlohmann::json::object()},
                                     {"_format_type", nullptr}, {"_output_all_columns", false}, {"_split", nullptr}});
    write_json_file(tmp + "/dataset_info.json", {{"citation", ""}, {"description", "prepared by bertforge"},
                                            {"features", features(task)}, {"homepage", ""}, {"license", ""}});
  });
}

}  // namespace bertforge::data
