#!/usr/bin/env bash
# Writes the seed inputs of one fuzz target into OUT: tiny files from the test data (BERTFORGE_DATA, the
# tiny-bert model's tokenizer files and config), a few lines of each corpus format, and binary files made by
# the bertforge binary itself (shards, an HF folder) or by pyarrow (Parquet). Nothing here is committed data:
# seeds are made afresh from what the checkout and the test data hold.
# usage: fuzz/seeds.sh TARGET OUT BERTFORGE_BIN
set -euo pipefail
target="$1" out="$2" bin="$3"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${BERTFORGE_DATA:-$root/tests/fixtures}"
python="${BERTFORGE_PYTHON:-${BERTFORGE_VENV:-$HOME/.local/share/bertforge/venv}/bin/python}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
tiny="$data/tiny-bert"
nul() { printf '\0'; }
# A small vocabulary and corpus for the binary formats: the tiny model's vocabulary when the data is here.
vocab="$tmp/vocab.txt"
if [[ -f "$tiny/vocab.txt" ]]; then cp "$tiny/vocab.txt" "$vocab"
else printf '%s\n' '[PAD]' '[UNK]' '[CLS]' '[SEP]' '[MASK]' the a of and . , in he she it was un '##aff' '##able' > "$vocab"; fi
corpus() {
  printf 'The first sentence of a document. And the second one here.\nA third line, in the same block.\n\n'
  printf 'Another document begins. It has two sentences.\nThe end of it.\n'
}

case "$target" in
  vocab)
    cp "$vocab" "$out/tiny"
    printf '[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n##s\r\n' > "$out/crlf" ;;
  tokenizer_json)
    if [[ -f "$tiny/tokenizer.json" ]]; then
      { cat "$tiny/tokenizer.json"; nul; cat "$tiny/tokenizer_config.json"; } > "$out/tiny"
      cp "$tiny/tokenizer.json" "$out/tiny-alone"
    fi
    printf '%s' '{"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"[MASK]":4,"a":5,"##b":6}},"normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"added_tokens":[{"id":0,"content":"[PAD]","special":true}],"decoder":{"type":"WordPiece","prefix":"##","cleanup":true}}' > "$out/minimal"
    { cat "$out/minimal"; nul; printf '%s' '{"do_lower_case":false,"model_max_length":1e30,"cls_token":{"content":"[CLS]"},"strip_accents":false}'; } > "$out/with-config" ;;
  config)
    for f in "$tiny/config.json" "$data/vocab/bert-base-cased/config.json" "$root/tests/golden/hf_optimizer/config.json"; do
      [[ -f "$f" ]] && cp "$f" "$out/$(basename "$(dirname "$f")")"
    done
    printf '%s' '{"vocab_size":99,"hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":37,"hidden_act":"gelu_new","max_position_embeddings":64,"model_type":"bert","architectures":["BertForPreTraining"]}' > "$out/small" ;;
  training_args)
    printf '%s' '{"output_dir":"out","learning_rate":1e-4,"per_device_train_batch_size":16,"num_train_epochs":2.5,"max_steps":-1,"lr_scheduler_type":"cosine","warmup_ratio":0.1,"logging_steps":0.1,"eval_strategy":"steps","save_total_limit":3,"bf16":true,"optim":"adamw_torch_fused","resume_from_checkpoint":null,"evaluation-strategy":"epoch"}' > "$out/args" ;;
  recipe)
    printf '%s' '{"model":"mini","phases":[{"train_data":"p128","eval_data":"v128","max_steps":10,"per_device_train_batch_size":64},{"train_data":"p512","learning_rate":2e-5,"warmup_steps":0.5}]}' > "$out/recipe" ;;
  safetensors)
    header='{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   '
    printf '\x58\x00\x00\x00\x00\x00\x00\x00%s\x00\x00\x80\x3f\x00\x00\x00\x40' "$header" > "$out/seed" ;;
  shards|hf_arrow)
    corpus > "$tmp/corpus.txt"
    "$bin" prepare "$tmp/corpus.txt" --vocab "$vocab" --max_seq_length 24 -o "$tmp/prepared" --export-hf "$tmp/hf" >/dev/null 2>&1
    "$bin" prepare "$tmp/corpus.txt" --vocab "$vocab" --no-nsp --max_seq_length 16 -o "$tmp/mlm" >/dev/null 2>&1
    if [[ "$target" == shards ]]; then
      for d in prepared mlm; do { cat "$tmp/$d/manifest.json"; nul; cat "$tmp/$d/shard-00000.bin"; } > "$out/$d"; done
      # Without the checksum too: a mutated shard then reaches the header and id checks instead of the CRC's.
      { grep -v '"crc32":' "$tmp/prepared/manifest.json"; nul; cat "$tmp/prepared/shard-00000.bin"; } > "$out/no-crc"
    else
      { cat "$tmp/hf/state.json"; nul; cat "$tmp/hf"/data-00000-of-*.arrow; } > "$out/ids"
      if "$python" -c 'import pyarrow' 2>/dev/null; then
        "$python" - "$tmp/text.arrow" <<'PY'
import sys, pyarrow as pa
t = pa.table({"text": ["First line. Second sentence.", None, "Another record\nwith two lines."]})
with pa.ipc.new_stream(sys.argv[1], t.schema) as w:
    w.write_table(t)
PY
        { printf '%s' '{"_data_files":[{"filename":"data-00000-of-00001.arrow"}],"_fingerprint":"0","_format_type":null}'; nul
          cat "$tmp/text.arrow"; } > "$out/text"
      fi
    fi ;;
  trainer_state)
    printf '%s' '{"best_global_step":2,"best_metric":1.5,"best_model_checkpoint":"out/checkpoint-2","epoch":0.5,"eval_steps":2,"global_step":4,"is_hyper_param_search":false,"is_local_process_zero":true,"is_world_process_zero":true,"log_history":[{"epoch":0.25,"grad_norm":3.5,"learning_rate":5e-05,"loss":9.9,"step":2},{"epoch":0.25,"eval_loss":1.5,"step":2}],"logging_steps":2,"max_steps":8,"num_input_tokens_seen":0,"num_train_epochs":1,"save_steps":2,"stateful_callbacks":{},"total_flos":1234.0,"train_batch_size":8,"trial_name":null,"trial_params":null}' > "$out/state" ;;
  resume_point)
    printf '%s' '{"format":"bertforge-resume","version":1,"phase":0,"phase_start_step":0,"loader":{"epoch":1,"batch":3}}' > "$out/state" ;;
  text)
    # The first byte picks the layout (fuzz/text_fuzz.cpp): 0 automatic, 1 blocks, 4 wikitext, 5 bible.
    { printf '\x01'; corpus; } > "$out/blocks"
    { printf '\x04'; printf ' = Title = \n\n Some text @-@ here , 1 @,@ 000 .\n = = Sub = = \n More .\n'; } > "$out/wikitext"
    [[ -f "$data/wikitext-103-raw/wiki.valid.raw" ]] && { printf '\x00'; head -c 2000 "$data/wikitext-103-raw/wiki.valid.raw"; } > "$out/wiki"
    { printf '\x05'; if command -v bible >/dev/null; then bible -f gen1:1-gen1:3 exo1:1 2>/dev/null
      else printf 'Ge1:1 In the beginning God created the heaven and the earth.\nGe1:2 And the earth was without form.\n'; fi; } > "$out/bible" ;;
  jsonl)
    { printf '\x00'; printf '%s\n' '{"text":"A first record. With two sentences."}' '' '{"text":"Two\nlines","id":2}' '{"text":"é \u00e9 \ud83d\ude00"}'; } > "$out/records" ;;
  parquet)
    if "$python" -c 'import pyarrow' 2>/dev/null; then
      "$python" - "$out/corpus" <<'PY'
import sys, pyarrow as pa, pyarrow.parquet as pq
t = pa.table({"text": ["First record. Two sentences.", None, "Second\nrecord."], "id": [1, 2, 3]})
pq.write_table(t, sys.argv[1], row_group_size=2)
PY
    fi ;;
  *) echo "seeds.sh: unknown target $target" >&2; exit 2 ;;
esac
