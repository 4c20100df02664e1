// The reference's own tokenized dataset (wikiTokenizedValid.hf) goes through import and the training loader.
#include <gtest/gtest.h>

#include <filesystem>

#include "bertforge/data/hf_dataset.h"
#include "bertforge/data/loader.h"
#include "bertforge/data/prepare.h"
#include "common/shared_data.h"

using namespace bertforge::data;

TEST(ReferenceDataset, ImportsAndTrainsThroughTheLoader) {
  SHARED_DATA(ref, "rocm-blog/wikiTokenizedValid.hf");
  SHARED_DATA(vocab, "vocab/bert-base-cased/vocab.txt");
  auto tokenizer = bertforge::text::Tokenizer::from_pretrained(vocab);
  const auto out = (std::filesystem::temp_directory_path() / "bf_reference_import").string();
  import_hf(ref, out, shard_meta(tokenizer, SentenceTask::nsp));
  auto shards = std::make_shared<const ShardSet>(out, shard_meta(tokenizer, SentenceTask::nsp).vocab_hash);
  ASSERT_EQ(shards->size(), 3083u);
  LoaderOptions o;
  o.batch_size = 32;
  Loader loader(shards, o);
  std::int64_t rows = 0, masked = 0, real = 0;
  while (auto b = loader.next()) {
    ASSERT_EQ(b->input_ids.dim(), 2);
    ASSERT_LE(b->input_ids.size(1), 128);  // padded to the batch longest, not to the stored 128
    EXPECT_EQ(b->sentence_label_name, "next_sentence_label");
    rows += b->input_ids.size(0);
    masked += (b->labels != -100).sum().item<std::int64_t>();
    real += b->attention_mask.sum().item<std::int64_t>();
  }
  EXPECT_EQ(rows, 3083);
  EXPECT_NEAR(double(masked) / real, 0.15 * 0.97, 0.01);  // 15% of the non-special tokens
}
