// One evaluation pass of a fine-tuned classifier (model/classifier.h) over a loader: the Trainer's eval steps
// in `finetune`, as HF Trainer's evaluation_loop with run_glue.py / run_ner.py's compute_metrics.
//
//   nlohmann::json r = evaluate_classifier(model, loader, {"mrpc", ProblemType::single_label_classification}, {device});
//
// Result: eval_loss (HF's: the batches' mean losses weighted by batch size), the task's metrics
// (eval/task_metrics.h) with the eval_ prefix, eval_runtime, eval_samples, eval_samples_per_second and
// eval_steps_per_second. Predictions as the scripts make them: argmax (single-label, token tags), the logit
// (regression), logit > 0 (multi-label, sigmoid > 0.5); token tasks are scored at labelled positions only
// (run_ner.py's label != -100). The loader is seeked to its start; the model runs in eval mode under
// no_grad, its mode restored afterwards. Distributed: each rank evaluates its shard, the predictions of all
// are gathered, so every rank returns the metrics of the whole set.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "bertforge/data/labelled.h"
#include "bertforge/data/loader.h"
#include "bertforge/eval/evaluation.h"
#include "bertforge/model/classifier.h"

namespace bertforge::eval {

struct ClassifierTask {
  std::string task_name;  // a GLUE task (eval/task_metrics.h) or "" for the defaults
  data::ProblemType problem = data::ProblemType::single_label_classification;
  std::vector<std::string> label_names;  // the tags of token tasks, by class id
  bool entity_level = false;             // token tasks: per entity type too
};

// Sets a classifier's train/eval mode and the token head's `sparse` for a scope, restoring both when the scope
// ends (also by an exception), as ModelMode does for pre-training.
class ClassifierMode {
 public:
  ClassifierMode(model::Classifier m, bool training, bool sparse);
  ~ClassifierMode();
  ClassifierMode(const ClassifierMode&) = delete;
  ClassifierMode& operator=(const ClassifierMode&) = delete;

 private:
  model::Classifier m_;
  bool was_training_, was_sparse_;
};

// The model's outputs for one batch, inputs moved to `device`, under autocast when bf16.
model::ClassifierOutput forward_batch(model::Classifier& m, const data::Batch& b, c10::Device device, bool bf16);

nlohmann::json evaluate_classifier(model::Classifier& m, data::Loader& loader, const ClassifierTask& task,
                                   const EvalOptions& options);

}  // namespace bertforge::eval
