#include "bertforge/train/plot.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "bertforge/train/checkpoint.h"
#include "bertforge/train/checkpoint_files.h"
#include "bertforge/train/trainer_state.h"
#include "bertforge/util/atomic_file.h"
#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"

namespace bertforge::train {

namespace {

constexpr int kWidth = 960, kHeight = 560;
constexpr double kLeft = 80, kRight = 90, kTop = 50, kBottom = 62, kFont = 13;
constexpr std::array<double, 3> kText{0.1, 0.1, 0.1}, kAxis{0.35, 0.35, 0.35}, kGrid{0.89, 0.89, 0.89};

// Tick spacing 1, 2 or 5 times a power of ten giving about `target` intervals.
double nice_step(double span, int target) {
  double raw = span / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}

std::string tick_label(double v, double step) {
  double r = std::round(v / step) * step;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::abs(r) < step * 1e-6 ? 0.0 : r);
  return buf;
}

struct Range {
  double lo = INFINITY, hi = -INFINITY;
  double at(double v, double from, double to) const { return from + (v - lo) / (hi - lo) * (to - from); }
};

// The values of the series on one axis, with 5% room above and below.
Range y_range(const std::vector<Series>& series, bool right) {
  Range r;
  for (const auto& s : series)
    if (s.right_axis == right)
      for (double y : s.y) r.lo = std::min(r.lo, y), r.hi = std::max(r.hi, y);
  if (!std::isfinite(r.lo)) return {0, 1};
  if (r.hi <= r.lo) return {r.lo - 1, r.hi + 1};
  double pad = 0.05 * (r.hi - r.lo);
  return {r.lo - pad, r.hi + pad};
}

void color(cairo_t* cr, const std::array<double, 3>& c, double alpha = 1) { cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha); }

// Text whose box is anchored at (x, y): ax, ay = 0 left/top, 0.5 centre, 1 right/bottom; turned by angle.
void text(cairo_t* cr, const std::string& s, double x, double y, double ax, double ay, double size = kFont,
          double angle = 0) {
  cairo_set_font_size(cr, size);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  cairo_move_to(cr, -e.x_bearing - ax * e.width, -e.y_bearing - ay * e.height);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

double text_width(cairo_t* cr, const std::string& s) {
  cairo_set_font_size(cr, kFont);
  cairo_text_extents_t e;
  cairo_text_extents(cr, s.c_str(), &e);
  return e.x_advance;
}

struct Frame {
  double x0, x1, y0, y1;  // the plot area in pixels: left, right, top, bottom
};

void draw_axes(cairo_t* cr, const Frame& f, const Range& xr, const Range& yl, const Range* yr, const PlotLabels& l) {
  cairo_set_line_width(cr, 1);
  double xs = nice_step(xr.hi - xr.lo, 8), ys = nice_step(yl.hi - yl.lo, 6);
  for (double x = std::ceil(xr.lo / xs) * xs; x <= xr.hi + xs * 1e-9; x += xs) {
    double px = std::round(xr.at(x, f.x0, f.x1)) + 0.5;  // on the pixel grid: crisp one-pixel lines
    color(cr, kGrid);
    cairo_move_to(cr, px, f.y0);
    cairo_line_to(cr, px, f.y1);
    cairo_stroke(cr);
    color(cr, kAxis);
    text(cr, tick_label(x, xs), px, f.y1 + 7, 0.5, 0);
  }
  for (double y = std::ceil(yl.lo / ys) * ys; y <= yl.hi + ys * 1e-9; y += ys) {
    double py = std::round(yl.at(y, f.y1, f.y0)) + 0.5;
    color(cr, kGrid);
    cairo_move_to(cr, f.x0, py);
    cairo_line_to(cr, f.x1, py);
    cairo_stroke(cr);
    color(cr, kAxis);
    text(cr, tick_label(y, ys), f.x0 - 7, py, 1, 0.5);
  }
  if (yr) {
    double rs = nice_step(yr->hi - yr->lo, 6);
    for (double y = std::ceil(yr->lo / rs) * rs; y <= yr->hi + rs * 1e-9; y += rs) {
      double py = std::round(yr->at(y, f.y1, f.y0)) + 0.5;
      cairo_move_to(cr, f.x1, py);
      cairo_line_to(cr, f.x1 + 5, py);
      cairo_stroke(cr);
      text(cr, tick_label(y, rs), f.x1 + 8, py, 0, 0.5);
    }
    text(cr, l.y_right, kWidth - 16, (f.y0 + f.y1) / 2, 0.5, 0.5, kFont, M_PI / 2);
  }
  cairo_rectangle(cr, f.x0 + 0.5, f.y0 + 0.5, f.x1 - f.x0, f.y1 - f.y0);
  cairo_stroke(cr);
  color(cr, kText);
  text(cr, l.title, kWidth / 2.0, 18, 0.5, 0, 17);
  text(cr, l.x, (f.x0 + f.x1) / 2, kHeight - 22, 0.5, 0);
  text(cr, l.y, 18, (f.y0 + f.y1) / 2, 0.5, 0.5, kFont, -M_PI / 2);
}

void draw_series(cairo_t* cr, const Frame& f, const Range& xr, const Range& yl, const Range& yr, const Series& s) {
  const Range& y = s.right_axis ? yr : yl;
  cairo_save(cr);
  cairo_rectangle(cr, f.x0, f.y0, f.x1 - f.x0, f.y1 - f.y0);
  cairo_clip(cr);
  color(cr, s.rgb);
  cairo_set_line_width(cr, s.width);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  double dash[] = {6, 4};
  cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
  for (std::size_t i = 0; i < s.x.size(); ++i)
    cairo_line_to(cr, xr.at(s.x[i], f.x0, f.x1), y.at(s.y[i], f.y1, f.y0));
  cairo_stroke(cr);
  if (s.markers)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      cairo_new_sub_path(cr);
      cairo_arc(cr, xr.at(s.x[i], f.x0, f.x1), y.at(s.y[i], f.y1, f.y0), s.width + 1.5, 0, 2 * M_PI);
      cairo_fill(cr);
    }
  cairo_restore(cr);
}

// Top right inside the plot area, on a translucent box; each swatch is drawn as its line is.
void draw_legend(cairo_t* cr, const Frame& f, const std::vector<Series>& series) {
  double widest = 0;
  for (const auto& s : series) widest = std::max(widest, text_width(cr, s.label));
  const double row = 20, pad = 8, swatch = 26;
  double w = pad + swatch + 8 + widest + pad, h = pad * 2 + row * series.size() - 4;
  double x = std::round(f.x1 - 10 - w), y = std::round(f.y0 + 10);
  cairo_rectangle(cr, x + 0.5, y + 0.5, w, h);
  color(cr, {1, 1, 1}, 0.85);
  cairo_fill_preserve(cr);
  color(cr, {0.8, 0.8, 0.8});
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (std::size_t i = 0; i < series.size(); ++i) {
    double cy = y + pad + row * i + 8;
    const Series& s = series[i];
    color(cr, s.rgb);
    cairo_set_line_width(cr, s.width >= 2 ? 4 : 2);  // even widths on a whole-pixel row: the colour is exact
    double dash[] = {7, 3};
    cairo_set_dash(cr, dash, s.dashed ? 2 : 0, 0);
    cairo_move_to(cr, x + pad, cy);
    cairo_line_to(cr, x + pad + swatch, cy);
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
    if (s.markers) {
      cairo_arc(cr, x + pad + swatch / 2, cy, s.width + 1.5, 0, 2 * M_PI);
      cairo_fill(cr);
    }
    color(cr, kText);
    text(cr, series[i].label, x + pad + swatch + 8, cy, 0, 0.5);
  }
}

cairo_status_t append(void* bytes, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(bytes)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

void check(cairo_status_t status, const std::string& path) {
  if (status != CAIRO_STATUS_SUCCESS) fail_at(path, 0, std::string("cannot draw the plot: ") + cairo_status_to_string(status));
}

}  // namespace

PlotFormat plot_format(const std::string& format, const std::string& path) {
  std::string f = format;
  if (f.empty()) {
    f = std::filesystem::path(path).extension().string();
    if (!f.empty()) f = f.substr(1);
    std::transform(f.begin(), f.end(), f.begin(), ::tolower);
  }
  if (f == "png") return PlotFormat::png;
  if (f == "svg") return PlotFormat::svg;
  throw Error("plot: " + (format.empty() ? path + ": cannot tell the format from the extension"
                                         : "--format " + format + ": unknown format") +
              " (png or svg)");
}

void plot_lines(const std::string& path, PlotFormat format, const PlotLabels& labels, const std::vector<Series>& series) {
  std::string bytes;
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> surface(
      format == PlotFormat::png ? cairo_image_surface_create(CAIRO_FORMAT_RGB24, kWidth, kHeight)
                                : cairo_svg_surface_create_for_stream(append, &bytes, kWidth, kHeight),
      cairo_surface_destroy);
  {
    std::unique_ptr<cairo_t, decltype(&cairo_destroy)> context(cairo_create(surface.get()), cairo_destroy);
    cairo_t* cr = context.get();
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    Range xr{0, 1};
    bool right = false;
    for (const auto& s : series) {
      for (double x : s.x) xr.hi = std::max(xr.hi, x);
      right = right || s.right_axis;
    }
    Range yl = y_range(series, false), yr = y_range(series, true);
    Frame f{kLeft, kWidth - (right ? kRight : 30.0), kTop, kHeight - kBottom};
    draw_axes(cr, f, xr, yl, right ? &yr : nullptr, labels);
    for (const auto& s : series) draw_series(cr, f, xr, yl, yr, s);
    draw_legend(cr, f, series);
    check(cairo_status(cr), path);
  }
  if (format == PlotFormat::png) check(cairo_surface_write_to_png_stream(surface.get(), append, &bytes), path);
  cairo_surface_finish(surface.get());  // an SVG surface writes its document here
  check(cairo_surface_status(surface.get()), path);
  AtomicFile out(path);
  out.stream() << bytes;
  out.commit();
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
      nlohmann::json j;
      try {
        j = parse_json(line);  // NaN/Infinity as Python writes them (a skipped non-finite step)
      } catch (const nlohmann::json::exception&) {
        fail_at(jsonl.string(), n, "not a log entry");
      }
      if (!j.is_object() || !j.contains("step") || !json_holds<std::int64_t>(j["step"]))
        fail_at(jsonl.string(), n, "not a log entry");
      std::string kind = j.contains("eval_loss") ? "eval" : j.contains("loss") ? "train" : "other";
      latest[{j["step"].get<std::int64_t>(), kind}] = j;
    }
    nlohmann::json out = nlohmann::json::array();
    for (auto& [key, j] : latest) out.push_back(j);
    return out;
  }
  fs::path state = fs::path(output_dir) / checkpoint_files::kTrainerState;
  if (!fs::exists(state)) {
    auto last = last_checkpoint(output_dir);
    if (!last) fail_at(output_dir, 0, "no metrics.jsonl, trainer_state.json or checkpoint-* to plot");
    state = fs::path(*last) / checkpoint_files::kTrainerState;
  }
  return TrainerState::load(state.string()).log_history;
}

std::string plot_losses(const std::string& output_dir, const std::string& path, const std::string& format) {
  constexpr std::array<double, 3> blue{31 / 255.0, 119 / 255.0, 180 / 255.0}, orange{1, 127 / 255.0, 14 / 255.0},
      green{44 / 255.0, 160 / 255.0, 44 / 255.0}, purple{148 / 255.0, 103 / 255.0, 189 / 255.0}, gray{0.5, 0.5, 0.5};
  // (log key, series): the training entries carry loss, its terms and the rate; evaluations the eval_ keys.
  std::vector<std::pair<std::string, Series>> wanted{
      {"loss", {"training loss", {}, {}, blue, 2.2}},
      {"mlm_loss", {"training MLM loss", {}, {}, green, 1.3}},
      {"nsp_loss", {"training NSP loss", {}, {}, purple, 1.3}},
      {"eval_loss", {"evaluation loss", {}, {}, orange, 2.2, true, true}},
      {"eval_mlm_loss", {"evaluation MLM loss", {}, {}, green, 1.3, true, true}},
      {"eval_nsp_loss", {"evaluation NSP loss", {}, {}, purple, 1.3, true, true}},
      {"learning_rate", {"learning rate", {}, {}, gray, 1.3, true, false, true}},
  };
  bool any_loss = false;
  for (const auto& e : read_log_history(output_dir))
    for (auto& [key, s] : wanted)
      if (e.contains(key) && e[key].is_number() && std::isfinite(e[key].get<double>())) {  // a skipped step: no point
        s.x.push_back(e["step"].get<double>());
        s.y.push_back(e[key].get<double>());
        any_loss = any_loss || key != "learning_rate";
      }
  if (!any_loss) fail_at(output_dir, 0, "the log history holds no loss to plot");
  std::vector<Series> series;
  for (auto& [key, s] : wanted)
    if (!s.x.empty()) series.push_back(std::move(s));
  PlotFormat f = path.empty() ? plot_format(format.empty() ? "png" : format, "") : plot_format(format, path);
  std::string out = path.empty() ? (std::filesystem::path(output_dir) / (f == PlotFormat::png ? "loss.png" : "loss.svg")).string()
                                 : path;
  plot_lines(out, f, {"Training and evaluation loss", "step", "loss", "learning rate"}, series);
  return out;
}

}  // namespace bertforge::train
