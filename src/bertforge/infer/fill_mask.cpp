#include "bertforge/infer/fill_mask.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <limits>

#include "bertforge/util/error.h"
#include "bertforge/util/ignore_index.h"
#include "bertforge/util/messages.h"

namespace bertforge::infer {
namespace {

// "text <n>" for texts given directly, "<file>:<line>" for a file's lines.
std::string input_name(const std::string& source, std::size_t i) {
  return source.empty() ? "text " + std::to_string(i + 1) : source + ":" + std::to_string(i + 1);
}

[[noreturn]] void fail_input(const std::string& source, std::size_t i, const std::string& what) {
  throw Error(input_name(source, i) + ": " + what);
}

// Softmax rows [masks of the batch in row-major order, vocab] on the CPU. Labels mark the [MASK] positions,
// so the sparse head projects only those rows onto the vocabulary.
at::Tensor mask_probabilities(ModelDir& m, const std::vector<std::vector<std::int32_t>>& ids) {
  std::size_t longest = 0;
  for (const auto& row : ids) longest = std::max(longest, row.size());
  auto b = static_cast<std::int64_t>(ids.size()), len = static_cast<std::int64_t>(longest);
  at::Tensor input = at::full({b, len}, m.tokenizer.pad_id(), at::kLong);
  at::Tensor attention = at::zeros({b, len}, at::kLong);
  for (std::int64_t i = 0; i < b; ++i) {
    const auto& row = ids[static_cast<std::size_t>(i)];
    auto n = static_cast<std::int64_t>(row.size());
    input[i].narrow(0, 0, n).copy_(at::tensor(row, at::kInt));
    attention[i].narrow(0, 0, n).fill_(1);
  }
  at::Tensor labels = at::where(input.eq(m.tokenizer.mask_id()), at::zeros_like(input), at::full_like(input, kIgnoreIndex));
  at::NoGradGuard no_grad;
  m.model->sparse_mlm = true;
  auto out = m.model->forward(input.to(m.device), {}, attention.to(m.device), labels.to(m.device));
  return out.prediction_logits.to(at::kFloat).softmax(-1).cpu();
}

// `excluded`: ids never proposed; their probability stays in the softmax's denominator.
at::Tensor rankable(const at::Tensor& probs, const at::Tensor& excluded) {
  return excluded.numel() ? probs.index_fill(0, excluded, -1.0) : probs;  // -1: below every probability
}

Answer rank_answer(ModelDir& m, const at::Tensor& ranked, const std::string& word, const std::string& where) {
  std::vector<std::int32_t> pieces = m.tokenizer.encode(word);
  if (pieces.size() != 1)
    throw Error(where + ": answer '" + word + "' is " + std::to_string(pieces.size()) +
                " tokens of this vocabulary (a [MASK] stands for one token; give a word of the vocabulary)");
  float score = ranked[pieces[0]].item<float>();
  if (score < 0) throw Error(where + ": answer '" + word + "' is a special token, never proposed");
  return {word, pieces[0], score, ranked.gt(score).sum().item<std::int64_t>() + 1};
}

std::vector<Proposal> propose(ModelDir& m, const at::Tensor& ranked, std::vector<std::int32_t> ids, std::size_t at,
                              bool single_mask, const FillMaskOptions& o) {
  auto k = std::min<std::int64_t>(o.top_k, ranked.size(0));
  auto [values, tokens] = ranked.topk(k);
  std::vector<Proposal> out;
  for (std::int64_t j = 0; j < k; ++j) {
    auto token = static_cast<std::int32_t>(tokens[j].item<std::int64_t>());
    if (values[j].item<float>() < 0) break;  // fewer non-special tokens than k
    ids[at] = token;
    std::vector<std::int32_t> kept;
    for (std::int32_t id : ids)
      if (id != m.tokenizer.pad_id()) kept.push_back(id);
    out.push_back({values[j].item<float>(), token, m.tokenizer.decode({token}), m.tokenizer.decode(kept, single_mask)});
  }
  return out;
}

}  // namespace

std::vector<FillMaskResult> fill_mask(ModelDir& m, const std::vector<std::string>& texts,
                                      const FillMaskOptions& o, const std::string& source,
                                      const std::vector<std::vector<std::string>>& answers) {
  check_option("--top_k", o.top_k, {1, std::numeric_limits<double>::infinity()});
  if (!answers.empty() && answers.size() != texts.size())
    throw Error("answers: " + std::to_string(answers.size()) + " lists for " + std::to_string(texts.size()) + " texts");
  std::vector<std::vector<std::int32_t>> ids;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    ids.push_back(m.tokenizer.encode_plus(texts[i]).input_ids);
    auto masks = std::count(ids.back().begin(), ids.back().end(), m.tokenizer.mask_id());
    if (masks == 0) fail_input(source, i, "no " + m.tokenizer.config().mask_token + " token in the text");
    if (!answers.empty() && static_cast<std::size_t>(masks) != answers[i].size())
      fail_input(source, i, std::to_string(answers[i].size()) + " answers for " + std::to_string(masks) + " " +
                                m.tokenizer.config().mask_token + " tokens (give one per mask, in order)");
    if (static_cast<std::int64_t>(ids.back().size()) > m.model->config.max_position_embeddings)
      fail_input(source, i, std::to_string(ids.back().size()) + " tokens exceed the model's max_position_embeddings " +
                                std::to_string(m.model->config.max_position_embeddings));
  }
  std::vector<std::int64_t> special;
  for (std::int32_t id = 0; id < m.tokenizer.vocab_size() && !o.include_special; ++id)
    if (m.tokenizer.is_special(id)) special.push_back(id);
  at::Tensor excluded = at::tensor(special, at::kLong);
  std::vector<FillMaskResult> results;
  auto batch = static_cast<std::size_t>(std::max(1, o.batch_size));
  for (std::size_t first = 0; first < ids.size(); first += batch) {
    std::vector<std::vector<std::int32_t>> chunk(ids.begin() + first, ids.begin() + std::min(ids.size(), first + batch));
    at::Tensor probs = mask_probabilities(m, chunk);
    std::int64_t row = 0;
    for (const auto& one : chunk) {
      std::size_t text = results.size();
      std::vector<std::size_t> masks;
      for (std::size_t p = 0; p < one.size(); ++p)
        if (one[p] == m.tokenizer.mask_id()) masks.push_back(p);
      FillMaskResult r;
      for (std::size_t at : masks) {
        at::Tensor ranked = rankable(probs[row++], excluded);
        MaskFill fill{propose(m, ranked, one, at, masks.size() == 1, o), std::nullopt};
        if (!answers.empty()) fill.answer = rank_answer(m, ranked, answers[text][r.size()], input_name(source, text));
        r.push_back(std::move(fill));
      }
      results.push_back(std::move(r));
    }
  }
  return results;
}

nlohmann::json to_json(const FillMaskResult& result) {
  nlohmann::json per_mask = nlohmann::json::array();
  for (const auto& fill : result) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& p : fill.proposals)
      list.push_back({{"score", p.score}, {"token", p.token}, {"token_str", p.token_str}, {"sequence", p.sequence}});
    per_mask.push_back(list);
  }
  return result.size() == 1 ? per_mask[0] : per_mask;
}

}  // namespace bertforge::infer
