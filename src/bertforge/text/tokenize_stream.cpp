#include "bertforge/text/tokenize_stream.h"

#include <algorithm>
#include <charconv>

#include "bertforge/text/utf8.h"
#include "bertforge/util/error.h"

namespace bertforge::text {

namespace {

void append_ids(std::string& out, const std::vector<std::int32_t>& ids, char sep) {
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += sep;
    char buf[16];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, ids[i]).ptr);
  }
}

void append_json(std::string& out, const Encoding& e) {
  out += "{\"input_ids\": [";
  append_ids(out, e.input_ids, ',');
  out += "], \"token_type_ids\": [";
  append_ids(out, e.token_type_ids, ',');
  out += "], \"attention_mask\": [";
  append_ids(out, e.attention_mask, ',');
  out += "]}";
}

// Encodes lines one at a time, keeping its buffers across lines (one per worker thread).
class LineEncoder {
 public:
  LineEncoder(const Tokenizer& tok, const TokenizeStreamOptions& o) : tok_(tok), o_(o) {
    const EncodeOptions& e = o.encode;
    plain_ = !o.pairs && !e.add_special_tokens && e.truncation == Truncation::none && e.padding == Padding::none;
  }

  void encode(std::string_view text, std::string& out) {
    ids_.clear();
    if (plain_) {  // the hot path: ids straight from the tokenizer
      tok_.encode_into(text, ids_, words_);
    } else {
      std::size_t tab = o_.pairs ? text.find('\t') : std::string_view::npos;
      tok_.encode_into(text.substr(0, tab), ids_, words_);
      second_.clear();
      if (tab != std::string_view::npos) tok_.encode_into(text.substr(tab + 1), second_, words_);
      Encoding e = tok_.prepare_for_model(ids_, tab != std::string_view::npos ? &second_ : nullptr, o_.encode);
      if (o_.format == OutputFormat::jsonl) return append_json(out, e);
      ids_ = std::move(e.input_ids);
    }
    if (o_.format != OutputFormat::tokens) return append_ids(out, ids_, ' ');
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      if (i) out += ' ';
      out += tok_.id_to_token(ids_[i]);
    }
  }

 private:
  const Tokenizer& tok_;
  const TokenizeStreamOptions& o_;
  bool plain_;
  std::vector<std::int32_t> ids_, second_;
  Words words_;
};

}  // namespace

std::uint64_t tokenize_stream(const Tokenizer& tok, std::istream& in, const std::string& input_name,
                              std::ostream& out, const TokenizeStreamOptions& options) {
  auto encode_chunk = [&](std::string_view lines, std::uint64_t first_line) {
    LineEncoder encoder(tok, options);
    std::string result, fixed;
    result.reserve(lines.size());
    for (std::uint64_t line = first_line; !lines.empty(); ++line) {
      std::size_t nl = lines.find('\n');
      std::string_view text = lines.substr(0, nl);
      lines.remove_prefix(nl + 1);
      if (find_invalid_utf8(text) != std::string_view::npos) {
        if (!options.replace_errors) check_utf8(text, input_name, line);
        fixed = replace_invalid_utf8(text);
        text = fixed;
      }
      encoder.encode(text, result);
      result += '\n';
    }
    return result;
  };
  return map_lines_ordered(in, out, options.lines, encode_chunk);
}

std::uint64_t decode_stream(const Tokenizer& tok, std::istream& in, const std::string& input_name,
                            std::ostream& out, const DecodeStreamOptions& options) {
  auto decode_chunk = [&](std::string_view lines, std::uint64_t first_line) {
    std::string result;
    std::vector<std::int32_t> ids;
    for (std::uint64_t line = first_line; !lines.empty(); ++line) {
      std::size_t nl = lines.find('\n');
      std::string_view text = lines.substr(0, nl);
      lines.remove_prefix(nl + 1);
      ids.clear();
      for (const char *p = text.data(), *end = p + text.size(); p < end;) {
        if (*p == ' ') {
          ++p;
          continue;
        }
        std::int32_t id;
        auto [next, ec] = std::from_chars(p, end, id);
        if (ec != std::errc() || (next < end && *next != ' '))
          fail_at(input_name, line, "not a token id: \"" + std::string(p, std::find(p, end, ' ')) + "\"");
        if (id < 0) fail_at(input_name, line, "negative token id " + std::to_string(id) + " (ids count from 0)");
        ids.push_back(id);
        p = next;
      }
      result += tok.decode(ids, options.skip_special_tokens, options.clean_up_tokenization_spaces);
      result += '\n';
    }
    return result;
  };
  return map_lines_ordered(in, out, options.lines, decode_chunk);
}

}  // namespace bertforge::text
