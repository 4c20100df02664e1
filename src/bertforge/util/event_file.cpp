#include "bertforge/util/event_file.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "bertforge/util/error.h"

namespace bertforge {

namespace {

// Protobuf wire format: a key is (field << 3) | type; type 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
void varint(std::string& out, std::uint64_t v) {
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>(v | 0x80));
  out.push_back(static_cast<char>(v));
}

template <typename T>
void fixed(std::string& out, int field, int type, T v) {
  varint(out, static_cast<std::uint64_t>(field << 3 | type));
  char bytes[sizeof v];
  std::memcpy(bytes, &v, sizeof v);  // little-endian host, as protobuf's fixed encodings are
  out.append(bytes, sizeof v);
}

void bytes_field(std::string& out, int field, const std::string& value) {
  varint(out, static_cast<std::uint64_t>(field << 3 | 2));
  varint(out, value.size());
  out += value;
}

std::string event(double wall_time, std::int64_t step) {
  std::string e;
  fixed(e, 1, 1, wall_time);
  varint(e, 2 << 3 | 0);
  varint(e, static_cast<std::uint64_t>(step));
  return e;
}

double now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::uint32_t masked(std::uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

std::string file_name() {
  static std::atomic<int> writers{0};  // torch numbers the writers of a process, so two never share a file
  char host[256] = "localhost";
  ::gethostname(host, sizeof host - 1);
  return "events.out.tfevents." + std::to_string(static_cast<std::int64_t>(now())) + "." + host + "." +
         std::to_string(::getpid()) + "." + std::to_string(writers++);
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t size) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0x82f63b78u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t crc = 0xffffffffu;
  const auto* p = static_cast<const std::uint8_t*>(data);
  for (std::size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

EventFileWriter::EventFileWriter(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail_at(dir, 0, "cannot create the TensorBoard log folder: " + ec.message());
  path_ = (std::filesystem::path(dir) / file_name()).string();
  out_.open(path_, std::ios::binary);
  if (!out_) fail_at(path_, 0, "cannot write TensorBoard events");
  std::string first = event(now(), 0);
  bytes_field(first, 3, "brain.Event:2");
  write_record(first);
  flush();
}

void EventFileWriter::add_scalar(const std::string& tag, double value, std::int64_t step, double wall_time) {
  std::string v;
  bytes_field(v, 1, tag);
  fixed(v, 2, 5, static_cast<float>(value));
  std::string summary;
  bytes_field(summary, 1, v);
  std::string e = event(wall_time < 0 ? now() : wall_time, step);
  bytes_field(e, 5, summary);
  write_record(e);
}

void EventFileWriter::write_record(const std::string& record) {
  std::uint64_t length = record.size();
  char header[8];
  std::memcpy(header, &length, sizeof header);
  std::uint32_t length_crc = masked(crc32c(header, sizeof header)), data_crc = masked(crc32c(record.data(), record.size()));
  out_.write(header, sizeof header);
  out_.write(reinterpret_cast<const char*>(&length_crc), sizeof length_crc);
  out_.write(record.data(), static_cast<std::streamsize>(record.size()));
  out_.write(reinterpret_cast<const char*>(&data_crc), sizeof data_crc);
}

void EventFileWriter::flush() {
  out_.flush();
  if (!out_) fail_at(path_, 0, "write failed (disk full?)");
}

}  // namespace bertforge
