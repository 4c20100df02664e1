// The containers a corpus comes in, each read as a stream of text records with a 1-based position (line of a
// text or JSONL file, row of a Parquet file or HF dataset). Used by corpus.cpp; layouts are applied there.
//
// Records longer than max_bytes are passed truncated to max_bytes + 1 bytes (the caller skips them) so an
// over-long line never has to fit in memory. Errors (unreadable file, malformed JSON, missing column,
// truncated Arrow/Parquet) throw Error naming the file and position.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bertforge::data {

enum class Container { text, jsonl, parquet, hf };
Container container_of(const std::string& path);

using RecordFn = std::function<void(std::string_view record, std::uint64_t position)>;
using BytesFn = std::function<void(std::uint64_t bytes_so_far_in_this_input)>;

void for_each_text_line(const std::string& path, std::size_t max_bytes, const RecordFn& fn, const BytesFn& bytes);
void for_each_jsonl_text(const std::string& path, const std::string& field, std::size_t max_bytes,
                         const RecordFn& fn, const BytesFn& bytes);
void for_each_parquet_text(const std::string& path, const std::string& column, const RecordFn& fn,
                           const BytesFn& bytes);
// The data files of an HF save_to_disk folder (from its state.json), in order, as full paths.
std::vector<std::string> hf_data_files(const std::string& dir);
void for_each_hf_text(const std::string& dir, const std::string& column, const RecordFn& fn, const BytesFn& bytes);

}  // namespace bertforge::data
