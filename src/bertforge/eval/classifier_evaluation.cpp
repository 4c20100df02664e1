#include "bertforge/eval/classifier_evaluation.h"

#include <ATen/core/grad_mode.h>

#include <chrono>
#include <cmath>

#include "bertforge/eval/task_metrics.h"
#include "bertforge/model/autocast.h"
#include "bertforge/util/ignore_index.h"

namespace bertforge::eval {
namespace {

// What one rank saw: a prediction and a reference per scored value, and for token tasks the number of scored
// positions of each row.
struct Seen {
  std::vector<double> predictions, references, row_lengths;
};

// Each rank's values, rank after rank, on every rank: two sums (the lengths, then the values in place).
std::vector<double> concat_over_ranks(dist::World& world, const std::vector<double>& mine) {
  std::vector<double> lengths(world.size(), 0.0);
  lengths[world.rank()] = static_cast<double>(mine.size());
  lengths = world.sum(lengths);
  std::size_t before = 0, total = 0;
  for (int r = 0; r < world.size(); ++r) {
    if (r < world.rank()) before += static_cast<std::size_t>(lengths[r]);
    total += static_cast<std::size_t>(lengths[r]);
  }
  std::vector<double> all(total, 0.0);
  std::copy(mine.begin(), mine.end(), all.begin() + before);
  return world.sum(all);
}

void add_batch(Seen& seen, const model::ClassifierOutput& out, const at::Tensor& labels, data::ProblemType problem) {
  using data::ProblemType;
  at::Tensor predicted, reference = labels.to(at::kDouble);
  const at::Tensor logits = out.logits.to(at::kFloat);
  switch (problem) {
    case ProblemType::single_label_classification: predicted = logits.argmax(-1); break;
    case ProblemType::regression: predicted = logits.select(-1, 0); break;
    case ProblemType::multi_label_classification: predicted = logits.gt(0); break;
    case ProblemType::token_classification: {
      predicted = logits.argmax(-1);  // the sparse head's: labelled positions in row-major order
      const at::Tensor scored = labels.ne(kIgnoreIndex);
      reference = labels.masked_select(scored).to(at::kDouble);
      const at::Tensor lengths = scored.sum(1).to(at::kDouble);
      seen.row_lengths.insert(seen.row_lengths.end(), lengths.data_ptr<double>(), lengths.data_ptr<double>() + lengths.numel());
      break;
    }
  }
  predicted = predicted.to(at::kDouble).cpu().contiguous();
  reference = reference.contiguous();
  seen.predictions.insert(seen.predictions.end(), predicted.data_ptr<double>(), predicted.data_ptr<double>() + predicted.numel());
  seen.references.insert(seen.references.end(), reference.data_ptr<double>(), reference.data_ptr<double>() + reference.numel());
}

// One sentence of tags per row, from the scored positions laid end to end.
std::vector<std::vector<std::string>> tag_rows(const std::vector<double>& ids, const std::vector<double>& lengths,
                                               const std::vector<std::string>& names) {
  std::vector<std::vector<std::string>> rows;
  std::size_t at = 0;
  for (double n : lengths) {
    rows.emplace_back();
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) rows.back().push_back(names.at(static_cast<std::size_t>(ids[at++])));
  }
  return rows;
}

nlohmann::json metrics_of(const Seen& seen, const ClassifierTask& task, std::size_t labels_per_row) {
  if (task.problem != data::ProblemType::token_classification)
    return sequence_metrics(task.task_name, task.problem, seen.predictions, seen.references, labels_per_row);
  return token_metrics(tag_rows(seen.predictions, seen.row_lengths, task.label_names),
                       tag_rows(seen.references, seen.row_lengths, task.label_names), task.entity_level);
}

}  // namespace

ClassifierMode::ClassifierMode(model::Classifier m, bool training, bool sparse)
    : m_(std::move(m)), was_training_(m_.module().is_training()), was_sparse_(m_.sparse()) {
  m_.module().train(training);
  m_.set_sparse(sparse);
}

ClassifierMode::~ClassifierMode() {
  m_.module().train(was_training_);
  m_.set_sparse(was_sparse_);
}

model::ClassifierOutput forward_batch(model::Classifier& m, const data::Batch& b, c10::Device device, bool bf16) {
  auto on = [&](const at::Tensor& t) { return to_device(t, device); };
  model::Autocast mixed(device.type(), bf16 ? at::kBFloat16 : at::kFloat);
  return m(on(b.input_ids), on(b.token_type_ids), on(b.attention_mask), on(b.labels));
}

nlohmann::json evaluate_classifier(model::Classifier& m, data::Loader& loader, const ClassifierTask& task,
                                   const EvalOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  ClassifierMode mode(m, /*training=*/false, /*sparse=*/true);
  Seen seen;
  double loss_sum = 0, samples = 0, steps = 0;
  {
    at::NoGradGuard no_grad;
    loader.seek({0, 0});
    while (auto b = loader.next()) {
      const auto out = forward_batch(m, *b, o.device, o.bf16);
      const double rows = static_cast<double>(b->input_ids.size(0));
      loss_sum += out.loss.item<double>() * rows, samples += rows, ++steps;
      add_batch(seen, out, b->labels, task.problem);
    }
  }
  if (o.world && o.world->size() > 1) {
    const auto totals = o.world->sum({loss_sum, samples});
    loss_sum = totals[0], samples = totals[1];
    seen = {concat_over_ranks(*o.world, seen.predictions), concat_over_ranks(*o.world, seen.references),
            concat_over_ranks(*o.world, seen.row_lengths)};
  }
  const std::size_t width = task.problem == data::ProblemType::multi_label_classification ? m.labels().id2label.size() : 1;
  nlohmann::json r{{"eval_loss", loss_sum / samples}};
  const nlohmann::json metrics = metrics_of(seen, task, width);
  for (const auto& [name, value] : metrics.items()) r["eval_" + name] = value;
  const double runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r["eval_runtime"] = runtime;
  r["eval_samples"] = static_cast<std::int64_t>(samples);
  r["eval_samples_per_second"] = samples / runtime;
  r["eval_steps_per_second"] = steps / runtime;
  return r;
}

}  // namespace bertforge::eval
