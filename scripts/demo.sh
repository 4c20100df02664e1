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
"$bf" prepare "$out/kjv-verses.txt" --vocab "$out" -o "$out/prepared" --export-hf "$out/prepared-hf"
