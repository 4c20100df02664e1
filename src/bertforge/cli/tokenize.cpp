// `bertforge tokenize --vocab V [--lower-case] [--tokens] [--errors strict|replace] [-o FILE] [INPUT]`:
// one line of space-separated ids (or pieces) per input line, on every thread, in input order.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "bertforge/cli/commands.h"
#include "bertforge/text/tokenize_stream.h"
#include "bertforge/text/tokenizer.h"
#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"
#include "bertforge/util/threads.h"

namespace bertforge::cli {

namespace {
struct TokenizeArgs {
  std::string vocab, input = "-", output, errors = "strict";
  int lower_case = 0;  // +1 --lower-case, -1 --no-lower-case, 0 as the tokenizer files say
  bool tokens = false;
};

int run_tokenize(const TokenizeArgs& args) {
  text::TokenizerOptions options;
  if (args.lower_case) options.lower_case = args.lower_case > 0;
  auto tokenizer = text::Tokenizer::from_pretrained(args.vocab, options);

  text::TokenizeStreamOptions stream;
  stream.tokens = args.tokens;
  stream.replace_errors = args.errors == "replace";
  stream.threads = num_threads();
  std::ifstream file;
  std::istream* in = &std::cin;
  std::string input_name = "<stdin>";
  std::error_code ec;  // standard input redirected from a file: its size makes an ETA
  if (auto size = std::filesystem::file_size("/dev/stdin", ec); !ec) stream.total_bytes = size;
  if (args.input != "-") {
    file.open(args.input, std::ios::binary);
    if (!file) fail_at(args.input, 0, "cannot open the input");
    in = &file;
    input_name = args.input;
    stream.total_bytes = std::filesystem::file_size(args.input);
  }
  std::ios::sync_with_stdio(false);
  if (args.output.empty()) {
    text::tokenize_stream(tokenizer, *in, input_name, std::cout, stream);
    std::cout.flush();
    if (!std::cout) throw Error("write error on standard output");
  } else {
    AtomicFile out(args.output);
    text::tokenize_stream(tokenizer, *in, input_name, out.stream(), stream);
    out.commit();
  }
  return 0;
}
}  // namespace

Command add_tokenize(CLI::App& parent) {
  auto* app = parent.add_subcommand("tokenize", "tokenize lines of text into WordPiece ids (one line per line)");
  auto args = std::make_shared<TokenizeArgs>();
  app->add_option("--vocab", args->vocab, "vocab.txt, or a folder with tokenizer.json / vocab.txt")->required();
  app->add_flag("--lower-case,!--no-lower-case", args->lower_case,
                "lower-case and strip accents (default: as tokenizer_config.json says, else cased)");
  app->add_flag("--tokens", args->tokens, "print WordPiece pieces instead of ids");
  app->add_option("--errors", args->errors, "invalid UTF-8: strict (an error naming the line) or replace (U+FFFD)")
      ->check(CLI::IsMember({"strict", "replace"}));
  app->add_option("-o,--output", args->output, "write here (atomically) instead of standard output");
  app->add_option("input", args->input, "input text file (default: standard input)");
  return {app, [args] { return run_tokenize(*args); }};
}

}  // namespace bertforge::cli
