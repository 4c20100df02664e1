// A whole JSON file read for its keys (configs, states, tokenizer files): a file that cannot be opened or is
// not valid JSON is an Error naming the file ("cannot read <what>", "not valid JSON: ...").
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace bertforge {

nlohmann::json read_json_file(const std::string& path, const std::string& what);

}  // namespace bertforge
