#include "bertforge/infer/classify.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>

#include "bertforge/model/autocast.h"
#include "bertforge/util/error.h"

namespace bertforge::infer {
namespace {

std::vector<text::Encoding> encode(const text::Tokenizer& tokenizer, const std::vector<ClassifyInput>& inputs,
                                   std::size_t begin, std::size_t end, std::int64_t max_positions) {
  std::vector<text::Encoding> batch;
  for (std::size_t i = begin; i < end; ++i) {
    const ClassifyInput& in = inputs[i];
    batch.push_back(in.pair ? tokenizer.encode_plus(in.text, *in.pair) : tokenizer.encode_plus(in.text));
    if (static_cast<std::int64_t>(batch.back().input_ids.size()) > max_positions)
      throw Error((in.source.empty() ? "text " + std::to_string(i + 1) : in.source) + ": " +
                  std::to_string(batch.back().input_ids.size()) + " tokens, more than the model's " +
                  std::to_string(max_positions) + " positions");
  }
  return batch;
}

// [rows, seq] tensors of the encodings, padded to the longest.
std::vector<at::Tensor> pad(const std::vector<text::Encoding>& batch, std::int32_t pad_id) {
  std::size_t seq = 0;
  for (const auto& e : batch) seq = std::max(seq, e.input_ids.size());
  const auto rows = static_cast<std::int64_t>(batch.size()), width = static_cast<std::int64_t>(seq);
  at::Tensor ids = at::full({rows, width}, pad_id, at::kLong), types = at::zeros({rows, width}, at::kLong),
             mask = at::zeros({rows, width}, at::kLong);
  auto i = ids.accessor<std::int64_t, 2>(), y = types.accessor<std::int64_t, 2>(), k = mask.accessor<std::int64_t, 2>();
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::size_t t = 0; t < batch[r].input_ids.size(); ++t)
      i[r][t] = batch[r].input_ids[t], y[r][t] = batch[r].token_type_ids[t], k[r][t] = 1;
  return {ids, types, mask};
}

std::vector<LabelScore> ranked(const at::Tensor& scores, const std::vector<std::string>& names, int top_k) {
  std::vector<LabelScore> out;
  const auto s = scores.accessor<float, 1>();
  for (std::int64_t i = 0; i < scores.size(0); ++i) out.push_back({names.at(i), s[i]});
  std::stable_sort(out.begin(), out.end(), [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
  if (top_k > 0 && out.size() > static_cast<std::size_t>(top_k)) out.resize(top_k);
  return out;
}

}  // namespace

std::vector<std::vector<LabelScore>> classify(model::Classifier& m, const text::Tokenizer& tokenizer,
                                              const std::vector<ClassifyInput>& inputs, const ClassifyOptions& o) {
  if (m.token()) throw Error("classify: the model is a BertForTokenClassification: its output is entities()");
  const model::LabelInfo& labels = m.labels();
  const bool sigmoid = labels.problem_type == "multi_label_classification" || labels.id2label.size() == 1;
  m.module().eval();
  at::NoGradGuard no_grad;
  std::vector<std::vector<LabelScore>> results;
  for (std::size_t begin = 0; begin < inputs.size(); begin += o.batch_size) {
    const std::size_t end = std::min(inputs.size(), begin + static_cast<std::size_t>(o.batch_size));
    auto t = pad(encode(tokenizer, inputs, begin, end, m.config().max_position_embeddings), tokenizer.pad_id());
    at::Tensor logits;
    {
      model::Autocast mixed(o.device.type(), o.bf16 ? at::kBFloat16 : at::kFloat);
      logits = m(t[0].to(o.device), t[1].to(o.device), t[2].to(o.device)).logits;
    }
    logits = logits.to(at::kFloat).cpu();
    const at::Tensor scores = sigmoid ? logits.sigmoid() : logits.softmax(-1);
    for (std::int64_t r = 0; r < scores.size(0); ++r) results.push_back(ranked(scores[r], labels.id2label, o.top_k));
  }
  return results;
}

std::vector<std::vector<Entity>> entities(model::Classifier& m, const text::Tokenizer& tokenizer,
                                          const std::vector<ClassifyInput>& inputs, const ClassifyOptions& o) {
  if (!m.token()) throw Error("classify: --entities needs a BertForTokenClassification model");
  text::EncodeOptions eo;
  eo.return_offsets_mapping = true;
  eo.truncation = text::Truncation::longest_first;
  m.module().eval();
  at::NoGradGuard no_grad;
  std::vector<std::vector<Entity>> out;
  for (const ClassifyInput& in : inputs) {
    const text::Encoding e = tokenizer.encode_plus(in.text, eo);
    auto t = pad({e}, tokenizer.pad_id());
    at::Tensor logits;
    {
      model::Autocast mixed(o.device.type(), o.bf16 ? at::kBFloat16 : at::kFloat);
      logits = m(t[0].to(o.device), t[1].to(o.device), t[2].to(o.device)).logits;
    }
    const at::Tensor p = logits[0].to(at::kFloat).softmax(-1).contiguous().cpu();
    out.push_back(simple_entities(in.text, e, std::vector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel()),
                                  m.labels().id2label, tokenizer));
  }
  return out;
}

nlohmann::json to_json(const std::vector<LabelScore>& scores) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : scores) out.push_back({{"label", s.label}, {"score", s.score}});
  return out;
}

}  // namespace bertforge::infer
