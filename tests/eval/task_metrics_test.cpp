// Fine-tuning metrics against scikit-learn, SciPy and seqeval: tests/golden/task_metrics.json, written by
// tools/gen_golden/task_metrics.py (null there is NaN), held to the tolerance table's task_metrics row:
// |got - want| <= task_metrics * (1 + |want|). No LibTorch: this test also runs in test_torch_free.
#include "bertforge/eval/task_metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <iomanip>
#include <set>

#include "bertforge/util/error.h"
#include "bertforge/util/json_file.h"
#include "common/golden.h"

using namespace bertforge;
using namespace bertforge::eval;
using nlohmann::json;
using data::ProblemType;

namespace {

const json& golden() { return ::bertforge::testing::golden("task_metrics.json"); }

double tolerance() { return ::bertforge::testing::tolerance_row("task_metrics"); }

::testing::AssertionResult close(double got, const json& want) {
  if (want.is_null())
    return std::isnan(got) ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << got << ", not NaN";
  double w = want.get<double>();
  if (std::abs(got - w) <= tolerance() * (1 + std::abs(w))) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << std::setprecision(17) << got << " vs " << w;
}

// got holds exactly want's keys, each close to want's value.
void expect_same(const json& got, const json& want, const std::string& where) {
  std::set<std::string> got_keys, want_keys;
  for (const auto& [k, v] : got.items()) got_keys.insert(k);
  for (const auto& [k, v] : want.items()) want_keys.insert(k);
  EXPECT_EQ(got_keys, want_keys) << where;
  for (const auto& [k, v] : want.items()) {
    if (got.contains(k)) {
      EXPECT_TRUE(close(got.at(k).get<double>(), v)) << where << ": " << k;
    }
  }
}

std::vector<std::int64_t> ids(const json& v) { return v.get<std::vector<std::int64_t>>(); }
std::vector<double> values(const json& v) { return v.get<std::vector<double>>(); }
using Sentences = std::vector<std::vector<std::string>>;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TaskMetrics, ClassificationAsScikitLearn) {
  for (const json& c : golden().at("classification")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    auto p = ids(c.at("predictions")), r = ids(c.at("references"));
    EXPECT_TRUE(close(accuracy(p, r), c.at("accuracy")));
    EXPECT_TRUE(close(f1_macro(p, r), c.at("f1_macro")));
    EXPECT_TRUE(close(matthews_correlation(p, r), c.at("matthews_correlation")));
    if (c.at("f1") == "error")
      EXPECT_THROW(f1_binary(p, r), Error);
    else
      EXPECT_TRUE(close(f1_binary(p, r), c.at("f1")));
  }
}

TEST(TaskMetrics, RegressionAsScipyAndScikitLearn) {
  for (const json& c : golden().at("regression")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    auto p = values(c.at("predictions")), r = values(c.at("references"));
    EXPECT_TRUE(close(pearson(p, r), c.at("pearson")));
    EXPECT_TRUE(close(spearman(p, r), c.at("spearmanr")));
    EXPECT_TRUE(close(mean_squared_error(p, r), c.at("mse")));
  }
}

TEST(TaskMetrics, MultiLabelMicroF1AsScikitLearn) {
  for (const json& c : golden().at("multi_label")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    EXPECT_TRUE(close(f1_micro_multilabel(ids(c.at("predictions")), ids(c.at("references"))), c.at("f1")));
  }
}

TEST(TaskMetrics, SequenceMetricsAsRunGlueReportsThem) {
  for (const json& c : golden().at("sequence_metrics")) {
    std::string task = c.at("task");
    std::string where = "task \"" + task + "\" " + c.at("problem").get<std::string>();
    json got = sequence_metrics(task, data::problem_type_from_name(c.at("problem")), values(c.at("predictions")),
                                values(c.at("references")), c.at("labels_per_row").get<std::size_t>());
    expect_same(got, c.at("want"), where);
  }
}

TEST(TaskMetrics, TokenMetricsAsSeqeval) {
  for (const json& c : golden().at("token")) {
    std::string name = c.at("name");
    auto p = c.at("predictions").get<Sentences>(), r = c.at("references").get<Sentences>();
    expect_same(token_metrics(p, r, true), c.at("want"), name + " (entity level)");
    json overall;
    for (const char* k : {"overall_precision", "overall_recall", "overall_f1", "overall_accuracy"})
      overall[k] = c.at("want").at(k);
    expect_same(token_metrics(p, r), overall, name);
  }
}

TEST(TaskMetrics, FewerThanTwoValuesCorrelateAsNaN) {
  EXPECT_TRUE(std::isnan(pearson({1.5}, {2.0})));
  EXPECT_TRUE(std::isnan(spearman({1.5}, {2.0})));
  json got = sequence_metrics("stsb", ProblemType::regression, {1.0}, {2.0});
  EXPECT_TRUE(std::isnan(got.at("combined_score").get<double>()));
}

TEST(TaskMetrics, RefusesWhatItCannotScore) {
  std::vector<double> two{0, 1};
  EXPECT_NE(error_of([] { accuracy({0, 1}, {0}); }).find("2 predictions but 1 references"), std::string::npos);
  EXPECT_NE(error_of([] { mean_squared_error({}, {}); }).find("nothing to score"), std::string::npos);
  EXPECT_NE(error_of([&] { sequence_metrics("", ProblemType::token_classification, two, two); })
                .find("token_metrics"), std::string::npos);
  EXPECT_NE(error_of([&] { sequence_metrics("sst-2", ProblemType::single_label_classification, two, two); })
                .find("choices: cola sst2 mrpc"), std::string::npos);
  EXPECT_NE(error_of([&] { sequence_metrics("stsb", ProblemType::single_label_classification, two, two); })
                .find("stsb is scored as regression"), std::string::npos);
  EXPECT_NE(error_of([&] { sequence_metrics("cola", ProblemType::regression, two, two); })
                .find("single_label_classification"), std::string::npos);
  EXPECT_NE(error_of([] { sequence_metrics("", ProblemType::single_label_classification, {0.5, 1}, {0, 1}); })
                .find("not a class id"), std::string::npos);
  EXPECT_NE(error_of([] { sequence_metrics("", ProblemType::multi_label_classification, {0, 1, 1}, {0, 1, 0}, 2); })
                .find("whole rows of 2"), std::string::npos);
  EXPECT_NE(error_of([] { sequence_metrics("", ProblemType::multi_label_classification, {0, 2}, {0, 1}, 2); })
                .find("other than 0 or 1"), std::string::npos);
  EXPECT_NE(error_of([] { token_metrics({{"O", ""}}, {{"O", "O"}}); }).find("empty tag"), std::string::npos);
  EXPECT_NE(error_of([] { token_metrics({{"O"}}, {{"O", "O"}}); }).find("sentence 0"), std::string::npos);
  EXPECT_NE(error_of([] { token_metrics({{}}, {{}}); }).find("nothing to score"), std::string::npos);
}
