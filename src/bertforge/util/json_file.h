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
//
// json_field reads one key of an object as T, checked: a missing key, a value of another JSON type or a
// number outside T's range is an Error naming the file and the key, never nlohmann's exception or a silent
// wrap-around.
#pragma once
#include <nlohmann/json.hpp>

#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "bertforge/util/error.h"

namespace bertforge {

nlohmann::json read_json_file(const std::string& path, const std::string& what);

void write_json_file(const std::string& path, const nlohmann::json& j);

// nlohmann's dump (indent -1: one line), with NaN/Infinity/-Infinity as Python writes them.
std::string dump_json(const nlohmann::json& j, int indent = -1);
// nlohmann's parse, accepting NaN/Infinity/-Infinity outside strings; throws nlohmann::json::parse_error, or
// out_of_range for a number beyond a double's range (1e999).
nlohmann::json parse_json(std::string_view text);

// Whether v holds a T exactly: a string, a boolean, an integer within T's range, or any number for floats.
template <typename T>
bool json_holds(const nlohmann::json& v) {
  if constexpr (std::is_same_v<T, std::string>)
    return v.is_string();
  else if constexpr (std::is_same_v<T, bool>)
    return v.is_boolean();
  else if constexpr (std::is_floating_point_v<T>)
    return v.is_number();
  else if constexpr (std::is_unsigned_v<T>)
    return v.is_number_unsigned() && v.get<std::uint64_t>() <= std::numeric_limits<T>::max();
  else {
    static_assert(std::is_integral_v<T> && std::is_signed_v<T>, "json_holds: a string, a boolean or a number");
    if (v.is_number_unsigned())
      return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max());
    return v.is_number_integer() && v.get<std::int64_t>() >= std::numeric_limits<T>::min() &&
           v.get<std::int64_t>() <= std::numeric_limits<T>::max();
  }
}

// "<path>: <field>: unexpected value <v, cut to 60 characters>".
[[noreturn]] void fail_unexpected_value(const std::string& path, const std::string& field, const nlohmann::json& v);

// object[key] as T. `path` names the file in the error, `where` the key's parent ("" or "special_ids.").
// Never nlohmann's get<T>() unchecked: a number T cannot hold (4.3e32 for an integer) is undefined there.
template <typename T>
T json_field(const nlohmann::json& object, const char* key, const std::string& path, const std::string& where = "") {
  if (!object.is_object()) fail_at(path, 0, where + key + ": the parent is not a JSON object");
  auto it = object.find(key);
  if (it == object.end()) fail_at(path, 0, where + key + ": missing");
  if (!json_holds<T>(*it)) fail_unexpected_value(path, where + key, *it);
  return it->get<T>();
}

// object[key] as T, or nullopt when the key is absent or null; otherwise as json_field.
template <typename T>
std::optional<T> json_optional(const nlohmann::json& object, const char* key, const std::string& path,
                               const std::string& where = "") {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!json_holds<T>(*it)) fail_unexpected_value(path, where + key, *it);
  return it->get<T>();
}

}  // namespace bertforge
