// The golden files of tests/golden/ and the tolerance table's rows, for the LibTorch-free tests (tolerance.h
// serves the tests that compare tensors).
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "bertforge/text/tokenizer.h"
#include "bertforge/util/json_file.h"
#include "common/paths.h"

namespace bertforge::testing {

// tests/golden/<name>, read once per process.
inline const nlohmann::json& golden(const std::string& name) {
  static std::map<std::string, nlohmann::json> read;
  auto it = read.find(name);
  if (it == read.end())
    it = read.emplace(name, read_json_file(source_dir() + "/tests/golden/" + name, "golden " + name)).first;
  return it->second;
}

// A scalar row of tests/common/tolerance.json.
inline double tolerance_row(const std::string& key) {
  static const nlohmann::json table = read_json_file(source_dir() + "/tests/common/tolerance.json", "tolerance table");
  return table.at(key).get<double>();
}

// A generator's BertTokenizerFast arguments (vocab under tests/fixtures/vocab/, do_lower_case and, when
// given, strip_accents and tokenize_chinese_chars) as our tokenizer.
inline text::Tokenizer golden_tokenizer(const nlohmann::json& config) {
  text::TokenizerOptions o;
  o.lower_case = config.at("do_lower_case").get<bool>();
  if (config.contains("strip_accents")) o.strip_accents = config.at("strip_accents").get<bool>();
  if (config.contains("tokenize_chinese_chars")) o.tokenize_chinese_chars = config.at("tokenize_chinese_chars").get<bool>();
  return text::Tokenizer::from_pretrained(source_dir() + "/tests/fixtures/vocab/" + config.at("vocab").get<std::string>() +
                                          "/vocab.txt", o);
}

}  // namespace bertforge::testing
