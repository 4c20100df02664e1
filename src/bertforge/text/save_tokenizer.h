// Writing a WordPiece vocabulary as a Hugging Face tokenizer folder, each file through AtomicFile:
//   vocab.txt              one token per line, the id is the line number;
//   tokenizer.json         BertNormalizer (lowercase as asked, accents stripped when lowercasing, as BERT),
//                          BertPreTokenizer, WordPiece model ("##", [UNK], 100 characters per word), the
//                          "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B:1 [SEP]:1" template, WordPiece decoder, and
//                          every special token as an added token that is never split;
//   tokenizer_config.json  BertTokenizer settings (do_lower_case, special tokens, model_max_length 512);
//   special_tokens_map.json  the special tokens by role (HF 4's file; HF 5 still reads it).
// tokenizers.Tokenizer.from_file, transformers' BertTokenizerFast(tokenizer_file=...) and
// AutoTokenizer.from_pretrained(dir) load the result. The special tokens must include [UNK], [CLS] and [SEP],
// the vocabulary must hold each of them and every token once; otherwise Error and nothing is written.
#pragma once
#include <string>
#include <vector>

#include "bertforge/text/tokenizer.h"

namespace bertforge::text {

struct SaveTokenizerOptions {
  bool lower_case = false;
  // Marked special in tokenizer.json; [PAD] and [MASK] among them become pad_token and mask_token.
  std::vector<std::string> special_tokens{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
};

void save_tokenizer(const std::string& dir, const std::vector<std::string>& vocab,
                    const SaveTokenizerOptions& options);

// HF save_pretrained of a loaded tokenizer: the same four files with every setting as resolved (lower-casing,
// accents, CJK splitting, text cleaning, role and added tokens, model_max_length), so that the folder loads
// back, in bertforge and in AutoTokenizer, to the same ids. The vocabulary must hold the unknown, CLS and SEP
// tokens; otherwise Error and nothing is written.
void save_pretrained(const Tokenizer& tokenizer, const std::string& dir);

// The check save_tokenizer makes on its special tokens: [UNK], [CLS] and [SEP] among them, or Error. For
// callers that want to fail before hours of training rather than after.
void check_special_tokens(const std::vector<std::string>& special_tokens);

}  // namespace bertforge::text
