// Whole JSON files read for their keys and written for HF or bertforge to read back (configs, states,
// manifests, tokenizer files, training arguments).
//
// read_json_file: a file that cannot be opened, is not valid JSON or is not a JSON object is an Error naming
// the file (and the line, for a syntax error): "<path>: cannot read <what>", "<path>:<line>: not valid JSON
// (column C: ...)", "<path>: expected a JSON object (<what>), found <type>".
// write_json_file: indent 2 and a final newline, as Python's json.dump(indent=2) writes them, through
// AtomicFile, so a reader never sees half a file and a failed write leaves the old one in place.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

namespace bertforge {

nlohmann::json read_json_file(const std::string& path, const std::string& what);

void write_json_file(const std::string& path, const nlohmann::json& j);

}  // namespace bertforge
