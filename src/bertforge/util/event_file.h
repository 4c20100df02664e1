// TensorBoard event files, without TensorFlow or a protobuf library: the few fields a scalar needs are
// hand-encoded (tensorflow/core/util/event.proto, summary.proto):
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
// in TFRecord framing: u64 length (little-endian), u32 masked CRC-32C of the length bytes, the record,
// u32 masked CRC-32C of the record (mask: rotate right by 15, add 0xa282ead8).
//
// The file is named as torch's SummaryWriter names it, events.out.tfevents.<unix time>.<host>.<pid>.<n>, in
// `dir` (created); its first record is file_version "brain.Event:2". TensorBoard's EventAccumulator reads
// each add_scalar back as a scalar (value as float32). flush() makes what was added visible to a reader
// running beside the writer; a failed write throws Error naming the file.
#pragma once
#include <cstdint>
#include <fstream>
#include <string>

namespace bertforge {

class EventFileWriter {
 public:
  explicit EventFileWriter(const std::string& dir);
  // wall_time < 0: now.
  void add_scalar(const std::string& tag, double value, std::int64_t step, double wall_time = -1);
  void flush();
  const std::string& path() const { return path_; }

 private:
  void write_record(const std::string& event);
  std::string path_;
  std::ofstream out_;
};

// CRC-32C (Castagnoli), as TFRecord frames use it; exposed for tests.
std::uint32_t crc32c(const void* data, std::size_t size);

}  // namespace bertforge
