// Text and JSONL containers: a buffered line reader that never holds more than max_bytes of one line.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "bertforge/data/records.h"
#include "bertforge/util/error.h"

namespace bertforge::data {

Container container_of(const std::string& path) {
  auto ends = [&](const char* ext) {
    std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".jsonl") || ends(".json")) return Container::jsonl;
  if (ends(".parquet")) return Container::parquet;
  FILE* f = std::fopen((path + "/state.json").c_str(), "rb");
  if (f) {
    std::fclose(f);
    return Container::hf;
  }
  return Container::text;
}

void for_each_text_line(const std::string& path, std::size_t max_bytes, const RecordFn& fn, const BytesFn& bytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> owned(nullptr, std::fclose);
  FILE* f = stdin;
  if (path != "-") {
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) fail_at(path, 0, "cannot open for reading");
    f = owned.get();
  }
  std::vector<char> buf(1 << 20);
  std::string line;
  std::uint64_t lineno = 1, total = 0;
  bool over = false;  // the current line passed max_bytes: keep max_bytes + 1 bytes only
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), f)) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (buf[i] != '\n') continue;
      if (!over) line.append(buf.data() + start, i - start);
      if (line.size() > max_bytes) line.resize(max_bytes + 1);
      fn(line, lineno++);
      line.clear();
      over = false;
      start = i + 1;
    }
    if (!over) line.append(buf.data() + start, n - start);
    if (line.size() > max_bytes) {
      line.resize(max_bytes + 1);
      over = true;
    }
    total += n;
    if (bytes) bytes(total);
  }
  if (std::ferror(f)) fail_at(path, lineno, "read error");
  if (!line.empty()) fn(line, lineno);
}

void for_each_jsonl_text(const std::string& path, const std::string& field, std::size_t max_bytes,
                         const RecordFn& fn, const BytesFn& bytes) {
  for_each_text_line(path, max_bytes, [&](std::string_view line, std::uint64_t lineno) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    if (line.size() > max_bytes) return fn(line, lineno);  // over-long: the caller counts and skips it
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) fail_at(path, lineno, "not a JSON object");
    auto it = j.find(field);
    if (it == j.end() || !it->is_string()) fail_at(path, lineno, "no string field \"" + field + "\"");
    fn(it->get_ref<const std::string&>(), lineno);
  }, bytes);
}

}  // namespace bertforge::data
