// The subcommands of the `bertforge` executable. Each cli/<name>.cpp defines one add_<name>() that declares
// its options on a new subcommand of `parent` and returns what to run once parsing is done. main() applies
// the options every subcommand shares (--threads) before running it. Subcommands stay thin: parse options,
// call the library.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace bertforge::cli {

struct Command {
  CLI::App* app;
  std::function<int()> run;  // the exit status
};

Command add_version(CLI::App& parent);
Command add_plot(CLI::App& parent);
Command add_pretrain(CLI::App& parent);
Command add_finetune(CLI::App& parent);
Command add_classify(CLI::App& parent);
Command add_tokenize(CLI::App& parent);
Command add_train_tokenizer(CLI::App& parent);
Command add_forward(CLI::App& parent);
Command add_decode(CLI::App& parent);
Command add_prepare(CLI::App& parent);
Command add_launch(CLI::App& parent);
Command add_fill_mask(CLI::App& parent);
Command add_mlm_demo(CLI::App& parent);
Command add_evaluate(CLI::App& parent);
Command add_export(CLI::App& parent);
Command add_import(CLI::App& parent);
Command add_info(CLI::App& parent);

}  // namespace bertforge::cli
