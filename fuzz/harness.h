// What every fuzz target shares: the fuzzer's bytes as files a parser opens by path, and the contract each
// target checks. Parsers of outside input must either succeed or throw bertforge::Error whose one line names
// the file at fault; any other exception, an Error that names no file, or a crash is a finding (ASan and
// UBSan watch every read).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "bertforge/data/corpus.h"

namespace bertforge::fuzz {

// A fresh folder of this process's own under TMPDIR, emptied at every call.
std::string fresh_dir();
// Writes bytes to `path`, replacing the file.
void write_file(const std::string& path, std::string_view bytes);
// The input split at its first NUL byte: JSON text holds none, so a target fed a JSON file and a binary one
// reads the JSON before the NUL and the binary after it (the second part is empty when there is no NUL).
std::pair<std::string_view, std::string_view> split_at_nul(const std::uint8_t* data, std::size_t size);
// Runs parse(); true when it returned. An Error naming `source` returns false; anything else aborts.
bool parses(const std::function<void()>& parse, const std::string& source);
// Aborts with `what` on stderr: a broken invariant of a parsed result.
[[noreturn]] void finding(const std::string& what);
// The corpus options a corpus target's first input byte picks: the layout (the byte mod 6), WikiText escapes
// kept (bit 3), Bible books as documents (bit 4) and a 64-byte line limit (bit 5).
data::CorpusOptions corpus_options(std::uint8_t first);

}  // namespace bertforge::fuzz
