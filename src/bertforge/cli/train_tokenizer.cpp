// `bertforge train-tokenizer`: count the words of FILES (BERT's normalizer and pre-tokenizer), learn a
// WordPiece vocabulary from them, write an HF tokenizer folder (vocab.txt, tokenizer.json,
// tokenizer_config.json). Defaults are those of HF's BertWordPieceTokenizer.train.
#include <cstdio>

#include "bertforge/cli/commands.h"
#include "bertforge/text/basic_tokenizer.h"
#include "bertforge/text/save_tokenizer.h"
#include "bertforge/text/vocab_trainer.h"
#include "bertforge/text/word_counts.h"
#include "bertforge/util/error.h"

namespace bertforge::cli {

namespace {

struct Args {
  std::vector<std::string> files;
  std::string output, algorithm = "hf", errors = "strict";
  bool lower_case = false;
  std::size_t limit_alphabet = 1000;
  text::TrainerOptions train;
  text::CountOptions count;
};

int run(const Args& a) {
  text::check_special_tokens(a.train.special_tokens);
  text::NormalizerOptions normalizer;
  normalizer.lowercase = a.lower_case;
  // Like HF's trainer, which sees the text before any special token is registered: "[CLS]" in the corpus
  // counts as "[", "CLS", "]".
  text::BasicTokenizer basic(normalizer);
  text::CountOptions count = a.count;
  count.errors = a.errors == "strict" ? text::Utf8Errors::strict : text::Utf8Errors::replace;
  text::WordCounts counts = text::count_words(a.files, basic, count);
  if (counts.empty()) throw bertforge::Error("no words in the input files");
  text::TrainerOptions train = a.train;
  train.algorithm = a.algorithm == "hf" ? text::TrainAlgorithm::hf : text::TrainAlgorithm::wordpiece;
  train.limit_alphabet = a.limit_alphabet ? std::optional<std::size_t>(a.limit_alphabet) : std::nullopt;
  std::vector<std::string> vocab = text::train_vocab(counts, train);
  text::SaveTokenizerOptions save;
  save.lower_case = a.lower_case;
  save.special_tokens = a.train.special_tokens;
  text::save_tokenizer(a.output, vocab, save);
  std::fprintf(stderr, "train-tokenizer: %zu distinct words, %zu tokens -> %s/{vocab.txt,tokenizer.json,%s}\n",
               counts.size(), vocab.size(), a.output.c_str(), "tokenizer_config.json");
  return 0;
}

}  // namespace

Command add_train_tokenizer(CLI::App& parent) {
  auto* app = parent.add_subcommand("train-tokenizer", "learn a WordPiece vocabulary from text files");
  auto a = std::make_shared<Args>();
  app->add_option("--vocab-size", a->train.vocab_size, "tokens in the vocabulary, specials included")
      ->required()->check(CLI::PositiveNumber);
  app->add_option("--algorithm", a->algorithm,
                  "hf: as HF's WordPieceTrainer (most frequent pair); wordpiece: likelihood gain count(ab)/(count(a)count(b))")
      ->check(CLI::IsMember({"hf", "wordpiece"}))->capture_default_str();
  app->add_flag("--lower-case", a->lower_case, "lower-case and strip accents (uncased BERT)");
  app->add_option("--min-frequency", a->train.min_frequency, "never merge a pair seen fewer times")
      ->capture_default_str();
  app->add_option("--limit-alphabet", a->limit_alphabet, "keep the L most frequent characters (0: all)")
      ->capture_default_str();
  app->add_option("--special-tokens", a->train.special_tokens,
                  "comma-separated, first in the vocabulary; must include [UNK],[CLS],[SEP]")
      ->delimiter(',')->allow_extra_args(false)->default_str("[PAD],[UNK],[CLS],[SEP],[MASK]");
  app->add_option("--sample", a->count.sample, "keep each line with probability P")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app->add_option("--seed", a->count.seed, "which lines --sample keeps")->capture_default_str();
  app->add_option("--errors", a->errors, "invalid UTF-8: strict (an error naming file and line) or replace")
      ->check(CLI::IsMember({"strict", "replace"}))->capture_default_str();
  app->add_option("-o,--output", a->output, "output folder (created if missing)")->required();
  app->add_option("files", a->files, "text files, one or more")->required()->check(CLI::ExistingFile);
  return {app, [a] { return run(*a); }};
}

}  // namespace bertforge::cli
