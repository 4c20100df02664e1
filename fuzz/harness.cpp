#include "harness.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>

#include "bertforge/util/error.h"

namespace bertforge::fuzz {

namespace fs = std::filesystem;

data::CorpusOptions corpus_options(std::uint8_t first) {
  static const data::Layout layouts[] = {data::Layout::automatic, data::Layout::blocks,   data::Layout::file,
                                         data::Layout::record,    data::Layout::wikitext, data::Layout::bible};
  data::CorpusOptions o;
  o.layout = layouts[first % 6];
  o.wikitext_keep_escapes = first & 8;
  o.bible_books = first & 16;
  o.max_line_bytes = first & 32 ? 64 : 1 << 20;
  return o;
}

std::string fresh_dir() {
  static const fs::path dir =
      fs::temp_directory_path() / ("bertforge-fuzz-" + std::to_string(static_cast<long>(::getpid())));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) finding("cannot write " + path);
}

std::pair<std::string_view, std::string_view> split_at_nul(const std::uint8_t* data, std::size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::size_t nul = all.find('\0');
  if (nul == std::string_view::npos) return {all, {}};
  return {all.substr(0, nul), all.substr(nul + 1)};
}

bool parses(const std::function<void()>& parse, const std::string& source) {
  try {
    parse();
    return true;
  } catch (const Error& e) {
    std::string what = e.what();
    if (what.find(source) == std::string::npos) finding("error names no file: " + what);
    if (what.find('\n') != std::string::npos) finding("error of more than one line: " + what);
    return false;
  } catch (const std::exception& e) {
    finding(std::string("not a bertforge::Error: ") + e.what());
  }
}

void finding(const std::string& what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what.c_str());
  std::abort();
}

}  // namespace bertforge::fuzz
