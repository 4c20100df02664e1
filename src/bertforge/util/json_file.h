// Whole JSON files read for their keys and written for HF or bertforge to read back (configs, states,
// manifests, tokenizer files, training arguments).
//
// read_json_file: a file that cannot be opened, is not valid JSON or is not a JSON object is an Error naming
// the file (and the line, for a syntax error): "<path>: cannot read <what>", "<path>:<line>: not valid JSON
// (column C: ...)", "<path>: expected a JSON object (<what>), found <type>".
// write_json_file: indent 2 and a final newline, as Python's json.dump(indent=2) writes them, through
// AtomicFile, so a reader never sees half a file and a failed write leaves the old one in place.
//
// Non-finite numbers: Python's json module (so HF's TrainerState, and every metrics file HF writes) stores
// float('nan'), inf and -inf as the bare tokens NaN, Infinity and -Infinity; nlohmann::json alone would write
// null, which loses the value and fails a later typed read. dump_json (and so write_json_file) writes those
// tokens and parse_json (and so read_json_file) reads them back as doubles, so a diverged loss round-trips
// through bertforge and Python.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace bertforge {

nlohmann::json read_json_file(const std::string& path, const std::string& what);

void write_json_file(const std::string& path, const nlohmann::json& j);

// nlohmann's dump (indent -1: one line), with NaN/Infinity/-Infinity as Python writes them.
std::string dump_json(const nlohmann::json& j, int indent = -1);
// nlohmann's parse, accepting NaN/Infinity/-Infinity outside strings; throws nlohmann::json::parse_error.
nlohmann::json parse_json(std::string_view text);

}  // namespace bertforge
