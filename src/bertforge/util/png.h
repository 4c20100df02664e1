// A minimal PNG encoder (8-bit RGB, no interlace) on zlib, and an RGB canvas with the drawing primitives the
// loss plot needs: lines, rectangles and text in a built-in 5x7 bitmap font (digits, letters shown upper
// case, and . - _ : ( ) / + %). write_png goes through AtomicFile, so an interrupted write leaves any
// previous image whole.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace bertforge {

using Rgb = std::array<std::uint8_t, 3>;

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<std::uint8_t>& pixels() const { return rgb_; }  // row-major RGB

  void set(int x, int y, Rgb c);  // ignores points outside
  void line(double x0, double y0, double x1, double y1, Rgb c, int thickness = 1);
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);
  // Top-left at (x, y); each font pixel becomes scale x scale. Returns the width drawn.
  int text(int x, int y, const std::string& s, Rgb c, int scale = 2);
  static int text_width(const std::string& s, int scale = 2);
  static int text_height(int scale = 2) { return 7 * scale; }

 private:
  int width_, height_;
  std::vector<std::uint8_t> rgb_;
};

// The PNG file's bytes.
std::string encode_png(const Canvas& canvas);
void write_png(const std::string& path, const Canvas& canvas);

}  // namespace bertforge
