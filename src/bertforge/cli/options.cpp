#include "bertforge/cli/options.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>

#include "bertforge/train/training_args.h"
#include "bertforge/util/json_file.h"

namespace bertforge::cli {

namespace {
std::string snake(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// CLI11's type name with its check, in the words of TrainingArguments' ranges (util/messages.h allowed_text):
// "TEXT:{fp32,bf16}" -> "{fp32,bf16}", "FLOAT:FLOAT in [0 - 1]" -> "FLOAT in [0, 1]", "INT:POSITIVE" -> "INT > 0".
std::string values_of(const CLI::Option* o) {
  const std::string type = o->get_type_name();
  const auto colon = type.find(':');
  if (colon == std::string::npos) return type;
  const std::string base = type.substr(0, colon), check = type.substr(colon + 1);
  if (check.rfind("{", 0) == 0) return check;
  if (check == "POSITIVE") return base + " > 0";
  if (check == "NONNEGATIVE") return base + " >= 0";
  if (check.rfind("in ", 0) == 0 || check.rfind(">", 0) == 0) return base + " " + check;  // within()
  std::smatch range;
  if (std::regex_match(check, range, std::regex(R"(\w+ in \[(.*) - (.*)\])")))
    return base + " in [" + range[1].str() + ", " + range[2].str() + "]";
  return type;
}
}  // namespace

CLI::Validator within(const Interval& allowed) {
  return CLI::Validator(
      [allowed](std::string& value) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(value.c_str(), &end);
        if (value.empty() || *end != '\0') return "'" + value + "' is not a number";
        try {
          check_option("", v, allowed);
        } catch (const UsageError& e) {
          return std::string(e.what()).substr(2);  // check_option's words after its (empty) option name
        }
        return "";
      },
      allowed_text(allowed));
}

CLI::Option* add_device(CLI::App* app, std::string& device) {
  device = "auto";
  return app->add_option("--device", device, "where to run: a GPU when one is usable (auto), the CPU, or that GPU")
      ->option_text("{auto,cpu,cuda,cuda:N} (default auto)");
}

CLI::Option* add_tokenizer(CLI::App* app, std::string& path, const std::string& what) {
  return app->add_option("--tokenizer,--vocab", path, "vocab.txt or a tokenizer folder" + what);
}

CLI::Option* add_bool(CLI::App* app, const std::string& name, bool& value, const std::string& help) {
  const std::string default_value = value ? "true" : "false";
  return app
      ->add_option_function<std::string>(
          name, [&value, name](const std::string& v) { value = train::parse_bool_arg(name.substr(2), v); }, help)
      ->expected(0, 1)
      ->option_text("[true|false] (default " + default_value + ")");
}

CLI::Option* add_bf16(CLI::App* app, bool& bf16) {
  return add_bool(app, "--bf16", bf16, "autocast matmuls to bfloat16");
}

void add_training_arguments(CLI::App* app, const std::function<void(const std::string&, const std::string&)>& given) {
  for (const auto& s : train::training_arg_specs()) {
    train::TrainingArgHelp h = train::training_arg_help(s.name);
    std::string values = h.choices.empty() ? (h.type == "BOOL" ? "[true|false]" : h.type) : "{";
    if (!h.range.empty()) values += " " + h.range;  // the range validate() checks
    for (std::size_t i = 0; i < h.choices.size(); ++i) values += h.choices[i] + (i + 1 < h.choices.size() ? "," : "}");
    auto* opt = app->add_option_function<std::string>(
        "--" + s.name, [given, name = s.name](const std::string& v) { given(name, v); }, s.help);
    if (h.type == "BOOL") opt->expected(0, 1);  // --bf16 == --bf16 true; --bf16 false turns it off
    opt->option_text(values + " (default " + (h.default_value.empty() ? "unset" : h.default_value) + ")")->group(h.group);
  }
}

void apply_training_config_file(const std::string& path, const std::vector<std::pair<std::string, std::string*>>& fields,
                                train::TrainingArguments& args) {
  nlohmann::json j = read_json_file(path, "training arguments");
  for (const auto& [key, field] : fields)
    if (j.contains(key)) *field = j[key].get<std::string>(), j.erase(key);
  args.update(j, path);
}

std::vector<std::string> read_input_lines(const std::string& path, const std::string& nothing) {
  std::ifstream in(path);
  if (!in) fail_at(path, 0, "cannot read the input file");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  if (lines.empty()) fail_at(path, 0, "the input file is empty: " + nothing);
  return lines;
}

void add_masking_options(CLI::App* app, data::CollatorOptions& o) {
  auto help = [](const char* key) {
    for (const auto& s : train::training_arg_specs())
      if (s.name == key) return s.help;
    return std::string();
  };
  // The values pretrain's help shows for the same keys, from the TrainingArguments table.
  auto text = [](const char* key, const std::string& default_value) {
    train::TrainingArgHelp h = train::training_arg_help(key);
    return h.type + " " + h.range + " (default " + default_value + ")";
  };
  const std::string group = train::training_arg_help("mlm_probability").group;
  for (auto [key, value] : {std::pair{"mlm_probability", &o.mlm_probability}, {"mask_replace_prob", &o.mask_replace_prob},
                            {"random_replace_prob", &o.random_replace_prob}})
    app->add_option("--" + std::string(key), *value, help(key))
        ->capture_default_str()->check(CLI::Range(0.0, 1.0))->group(group)->option_text(text(key, CLI::detail::to_string(*value)));
  add_bool(app, "--whole_word_mask", o.whole_word_mask, help("whole_word_mask"))->group(group);
  app->add_option("--pad_to_multiple_of", o.pad_to_multiple_of, help("pad_to_multiple_of"))
      ->capture_default_str()->check(CLI::NonNegativeNumber)->group(group)
      ->option_text(text("pad_to_multiple_of", std::to_string(o.pad_to_multiple_of)));
}

void teach(CLI::App* app) {
  for (CLI::Option* o : app->get_options()) {
    if (!o->get_option_text().empty() || o->get_lnames() == std::vector<std::string>{"help"}) continue;
    if (o->get_type_name().empty()) {  // a flag
      o->option_text("(flag)");
      continue;
    }
    std::string text = values_of(o);
    if (o->get_required()) text += " (required)";
    else text += " (default " + (o->get_default_str().empty() ? std::string("none") : o->get_default_str()) + ")";
    o->option_text(text);
  }
}

std::vector<std::string> accept_both_spellings(const CLI::App& app, std::vector<std::string> args) {
  std::vector<const CLI::App*> scopes{&app};
  for (const auto& a : args) {
    if (a == "--") break;
    auto named = app.get_subcommands([&](const CLI::App* s) { return s->check_name(a); });
    if (a.rfind("-", 0) != 0 && !named.empty()) {
      scopes.push_back(named.front());
      break;
    }
  }
  std::map<std::string, std::string> declared;  // snake_case -> the declared spelling
  for (const CLI::App* scope : scopes)
    for (const CLI::Option* o : scope->get_options())
      for (const auto& name : o->get_lnames()) declared.emplace(snake(name), name);
  for (auto& a : args) {
    if (a == "--") break;
    if (a.size() < 3 || a.rfind("--", 0) != 0) continue;
    const auto eq = a.find('=');
    auto it = declared.find(snake(a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2)));
    if (it != declared.end()) a = "--" + it->second + (eq == std::string::npos ? "" : a.substr(eq));
  }
  return args;
}

}  // namespace bertforge::cli
