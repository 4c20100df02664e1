// `bertforge prepare INPUT... --vocab V -o OUT`: corpus -> NSP/SOP/MLM-only training shards (and optionally
// an HF save_to_disk copy). An HF folder that is already tokenized (an input_ids column) is imported as is.
// `--dry_run` prints the plan (documents, sentences, expected pairs/tokens, disk, RAM, ETA) as JSON.
// A folder that already holds a dataset is replaced only with --overwrite, and only once the new one is complete.
#include <cstdio>
#include <limits>
#include <memory>

#include "bertforge/cli/commands.h"
#include "bertforge/cli/options.h"
#include "bertforge/data/hf_dataset.h"
#include "bertforge/data/prepare.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/util/error.h"
#include "bertforge/util/messages.h"
#include "bertforge/util/threads.h"

namespace bertforge::cli {

namespace {

// One line for a person; the numbers in full are in the output's manifest.json.
void print_summary(const nlohmann::json& result, const std::string& output) {
  const auto& s = result["statistics"];
  std::string from;
  if (result.contains("corpus"))
    from = " from " + std::to_string(result["corpus"]["documents"].get<std::uint64_t>()) + " documents (" +
           std::to_string(result["corpus"]["sentences"].get<std::uint64_t>()) + " sentences)";
  std::fprintf(stderr, "prepare: %llu sequences of %.1f tokens on average (longest %llu)%s -> %s/manifest.json\n",
               s["sequences"].get<unsigned long long>(), s["mean_length"].get<double>(),
               s["longest"].get<unsigned long long>(), from.c_str(), output.c_str());
}

struct PrepareArgs {
  data::PrepareOptions o;
  std::string vocab, layout = "auto", escapes = "undo", bible = "chapter", split = "english";
  std::string strategy = "sentence", export_hf;
  bool nsp = false, no_nsp = false, sop = false, dry_run = false, overwrite = false;
  int lower_case = 0;
  double chunk_mb = 8;
};

int run_prepare(PrepareArgs& a) {
  if (!a.dry_run) {  // refused before any input is read
    a.o.overwrite = a.overwrite;
    if (!a.o.output.empty()) data::check_output(a.o.output, a.overwrite);
    if (!a.export_hf.empty()) data::check_export_output(a.export_hf, a.overwrite);
  }
  text::TokenizerOptions topts;
  if (a.lower_case) topts.lower_case = a.lower_case > 0;
  auto tokenizer = text::Tokenizer::from_pretrained(a.vocab, topts);
  auto& o = a.o;
  o.corpus.layout = data::parse_layout(a.layout);
  o.corpus.wikitext_keep_escapes = a.escapes == "keep";
  o.corpus.bible_books = a.bible == "book";
  o.split = a.split == "none" ? data::SentenceSplit::none : data::SentenceSplit::english;
  o.pairs.strategy = data::parse_strategy(a.strategy);
  o.pairs.task = a.no_nsp ? data::SentenceTask::none : a.sop ? data::SentenceTask::sop : data::SentenceTask::nsp;
  o.pairs.special = data::shard_meta(tokenizer, o.pairs.task).special;
  o.chunk_bytes = static_cast<std::size_t>(a.chunk_mb * (1 << 20));
  o.threads = num_threads();
  if (a.dry_run) {
    std::printf("%s\n", data::plan(tokenizer, o).dump(2).c_str());
    return 0;
  }
  if (o.output.empty()) throw UsageError("--output: required (or --dry_run)");
  nlohmann::json result;
  if (o.inputs.size() == 1 && data::is_tokenized_hf(o.inputs[0]))  // the folder names its tokenizer, as prepare's
    result = data::import_hf(o.inputs[0], o.output, data::shard_meta(tokenizer, o.pairs.task), o.overwrite, &tokenizer);
  else
    result = data::prepare(tokenizer, o);
  if (!a.export_hf.empty()) data::export_hf(data::ShardSet(o.output), a.export_hf, a.overwrite);
  print_summary(result, o.output);
  return 0;
}

}  // namespace

Command add_prepare(CLI::App& parent) {
  auto* app = parent.add_subcommand("prepare", "corpus -> sentence pairs -> training shards (+ HF datasets copy)");
  auto a = std::make_shared<PrepareArgs>();
  app->add_option("inputs", a->o.inputs, "text/WikiText (- = stdin), .jsonl, .parquet, HF save_to_disk folders")
      ->required();
  add_tokenizer(app, a->vocab, "")->required();
  app->add_flag("--lower-case,!--no-lower-case", a->lower_case, "lower-case (default: as the tokenizer files say)");
  app->add_option("-o,--output", a->o.output, "output folder (shards + manifest.json)");
  app->add_flag("--overwrite", a->overwrite, "replace a dataset already in the output (and --export-hf) folder");
  app->add_option("--layout", a->layout, "auto, blocks, file, record, wikitext, bible")->capture_default_str();
  app->add_option("--field", a->o.corpus.field, "JSONL key / Parquet, HF column")->capture_default_str();
  app->add_option("--wikitext-escapes", a->escapes, "undo or keep ' @-@ ' etc.")
      ->check(CLI::IsMember({"undo", "keep"}))->capture_default_str();
  app->add_option("--bible-documents", a->bible, "chapter or book")
      ->check(CLI::IsMember({"chapter", "book"}))->capture_default_str();
  app->add_option("--max-line-bytes", a->o.corpus.max_line_bytes, "longer lines are skipped")->capture_default_str();
  app->add_option("--sentence-split", a->split, "english, or none (a sentence per line)")
      ->check(CLI::IsMember({"english", "none"}))->capture_default_str();
  app->add_option("--strategy", a->strategy, "sentence (the reference's) or segment (original BERT)")
      ->check(CLI::IsMember({"sentence", "segment"}))->capture_default_str();
  auto* nsp = app->add_flag("--nsp", a->nsp, "next sentence prediction pairs (default)");
  auto* no_nsp = app->add_flag("--no-nsp", a->no_nsp, "MLM only: full segments, no pairs");
  auto* sop = app->add_flag("--sop", a->sop, "sentence-order prediction (ALBERT)");
  nsp->excludes(no_nsp)->excludes(sop);
  no_nsp->excludes(sop);
  // The ranges data::prepare checks, shown in --help and checked while parsing.
  const double inf = std::numeric_limits<double>::infinity();
  app->add_option("--max_seq_length,--max-seq-length", a->o.pairs.max_seq_length)->capture_default_str()
      ->check(within({5, inf}));
  app->add_option("--short_seq_prob,--short-seq-prob", a->o.pairs.short_seq_prob, "segment strategy")
      ->capture_default_str()->check(within({0, 1}));
  app->add_option("--dupe_factor,--dupe-factor", a->o.dupe_factor, "passes over the corpus")->capture_default_str()
      ->check(within({1, data::kMaxDupeFactor}));
  app->add_option("--seed", a->o.seed)->capture_default_str();
  app->add_option("--chunk-mb", a->chunk_mb, "text per chunk (random B sentences come from the same chunk)")
      ->capture_default_str()->check(within({0, 1 << 20, true}));  // more than a TB per chunk: a typo
  app->add_flag("--dry_run", a->dry_run, "print the plan, write nothing");
  app->add_option("--export-hf", a->export_hf, "also write an HF datasets.save_to_disk folder here");
  return {app, [a] { return run_prepare(*a); }};
}

}  // namespace bertforge::cli
