#!/usr/bin/env bash
# The end-to-end demo on the embedded default corpus (the King James Bible from Debian's bible-kjv): a small
# BERT learns in a few minutes on two CPU cores, and is then asked about a book it never saw.
# Expects BERTFORGE_BIN (set by setup.sh); writes into BERTFORGE_DEMO_DIR (default ./out/demo).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bf="${BERTFORGE_BIN:-$root/build/bertforge}"
out="${BERTFORGE_DEMO_DIR:-$root/out/demo}"
mkdir -p "$out"
"$bf" version

# The Gospel of John is held out: the vocabulary, the training pairs and the model never see it, so the
# evaluation and the prompts below measure what the model generalises, not what it memorised.
# bible prints one verse per line after a "Ge1:1 " reference; prepare's bible layout reads those references
# (chapters are documents, verses sentences), train-tokenizer gets the bare text.
bible -f gen1:1-luk24:53 act1:1-rev22:21 > "$out/train-verses.txt"
bible -f joh1:1-joh21:25 > "$out/john-verses.txt"
sed 's/^[^ ]* //' "$out/train-verses.txt" > "$out/train.txt"
"$bf" train-tokenizer --vocab-size 4000 -o "$out" "$out/train.txt"
head -n 3 "$out/train.txt" | "$bf" tokenize --vocab "$out" --tokens
# MLM only (--no-nsp: segments of consecutive verses up to 64 tokens, as RoBERTa trains), because in a few
# minutes every step is better spent on the masked words; prepare's default is the reference's NSP pairs.
"$bf" prepare "$out/train-verses.txt" --vocab "$out" --no-nsp --max_seq_length 64 -o "$out/prepared" --overwrite
"$bf" prepare "$out/john-verses.txt" --vocab "$out" --no-nsp --max_seq_length 64 -o "$out/prepared-john" --overwrite
# The recipe: 2 layers of width 128 (0.9 M parameters), no dropout (a few epochs cannot overfit it), a high
# learning rate with a short warm-up and linear decay, Adam's beta2 0.98 as RoBERTa, and 40% of the tokens
# masked instead of 15% (as MosaicBERT raised it to 30%: more masked words to learn from in every step; here 40%
# learned more in the same minutes than 15%, 30% or whole-word masking). The progress line shows loss, lr,
# seq/s, tokens/s and ETA; every 500 steps an evaluation on John (its masks as in training, 40%).
cat > "$out/small-bert.json" <<'JSON'
{"vocab_size": 4000, "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
 "intermediate_size": 512, "max_position_embeddings": 64,
 "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
JSON
"$bf" pretrain --model "$out/small-bert.json" --train_data "$out/prepared" --eval_data "$out/prepared-john" \
  --output_dir "$out/run" --overwrite_output_dir --max_steps "${BERTFORGE_DEMO_STEPS:-2800}" \
  --per_device_train_batch_size 64 --learning_rate 2e-3 --warmup_steps 100 --lr_scheduler_type linear \
  --adam_beta2 0.98 --weight_decay 0.01 --mlm_probability 0.4 \
  --logging_steps 50 --eval_strategy steps --eval_steps 500 --save_steps 1000 --save_total_limit 2
# Training and evaluation loss as a PNG (also written by pretrain as run/loss.png).
"$bf" plot "$out/run" -o "$out/loss.png"
# What the model learned, on John: the masked-token accuracy of the final model (seeded masks at the usual
# 15%, the same every run), then its top-5 guesses for a word of John's verses, and the rank the right word got.
# Each word completes a phrase the training books use at least 20 times ("with God", "the kingdom of God", "up to
# Jerusalem", "the Son of man", "the sabbath", "the high priest", "I say unto you", "his disciples"), so a model
# that learned the language of the rest of the Bible can know it in a book it never saw.
"$bf" evaluate --model "$out/run" --dataset "$out/prepared-john"
"$bf" fill-mask --model "$out/run" \
  "In the beginning was the Word, and the Word was with [MASK], and the Word was God." --answer God \
  "Except a man be born again, he cannot see the kingdom of [MASK]." --answer God \
  "And the Jews' passover was at hand, and Jesus went up to [MASK]." --answer Jerusalem \
  "Even so must the Son of [MASK] be lifted up." --answer man \
  "And immediately the man was made whole, and took up his bed, and walked: and on the same day was the [MASK]." \
  --answer sabbath \
  "The high [MASK] then asked Jesus of his disciples, and of his doctrine." --answer priest \
  "Verily, verily, I say unto [MASK], He that believeth on me hath everlasting life." --answer you \
  "And Jesus went up into a mountain, and there he sat with his [MASK]." --answer disciples
