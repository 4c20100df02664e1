// Parquet files and HF save_to_disk folders as the labelled tables of labelled_table.h: cells typed as
// Arrow types them, ClassLabel names from the datasets features (dataset_info.json, or the "huggingface" key
// of a Parquet file's metadata, which datasets' to_parquet writes).
#include <arrow/util/key_value_metadata.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "bertforge/data/arrow_util.h"
#include "bertforge/data/labelled_table.h"
#include "bertforge/util/json_file.h"

namespace bertforge::data {

namespace {

Cell scalar_cell(const arrow::Scalar& s, const std::string& column, const std::string& path, std::uint64_t row) {
  if (!s.is_valid) return {};
  const auto id = s.type->id();
  if (id == arrow::Type::STRING || id == arrow::Type::LARGE_STRING || id == arrow::Type::STRING_VIEW)
    return {Cell::string, std::string(static_cast<const arrow::BaseBinaryScalar&>(s).view()), {}};
  if (arrow::is_integer(id)) return {Cell::integer, s.ToString(), {}};
  if (arrow::is_floating(id)) return {Cell::real, s.ToString(), {}};
  if (id == arrow::Type::BOOL)
    return {Cell::string, static_cast<const arrow::BooleanScalar&>(s).value ? "True" : "False", {}};
  if (id == arrow::Type::LIST || id == arrow::Type::LARGE_LIST) {
    const auto& values = *static_cast<const arrow::BaseListScalar&>(s).value;
    Cell list{Cell::list, "", {}};
    for (std::int64_t i = 0; i < values.length(); ++i) {
      auto item = check(values.GetScalar(i), path, row);
      if (item->type->id() == arrow::Type::LIST || item->type->id() == arrow::Type::LARGE_LIST)
        fail_at(path, row, "column \"" + column + "\": a list of lists");
      list.items.push_back(scalar_cell(*item, column, path, row));
    }
    return list;
  }
  fail_at(path, row, "column \"" + column + "\" is " + s.type->ToString() + ", not text, a number or a list");
}

// The ClassLabel names of `column` in a datasets features object (the label, or a list's items), if any.
std::vector<std::string> class_names(const nlohmann::json& features, const std::string& column) {
  if (!features.is_object() || !features.contains(column)) return {};
  nlohmann::json feature = features[column];
  if (feature.is_object() && feature.contains("feature")) feature = feature["feature"];
  if (!feature.is_object() || feature.value("_type", "") != "ClassLabel" || !feature.contains("names")) return {};
  std::vector<std::string> names;
  for (const auto& n : feature["names"])
    if (n.is_string()) names.push_back(n.get<std::string>());
  return names;
}

// Appends every row of `batch`, choosing the roles from the first batch's schema.
void add_batch(Table& table, const arrow::RecordBatch& batch, const std::string& file, std::uint64_t first_row,
               const ChooseFn& choose) {
  if (table.rows.empty() && table.roles.text.empty()) table.roles = choose(batch.schema()->field_names(), first_row);
  const std::string* names[3] = {&table.roles.text, &table.roles.pair, &table.roles.label};
  std::shared_ptr<arrow::Array> arrays[3];
  for (int r = 0; r < 3; ++r) {
    if (names[r]->empty()) continue;
    arrays[r] = batch.GetColumnByName(*names[r]);
    if (!arrays[r]) {
      std::string there;
      for (const auto& n : batch.schema()->field_names()) there += (there.empty() ? "\"" : ", \"") + n + "\"";
      fail_at(file, first_row, "no column \"" + *names[r] + "\" (the columns are " + there + ")");
    }
  }
  for (std::int64_t i = 0; i < batch.num_rows(); ++i) {
    const std::uint64_t row = first_row + i;
    std::array<Cell, 3> cells;
    for (int r = 0; r < 3; ++r)
      if (arrays[r]) cells[r] = scalar_cell(*check(arrays[r]->GetScalar(i), file, row), *names[r], file, row);
    table.rows.push_back(std::move(cells));
    table.positions.push_back(row);
  }
}

}  // namespace

Table read_parquet(const std::string& path, const ChooseFn& choose) {
  Table table{path, {}, {}, {}, {}, true};
  std::shared_ptr<const arrow::KeyValueMetadata> metadata;
  for_each_parquet_batch(path, [&](const arrow::RecordBatch& batch, const std::string& file, std::uint64_t row) {
    add_batch(table, batch, file, row, choose);
    if (!metadata) metadata = batch.schema()->metadata();
  });
  if (metadata && metadata->Contains("huggingface")) {
    auto hf = nlohmann::json::parse(metadata->Get("huggingface").ValueOr("{}"), nullptr, false);
    if (hf.is_object() && hf.contains("info") && hf["info"].is_object() && hf["info"].contains("features"))
      table.class_names = class_names(hf["info"]["features"], table.roles.label);
  }
  return table;
}

Table read_hf_folder(const std::string& dir, const ChooseFn& choose) {
  Table table{dir, {}, {}, {}, {}, true};
  for_each_hf_batch(dir, [&](const arrow::RecordBatch& batch, const std::string& file, std::uint64_t row) {
    add_batch(table, batch, file, row, choose);
  });
  const std::string info = dir + "/dataset_info.json";
  if (std::filesystem::exists(info)) {
    auto j = read_json_file(info, "datasets info");
    if (j.contains("features")) table.class_names = class_names(j["features"], table.roles.label);
  }
  return table;
}

}  // namespace bertforge::data
