// `bertforge tokenize --vocab V [--lower-case] [--tokens] [--errors strict|replace] [-o FILE] [INPUT]`:
// one line of space-separated ids (or pieces, or JSON) per input line, on every thread, in input order.
// `bertforge decode --vocab V [--skip-special-tokens] [INPUT]`: lines of ids back to text.
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/text/tokenize_stream.h"
#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"
#include "bertforge/util/threads.h"

namespace bertforge::cli {

namespace {

struct CommonArgs {
  std::string vocab, input = "-", output;
  int lower_case = 0;  // +1 --lower-case, -1 --no-lower-case, 0 as the tokenizer files say
};

void add_common(CLI::App* app, CommonArgs& args) {
  add_tokenizer(app, args.vocab, " (tokenizer.json or vocab.txt)")->required();
  app->add_flag("--lower-case,!--no-lower-case", args.lower_case,
                "lower-case and strip accents (default: as tokenizer_config.json says, else cased)");
  app->add_option("-o,--output", args.output, "write here (atomically: all or nothing) instead of standard output");
  app->add_option("input", args.input, "input text file (default: standard input)");
}

text::Tokenizer load(const CommonArgs& args) {
  text::TokenizerOptions options;
  if (args.lower_case) options.lower_case = args.lower_case > 0;
  return text::Tokenizer::from_pretrained(args.vocab, options);
}

// Opens the input and output named in args and runs fn(in, input_name, out, total_input_bytes).
void with_streams(const CommonArgs& args,
                  const std::function<void(std::istream&, const std::string&, std::ostream&, std::uint64_t)>& fn) {
  std::ifstream file;
  std::istream* in = &std::cin;
  std::string name = args.input == "-" ? "<stdin>" : args.input;
  std::error_code ec;  // a regular file (also as redirected standard input) has a size: progress gets an ETA
  std::uint64_t total = std::filesystem::file_size(args.input == "-" ? "/dev/stdin" : args.input, ec);
  if (ec) total = 0;
  if (args.input != "-") {
    file.open(args.input, std::ios::binary);
    if (!file) fail_at(args.input, 0, "cannot open the input");
    in = &file;
  }
  std::ios::sync_with_stdio(false);
  if (args.output.empty()) {
    fn(*in, name, std::cout, total);
    std::cout.flush();
    if (!std::cout) fail_at("<stdout>", 0, "write error (disk full, or the reader closed the pipe?)");
  } else {
    AtomicFile out(args.output);
    fn(*in, name, out.stream(), total);
    out.commit();
  }
}

struct TokenizeArgs : CommonArgs {
  std::string errors = "strict", format = "ids", truncation = "none", padding = "none";
  bool tokens = false, pairs = false, special_tokens = false;
  int max_length = 0;
};

int run_tokenize(const TokenizeArgs& args) {
  auto tokenizer = load(args);
  text::TokenizeStreamOptions o;
  o.format = args.tokens || args.format == "tokens" ? text::OutputFormat::tokens
             : args.format == "jsonl"               ? text::OutputFormat::jsonl
                                                    : text::OutputFormat::ids;
  o.pairs = args.pairs;
  o.encode.add_special_tokens = args.special_tokens;
  o.encode.max_length = args.max_length;
  o.encode.truncation = args.truncation == "longest_first" ? text::Truncation::longest_first
                        : args.truncation == "only_first"  ? text::Truncation::only_first
                        : args.truncation == "only_second" ? text::Truncation::only_second
                                                           : text::Truncation::none;
  o.encode.padding = args.padding == "max_length" ? text::Padding::max_length : text::Padding::none;
  o.replace_errors = args.errors == "replace";
  o.lines.threads = num_threads();
  o.lines.label = "tokenize";
  if (!args.output.empty()) o.lines.output_name = args.output;
  with_streams(args, [&](std::istream& in, const std::string& name, std::ostream& out, std::uint64_t total) {
    o.lines.total_bytes = total;
    text::tokenize_stream(tokenizer, in, name, out, o);
  });
  return 0;
}

int run_decode(const CommonArgs& args, bool skip_special_tokens, bool clean_up) {
  auto tokenizer = load(args);
  text::DecodeStreamOptions o;
  o.skip_special_tokens = skip_special_tokens;
  o.clean_up_tokenization_spaces = clean_up;
  o.lines.threads = num_threads();
  o.lines.label = "decode";
  if (!args.output.empty()) o.lines.output_name = args.output;
  with_streams(args, [&](std::istream& in, const std::string& name, std::ostream& out, std::uint64_t total) {
    o.lines.total_bytes = total;
    text::decode_stream(tokenizer, in, name, out, o);
  });
  return 0;
}

}  // namespace

Command add_tokenize(CLI::App& parent) {
  auto* app = parent.add_subcommand("tokenize", "tokenize lines of text into WordPiece ids (one line per line)");
  auto args = std::make_shared<TokenizeArgs>();
  add_common(app, *args);
  app->add_flag("--tokens", args->tokens, "print WordPiece pieces instead of ids (same as --format tokens)");
  app->add_option("--format", args->format, "ids, tokens, or jsonl (input_ids, token_type_ids, attention_mask)")
      ->check(CLI::IsMember({"ids", "tokens", "jsonl"}));
  app->add_option("--errors", args->errors, "invalid UTF-8: strict (an error naming the line) or replace (U+FFFD)")
      ->check(CLI::IsMember({"strict", "replace"}));
  app->add_flag("--pairs", args->pairs, "each line is text_a<TAB>text_b, encoded as a pair");
  app->add_flag("--special-tokens", args->special_tokens, "add [CLS] ... [SEP] (... [SEP])");
  app->add_option("--max-length", args->max_length, "for truncation and padding (0: model_max_length)")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--truncation", args->truncation, "none, longest_first, only_first or only_second (HF's)")
      ->check(CLI::IsMember({"none", "longest_first", "only_first", "only_second"}));
  app->add_option("--padding", args->padding, "none or max_length")->check(CLI::IsMember({"none", "max_length"}));
  return {app, [args] { return run_tokenize(*args); }};
}

Command add_decode(CLI::App& parent) {
  auto* app = parent.add_subcommand("decode", "turn lines of token ids back into text (HF decode)");
  auto args = std::make_shared<CommonArgs>();
  auto skip = std::make_shared<bool>(false), clean = std::make_shared<bool>(false);
  add_common(app, *args);
  app->add_flag("--skip-special-tokens", *skip, "leave out [CLS], [SEP], [PAD], ...");
  app->add_flag("--clean-up-tokenization-spaces", *clean, "also apply transformers' whole-text space cleanup");
  return {app, [args, skip, clean] { return run_decode(*args, *skip, *clean); }};
}

}  // namespace bertforge::cli
