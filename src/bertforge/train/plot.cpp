#include "bertforge/train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "bertforge/train/checkpoint.h"
#include "bertforge/train/trainer_state.h"
#include "bertforge/util/error.h"

namespace bertforge::train {

namespace {

constexpr int kWidth = 900, kHeight = 540, kLeft = 90, kRight = 30, kTop = 50, kBottom = 70;
const Rgb kBlack{0, 0, 0}, kGrid{225, 225, 225}, kAxis{90, 90, 90};

// Tick spacing 1, 2 or 5 times a power of ten giving about `target` intervals.
double nice_step(double span, int target) {
  double raw = span / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string label(double v, double step) {
  char buf[32];
  if (step >= 1 && std::abs(v) < 1e7) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.*f", std::max(0, -static_cast<int>(std::floor(std::log10(step)))), v);
  return buf;
}

struct Range {
  double lo, hi;
};

Range padded(double lo, double hi) {
  if (hi <= lo) return {lo - 1, hi + 1};
  double pad = 0.05 * (hi - lo);
  return {lo - pad, hi + pad};
}

}  // namespace

void plot_lines(const std::string& path, const std::string& title, const std::string& xlabel,
                const std::vector<Series>& series) {
  double x0 = 0, x1 = 1, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(y0)) y0 = 0, y1 = 1;
  Range yr = padded(y0, y1);
  Canvas c(kWidth, kHeight);
  int pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * pw; };
  auto py = [&](double y) { return kTop + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph; };

  double xs = nice_step(x1 - x0, 8), ys = nice_step(yr.hi - yr.lo, 6);
  for (double x = std::ceil(x0 / xs) * xs; x <= x1 + 1e-9; x += xs) {
    c.line(px(x), kTop, px(x), kTop + ph, kGrid);
    std::string l = label(x, xs);
    c.text(static_cast<int>(px(x)) - Canvas::text_width(l) / 2, kTop + ph + 8, l, kAxis);
  }
  for (double y = std::ceil(yr.lo / ys) * ys; y <= yr.hi + 1e-12; y += ys) {
    c.line(kLeft, py(y), kLeft + pw, py(y), kGrid);
    std::string l = label(y, ys);
    c.text(kLeft - 8 - Canvas::text_width(l), static_cast<int>(py(y)) - Canvas::text_height() / 2, l, kAxis);
  }
  c.line(kLeft, kTop, kLeft, kTop + ph, kAxis);
  c.line(kLeft, kTop + ph, kLeft + pw, kTop + ph, kAxis);
  c.text((kWidth - Canvas::text_width(title)) / 2, 15, title, kBlack);
  c.text(kLeft + (pw - Canvas::text_width(xlabel)) / 2, kHeight - 28, xlabel, kBlack);

  int legend_y = kTop + 10;
  for (const auto& s : series) {
    for (std::size_t i = 1; i < s.x.size(); ++i) c.line(px(s.x[i - 1]), py(s.y[i - 1]), px(s.x[i]), py(s.y[i]), s.color, 2);
    for (std::size_t i = 0; i < s.x.size(); ++i) c.fill_rect(px(s.x[i]) - 2, py(s.y[i]) - 2, px(s.x[i]) + 2, py(s.y[i]) + 2, s.color);
    int lx = kLeft + pw - Canvas::text_width(s.label) - 50;
    c.line(lx, legend_y + 7, lx + 30, legend_y + 7, s.color, 3);
    c.text(lx + 38, legend_y, s.label, kBlack);
    legend_y += 22;
  }
  write_png(path, c);
}

nlohmann::json read_log_history(const std::string& output_dir) {
  namespace fs = std::filesystem;
  fs::path jsonl = fs::path(output_dir) / "metrics.jsonl";
  if (fs::exists(jsonl)) {
    // Keyed by (kind, step) so the entries a resumed run logs again replace the first ones.
    std::map<std::pair<std::int64_t, std::string>, nlohmann::json> latest;
    std::ifstream in(jsonl);
    std::string line;
    for (std::uint64_t n = 1; std::getline(in, line); ++n) {
      if (line.empty()) continue;
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.contains("step")) fail_at(jsonl.string(), n, "not a log entry");
      std::string kind = j.contains("eval_loss") ? "eval" : j.contains("loss") ? "train" : "other";
      latest[{j["step"].get<std::int64_t>(), kind}] = j;
    }
    nlohmann::json out = nlohmann::json::array();
    for (auto& [key, j] : latest) out.push_back(j);
    return out;
  }
  fs::path state = fs::path(output_dir) / "trainer_state.json";
  if (!fs::exists(state)) {
    auto last = last_checkpoint(output_dir);
    if (!last) fail_at(output_dir, 0, "no metrics.jsonl, trainer_state.json or checkpoint-* to plot");
    state = fs::path(*last) / "trainer_state.json";
  }
  return TrainerState::load(state.string()).log_history;
}

std::string plot_losses(const std::string& output_dir, const std::string& png_path) {
  Series train{"training loss", {}, {}, {31, 119, 180}}, eval{"evaluation loss", {}, {}, {255, 127, 14}};
  for (const auto& e : read_log_history(output_dir)) {
    double step = e["step"].get<double>();
    if (e.contains("loss")) train.x.push_back(step), train.y.push_back(e["loss"].get<double>());
    if (e.contains("eval_loss")) eval.x.push_back(step), eval.y.push_back(e["eval_loss"].get<double>());
  }
  std::vector<Series> series;
  for (auto* s : {&train, &eval})
    if (!s->x.empty()) series.push_back(*s);
  if (series.empty()) fail_at(output_dir, 0, "the log history holds no loss to plot");
  std::string path = png_path.empty() ? (std::filesystem::path(output_dir) / "loss.png").string() : png_path;
  plot_lines(path, "Training and evaluation loss", "step", series);
  return path;
}

}  // namespace bertforge::train
