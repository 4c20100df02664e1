// Statistics of prepared sequences, written into the manifest: sequences, tokens, label balance, a length
// histogram, and the padding that storing sequences unpadded avoids (versus padding all to max_seq_length).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "bertforge/data/examples.h"

namespace bertforge::data {

class Statistics {
 public:
  explicit Statistics(int max_seq_length, int bucket = 8) : max_(max_seq_length), bucket_(bucket) {}
  void add(const Examples& ex);
  std::uint64_t sequences() const { return sequences_; }
  std::uint64_t tokens() const { return tokens_; }
  nlohmann::json to_json() const;

 private:
  int max_, bucket_;
  std::uint64_t sequences_ = 0, tokens_ = 0, longest_ = 0;
  std::map<int, std::uint64_t> labels_;
  std::vector<std::uint64_t> histogram_;  // counts per length bucket [k * bucket, (k + 1) * bucket)
};

}  // namespace bertforge::data
