// `bertforge plot`: the training and evaluation loss of a run as a PNG (the reference's Figure 1).
// The points come from the run's log history: output_dir/metrics.jsonl when present (it survives an
// interrupted run; entries repeated after a resume count once, the later one winning), else the
// trainer_state.json of output_dir or of its newest checkpoint, so HF Trainer output folders plot too.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "bertforge/util/png.h"

namespace bertforge::train {

struct Series {
  std::string label;
  std::vector<double> x, y;
  Rgb color;
};

// Axes with "nice" ticks, a light grid, one polyline per series and a legend; written atomically.
void plot_lines(const std::string& path, const std::string& title, const std::string& xlabel,
                const std::vector<Series>& series);

nlohmann::json read_log_history(const std::string& output_dir);  // throws Error if none is found

// Writes the loss plot; png_path empty -> output_dir/loss.png. Returns the path written.
std::string plot_losses(const std::string& output_dir, const std::string& png_path = "");

}  // namespace bertforge::train
