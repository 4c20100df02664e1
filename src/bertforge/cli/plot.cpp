// `bertforge plot OUTPUT_DIR`: training and evaluation loss of a run (bertforge or HF Trainer) as a PNG.
#include <cstdio>

#include "bertforge/cli/commands.h"
#include "bertforge/train/plot.h"

namespace bertforge::cli {

Command add_plot(CLI::App& parent) {
  auto* app = parent.add_subcommand("plot", "plot training and evaluation loss of a run as a PNG");
  auto dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  app->add_option("output_dir", *dir, "the run's output_dir")->required();
  app->add_option("-o,--output", *out, "PNG to write (default OUTPUT_DIR/loss.png)");
  return {app, [dir, out] {
            std::printf("wrote %s\n", train::plot_losses(*dir, *out).c_str());
            return 0;
          }};
}

}  // namespace bertforge::cli
