// The options several commands share, declared in one place so that each has one spelling, one help text
// and one default in every command, and the rules every command's options follow:
// - one name per option (HF's snake_case where HF has the option); the dashed spelling is accepted too,
//   and so is the snake_case one of a dashed name (accept_both_spellings rewrites the command line);
// - every option's help shows its values and its default (teach), e.g. `--optim {adamw_torch,lamb} (default
//   adamw_torch)`; booleans stand alone (`--bf16`) and take a value to turn them off (`--bf16 false`).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "bertforge/data/collator.h"
#include "bertforge/train/training_args.h"
#include "bertforge/util/messages.h"

namespace bertforge::cli {

// --device: auto (a GPU when one is usable, else the CPU), cpu, cuda, cuda:N; default auto.
CLI::Option* add_device(CLI::App* app, std::string& device);
// --tokenizer (alias --vocab): vocab.txt or a tokenizer folder. `what` completes the help line.
CLI::Option* add_tokenizer(CLI::App* app, std::string& path, const std::string& what);
// --name [BOOL]: alone it means true; `--name false` (or 0, no) turns it off.
CLI::Option* add_bool(CLI::App* app, const std::string& name, bool& value, const std::string& help);
// --bf16: autocast matmuls to bfloat16.
CLI::Option* add_bf16(CLI::App* app, bool& bf16);
// HF DataCollatorForLanguageModeling's --mlm_probability, --mask_replace_prob, --random_replace_prob,
// --whole_word_mask and --pad_to_multiple_of, with pretrain's help texts and defaults.
void add_masking_options(CLI::App* app, data::CollatorOptions& o);

// One option per TrainingArguments key, in HF's documentation groups; booleans may stand alone. Each value
// given goes to given(key, value), to be set after --config_file's (the command line wins).
void add_training_arguments(CLI::App* app, const std::function<void(const std::string&, const std::string&)>& given);
// --config_file: a JSON file of TrainingArguments keys, and of the command's own string options (`fields`),
// as HF's parse_json_file takes every dataclass's keys.
void apply_training_config_file(const std::string& path, const std::vector<std::pair<std::string, std::string*>>& fields,
                                train::TrainingArguments& args);

// An --input file's lines (a trailing \r dropped); Error naming the file when it cannot be read, or when it is
// empty: "the input file is empty: <nothing>".
std::vector<std::string> read_input_lines(const std::string& path, const std::string& nothing);

// A number check for CLI11 that --help shows as the allowed range ("> 0", "in [0, 1]") and that refuses a
// value as check_option does (a usage error naming the range).
CLI::Validator within(const Interval& allowed);

// After all options are declared: the text after each option's names in --help shows its values (the
// choices, or the kind of value) and its default.
void teach(CLI::App* app);

// Rewrites each "--long-name[=value]" of a command line (argv without the program) to the spelling the chosen
// subcommand (or the top level) declared, dashes and underscores being one; everything after a bare "--" is
// left alone (launch's command, which launch checks the same way).
std::vector<std::string> accept_both_spellings(const CLI::App& app, std::vector<std::string> args);

}  // namespace bertforge::cli
