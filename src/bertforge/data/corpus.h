// Corpus readers: input files -> documents, streamed one at a time in input order (memory does not grow
// with the corpus).
//
// Where text comes from (by file name): plain text or WikiText raw (`-` is stdin), JSONL (`.jsonl`, one JSON
// object per line, text in `field`), Parquet (`.parquet`, string column `field`), and HF `save_to_disk`
// folders (a folder with state.json; string column `field`). How records group into documents (Layout):
//   blocks    a document per blank-line-separated block (plain text; JSONL/Parquet/HF records split at '\n')
//   file      a document per input file
//   record    a document per JSONL/Parquet/HF record
//   wikitext  ` = Title = ` starts an article; ` = = Sub = = ` headings are dropped (they are not sentences);
//             the ` @-@ `, ` @,@ `, ` @.@ ` escapes are undone ("1 @,@ 000" -> "1,000") unless
//             wikitext_keep_escapes (then the text is byte for byte what HF tokenizes from the raw files)
//   bible     `bible -f gen1:1-rev22:21` output (Debian bible-kjv, the embedded default corpus):
//             `Ge1:1 In the beginning...`; a document per chapter (or per book), each verse one sentence
//   automatic wikitext if the first non-blank record is a ` = Title = ` heading, bible if it has a verse
//             prefix, else blocks for text files and record for JSONL/Parquet/HF
// Bad input: a line that is not UTF-8 or longer than max_line_bytes is skipped, counted and warned about once
// (file:line); a malformed JSONL line, a missing column or a truncated Arrow/Parquet file throws Error naming
// the file and line/row. Documents with no text are counted, not emitted.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bertforge::data {

struct Document {
  std::vector<std::string> lines;  // paragraphs in order (sentences when presplit)
  bool presplit = false;           // lines are sentences already (bible verses)
  std::string source;              // "file:line" of its first line, for messages
};

enum class Layout { automatic, blocks, file, record, wikitext, bible };
Layout parse_layout(const std::string& name);  // throws Error listing the choices

struct CorpusOptions {
  Layout layout = Layout::automatic;
  std::string field = "text";           // JSONL key / Parquet and HF column
  bool wikitext_keep_escapes = false;   // keep ` @-@ ` etc. as in the raw files
  bool bible_books = false;             // a document per book instead of per chapter
  std::size_t max_line_bytes = 1 << 20; // longer lines (records) are skipped with a warning
};

struct CorpusStats {
  std::uint64_t bytes = 0, records = 0, documents = 0;
  std::uint64_t invalid_utf8 = 0, long_lines = 0, empty_documents = 0;
};

using DocumentSink = std::function<void(Document&&)>;
// Calls sink for every document of every input, in order. on_bytes (optional) sees the running byte count.
CorpusStats read_corpus(const std::vector<std::string>& inputs, const CorpusOptions& options,
                        const DocumentSink& sink, const std::function<void(std::uint64_t)>& on_bytes = {});

// Total input size in bytes (files, or every data file of an HF folder), for progress and --dry-run.
std::uint64_t corpus_bytes(const std::vector<std::string>& inputs);

}  // namespace bertforge::data
