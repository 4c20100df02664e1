// bertforge: pre-train BERT natively. Dispatches to one subcommand; errors become one line and exit 1.
#include <c10/util/Exception.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bertforge/cli/commands.h"
#include "bertforge/util/threads.h"

int main(int argc, char** argv) {
  using namespace bertforge::cli;
  CLI::App app{"bertforge: pre-train BERT models natively (MLM + NSP), file-compatible with Hugging Face"};
  app.require_subcommand(1);
  app.fallthrough();  // shared options may follow the subcommand name
  int threads = 0;
  app.add_option("--threads", threads, "intra-op threads (0 = every hardware thread)")
      ->check(CLI::NonNegativeNumber);

  std::vector<Command> commands{add_version(app), add_plot(app), add_pretrain(app), add_tokenize(app),
                                add_train_tokenizer(app), add_forward(app),
                                add_decode(app), add_prepare(app), add_launch(app)};
  // Inference and model tools (issue 6).
  for (auto add : {add_fill_mask, add_mlm_demo, add_evaluate, add_export, add_import, add_info})
    commands.push_back(add(app));

  CLI11_PARSE(app, argc, argv);
  try {
    bertforge::set_threads(threads);
    for (auto& c : commands)
      if (c.app->parsed()) return c.run();
  } catch (const c10::Error& e) {
    // LibTorch's message goes on with hints and a backtrace after its first line.
    std::string m = e.what_without_backtrace();
    std::fprintf(stderr, "bertforge: error: %s\n", m.substr(0, m.find('\n')).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bertforge: error: %s\n", e.what());
    return 1;
  }
  return 1;
}
