// bertforge: pre-train BERT natively. Dispatches to one subcommand; how it reports errors and which status it
// exits with is cli/errors.h's, how options are spelt and shown in --help cli/options.h's.
#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/errors.h"
#include "bertforge/cli/options.h"
#include "bertforge/util/messages.h"
#include "bertforge/util/threads.h"

int main(int argc, char** argv) {
  using namespace bertforge::cli;
  CLI::App app{"bertforge: pre-train BERT models natively (MLM + NSP), file-compatible with Hugging Face"};
  app.require_subcommand(1);
  app.fallthrough();  // shared options may follow the subcommand name
  int threads = 0;
  app.add_option("--threads", threads, "intra-op threads (0 = every hardware thread)")->capture_default_str()
      ->check(CLI::Range(0, bertforge::max_threads()));

  std::vector<Command> commands{add_version(app), add_plot(app), add_pretrain(app), add_finetune(app), add_tokenize(app),
                                add_train_tokenizer(app), add_forward(app),
                                add_decode(app), add_prepare(app), add_launch(app)};
  // Inference and model tools.
  for (auto add : {add_fill_mask, add_classify, add_mlm_demo, add_evaluate, add_export, add_import, add_info})
    commands.push_back(add(app));

  for (auto& c : commands) teach(c.app);
  teach(&app);
  std::vector<std::string> args = accept_both_spellings(app, {argv + 1, argv + argc});
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return report_parse_error(app, e);
  }
  try {
    bertforge::set_threads(threads);
    for (auto& c : commands) {
      if (!c.app->parsed()) continue;
      bertforge::set_command(c.app->get_name());
      return c.run();
    }
  } catch (const std::exception& e) {
    return report_failure(e);
  }
  return kExitFailure;
}
