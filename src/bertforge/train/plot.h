// `bertforge plot`: the curves of a run drawn with Cairo (anti-aliased lines, the system's sans-serif font
// through fontconfig), as PNG or SVG: training and evaluation loss, each with its MLM and NSP terms where the
// log has them, and the learning rate on a second axis at the right.
// The points come from the run's log history: output_dir/metrics.jsonl when present (it survives an
// interrupted run; entries repeated after a resume count once, the later one winning), else the
// trainer_state.json of output_dir or of its newest checkpoint, so HF Trainer output folders plot too.
// Files are written through AtomicFile: an interrupted write leaves any previous image whole.
#pragma once
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace bertforge::train {

enum class PlotFormat { png, svg };
// "png" or "svg"; empty: from the extension of `path` (.png, .svg). Anything else throws Error.
PlotFormat plot_format(const std::string& format, const std::string& path);

struct Series {
  std::string label;
  std::vector<double> x, y;
  std::array<double, 3> rgb;  // 0..1
  double width = 2;           // line width in pixels
  bool dashed = false, markers = false;
  bool right_axis = false;    // plotted against the second (right) y axis
};

struct PlotLabels {
  std::string title, x, y, y_right;
};

// Axes with "nice" ticks, a light grid, one polyline per series and a legend.
void plot_lines(const std::string& path, PlotFormat format, const PlotLabels& labels, const std::vector<Series>& series);

nlohmann::json read_log_history(const std::string& output_dir);  // throws Error if none is found

// Writes the loss plot; path empty -> output_dir/loss.<format> (png when format is empty too). Returns the path.
std::string plot_losses(const std::string& output_dir, const std::string& path = "", const std::string& format = "");

}  // namespace bertforge::train
