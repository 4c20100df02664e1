#include "bertforge/data/stats.h"

#include <algorithm>

namespace bertforge::data {

void Statistics::add(const Examples& ex) {
  for (std::size_t i = 0; i < ex.size(); ++i) {
    const std::uint64_t n = ex.ends[i] - ex.begin_of(i);
    const std::size_t b = n / bucket_;
    if (histogram_.size() <= b) histogram_.resize(b + 1);
    ++histogram_[b];
    tokens_ += n;
    longest_ = std::max(longest_, n);
  }
  for (auto label : ex.labels) ++labels_[label];
  sequences_ += ex.size();
}

nlohmann::json Statistics::to_json() const {
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [label, count] : labels_) labels[std::to_string(label)] = count;
  const std::uint64_t padded = std::max<std::uint64_t>(max_, longest_) * sequences_;
  return {{"sequences", sequences_},
          {"tokens", tokens_},
          {"mean_length", sequences_ ? double(tokens_) / sequences_ : 0.0},
          {"longest", longest_},
          {"labels", labels},
          {"length_histogram", {{"bucket_width", bucket_}, {"counts", histogram_}}},
          {"padding_avoided", {{"padded_tokens", padded}, {"stored_tokens", tokens_},
                               {"fraction", padded ? 1.0 - double(tokens_) / padded : 0.0}}}};
}

}  // namespace bertforge::data
