// `bertforge plot OUTPUT_DIR [-o FILE] [--format png|svg]`: the loss curves of a run (bertforge or HF
// Trainer) as a PNG or SVG image; the format follows --format, else FILE's extension.
#include <cstdio>

#include "bertforge/cli/commands.h"
#include "bertforge/train/plot.h"

namespace bertforge::cli {

Command add_plot(CLI::App& parent) {
  auto* app = parent.add_subcommand("plot", "plot training and evaluation loss of a run as a PNG or SVG");
  auto dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>();
  app->add_option("output_dir", *dir, "the run's output_dir")->required();
  app->add_option("-o,--output", *out, "image to write (default OUTPUT_DIR/loss.png or loss.svg)");
  app->add_option("--format", *format, "png or svg (default: from --output's extension, else png)")
      ->check(CLI::IsMember({"png", "svg"}));
  return {app, [dir, out, format] {
            std::printf("wrote %s\n", train::plot_losses(*dir, *out, *format).c_str());
            return 0;
          }};
}

}  // namespace bertforge::cli
