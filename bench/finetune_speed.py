"""Fine-tuning speed, bertforge vs HF Trainer, in one run on one machine: the LibTorch matmul peak of each dtype,
then BertForSequenceClassification (2 labels) fine-tuned on sentence pairs by `bertforge finetune` and by HF
Trainer (AutoModelForSequenceClassification + DataCollatorWithPadding + Trainer, as the HF course and run_glue.py
with --pad_to_max_length False do it), fp32 and bf16 autocast, each side with its default optimizer
(adamw_torch_fused on both) and the same data, batches, learning rate, schedule, seed and threads.

    BERTFORGE_BIN=build/bertforge python bench/finetune_speed.py [--models mini base] [--precisions fp32 bf16]
        [--warmup 2] [--steps 12] [--base_steps 4] [--repeats 3] [--threads 2] [--out bench/results]

Data: synthetic sentence pairs with MRPC's length profile (GLUE cannot be downloaded here). MRPC pairs, [CLS] a
[SEP] b [SEP], in BERT WordPiece tokens: mean about 53, 95th percentile about 86, max about 103 (the figures
the fine-tuning issue gives, for bert-base-cased); the HF course, chapter 3, shows its first 8 training rows in
bert-base-uncased tokens: 50 59 47 67 59 50 62 32 (mean 53.3). Each pair's length is drawn from a normal
distribution (mean 52, sd 20, the sd giving that 95th percentile) cut to [16, 102], split between the two
sentences at a uniform 40-60 %, and each sentence is a run of King James Bible words (Debian's `bible`) from a
random verse, as many as reach its share of bert-base-uncased tokens (a last word of several pieces can
add one or two: hence mean 52 and max 102 drawn for about 53 and 103 got). The lengths the tokenizer gives are
measured and reported. 3668 rows (MRPC's training size), labels 1 with probability 0.68 (MRPC's share), JSONL
with sentence1/sentence2/label (run_glue.py's columns), seed 42.

Models: bert-mini (4 x 256) and bert-base (12 x 768), uncased vocabulary (30522), initialised by transformers
under seed 42 and saved once with the tokenizer (tests/fixtures/vocab/bert-base-uncased): both sides start from
that folder. Batch 32 (run_glue.py's usual), max_seq_length 128, lr 2e-5, linear schedule, no warm-up, weight
decay 0, seed 42, dropout on. Both sides read the rows in file order (train_sampling_strategy sequential), so
step s of each side is the same batch: the benchmark checks that HF's collator saw exactly the real and padded
token counts computed from the data, and credits bertforge with the same counts.

Timing, MFU and the report as bench/pretrain_speed.py (whose helpers this imports): --warmup steps untimed,
then the timed steps; MFU = 6 x non-embedding parameters (of BertForSequenceClassification) x tokens / time /
measured peak of the dtype, padded tokens (HF's floating_point_ops) and real ones ("real MFU"); peak RSS;
--repeats runs per side alternating, each side's median-speed run shown with all speeds. Writes
<out>/<date>-cpu-<host kind>-finetune.json and .md and prints the Markdown. The machine may be shared: the load
average is recorded before, between runs and after; quote ratios.
"""
import argparse
import bisect
import datetime
import hashlib
import itertools
import json
import os
import pathlib
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

from pretrain import HF_TIMING, ROOT, host, provenance
from pretrain_speed import (MODELS, STEP_LINE, matmul_peaks, median_run, non_embedding_params, peaks_text,
                            run_measured, summarise, table, write_report)

VOCAB = ROOT / "tests" / "fixtures" / "vocab" / "bert-base-uncased" / "vocab.txt"
MRPC = {"rows": 3668, "mean": 52, "sd": 20, "min": 16, "max": 102, "positive": 0.68}
BATCH, LR, SEED, MAX_LEN = 32, 2e-5, 42, 128

# HF Trainer fine-tuning on the same JSONL; writes log_history.json and step_times.json (time.perf_counter() at the
# end of each optimizer step, each step's real and padded tokens, the optimizer Trainer chose) into cfg["out"].
HF_RUN = """
import json, sys, time, torch, datasets, transformers
cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
transformers.set_seed(cfg["seed"])
model = transformers.AutoModelForSequenceClassification.from_pretrained(cfg["model"])
tok = transformers.AutoTokenizer.from_pretrained(cfg["model"])
rows = datasets.Dataset.from_list([json.loads(line) for line in open(cfg["train"])])
rows = rows.map(lambda b: tok(b["sentence1"], b["sentence2"], truncation=True, max_length=cfg["max_seq_length"]),
                batched=True)
pad = transformers.DataCollatorWithPadding(tok)
""" + HF_TIMING + """
collator = counting(pad)
args = transformers.TrainingArguments(output_dir=cfg["out"], per_device_train_batch_size=cfg["batch"],
    learning_rate=cfg["lr"], max_steps=cfg["steps"], logging_steps=1, save_strategy="no", seed=cfg["seed"],
    bf16=cfg["bf16"], report_to=[], use_cpu=True, dataloader_num_workers=0, disable_tqdm=True,
    train_sampling_strategy="sequential")
trainer = transformers.Trainer(model=model, args=args, data_collator=collator, train_dataset=rows,
                               callbacks=[StepTimes()])
trainer.train()
json.dump(trainer.state.log_history, open(cfg["out"] + "/log_history.json", "w"))
json.dump({"times": StepTimes.times, "tokens": tokens[:len(StepTimes.times)], "optim": str(args.optim.value)},
          open(cfg["out"] + "/step_times.json", "w"))
"""


def kjv_verses():
    """The King James Bible as a list of verses, each a list of words (Debian's `bible`, Genesis to Revelation)."""
    text = subprocess.run(["bible", "-f", "gen1:1-rev22:21"], check=True, capture_output=True, text=True).stdout
    return [line.split()[1:] for line in text.splitlines() if line.strip()]


def make_pairs(path, tok):
    """Writes MRPC-shaped sentence pairs to path (see the module's doc); returns each row's tokenized length."""
    verses = kjv_verses()
    words = list(itertools.chain.from_iterable(verses))
    starts = list(itertools.accumulate((len(v) for v in verses[:-1]), initial=0))
    vocab = sorted(set(words))
    pieces = dict(zip(vocab, (len(ids) for ids in tok(vocab, add_special_tokens=False)["input_ids"])))
    cum = list(itertools.accumulate(pieces[w] for w in words))
    rng = random.Random(SEED)

    def sentence(n):
        first = starts[rng.randrange(len(starts) - 40)]
        before = cum[first - 1] if first else 0
        last = bisect.bisect_left(cum, before + n, lo=first)
        return " ".join(words[first:last + 1])

    rows = []
    for _ in range(MRPC["rows"]):
        while not MRPC["min"] <= (length := round(rng.gauss(MRPC["mean"], MRPC["sd"]))) <= MRPC["max"]:
            pass
        first = round((length - 3) * rng.uniform(0.4, 0.6))
        rows.append({"sentence1": sentence(first), "sentence2": sentence(length - 3 - first),
                     "label": int(rng.random() < MRPC["positive"])})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [len(ids) for ids in tok([r["sentence1"] for r in rows], [r["sentence2"] for r in rows], truncation=True,
                                    max_length=MAX_LEN)["input_ids"]]


def length_stats(lengths, steps):
    """Length percentiles of the rows, and real/padded tokens of the first `steps` batches of BATCH rows in order."""
    q = statistics.quantiles(lengths, n=20)
    batches = [lengths[i:i + BATCH] for i in range(0, BATCH * steps, BATCH)]
    return ({"mean": statistics.mean(lengths), "p50": statistics.median(lengths), "p95": q[18], "max": max(lengths),
             "min": min(lengths)}, [sum(b) for b in batches], [len(b) * max(b) for b in batches])


def save_model(work, name, tok):
    """A random-init BertForSequenceClassification of the named size, saved by transformers with the tokenizer."""
    import torch
    import transformers
    folder = work / f"{name}-classifier"
    transformers.set_seed(SEED)
    cfg = {**MODELS[name], "vocab_size": 30522, "max_position_embeddings": 512, "num_labels": 2}
    transformers.BertForSequenceClassification(transformers.BertConfig(**cfg)).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder, cfg


def run_bertforge(bf, a, model, train, precision, out, steps, tokens, flops_per_token, peak):
    stamps = {}

    def on_line(line, t):
        m = STEP_LINE.match(line)
        if m:
            stamps[int(m.group(1))] = (t, int(m.group(2)))

    total = a.warmup + steps
    cmd = [bf, "finetune", "--threads", a.threads, "--device", "cpu", "--model", model, "--train_file", train,
           "--output_dir", out, "--overwrite_output_dir", "--per_device_train_batch_size", BATCH, "--learning_rate", LR,
           "--max_steps", total, "--max_seq_length", MAX_LEN, "--logging_steps", "1", "--save_strategy", "no",
           "--seed", SEED, "--train_sampling_strategy", "sequential"] + (["--bf16"] if precision == "bf16" else [])
    lines, rss = run_measured(cmd, on_line)
    optim = next((m.group(1) for m in map(re.compile(r"optim (\S+)").search, lines) if m), "?")
    state = json.loads((out / "trainer_state.json").read_text())
    losses = [e["loss"] for e in state["log_history"] if "loss" in e]
    times = [stamps[s][0] for s in range(1, total + 1)]
    # bertforge's own count of real tokens, from each line's tok/s over that step's interval (a check only).
    own_real = sum(stamps[s][1] * (times[s - 1] - times[s - 2]) for s in range(a.warmup + 1, total + 1))
    result = summarise(times, tokens[0], tokens[1], losses, a.warmup, rss, flops_per_token, peak, BATCH)
    return {**result, "optim": optim, "total_flos": state.get("total_flos"),
            "own_real_tokens_per_s": own_real / result["timed_s"]}


def run_hf(a, model, train, precision, out, steps, tokens, flops_per_token, peak):
    out.mkdir(parents=True, exist_ok=True)
    cfg = dict(threads=a.threads, model=str(model), train=str(train), out=str(out), lr=LR, steps=a.warmup + steps,
               batch=BATCH, seed=SEED, max_seq_length=MAX_LEN, bf16=precision == "bf16")
    _, rss = run_measured([sys.executable, "-c", HF_RUN, json.dumps(cfg)])
    record = json.loads((out / "step_times.json").read_text())
    losses = [e["loss"] for e in json.loads((out / "log_history.json").read_text()) if "loss" in e]
    real, padded = (list(x) for x in zip(*record["tokens"]))
    if (real, padded) != (tokens[0], tokens[1]):
        sys.exit(f"HF's batches differ from the data's: real {real} vs {tokens[0]}, padded {padded} vs {tokens[1]}")
    return {**summarise(record["times"], real, padded, losses, a.warmup, rss, flops_per_token, peak, BATCH),
            "optim": record["optim"]}


def markdown(r):
    h, d = r["host"], r["data"]
    out = [f"### CPU fine-tuning speed on an {h['kind']} host, {r['date']} ({r['machine']})", "",
           f"Host: {h['model']}, family {h['family']} model {h['model_number']}, ATen {h['aten']}, bertforge's fp32 "
           f"linear layers on {h['bertforge_fp32_gemm']}, flags "
           f"{' '.join(h['flags']) or 'none of avx2 avx512f avx512_bf16 amx_bf16'}.", "",
           f"bertforge: checkout {r['bertforge_commit']}, binary built {r['bertforge_binary']['built']} (sha256 "
           f"{r['bertforge_binary']['sha256'][:12]}; `bertforge finetune`), torch {r['torch']}, transformers "
           f"{r['transformers']} (Trainer + DataCollatorWithPadding), {r['threads']} threads; "
           f"BertForSequenceClassification, 2 labels, random init saved once by transformers (both sides load it); "
           f"batch {r['batch']}, max_seq_length {r['max_seq_length']}, lr {r['lr']}, seed {r['seed']}, rows in file "
           f"order on both sides (the same batches; HF's collator counts checked against the data). Data: "
           f"{d['rows']} synthetic KJV sentence pairs with MRPC's length profile: tokens per pair mean {d['mean']:.1f}, "
           f"median {d['p50']:.0f}, 95th percentile {d['p95']:.0f}, min {d['min']}, max {d['max']} (MRPC: mean ~53, "
           f"p95 ~86, max ~103). {r['warmup']} warm-up + {r['steps']} (bert-mini) / {r['base_steps']} (bert-base) "
           f"timed steps, {r['repeats']} run(s) per side alternating, the median shown; optimizer: each side's "
           f"default ({r['rows'][0]['bertforge']['optim']} / {r['rows'][0]['hf']['optim']}). "
           f"{peaks_text(r['peaks'])}. MFU = 6 x non-embedding parameters x "
           f"tokens (padding included, HF's floating_point_ops) / time / peak of the dtype; real MFU counts real "
           f"tokens only. Load average (1 min) {r['load_before']:.1f} before, {r['load_after']:.1f} after, "
           f"{min(r['loads']):.1f} to {max(r['loads']):.1f} between runs (shared 2-core machine).",
           ""]
    return "\n".join(out + table(r["rows"])) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["mini", "base"], choices=list(MODELS))
    ap.add_argument("--precisions", nargs="+", default=["fp32", "bf16"], choices=["fp32", "bf16"])
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=12, help="timed steps of bert-mini")
    ap.add_argument("--base_steps", type=int, default=4, help="timed steps of bert-base (tens of seconds each here)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per side, alternating; each side reports its median")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--keep", help="folder to keep run outputs in (default: a temporary one)")
    ap.add_argument("--render", metavar="JSON", help="only print (and rewrite beside it) the Markdown of a report")
    a = ap.parse_args()
    if a.render:
        md = markdown(json.loads(pathlib.Path(a.render).read_text()))
        pathlib.Path(a.render).with_suffix(".md").write_text(md)
        print(md)
        return
    if a.warmup < 2:
        ap.error("--warmup must be at least 2 (the first timed interval needs a stamped step before it)")
    bf = os.environ.get("BERTFORGE_BIN", str(ROOT / "build" / "bertforge"))
    work = pathlib.Path(a.keep or tempfile.mkdtemp(prefix="bf_bench_finetune_"))
    work.mkdir(parents=True, exist_ok=True)
    import torch
    import transformers
    binary = hashlib.sha256(pathlib.Path(bf).read_bytes()).hexdigest()
    built = datetime.datetime.fromtimestamp(os.path.getmtime(bf), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_before, loads = os.getloadavg()[0], []
    peaks = matmul_peaks(a.threads, a.precisions)
    shutil.copy(VOCAB, work / "vocab.txt")
    tok = transformers.BertTokenizerFast(str(work / "vocab.txt"), do_lower_case=True)
    train = work / "pairs.jsonl"
    lengths = make_pairs(train, tok)
    stats, _, _ = length_stats(lengths, 0)
    print(f"pairs: {len(lengths)} rows, tokens mean {stats['mean']:.1f}, median {stats['p50']:.0f}, "
          f"p95 {stats['p95']:.0f}, min {stats['min']}, max {stats['max']}", flush=True)
    rows = []
    for model in a.models:
        folder, cfg = save_model(work, model, tok)
        flops_per_token = 6 * non_embedding_params(cfg, "BertForSequenceClassification")
        steps = a.base_steps if model == "base" else a.steps
        _, real, padded = length_stats(lengths, a.warmup + steps)
        for precision in a.precisions:
            peak = peaks[precision]["peak_flops"]
            runs = {"bertforge": [], "hf": []}
            for _ in range(a.repeats):
                runs["bertforge"].append(run_bertforge(bf, a, folder, train, precision, work / f"bf-{model}-{precision}",
                                                       steps, (real, padded), flops_per_token, peak))
                loads.append(os.getloadavg()[0])
                runs["hf"].append(run_hf(a, folder, train, precision, work / f"hf-{model}-{precision}", steps,
                                         (real, padded), flops_per_token, peak))
                loads.append(os.getloadavg()[0])
                print(f"  bert-{model} {precision} run {len(runs['hf'])}: bertforge "
                      f"{runs['bertforge'][-1]['seq_per_s']:.2f}, HF {runs['hf'][-1]['seq_per_s']:.2f} seq/s, "
                      f"load {loads[-1]:.1f}", flush=True)
            ours, theirs = (median_run(runs[side]) for side in ["bertforge", "hf"])
            rows.append({"model": f"bert-{model}", "precision": precision, "non_embedding_params": flops_per_token // 6,
                         "timed_steps": steps, "bertforge": ours, "hf": theirs})
            print(f"bert-{model} {precision}: bertforge {ours['seq_per_s']:.2f} seq/s, HF {theirs['seq_per_s']:.2f} "
                  f"seq/s ({ours['seq_per_s'] / theirs['seq_per_s']:.2f}x)", flush=True)
    if hashlib.sha256(pathlib.Path(bf).read_bytes()).hexdigest() != binary:
        sys.exit(f"{bf} changed during the run: run again")
    commit, machine = provenance()
    date = datetime.datetime.now(datetime.timezone.utc)
    report = {"date": date.strftime("%Y-%m-%d %H:%M UTC"), "machine": machine, "host": host(),
              "bertforge_commit": commit, "bertforge_binary": {"path": bf, "sha256": binary, "built": built},
              "torch": torch.__version__, "transformers": transformers.__version__,
              "threads": a.threads, "warmup": a.warmup, "steps": a.steps, "base_steps": a.base_steps,
              "repeats": a.repeats, "batch": BATCH, "lr": LR, "seed": SEED, "max_seq_length": MAX_LEN,
              "data": {"rows": len(lengths), "source": "KJV words (Debian bible), MRPC length profile",
                       "target": MRPC, **stats},
              "peaks": peaks, "load_before": load_before, "loads": loads, "load_after": os.getloadavg()[0],
              "flops": "6 x non-embedding parameters x tokens, padding included (HF floating_point_ops)", "rows": rows}
    write_report(report, markdown(report), a.out, date, "finetune", work)


if __name__ == "__main__":
    main()
