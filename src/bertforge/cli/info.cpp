// `bertforge info DIR`: configuration, parameter count, training step and metrics of a model folder
// (infer/info.h); --json prints the whole record.
#include <cstdio>

#include "bertforge/cli/commands.h"
#include "bertforge/infer/info.h"
#include "bertforge/util/json_file.h"

namespace bertforge::cli {
namespace {

void print_section(const char* title, const nlohmann::json& j) {
  std::printf("%s\n", title);
  for (const auto& [key, value] : j.items()) std::printf("  %-28s %s\n", key.c_str(), dump_json(value).c_str());
}

}  // namespace

Command add_info(CLI::App& parent) {
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* app = parent.add_subcommand("info", "configuration, parameter count, step and metrics of a model folder");
  app->add_option("dir", *dir, "model, run or checkpoint folder")->required();
  app->add_flag("--json", *json, "print as JSON");
  return {app, [dir, json] {
            nlohmann::json i = infer::model_info(*dir);
            if (*json) {
              std::printf("%s\n", i.dump(2).c_str());
              return 0;
            }
            std::printf("model       %s\nparameters  %lld\n", dir->c_str(), i["parameters"].get<long long>());
            if (i.contains("step")) std::printf("step        %lld\n", i["step"].get<long long>());
            print_section("config", i["config"]);
            if (i.contains("tokenizer")) print_section("tokenizer", i["tokenizer"]);
            if (i.contains("metrics")) print_section("metrics", i["metrics"]);
            return 0;
          }};
}

}  // namespace bertforge::cli
