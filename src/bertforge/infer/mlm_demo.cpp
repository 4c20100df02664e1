#include "bertforge/infer/mlm_demo.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <limits>

#include "bertforge/data/collator.h"
#include "bertforge/util/error.h"
#include "bertforge/util/ignore_index.h"
#include "bertforge/util/messages.h"

namespace bertforge::infer {
namespace {

std::vector<std::int32_t> first_ids(const at::Tensor& row, int n) {
  at::Tensor t = row.narrow(0, 0, std::min<std::int64_t>(n, row.size(0))).to(at::kInt).contiguous();
  return {t.data_ptr<std::int32_t>(), t.data_ptr<std::int32_t>() + t.numel()};
}

}  // namespace

MlmDemo mlm_demo(ModelDir& m, const std::string& text, const MlmDemoOptions& o) {
  check_option("--shown", o.shown, {1, std::numeric_limits<double>::infinity()});
  const text::Tokenizer& tok = m.tokenizer;
  std::vector<std::int32_t> ids = tok.encode(text);
  if (ids.empty()) throw Error("text: no token in it (give a sentence to mask)");
  // As fill-mask: a text the model cannot read whole is refused, not silently cut.
  const std::int64_t room = m.model->config.max_position_embeddings;
  if (static_cast<std::int64_t>(ids.size()) + 2 > room)
    throw Error("text: " + std::to_string(ids.size() + 2) + " tokens exceed the model's max_position_embeddings " +
                std::to_string(room) + " (shorten the text)");

  data::SpecialIds special{tok.cls_id(), tok.sep_id(), tok.pad_id(), tok.mask_id(), tok.unk_id()};
  data::CollatorOptions co;
  co.mlm_probability = o.mlm_probability;
  data::MlmCollator collator(special, tok.vocab_size(), data::SentenceTask::none, co, o.seed);
  data::Examples ex;
  ex.add(ids.data(), ids.size(), nullptr, 0, false, -1, special);
  data::Batch b = collator.collate(ex);

  at::NoGradGuard no_grad;
  m.model->sparse_mlm = false;  // the argmax at every position is shown
  auto out = m.model->forward(b.input_ids.to(m.device), b.token_type_ids.to(m.device), b.attention_mask.to(m.device));
  at::Tensor predicted = out.prediction_logits[0].argmax(-1).cpu();
  at::Tensor labels = b.labels[0], selected = labels.ne(kIgnoreIndex);

  MlmDemo r;
  r.input = tok.decode(first_ids(b.input_ids[0], o.shown));
  r.output = tok.decode(first_ids(predicted, o.shown));
  r.tokens = labels.size(0);
  r.masked = selected.sum().item<std::int64_t>();
  r.correct = predicted.eq(labels).logical_and(selected).sum().item<std::int64_t>();
  return r;
}

}  // namespace bertforge::infer
