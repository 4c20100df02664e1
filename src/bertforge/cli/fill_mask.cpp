// `bertforge fill-mask --model DIR "Paris is the [MASK] of France."`: the top-k tokens for each [MASK], as
// HF's pipeline("fill-mask") gives them (see infer/fill_mask.h). Texts from the command line and/or a file
// (--input, one text per line); --json prints one line per text in HF's output shape. --answer gives the word
// behind each [MASK] (command-line texts first, then the file's lines): each is ranked, and a last line counts
// the answers found in the top k.
#include <cstdio>
#include <limits>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/infer/fill_mask.h"
#include "bertforge/model/device.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "bertforge/util/messages.h"

namespace bertforge::cli {
namespace {

struct FillMaskCli {
  std::string model, tokenizer, input, device;
  std::vector<std::string> texts, answers;
  infer::FillMaskOptions options;
  bool json = false;
};

void print_human(const std::string& text, const infer::FillMaskResult& r) {
  std::printf("%s\n", text.c_str());
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.size() > 1) std::printf("  mask %zu:\n", i + 1);
    for (const auto& p : r[i].proposals)
      std::printf("  %8.4f  %-16s %s\n", p.score, p.token_str.c_str(), p.sequence.c_str());
    if (const auto& a = r[i].answer)
      std::printf("  answer %-16s rank %lld (%.4f)\n", a->word.c_str(), static_cast<long long>(a->rank), a->score);
  }
}

// Hands the answers out to the texts, one per [MASK] in order; `next` moves on over all texts.
std::vector<std::vector<std::string>> answers_for(const infer::ModelDir& m, const std::vector<std::string>& texts,
                                                  const std::vector<std::string>& answers, std::size_t& next) {
  if (answers.empty()) return {};
  const std::string& mask = m.tokenizer.config().mask_token;
  std::vector<std::vector<std::string>> out;
  for (const auto& text : texts) {
    out.emplace_back();
    for (auto at = text.find(mask); at != std::string::npos; at = text.find(mask, at + mask.size()))
      if (next < answers.size()) out.back().push_back(answers[next++]);
  }
  return out;
}

int run(const FillMaskCli& o) {
  if (o.texts.empty() && o.input.empty())
    throw UsageError("texts: none given (give a text holding [MASK], or --input FILE)");
  infer::ModelDir m = infer::open_model_dir(o.model, o.tokenizer, model::parse_device(o.device));
  // Command-line texts first, then the file's lines; errors name the file and line for the latter.
  std::vector<std::string> texts = o.texts, lines;
  if (!o.input.empty()) lines = read_input_lines(o.input, "no text to fill");
  std::size_t next_answer = 0;
  auto for_texts = answers_for(m, o.texts, o.answers, next_answer);
  auto for_lines = answers_for(m, lines, o.answers, next_answer);
  if (!o.answers.empty() && next_answer != o.answers.size())
    throw UsageError("--answer: " + std::to_string(o.answers.size()) + " given for " + std::to_string(next_answer) +
                     " masks (give one per " + m.tokenizer.config().mask_token + ", in order)");
  std::vector<infer::FillMaskResult> results = infer::fill_mask(m, o.texts, o.options, "", for_texts);
  if (!lines.empty()) {
    auto more = infer::fill_mask(m, lines, o.options, o.input, for_lines);
    results.insert(results.end(), more.begin(), more.end());
    texts.insert(texts.end(), lines.begin(), lines.end());
  }
  std::size_t in_top_k = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    for (const auto& fill : results[i])
      if (fill.answer && fill.answer->rank <= o.options.top_k) ++in_top_k;
    if (o.json)
      std::printf("%s\n", dump_json(infer::to_json(results[i])).c_str());
    else
      print_human(texts[i], results[i]);
  }
  if (!o.answers.empty() && !o.json)  // --json keeps to one line of HF's shape per text
    std::printf("answers in the top %d: %zu of %zu\n", o.options.top_k, in_top_k, o.answers.size());
  return 0;
}

}  // namespace

Command add_fill_mask(CLI::App& parent) {
  auto o = std::make_shared<FillMaskCli>();
  auto* app = parent.add_subcommand("fill-mask", "predict the tokens behind each [MASK], as HF pipeline('fill-mask')");
  app->add_option("--model", o->model, "model folder (config.json + model.safetensors [+ tokenizer])")->required();
  add_tokenizer(app, o->tokenizer, " (default: the model folder)");
  app->add_option("texts", o->texts, "texts holding [MASK]");
  app->add_option("--input", o->input, "file with one text per line");
  app->add_option("--answer", o->answers,
                  "the word behind each [MASK], in order over all texts (repeat the option): prints its rank")
      ->expected(1)
      ->allow_extra_args(false)  // one word per --answer: the next text is a text, not another answer
      ->take_all();
  app->add_option("--top_k", o->options.top_k, "predictions per [MASK]")->capture_default_str()
      ->check(within({1, std::numeric_limits<double>::infinity()}));
  app->add_option("--batch_size", o->options.batch_size, "texts per forward pass")->capture_default_str();
  app->add_flag("--include-special", o->options.include_special,
                "rank special tokens too (HF's pipeline does; by default they are never proposed)");
  app->add_flag("--json", o->json, "one JSON line per text, in HF's pipeline output shape");
  add_device(app, o->device);
  return {app, [o] { return run(*o); }};
}

}  // namespace bertforge::cli
