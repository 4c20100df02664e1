#include "bertforge/infer/entities.h"

#include <algorithm>

#include "bertforge/util/error.h"

namespace bertforge::infer {

namespace {

// NumPy's float32 add.reduce (pairwise_sum in loops_utils.h.src): fewer than 8 in a row, up to 128 in 8
// interleaved sums, more split in halves; checked against NumPy 2.4 on random arrays of 1 to 300 values.
float numpy_sum(const float* a, std::size_t n) {
  if (n < 8) {
    float sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  if (n <= 128) {
    float r[8];
    std::copy(a, a + 8, r);
    std::size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (std::size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    float sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  std::size_t half = n / 2;
  half -= half % 8;
  return numpy_sum(a, half) + numpy_sum(a + half, n - half);
}

// One token of the text, with its argmax label and that label's probability.
struct Scored {
  std::size_t index;
  std::size_t label;
  float score;
};

// HF's get_tag: "B-X" begins an X, "I-X" and a bare "X" continue one.
struct Tag {
  bool begins;
  std::string_view type;
};

Tag tag_of(std::string_view label) {
  if (label.rfind("B-", 0) == 0) return {true, label.substr(2)};
  if (label.rfind("I-", 0) == 0) return {false, label.substr(2)};
  return {false, label};
}

std::vector<Scored> scored_tokens(const text::Encoding& encoding, const std::vector<float>& probabilities,
                                  std::size_t labels) {
  std::vector<Scored> tokens;
  for (std::size_t i = 0; i < encoding.input_ids.size(); ++i) {
    if (encoding.offsets[i] == text::Offset{0, 0}) continue;  // the special tokens HF's mask drops
    const float* row = probabilities.data() + i * labels;
    std::size_t best = 0;
    for (std::size_t k = 1; k < labels; ++k)
      if (row[k] > row[best]) best = k;
    tokens.push_back({i, best, row[best]});
  }
  return tokens;
}

// HF's group_sub_entities over tokens [first, last).
Entity make_group(const std::vector<Scored>& tokens, std::size_t first, std::size_t last, std::string_view text,
                  const text::Encoding& encoding, const std::vector<std::string>& id2label,
                  const text::Tokenizer& tokenizer) {
  const std::string& label = id2label[tokens[first].label];
  const std::size_t dash = label.find('-');
  Entity e;
  e.entity_group = dash == std::string::npos ? label : label.substr(dash + 1);
  std::vector<float> scores;
  std::vector<std::string> words;
  for (std::size_t t = first; t < last; ++t) {
    scores.push_back(tokens[t].score);
    const std::size_t i = tokens[t].index;
    const auto [begin, end] = encoding.byte_offsets[i];
    // HF's gather_pre_entities: an [UNK] stands for the text it covers.
    words.emplace_back(encoding.input_ids[i] == tokenizer.unk_id() ? std::string(text.substr(begin, end - begin))
                                                                 : tokenizer.id_to_token(encoding.input_ids[i]));
  }
  // np.nanmean of float32 scores: a float32 sum, divided in double, rounded to float32.
  e.score = static_cast<float>(static_cast<double>(numpy_sum(scores.data(), scores.size())) / scores.size());
  e.word = tokenizer.convert_tokens_to_string(words);
  e.start = encoding.offsets[tokens[first].index].first;
  e.end = encoding.offsets[tokens[last - 1].index].second;
  e.byte_start = encoding.byte_offsets[tokens[first].index].first;
  e.byte_end = encoding.byte_offsets[tokens[last - 1].index].second;
  return e;
}

void check_sizes(std::string_view text, const text::Encoding& encoding, std::size_t probabilities,
                 std::size_t labels) {
  const std::size_t n = encoding.input_ids.size();
  if (encoding.offsets.size() != n || encoding.byte_offsets.size() != n)
    throw Error("entities need the encoding's offsets (EncodeOptions::return_offsets_mapping)");
  if (labels == 0 || probabilities != n * labels)
    throw Error("entities: " + std::to_string(probabilities) + " probabilities for " + std::to_string(n) +
                " tokens and " + std::to_string(labels) + " labels");
  for (const auto& [begin, end] : encoding.byte_offsets)
    if (begin > end || end > text.size()) throw Error("entities: the encoding's offsets are not of this text");
}

}  // namespace

std::vector<Entity> simple_entities(std::string_view text, const text::Encoding& encoding,
                                    const std::vector<float>& probabilities,
                                    const std::vector<std::string>& id2label, const text::Tokenizer& tokenizer) {
  check_sizes(text, encoding, probabilities.size(), id2label.size());
  const std::vector<Scored> tokens = scored_tokens(encoding, probabilities, id2label.size());
  std::vector<Entity> entities;
  auto close = [&](std::size_t first, std::size_t last) {
    Entity e = make_group(tokens, first, last, text, encoding, id2label, tokenizer);
    if (e.entity_group != "O") entities.push_back(std::move(e));  // HF's ignore_labels=["O"]
  };
  std::size_t first = 0;
  for (std::size_t t = 1; t < tokens.size(); ++t) {
    Tag tag = tag_of(id2label[tokens[t].label]);
    if (tag.begins || tag.type != tag_of(id2label[tokens[t - 1].label]).type) {
      close(first, t);
      first = t;
    }
  }
  if (!tokens.empty()) close(first, tokens.size());
  return entities;
}

nlohmann::ordered_json to_json(const std::vector<Entity>& entities) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const Entity& e : entities)
    out.push_back({{"entity_group", e.entity_group}, {"score", e.score}, {"word", e.word}, {"start", e.start},
                   {"end", e.end}});
  return out;
}

}  // namespace bertforge::infer
