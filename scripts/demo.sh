#!/usr/bin/env bash
# The end-to-end demo on the embedded default corpus (the King James Bible from Debian's bible-kjv).
# Expects BERTFORGE_BIN (set by setup.sh); writes into BERTFORGE_DEMO_DIR (default ./out/demo).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bf="${BERTFORGE_BIN:-$root/build/bertforge}"
out="${BERTFORGE_DEMO_DIR:-$root/out/demo}"
mkdir -p "$out"
"$bf" version

# The embedded corpus: the King James Bible, one verse per line, without its "Ge1:1 " reference.
bible -f gen1:1-rev22:21 | sed 's/^[^ ]* //' > "$out/kjv.txt"
"$bf" train-tokenizer --vocab-size 8000 -o "$out" "$out/kjv.txt"
# Tokenize the corpus with that vocabulary (ids, one line per verse) and show the pieces of the first verses.
"$bf" tokenize --vocab "$out" -o "$out/kjv.ids" "$out/kjv.txt"
head -n 3 "$out/kjv.txt" | "$bf" tokenize --vocab "$out" --tokens
# Training pairs for pre-training: chapters are documents and verses sentences (the "Ge1:1 " references mark
# them); shards + manifest, and the same rows as an HF datasets folder.
bible -f gen1:1-rev22:21 > "$out/kjv-verses.txt"
"$bf" prepare "$out/kjv-verses.txt" --vocab "$out" -o "$out/prepared" --export-hf "$out/prepared-hf" --overwrite
# Pre-train a small BERT (2 layers, hidden 128) on those pairs for a few minutes: the progress line shows
# loss, lr, seq/s, tokens/s, input wait and ETA; every 100 steps an evaluation on the Gospel of John (part of
# the training text: it shows fit, not generalisation) reports loss, MLM/NSP accuracy and perplexity.
bible -f joh1:1-joh21:25 > "$out/john.txt"
"$bf" prepare "$out/john.txt" --vocab "$out" -o "$out/prepared-john" --overwrite
cat > "$out/small-bert.json" <<'JSON'
{"vocab_size": 8000, "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 2,
 "intermediate_size": 512, "max_position_embeddings": 128}
JSON
"$bf" pretrain --model "$out/small-bert.json" --train_data "$out/prepared" --eval_data "$out/prepared-john" \
  --output_dir "$out/run" --overwrite_output_dir --max_steps "${BERTFORGE_DEMO_STEPS:-1500}" \
  --per_device_train_batch_size 32 --learning_rate 1e-3 --warmup_steps 0.06 --weight_decay 0.01 \
  --logging_steps 20 --eval_strategy steps --eval_steps 100 --save_steps 200 --save_total_limit 2
# Training and evaluation loss as a PNG (also written by pretrain as run/loss.png).
"$bf" plot "$out/run" -o "$out/loss.png"
# What the model just learned (issue 6): the held-out-masks evaluation of the final model (seeded masks, the
# same every run), then its top-5 guesses, with probabilities, for masked words. The run folder holds the
# weights; the vocabulary is the one train-tokenizer wrote to $out.
"$bf" evaluate --model "$out/run" --dataset "$out/prepared-john" --max-batches 20
"$bf" fill-mask --model "$out/run" --tokenizer "$out" \
  "In the beginning God created the heaven and the [MASK]." \
  "And God said, Let there be [MASK]: and there was light." \
  "The LORD is my [MASK]; I shall not want."
