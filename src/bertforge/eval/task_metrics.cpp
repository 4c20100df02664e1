// Fine-tuning metrics (task_metrics.h): scikit-learn's, SciPy's and seqeval's formulas, transcribed from
// their sources at the versions requirements.txt pins (sklearn/metrics/_classification.py, scipy.stats,
// seqeval/metrics/sequence_labeling.py and v1.py), each division in their order so that most scores match
// theirs to the last bit.
#include "bertforge/eval/task_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "bertforge/util/error.h"

namespace bertforge::eval {
namespace {

template <typename T>
void check_lengths(const char* metric, const std::vector<T>& predictions, const std::vector<T>& references) {
  if (predictions.size() != references.size())
    throw Error(std::string(metric) + ": " + std::to_string(predictions.size()) + " predictions but " +
                std::to_string(references.size()) + " references");
  if (predictions.empty()) throw Error(std::string(metric) + ": nothing to score (no predictions)");
}

// A class's confusion counts, as sklearn's multilabel_confusion_matrix gives them.
struct Counts {
  double tp = 0, predicted = 0, actual = 0;
};

Counts counts_of(std::int64_t cls, const std::vector<std::int64_t>& predictions,
                 const std::vector<std::int64_t>& references) {
  Counts c;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    c.tp += predictions[i] == cls && references[i] == cls;
    c.predicted += predictions[i] == cls;
    c.actual += references[i] == cls;
  }
  return c;
}

// sklearn's F-score from counts: (1 + beta^2) tp / (beta^2 true + predicted), 0 where that is 0 / 0.
double f1_of(const Counts& c) {
  double denominator = c.actual + c.predicted;
  return denominator == 0 ? 0.0 : 2.0 * c.tp / denominator;
}

// The classes in either, sorted: sklearn's unique_labels.
std::vector<std::int64_t> classes_present(const std::vector<std::int64_t>& predictions,
                                          const std::vector<std::int64_t>& references) {
  std::set<std::int64_t> s(predictions.begin(), predictions.end());
  s.insert(references.begin(), references.end());
  return {s.begin(), s.end()};
}

double mean_of(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0) / v.size(); }

bool constant(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
}

// scipy.stats.rankdata(method="average"): 1-based ranks, tied values share the mean of their ranks.
std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (std::size_t first = 0; first < order.size();) {
    std::size_t last = first;
    while (last + 1 < order.size() && v[order[last + 1]] == v[order[first]]) ++last;
    double rank = (static_cast<double>(first + 1) + static_cast<double>(last + 1)) / 2;
    for (std::size_t k = first; k <= last; ++k) ranks[order[k]] = rank;
    first = last + 1;
  }
  return ranks;
}

}  // namespace

double accuracy(const std::vector<std::int64_t>& predictions, const std::vector<std::int64_t>& references) {
  check_lengths("accuracy", predictions, references);
  double correct = 0;
  for (std::size_t i = 0; i < predictions.size(); ++i) correct += predictions[i] == references[i];
  return correct / static_cast<double>(predictions.size());
}

double f1_binary(const std::vector<std::int64_t>& predictions, const std::vector<std::int64_t>& references) {
  check_lengths("f1", predictions, references);
  std::vector<std::int64_t> classes = classes_present(predictions, references);
  bool has_one = std::binary_search(classes.begin(), classes.end(), std::int64_t{1});
  if (classes.size() > 2 || (classes.size() == 2 && !has_one))
    throw Error("f1: the binary F1 (of class 1) needs at most two classes, one of them 1, as scikit-learn's "
                "f1_score does; got " + std::to_string(classes.size()) + " classes from " +
                std::to_string(classes.front()) + " to " + std::to_string(classes.back()));
  return f1_of(counts_of(1, predictions, references));
}

double f1_macro(const std::vector<std::int64_t>& predictions, const std::vector<std::int64_t>& references) {
  check_lengths("f1_macro", predictions, references);
  std::vector<double> f1s;
  for (std::int64_t cls : classes_present(predictions, references))
    f1s.push_back(f1_of(counts_of(cls, predictions, references)));
  return mean_of(f1s);
}

double matthews_correlation(const std::vector<std::int64_t>& predictions,
                            const std::vector<std::int64_t>& references) {
  check_lengths("matthews_correlation", predictions, references);
  double correct = 0, samples = static_cast<double>(predictions.size());
  double true_dot_pred = 0, pred_dot_pred = 0, true_dot_true = 0;
  for (std::int64_t cls : classes_present(predictions, references)) {
    Counts c = counts_of(cls, predictions, references);
    correct += c.tp;
    true_dot_pred += c.actual * c.predicted;
    pred_dot_pred += c.predicted * c.predicted;
    true_dot_true += c.actual * c.actual;
  }
  double cov_ytyp = correct * samples - true_dot_pred;
  double cov_ypyp_ytyt = (samples * samples - pred_dot_pred) * (samples * samples - true_dot_true);
  return cov_ypyp_ytyt == 0 ? 0.0 : cov_ytyp / std::sqrt(cov_ypyp_ytyt);
}

double pearson(const std::vector<double>& predictions, const std::vector<double>& references) {
  check_lengths("pearson", predictions, references);
  if (predictions.size() < 2 || constant(predictions) || constant(references))
    return std::numeric_limits<double>::quiet_NaN();
  double mean_p = mean_of(predictions), mean_r = mean_of(references);
  double spr = 0, spp = 0, srr = 0;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    double p = predictions[i] - mean_p, r = references[i] - mean_r;
    spr += p * r;
    spp += p * p;
    srr += r * r;
  }
  // As SciPy, clipped: rounding can carry a perfect correlation just past 1.
  return std::clamp(spr / (std::sqrt(spp) * std::sqrt(srr)), -1.0, 1.0);
}

double spearman(const std::vector<double>& predictions, const std::vector<double>& references) {
  check_lengths("spearman", predictions, references);
  return pearson(average_ranks(predictions), average_ranks(references));
}

double mean_squared_error(const std::vector<double>& predictions, const std::vector<double>& references) {
  check_lengths("mse", predictions, references);
  double sum = 0;
  for (std::size_t i = 0; i < predictions.size(); ++i)
    sum += (references[i] - predictions[i]) * (references[i] - predictions[i]);
  return sum / static_cast<double>(predictions.size());
}

double f1_micro_multilabel(const std::vector<std::int64_t>& predictions,
                           const std::vector<std::int64_t>& references) {
  check_lengths("f1 (multi-label)", predictions, references);
  auto not_binary = [](std::int64_t v) { return v != 0 && v != 1; };
  if (std::any_of(predictions.begin(), predictions.end(), not_binary) ||
      std::any_of(references.begin(), references.end(), not_binary))
    throw Error("f1 (multi-label): a value other than 0 or 1");
  return f1_of(counts_of(1, predictions, references));
}


namespace {

struct GlueTask {
  const char* name;
  std::vector<std::string> metrics;
};

// evaluate's metrics/glue/glue.py _compute, one row per configuration it accepts.
const std::vector<GlueTask>& glue_tasks() {
  static const std::vector<GlueTask> tasks{
      {"cola", {"matthews_correlation"}}, {"sst2", {"accuracy"}},         {"mrpc", {"accuracy", "f1"}},
      {"qqp", {"accuracy", "f1"}},        {"stsb", {"pearson", "spearmanr"}}, {"mnli", {"accuracy"}},
      {"mnli_matched", {"accuracy"}},     {"mnli_mismatched", {"accuracy"}}, {"qnli", {"accuracy"}},
      {"rte", {"accuracy"}},              {"wnli", {"accuracy"}},          {"hans", {"accuracy"}}};
  return tasks;
}

// The metrics of a task and problem, checked against each other: evaluate's glue takes int64 class ids for
// every task but stsb, whose float values it correlates.
std::vector<std::string> metric_names(const std::string& task_name, data::ProblemType problem) {
  using data::ProblemType;
  if (task_name.empty()) {
    if (problem == ProblemType::regression) return {"mse"};
    return {problem == ProblemType::multi_label_classification ? "f1" : "accuracy"};
  }
  const std::vector<std::string>& names = glue_metric_names(task_name);
  bool regression = task_name == "stsb";
  if (problem != (regression ? ProblemType::regression : ProblemType::single_label_classification))
    throw Error("sequence metrics: glue task " + task_name + " is scored as " +
                (regression ? "regression" : "single_label_classification") + ", not as this model's problem");
  return names;
}

std::vector<std::int64_t> class_ids(const std::vector<double>& values, const char* what) {
  std::vector<std::int64_t> out;
  out.reserve(values.size());
  for (double v : values) {
    if (!(std::isfinite(v) && v == std::floor(v) && std::abs(v) <= 9007199254740992.0))  // 2^53
      throw Error(std::string("sequence metrics: the ") + what + " hold " + std::to_string(v) +
                  ", which is not a class id");
    out.push_back(static_cast<std::int64_t>(v));
  }
  return out;
}

double class_score(const std::string& name, const std::vector<std::int64_t>& predictions,
                   const std::vector<std::int64_t>& references) {
  if (name == "accuracy") return accuracy(predictions, references);
  if (name == "f1") return f1_binary(predictions, references);
  return matthews_correlation(predictions, references);
}

double value_score(const std::string& name, const std::vector<double>& predictions,
                   const std::vector<double>& references) {
  if (name == "pearson") return pearson(predictions, references);
  if (name == "spearmanr") return spearman(predictions, references);
  return mean_squared_error(predictions, references);
}

double multi_label_f1(const std::vector<double>& predictions, const std::vector<double>& references,
                      std::size_t labels_per_row) {
  if (labels_per_row == 0 || predictions.size() % labels_per_row != 0)
    throw Error("sequence metrics: " + std::to_string(predictions.size()) + " multi-label predictions are not " +
                "whole rows of " + std::to_string(labels_per_row) + " labels");
  return f1_micro_multilabel(class_ids(predictions, "predictions"), class_ids(references, "references"));
}

}  // namespace

const std::vector<std::string>& glue_metric_names(const std::string& task_name) {
  std::string choices;
  for (const GlueTask& t : glue_tasks()) {
    if (task_name == t.name) return t.metrics;
    choices += choices.empty() ? "" : " ";
    choices += t.name;
  }
  throw Error("unknown glue task \"" + task_name + "\" (choices: " + choices + ")");
}

nlohmann::json sequence_metrics(const std::string& task_name, data::ProblemType problem,
                                const std::vector<double>& predictions, const std::vector<double>& references,
                                std::size_t labels_per_row) {
  using data::ProblemType;
  if (problem == ProblemType::token_classification)
    throw Error("sequence metrics: token_classification is scored per entity (token_metrics), not per row");
  std::vector<std::string> names = metric_names(task_name, problem);
  nlohmann::json out = nlohmann::json::object();
  if (problem == ProblemType::multi_label_classification) {
    out["f1"] = multi_label_f1(predictions, references, labels_per_row);
  } else if (problem == ProblemType::regression) {
    for (const std::string& n : names) out[n] = value_score(n, predictions, references);
  } else {
    std::vector<std::int64_t> p = class_ids(predictions, "predictions"), r = class_ids(references, "references");
    for (const std::string& n : names) out[n] = class_score(n, p, r);
  }
  if (names.size() > 1) {  // run_glue.py: np.mean(list(result.values())), in the metrics' order
    double sum = 0;
    for (const std::string& n : names) sum += out[n].get<double>();
    out["combined_score"] = sum / static_cast<double>(names.size());
  }
  return out;
}

namespace {

// seqeval's reading of a tag (suffix=False): its first character is the prefix, and the type is what follows
// the first '-' of the rest (the whole rest when it has none), "_" when that is empty.
struct Tag {
  char prefix;
  std::string type;
};

Tag parse_tag(const std::string& tag) {
  if (tag.empty()) throw Error("token metrics: an empty tag");
  std::size_t rest = 1;  // past the whole first character: Python slices code points, not bytes
  while (rest < tag.size() && (static_cast<unsigned char>(tag[rest]) & 0xC0) == 0x80) ++rest;
  std::string after = tag.substr(rest);
  std::size_t dash = after.find('-');
  std::string type = dash == std::string::npos ? after : after.substr(dash + 1);
  return {tag[0], type.empty() ? "_" : type};
}

// seqeval's end_of_chunk and start_of_chunk (conlleval's rules).
bool end_of_chunk(const Tag& prev, const Tag& cur) {
  char p = prev.prefix, t = cur.prefix;
  return p == 'E' || p == 'S' || ((p == 'B' || p == 'I') && (t == 'B' || t == 'S' || t == 'O')) ||
         (p != 'O' && p != '.' && prev.type != cur.type);
}

bool start_of_chunk(const Tag& prev, const Tag& cur) {
  char p = prev.prefix, t = cur.prefix;
  return t == 'B' || t == 'S' || ((p == 'E' || p == 'S' || p == 'O') && (t == 'E' || t == 'I')) ||
         (t != 'O' && t != '.' && prev.type != cur.type);
}

struct Entity {
  std::string type;
  std::size_t first, last;
  bool operator<(const Entity& o) const { return std::tie(type, first, last) < std::tie(o.type, o.first, o.last); }
};

// seqeval's get_entities over sentences: laid end to end with an O after each, so none spans two.
std::set<Entity> entities(const std::vector<std::vector<std::string>>& sentences) {
  std::set<Entity> out;
  Tag prev{'O', ""};
  std::size_t begin = 0, i = 0;
  auto step = [&](const Tag& cur) {
    if (end_of_chunk(prev, cur)) out.insert({prev.type, begin, i - 1});
    if (start_of_chunk(prev, cur)) begin = i;
    prev = cur;
    ++i;
  };
  for (const auto& sentence : sentences) {
    for (const std::string& tag : sentence) step(parse_tag(tag));
    step({'O', "_"});
  }
  return out;
}

// seqeval's precision, recall and F1: the F1 from the two ratios (not from the counts), as it divides.
void put_scores(nlohmann::json& out, const std::string& prefix, const Counts& c) {
  double precision = c.predicted == 0 ? 0.0 : c.tp / c.predicted;
  double recall = c.actual == 0 ? 0.0 : c.tp / c.actual;
  double denominator = precision + recall;
  out[prefix + "precision"] = precision;
  out[prefix + "recall"] = recall;
  out[prefix + "f1"] = 2.0 * precision * recall / (denominator == 0 ? 1.0 : denominator);
}

double token_accuracy(const std::vector<std::vector<std::string>>& predictions,
                      const std::vector<std::vector<std::string>>& references) {
  double correct = 0, total = 0;
  for (std::size_t s = 0; s < predictions.size(); ++s) {
    if (predictions[s].size() != references[s].size())
      throw Error("token metrics: sentence " + std::to_string(s) + " has " + std::to_string(predictions[s].size()) +
                  " predicted tags but " + std::to_string(references[s].size()) + " reference tags");
    for (std::size_t i = 0; i < predictions[s].size(); ++i) correct += predictions[s][i] == references[s][i];
    total += static_cast<double>(predictions[s].size());
  }
  if (total == 0) throw Error("token metrics: nothing to score (no tags)");
  return correct / total;
}

}  // namespace

nlohmann::json token_metrics(const std::vector<std::vector<std::string>>& predictions,
                             const std::vector<std::vector<std::string>>& references, bool entity_level) {
  check_lengths("token metrics (sentences)", predictions, references);
  double accuracy_of_tags = token_accuracy(predictions, references);
  std::set<Entity> predicted = entities(predictions), actual = entities(references);
  std::map<std::string, Counts> by_type;
  for (const Entity& e : predicted) {
    by_type[e.type].predicted += 1;
    by_type[e.type].tp += actual.count(e);
  }
  for (const Entity& e : actual) by_type[e.type].actual += 1;
  nlohmann::json out = nlohmann::json::object();
  Counts overall;
  for (const auto& [type, c] : by_type) {
    overall.tp += c.tp;
    overall.predicted += c.predicted;
    overall.actual += c.actual;
    if (!entity_level) continue;
    put_scores(out, type + "_", c);
    out[type + "_number"] = static_cast<std::int64_t>(c.actual);
  }
  put_scores(out, "overall_", overall);
  out["overall_accuracy"] = accuracy_of_tags;
  return out;
}

}  // namespace bertforge::eval
