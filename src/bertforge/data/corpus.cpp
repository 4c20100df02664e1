// Layouts: records -> documents. One Grouper per input file; records arrive in order.
#include "bertforge/data/corpus.h"

#include <cctype>
#include <cstdio>
#include <filesystem>

#include "bertforge/data/records.h"
#include "bertforge/text/utf8.h"  // find_invalid_utf8
#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"

namespace bertforge::data {

Layout parse_layout(const std::string& name) {
  static const std::pair<const char*, Layout> names[] = {{"auto", Layout::automatic}, {"blocks", Layout::blocks},
      {"file", Layout::file}, {"record", Layout::record}, {"wikitext", Layout::wikitext}, {"bible", Layout::bible}};
  for (const auto& [n, l] : names)
    if (name == n) return l;
  throw Error("unknown layout \"" + name + "\" (auto, blocks, file, record, wikitext, bible)");
}

static std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// " = Title = " is level 1, " = = Sub = = " level 2; 0 for text.
static int heading_level(std::string_view t) {
  if (t.size() < 5 || t.front() != '=' || t.back() != '=') return 0;
  int level = 0;
  while (level * 2 + 1 < static_cast<int>(t.size()) && t[level * 2] == '=' && t[level * 2 + 1] == ' ') ++level;
  return level;
}

// "Ge1:1 text" -> book "Ge", chapter 1, verse text; false if the prefix is absent.
static bool bible_verse(std::string_view t, std::string_view& book, int& chapter, std::string_view& text) {
  std::size_t i = 0;
  if (i < t.size() && t[i] >= '1' && t[i] <= '3') ++i;
  std::size_t letters = i;
  while (i < t.size() && std::isalpha(static_cast<unsigned char>(t[i]))) ++i;
  if (i == letters || i == t.size() || !std::isdigit(static_cast<unsigned char>(t[i]))) return false;
  book = t.substr(0, i);
  chapter = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
    if (chapter > 99999) return false;  // no book has that many chapters; and chapter * 10 would overflow
    chapter = chapter * 10 + (t[i++] - '0');
  }
  if (i == t.size() || t[i++] != ':') return false;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  if (i == t.size() || t[i] != ' ') return false;
  text = trim(t.substr(i));
  return true;
}

static std::string undo_wikitext_escapes(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == ' ' && i + 4 < t.size() && t[i + 1] == '@' && t[i + 3] == '@' && t[i + 4] == ' ' &&
        (t[i + 2] == '-' || t[i + 2] == ',' || t[i + 2] == '.')) {
      out += t[i + 2];
      i += 4;
    } else {
      out += t[i];
    }
  }
  return out;
}

namespace {

class Grouper {
 public:
  Grouper(const CorpusOptions& o, Container c, const std::string& path, CorpusStats& stats, const DocumentSink& sink)
      : o_(o), container_(c), path_(path), stats_(stats), sink_(sink), layout_(o.layout) {}

  void add(std::string_view record, std::uint64_t pos) {
    ++stats_.records;
    if (record.size() > o_.max_line_bytes) return skip(stats_.long_lines, pos, "longer than --max-line-bytes");
    if (text::find_invalid_utf8(record) != std::string_view::npos) return skip(stats_.invalid_utf8, pos, "invalid UTF-8");
    if (layout_ == Layout::automatic) decide(record);
    if (layout_ == Layout::blocks || layout_ == Layout::record || layout_ == Layout::file) return add_text(record, pos);
    auto t = trim(record);
    if (t.empty()) return;
    if (layout_ == Layout::wikitext) return add_wikitext(t, pos);
    std::string_view book, text;
    int chapter;
    if (!bible_verse(t, book, chapter, text)) fail_at(path_, pos, "not a verse line (Book1:1 text)");
    if (book != book_ || (!o_.bible_books && chapter != chapter_)) flush();
    book_ = std::string(book);
    chapter_ = chapter;
    push(text, pos);
  }

  void flush() {
    if (!doc_.lines.empty()) {
      ++stats_.documents;
      doc_.presplit = layout_ == Layout::bible;
      sink_(std::move(doc_));
    } else if (started_) {
      ++stats_.empty_documents;
    }
    doc_ = Document{};
    started_ = false;
  }

 private:
  void decide(std::string_view record) {
    auto t = trim(record);
    if (t.empty()) return;
    std::string_view book, text;
    int chapter;
    if (heading_level(t) == 1) layout_ = Layout::wikitext;
    else if (bible_verse(t, book, chapter, text)) layout_ = Layout::bible;
    else layout_ = container_ == Container::text ? Layout::blocks : Layout::record;
  }

  void add_text(std::string_view record, std::uint64_t pos) {
    std::size_t start = 0;
    while (start <= record.size()) {  // JSONL/Parquet/HF records may hold several lines
      auto end = std::min(record.find('\n', start), record.size());
      auto t = trim(record.substr(start, end - start));
      if (!t.empty()) push(t, pos);
      else if (layout_ == Layout::blocks) flush();
      start = end + 1;
    }
    if (layout_ == Layout::record) flush();
  }

  void add_wikitext(std::string_view t, std::uint64_t pos) {
    int level = heading_level(t);
    if (level == 1) {
      flush();
      started_ = true;
      doc_.source = path_ + ":" + std::to_string(pos);
    }
    if (level > 0) return;
    if (o_.wikitext_keep_escapes) push(t, pos);
    else push(undo_wikitext_escapes(t), pos);
  }

  void push(std::string_view t, std::uint64_t pos) {
    if (!started_) doc_.source = path_ + ":" + std::to_string(pos);
    started_ = true;
    doc_.lines.emplace_back(t);
  }

  void skip(std::uint64_t& counter, std::uint64_t pos, const char* why) {
    if (counter++ == 0) warn(path_ + ":" + std::to_string(pos) + ": " + why + ", skipped (further ones counted)");
  }

  const CorpusOptions& o_;
  Container container_;
  std::string path_;
  CorpusStats& stats_;
  const DocumentSink& sink_;
  Layout layout_;
  Document doc_;
  bool started_ = false;
  std::string book_;
  int chapter_ = 0;
};

// Said before a filesystem exception or a read error would say it less clearly.
Container checked_container(const std::string& path) {
  if (path == "-") return Container::text;
  if (!std::filesystem::exists(path)) fail_at(path, 0, "no such corpus file");
  const Container c = container_of(path);
  if (std::filesystem::is_directory(path) && c != Container::hf)
    fail_at(path, 0, "a folder, not a corpus file (give the text files in it, or an HF save_to_disk folder)");
  return c;
}

}  // namespace

CorpusStats read_corpus(const std::vector<std::string>& inputs, const CorpusOptions& options,
                        const DocumentSink& sink, const std::function<void(std::uint64_t)>& on_bytes) {
  CorpusStats stats;
  for (const auto& path : inputs) {
    const Container c = checked_container(path);
    Grouper g(options, c, path, stats, sink);
    const std::uint64_t before = stats.bytes;
    auto add = [&](std::string_view r, std::uint64_t pos) { g.add(r, pos); };
    auto bytes = [&](std::uint64_t n) {
      stats.bytes = before + n;
      if (on_bytes) on_bytes(stats.bytes);
    };
    switch (c) {
      case Container::text: for_each_text_line(path, options.max_line_bytes, add, bytes); break;
      case Container::jsonl: for_each_jsonl_text(path, options.field, options.max_line_bytes, add, bytes); break;
      case Container::parquet: for_each_parquet_text(path, options.field, add, bytes); break;
      case Container::hf: for_each_hf_text(path, options.field, add, bytes); break;
    }
    g.flush();
  }
  if (stats.invalid_utf8 + stats.long_lines)
    warn("skipped " + std::to_string(stats.invalid_utf8) + " invalid UTF-8 and " + std::to_string(stats.long_lines) +
         " over-long lines");
  return stats;
}

std::uint64_t corpus_bytes(const std::vector<std::string>& inputs) {
  std::uint64_t total = 0;
  for (const auto& path : inputs) {
    if (path == "-") continue;
    if (checked_container(path) != Container::hf) {
      total += std::filesystem::file_size(path);
      continue;
    }
    for (const auto& f : hf_data_files(path)) total += std::filesystem::file_size(f);
  }
  return total;
}

}  // namespace bertforge::data
