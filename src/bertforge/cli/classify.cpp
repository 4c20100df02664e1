// `bertforge classify --model DIR "text" ["pair"]`: the labels and scores of a fine-tuned sequence classifier,
// as HF's pipeline("text-classification") gives them, or for a token classifier the entities of
// pipeline("token-classification", aggregation_strategy="simple") (infer/classify.h). Inputs from the
// command line (one text, or a text and its pair) and/or a file (--input: one input per line, a tab between
// text and pair); --json prints one line per input in HF's output shape.
#include <cstdio>
#include <limits>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/infer/classify.h"
#include "bertforge/infer/model_dir.h"
#include "bertforge/model/cpu_caps.h"
#include "bertforge/model/device.h"
#include "bertforge/util/error.h"

namespace bertforge::cli {
namespace {

struct ClassifyCli {
  std::string model, tokenizer, input, device;
  std::vector<std::string> texts;
  infer::ClassifyOptions options;
  bool json = false, bf16 = false;
};

std::vector<infer::ClassifyInput> inputs_of(const ClassifyCli& o) {
  std::vector<infer::ClassifyInput> inputs;
  if (!o.texts.empty()) inputs.push_back({o.texts[0], o.texts.size() > 1 ? std::optional(o.texts[1]) : std::nullopt, ""});
  if (o.input.empty()) return inputs;
  const std::vector<std::string> lines = read_input_lines(o.input, "nothing to classify");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto tab = lines[i].find('\t');
    infer::ClassifyInput x{lines[i].substr(0, tab), std::nullopt, o.input + ":" + std::to_string(i + 1)};
    if (tab != std::string::npos) x.pair = lines[i].substr(tab + 1);
    if (x.text.empty()) fail_at(o.input, i + 1, "no text on this line");
    inputs.push_back(std::move(x));
  }
  return inputs;
}

void print_entities(const infer::ClassifyInput& in, const std::vector<infer::Entity>& found, bool json) {
  if (json) {
    std::printf("%s\n", infer::to_json(found).dump().c_str());
    return;
  }
  std::printf("%s\n", in.text.c_str());
  if (found.empty()) std::printf("  (no entity)\n");
  for (const auto& e : found)
    std::printf("  %8.4f  %-10s %s  [%u, %u)\n", e.score, e.entity_group.c_str(), e.word.c_str(), e.start, e.end);
}

int run(ClassifyCli& o) {
  if (o.texts.empty() && o.input.empty()) throw UsageError("texts: none given (give a text, or --input FILE)");
  o.options.device = model::parse_device(o.device);
  o.options.bf16 = o.bf16;
  model::prepare_cpu(o.bf16, o.options.device);
  model::Classifier m = model::Classifier::from_pretrained(o.model, o.options.device);
  const text::Tokenizer tokenizer = text::Tokenizer::from_pretrained(infer::find_tokenizer(o.model, o.tokenizer));
  const std::vector<infer::ClassifyInput> inputs = inputs_of(o);
  if (m.token()) {
    const auto found = infer::entities(m, tokenizer, inputs, o.options);
    for (std::size_t i = 0; i < inputs.size(); ++i) print_entities(inputs[i], found[i], o.json);
    return 0;
  }
  const auto results = infer::classify(m, tokenizer, inputs, o.options);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (o.json) {
      std::printf("%s\n", infer::to_json(results[i]).dump().c_str());
      continue;
    }
    std::printf("%s%s%s\n", inputs[i].text.c_str(), inputs[i].pair ? "  |  " : "", inputs[i].pair.value_or("").c_str());
    for (const auto& s : results[i]) std::printf("  %8.4f  %s\n", s.score, s.label.c_str());
  }
  return 0;
}

}  // namespace

Command add_classify(CLI::App& parent) {
  auto o = std::make_shared<ClassifyCli>();
  auto* app = parent.add_subcommand("classify", "labels and scores (or entities) of a fine-tuned "
                                                "classifier, as HF pipeline('text-classification' / 'token-classification')");
  app->add_option("--model", o->model, "fine-tuned model folder (bertforge finetune's output, or HF's)")->required();
  add_tokenizer(app, o->tokenizer, " (default: the model folder)");
  app->add_option("texts", o->texts, "a text, and optionally its pair")->expected(0, 2);
  app->add_option("--input", o->input, "file with one input per line (a tab between text and pair)");
  app->add_option("--top_k", o->options.top_k, "labels per input, best first (0: all)")->capture_default_str()
      ->check(within({0, std::numeric_limits<double>::infinity()}));
  app->add_option("--batch_size", o->options.batch_size, "inputs per forward pass")->capture_default_str()
      ->check(within({1, std::numeric_limits<double>::infinity()}));
  app->add_flag("--json", o->json, "one JSON line per input, in HF's pipeline output shape");
  add_bf16(app, o->bf16);
  add_device(app, o->device);
  return {app, [o] { return run(*o); }};
}

}  // namespace bertforge::cli
