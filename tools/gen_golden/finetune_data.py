"""Writes the fine-tuning data fixtures (tests/fixtures/finetune/) and what HF makes of them
(tests/golden/finetune_data/cases.json), the oracle for tests/data/labelled_files_test.cpp.

The fixtures are small samples written here by hand in each format bertforge reads (GLUE's TSV files as
distributed, CSV, JSONL, Parquet, an HF save_to_disk folder, CoNLL); the Parquet file and the HF folder are made
with `datasets`. The expected encodings come from HF itself: the files are loaded as HF loads them (the GLUE
TSVs as datasets' glue script reads them, CSV/JSON/Parquet through `datasets.load_dataset`, the folder through
`load_from_disk`, CoNLL as datasets' conll2003 script reads it), then labelled and tokenized with run_glue.py's,
run_classification.py's and run_ner.py's preprocessing, restated below with HF's own tokenizer calls:
`tokenizer(a, b, truncation=True, max_length=N)` and `tokenizer(words, is_split_into_words=True,
truncation=True, max_length=N)` + word_ids(). Two cases are bertforge's extensions, marked "extension": a CSV
label split at commas (multi_label) and ClassLabel names kept as id2label (see labelled_files.h).

Run: ~/.local/share/bertforge/venv/bin/python tools/gen_golden/finetune_data.py
(writes the fixtures, then the golden; tests/python/test_finetune_data.py checks both are what this writes.)
"""
import csv
import json
import os
import pathlib
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import datasets  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from datasets import ClassLabel, Dataset, Features, List, Value  # noqa: E402
from transformers import BertTokenizerFast  # noqa: E402

SOURCE = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = SOURCE / "tests" / "fixtures" / "finetune"
GOLDEN = SOURCE / "tests" / "golden" / "finetune_data" / "cases.json"
IGNORE = -100
BOM = "\ufeff"

# --- the fixtures -----------------------------------------------------------------------------------------

LONG = ("The committee, which had met every Tuesday since the spring of 1998, finally agreed that the "
        "proposal was far too expensive to carry out before the end of the decade")
TEXT_FILES = {
    # CoLA: no header; source, label, original label, sentence.
    "glue/cola/train.tsv": "bf01\t1\t\tThe gardener, who had never seen snow, won't plant tulips until May.\n"
                           "bf01\t0\t*\tThe kettle drank the morning.\n"
                           "bf02\t1\t\tThe café served crème brûlée to the naïve tourists.\n",
    "glue/cola/dev.tsv": "bf03\t0\t*\tThe more she reads, the wiser she gets gets.\n"
                         "bf03\t1\t\tMaria laughed herself into tears.\n",
    "glue/sst2/train.tsv": "sentence\tlabel\n"
                           "a slow , muddled plot that forgets its own heroes \t0\n"
                           "offers no charm , only recycled jokes \t0\n"
                           "that trusts its actors and delivers \"something\" quietly lovely \t1\n",
    # MRPC as download_glue_data.py writes it: the header line, byte-order mark included, from Microsoft's file.
    "glue/mrpc/train.tsv": BOM + "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                           "1\t100001\t100002\tThe mayor said the new bridge , which cost $ 42 million , will "
                           "open \" within weeks \" .\tThe new $ 42 million bridge will open within weeks , the mayor "
                           "said , calling the delay \" regrettable \" .\n"
                           "0\t100003\t100004\tShares of Northwind Traders fell 3.5 percent on Tuesday after the "
                           "company cut its forecast .\tNorthwind Traders raised its dividend in 2001 and again in "
                           "2004 , the company 's filings show .\n",
    "glue/mrpc/dev.tsv": BOM + "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
                         "1\t100005\t100006\tThe council 's vote doesn 't change the city 's long-term housing "
                         "plan .\tThe vote does not change our long-term housing plan .\n",
    "glue/stsb/train.tsv": "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
                           "0\tmain-captions\tbf\t2026\t0001\tnone\tnone\tA red kite is flying.\t"
                           "A kite is flying in the wind.\t5.000\n"
                           "1\tmain-captions\tbf\t2026\t0002\tnone\tnone\tA woman is playing a small violin."
                           "\tA woman is playing a violin.\t3.800\n"
                           f"2\tmain-news\tbf\t2026\t0003\tnone\tnone\t{LONG}\t{LONG}\t0.333\n",
    "glue/stsb/dev.tsv": "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n"
                         "0\tmain-captions\tbf\t2026\t0004\tnone\tnone\tA boy in a yellow coat is running."
                         "\tA boy wearing a yellow coat is running.\t5.000\n",
    # QQP: the third row lacks its label field, a "corrupted row" HF's glue script leaves out.
    "glue/qqp/train.tsv": "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                          "1\t11\t12\tWhat is it like to study astronomy at night? Could you share your own "
                          "routine?\tWhich telescope is good enough for a beginner?\t0\n"
                          "2\t13\t14\tHow do I stop procrastinating?\tHow can you stop putting things "
                          "off?\t1\n"
                          "3\t15\t16\tA question without a label?\tIts pair\n",
    "glue/mnli/train.tsv": "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                           "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n"
                           "0\t1\t1n\tgovernment\t( ( The budget ) grew )\t( ( Taxes ) rose )"
                           "\t(ROOT (S))\t(ROOT (S))\tThe budget office reported two main costs - staff "
                           "and buildings.\tStaff and buildings are what make the budget grow. \tneutral\t"
                           "neutral\n"
                           "1\t2\t2e\ttelephone\t( you ( see ) )\t( You ( win ) )\t(ROOT (S))\t(ROOT (S))"
                           "\tyou see in the autumn and i think at at your club uh you win them from the other "
                           "team\tYou win them from the other team in autumn.\tentailment\t"
                           "entailment\n"
                           "2\t3\t3c\tfiction\t( One ( of ) )\t( A ( guard ) )\t(ROOT (S))\t(ROOT (S))\t"
                           "One of the guards will follow your orders exactly.\tNone of the guards will listen "
                           "to anything you say.\tcontradiction\tcontradiction\n",
    "glue/mnli/dev_matched.tsv": "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                                 "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\t"
                                 "label4\tlabel5\tgold_label\n"
                                 "0\t4\t4n\tslate\t( ( The ( new ) ) )\t( The ( rules ) )\t(ROOT (S))\t"
                                 "(ROOT (S))\tThe new rules are fine enough\tEveryone truly loves the newest "
                                 "rules \tneutral\tentailment\tneutral\tneutral\tneutral\tneutral\n",
    "glue/qnli/train.tsv": "index\tquestion\tsentence\tlabel\n"
                           "0\tWhen did the second lighthouse open?\tUnlike the wooden tower before it and most "
                           "of the towers built after it, the stone lighthouse took a sturdier and more costly "
                           "approach to its design, with walls that did not crack in storms and a lamp that "
                           "could be seen from the far side of the bay.\tnot_entailment\n"
                           "1\tWhich ferries often stop at islands several kilometres from one "
                           "another?\tWhen the coastal ferries run in summer, they may call at several dozen "
                           "small islands spread far apart.\tentailment\n",
    "glue/rte/train.tsv": "index\tsentence1\tsentence2\tlabel\n"
                          "0\tNo Gold Found in the River Yet.\tGold Found in the River.\tnot_entailment\n"
                          "1\tA quiet square, after the old market closed, became a place for concerts.\tThe "
                          "old market closed.\tentailment\n",
    "glue/wnli/train.tsv": "index\tsentence1\tsentence2\tlabel\n"
                           "0\tI pushed a nail through the cork. When I pulled the nail out, it had a hole.\tThe "
                           "cork had a hole.\t1\n"
                           "1\tAnna couldn't reach the shelf with Tom beside her because she is so short.\t"
                           "Anna is so short.\t1\n"
                           "2\tThe guards locked all of the doors. They were trying to keep the storm "
                           "out of the hall.\tThe guards were trying to keep the storm out of the "
                           "hall.\t1\n"
                           "3\tSam copies Leo's style in everything. He admires him greatly.\tSam "
                           "admires him greatly.\t0\n",
    # CSV: quoted commas, doubled quotes and a newline inside a field; string labels; no sentence1/sentence2, so
    # the first two non-label columns are the pair.
    "csv/train.csv": "review,response,label\n"
                     "\"Great, really great.\",\"Thanks, we think so too!\",positive\n"
                     "\"It said \"\"broken\"\" on the box\nand it was.\",Sorry to hear that.,negative\n"
                     "Déjà vu: the naïve café again,\"Merci, à bientôt\",neutral\n"
                     "\n"
                     "\"" + LONG + "\",\"" + LONG + "\",negative\n",
    "csv/valid.csv": "review,response,label\n"
                     "\"Fine, I guess\",Okay.,neutral\n"
                     "Terrible.,\"We are sorry, truly.\",negative\n",
    # Float labels: regression; one text column.
    "csv/scores.csv": "text,label\n"
                      "\"A red kite is flying.\",4.5\n"
                      "A cook is slicing bread.,0.25\n"
                      "\"東京 is a city, 😀 and naïve\",3\n",
    # bertforge's extension: a comma-separated label list (multi_label).
    "csv/multi.csv": "sentence,label\n"
                     "\"A film about sport, and love\",\"sport,romance\"\n"
                     "A dark thriller,thriller\n"
                     "A romantic thriller,\"romance,thriller\"\n",
    # Integer labels that sort differently as numbers and as strings (2 < 10); sentence1/sentence2 win over the
    # first columns.
    "jsonl/train.jsonl": '{"idx": 0, "premise": "unused", "sentence1": "The cat sat.", '
                         '"sentence2": "A cat was sitting.", "label": 10}\n'
                         '{"idx": 1, "premise": "unused", "sentence1": "Über naïve façades", '
                         '"sentence2": "ÉCOLE Ørsted", "label": 2}\n'
                         "\n"
                         '{"idx": 2, "premise": "unused", "sentence1": "' + LONG + '", "sentence2": "Short.", '
                         '"label": 2}\n',
    "jsonl/valid.jsonl": '{"idx": 3, "premise": "unused", "sentence1": "Dogs bark.", "sentence2": "A dog barked.", '
                         '"label": 10}\n',
    "jsonl/multi.jsonl": '{"sentence": "A film about sport and love", "label": ["sport", "romance"]}\n'
                         '{"sentence": "A dark thriller", "label": ["thriller"]}\n'
                         '{"sentence": "Nothing at all", "label": []}\n',
    # CoNLL-2003: -DOCSTART- lines, words with punctuation inside (split further by BertPreTokenizer), accents.
    "ner/train.conll": "-DOCSTART- -X- -X- O\n"
                       "\n"
                       "UN NNP B-NP B-ORG\n"
                       "backs VBZ B-VP O\n"
                       "Dutch JJ B-NP B-MISC\n"
                       "plan NN I-NP O\n"
                       "to TO B-VP O\n"
                       "protect VB I-VP O\n"
                       "Danish JJ B-NP B-MISC\n"
                       "herring NN I-NP O\n"
                       ". . O O\n"
                       "\n"
                       "Maria NNP B-NP B-PER\n"
                       "Lopez-Garcia NNP I-NP I-PER\n"
                       "visited VBD B-VP O\n"
                       "Zürich NNP B-NP B-LOC\n"
                       "on IN B-PP O\n"
                       "U.S.-led JJ B-NP B-MISC\n"
                       "talks NNS I-NP O\n"
                       "(2026-12-07) CD B-NP O\n"
                       "\n"
                       "-DOCSTART- -X- -X- O\n"
                       "\n"
                       "São NNP B-NP B-LOC\n"
                       "Paulo NNP I-NP I-LOC\n",
    "ner/valid.conll": "-DOCSTART- -X- -X- O\n"
                       "\n"
                       "Lisbon NNP B-NP B-LOC\n"
                       "2026-12-07 CD I-NP O\n",
    "ner/train.jsonl": '{"id": "0", "tokens": ["Café", "owner", "Jean-Luc", "Picard", "sued", "Acme", "Corp."], '
                       '"ner_tags": ["O", "O", "B-PER", "I-PER", "O", "B-ORG", "I-ORG"]}\n'
                       '{"id": "1", "tokens": ["北京", "is", "big", "!"], "ner_tags": ["B-LOC", "O", "O", "O"]}\n'
                       # Words that make no piece (empty, a zero-width space), a space inside a word, a combining
                       # accent, a special token, an emoji ([UNK]), written with JSON's \u escapes.
                       + json.dumps({"id": "2", "tokens": ["Hello", "", "New York", "\u200b", "x\u0301", "[SEP]",
                                                          "\U0001F600", "end"],
                                     "ner_tags": ["O", "B-LOC", "B-LOC", "O", "B-PER", "O", "B-ORG", "O"]}) + "\n",
}


def write_fixtures(root):
    for rel, text in TEXT_FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    # Parquet (datasets' to_parquet): string labels, a text column named other than the defaults.
    Dataset.from_dict({"text": ["An Arrow row.", "Another, longer Arrow row with a naïve word.", "Third."],
                       "label": ["yes", "no", "yes"]}).to_parquet(str(root / "arrow" / "train.parquet"))
    # The same with a ClassLabel label, its names in the file's "huggingface" metadata.
    Dataset.from_dict({"text": ["Kept as ids.", "With names."], "label": [2, 0]},
                      features=Features({"text": Value("string"), "label": ClassLabel(names=["a", "b", "c"])})
                      ).to_parquet(str(root / "arrow" / "classes.parquet"))
    # A GLUE task in the layout of HF's own glue dataset (nyu-mll/glue's Parquet files), and stsb as a CSV in that
    # layout whose scores are all written as integers (the task, not the file, makes them regression targets).
    Dataset.from_dict({"premise": ["The shop opens at nine.", "Rain fell all night."],
                       "hypothesis": ["The shop is open in the morning.", "The night was dry."],
                       "label": [0, 2], "idx": [0, 1]},
                      features=Features({"premise": Value("string"), "hypothesis": Value("string"),
                                         "label": ClassLabel(names=["entailment", "neutral", "contradiction"]),
                                         "idx": Value("int32")})
                      ).to_parquet(str(root / "glue" / "mnli" / "hub.parquet"))
    (root / "glue" / "stsb" / "hub.csv").write_text("sentence1,sentence2,label,idx\n"
                                                    "A dog runs.,A dog is running.,5,0\n"
                                                    "\"A cat sleeps, curled up.\",A bird sings.,0,1\n")
    # An HF folder with a ClassLabel label, and one for tokens with ClassLabel tags.
    Dataset.from_dict({"sentence1": ["Saved to disk.", "Loaded back."], "sentence2": ["By datasets.", "By HF."],
                       "label": [1, 0]},
                      features=Features({"sentence1": Value("string"), "sentence2": Value("string"),
                                         "label": ClassLabel(names=["different", "same"])})
                      ).save_to_disk(str(root / "arrow" / "hf_pairs"))
    Dataset.from_dict({"tokens": [["Anna", "met", "Jean-Pierre", "in", "Montréal", "."], ["Hi", "!"]],
                       "ner_tags": [[1, 0, 1, 2, 3, 0], [0, 0]]},
                      features=Features({"tokens": List(Value("string")),
                                         "ner_tags": List(ClassLabel(names=["O", "B-PER", "I-PER", "B-LOC"]))})
                      ).save_to_disk(str(root / "arrow" / "hf_ner"))


# --- the cases: a fixture, the options (labelled_files.h's names), the training case it is evaluated against --

CASES = [
    dict(name="cola", file="glue/cola/train.tsv", options=dict(task_name="cola")),
    dict(name="cola_dev", file="glue/cola/dev.tsv", options=dict(task_name="cola"), train="cola"),
    dict(name="sst2", file="glue/sst2/train.tsv", options=dict(task_name="sst2")),
    dict(name="mrpc", file="glue/mrpc/train.tsv", options=dict(task_name="mrpc", max_seq_length=24)),
    dict(name="mrpc_dev", file="glue/mrpc/dev.tsv", options=dict(task_name="mrpc", max_seq_length=24), train="mrpc"),
    dict(name="stsb", file="glue/stsb/train.tsv", options=dict(task_name="stsb", max_seq_length=20)),
    dict(name="stsb_dev", file="glue/stsb/dev.tsv", options=dict(task_name="stsb"), train="stsb"),
    dict(name="qqp", file="glue/qqp/train.tsv", options=dict(task_name="qqp", max_seq_length=16)),
    dict(name="mnli", file="glue/mnli/train.tsv", options=dict(task_name="mnli")),
    dict(name="mnli_dev_matched", file="glue/mnli/dev_matched.tsv", options=dict(task_name="mnli"), train="mnli"),
    dict(name="qnli", file="glue/qnli/train.tsv", options=dict(task_name="qnli", max_seq_length=32)),
    dict(name="mnli_hub", file="glue/mnli/hub.parquet", options=dict(task_name="mnli"), extension=True),
    dict(name="stsb_hub", file="glue/stsb/hub.csv", options=dict(task_name="stsb"), extension=True),
    dict(name="rte", file="glue/rte/train.tsv", options=dict(task_name="rte")),
    dict(name="wnli", file="glue/wnli/train.tsv", options=dict(task_name="wnli")),
    dict(name="csv", file="csv/train.csv", options=dict(max_seq_length=20)),
    dict(name="csv_valid", file="csv/valid.csv", options=dict(max_seq_length=20), train="csv"),
    dict(name="csv_uncased", file="csv/train.csv", options=dict(max_seq_length=20), lower_case=True),
    dict(name="csv_text_column", file="csv/train.csv", options=dict(text_column="response")),
    dict(name="csv_regression", file="csv/scores.csv", options=dict()),
    dict(name="csv_multi_label", file="csv/multi.csv", options=dict(multi_label=True), extension=True),
    dict(name="jsonl", file="jsonl/train.jsonl", options=dict(max_seq_length=16)),
    dict(name="jsonl_valid", file="jsonl/valid.jsonl", options=dict(max_seq_length=16), train="jsonl"),
    dict(name="jsonl_uncased", file="jsonl/train.jsonl", options=dict(max_seq_length=16), lower_case=True),
    dict(name="jsonl_multi_label", file="jsonl/multi.jsonl", options=dict()),
    dict(name="parquet", file="arrow/train.parquet", options=dict()),
    dict(name="parquet_classes", file="arrow/classes.parquet", options=dict(), extension=True),
    dict(name="hf_pairs", file="arrow/hf_pairs", options=dict(), extension=True),
    dict(name="conll", file="ner/train.conll", options=dict(token_classification=True)),
    dict(name="conll_all_tokens", file="ner/train.conll",
         options=dict(token_classification=True, label_all_tokens=True)),
    dict(name="conll_short", file="ner/train.conll", options=dict(token_classification=True, max_seq_length=8)),
    dict(name="conll_valid", file="ner/valid.conll", options=dict(token_classification=True), train="conll"),
    dict(name="conll_uncased", file="ner/train.conll", options=dict(token_classification=True), lower_case=True),
    dict(name="ner_jsonl", file="ner/train.jsonl",
         options=dict(token_classification=True, label_all_tokens=True)),
    dict(name="ner_hf", file="arrow/hf_ner", options=dict(token_classification=True, label_all_tokens=True)),
]

# datasets' glue script: (text column, pair column, label column, ClassLabel names; None for stsb's float).
GLUE = {
    "cola": ("sentence", None, "is_acceptable", ["unacceptable", "acceptable"]),
    "sst2": ("sentence", None, "label", ["negative", "positive"]),
    "mrpc": ("#1 String", "#2 String", "Quality", ["not_equivalent", "equivalent"]),
    "stsb": ("sentence1", "sentence2", "score", None),
    "qqp": ("question1", "question2", "is_duplicate", ["not_duplicate", "duplicate"]),
    "mnli": ("sentence1", "sentence2", "gold_label", ["entailment", "neutral", "contradiction"]),
    "qnli": ("question", "sentence", "label", ["entailment", "not_entailment"]),
    "rte": ("sentence1", "sentence2", "label", ["entailment", "not_entailment"]),
    "wnli": ("sentence1", "sentence2", "label", ["not_entailment", "entailment"]),
}


def glue_rows(path, task):
    """(text, pair, label) rows as datasets' glue script's _generate_examples yields them (the MRPC BOM is
    skipped, as its f.seek(3) does)."""
    text, pair, label_column, classes = GLUE[task]
    rows = []
    with open(path, encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        if task == "cola":
            reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        for row in reader:
            if task == "cola":
                row = {"sentence": row[3], "is_acceptable": row[1]}
            example = [row.get(text), row.get(pair) if pair else "", None]
            label = row.get(label_column)
            if classes and label not in classes:
                label = int(label) if label else None
            if classes is None:
                example[2] = float(np.float32(label))
            elif label is not None:
                example[2] = ClassLabel(names=classes).encode_example(label)  # a name, or an id as an int
            if all(v is not None for v in example):
                rows.append(example)
    return rows


def encode_pairs(tokenizer, texts, pairs, n):
    args = (list(texts), list(pairs)) if pairs is not None else (list(texts),)
    enc = tokenizer(*args, truncation=True, max_length=n)
    return enc["input_ids"], enc["token_type_ids"]


# run_glue.py's task_to_keys: the text columns of HF's glue dataset.
TASK_TO_KEYS = {"cola": ("sentence", None), "mnli": ("premise", "hypothesis"), "mrpc": ("sentence1", "sentence2"),
                "qnli": ("question", "sentence"), "qqp": ("question1", "question2"), "rte": ("sentence1", "sentence2"),
                "sst2": ("sentence", None), "stsb": ("sentence1", "sentence2"), "wnli": ("sentence1", "sentence2")}


def glue_hub_case(root, case, tokenizer):
    """run_glue.py with --task_name on HF's glue dataset: task_to_keys, the label ids as they are, stsb's as
    floats (the file given here instead of the Hub's copy)."""
    task, n = case["options"]["task_name"], case["options"].get("max_seq_length", 128)
    ds = load(root / case["file"])
    text, pair = TASK_TO_KEYS[task]
    ids, types = encode_pairs(tokenizer, ds[text], ds[pair] if pair else None, n)
    classes = GLUE[task][3]
    return dict(problem="regression" if classes is None else "single_label_classification",
                label_names=classes or [], input_ids=ids, token_type_ids=types,
                labels=[float(np.float32(l)) for l in ds["label"]])


def glue_case(root, case, tokenizer, train):
    if not case["file"].endswith(".tsv"):
        return glue_hub_case(root, case, tokenizer)
    task, n = case["options"]["task_name"], case["options"].get("max_seq_length", 128)
    rows = glue_rows(root / case["file"], task)
    classes = GLUE[task][3]
    ids, types = encode_pairs(tokenizer, [r[0] for r in rows], [r[1] for r in rows] if GLUE[task][1] else None, n)
    problem = "regression" if classes is None else "single_label_classification"
    return dict(problem=problem, label_names=classes or [], input_ids=ids, token_type_ids=types,
                labels=[float(np.float32(r[2])) for r in rows])


def load(path):
    """The file as HF's loaders read it (load_dataset csv/json/parquet, or load_from_disk)."""
    if path.is_dir():
        return datasets.load_from_disk(str(path))
    kind = {".csv": "csv", ".jsonl": "json", ".parquet": "parquet"}[path.suffix]
    return datasets.load_dataset(kind, data_files=str(path), split="train")


def sequence_keys(columns, options):
    """run_glue.py's sentence1_key, sentence2_key (and labelled_files.h's text_column option)."""
    if options.get("text_column"):
        return options["text_column"], None
    non_label = [c for c in columns if c != "label"]
    if "sentence1" in non_label and "sentence2" in non_label:
        return "sentence1", "sentence2"
    return (non_label[0], non_label[1]) if len(non_label) >= 2 else (non_label[0], None)


def file_labels(ds, case):
    """The label column as Python values; the CSV multi_label extension splits each at commas."""
    labels = list(ds["label"])
    if case["options"].get("multi_label"):
        labels = [l.split(",") for l in labels]
    return labels


def label_plan(ds, case):
    """(problem, label_list): run_glue.py's is_regression and sorted label_list; run_classification.py's
    multi-label list (str labels, sorted); ClassLabel names kept (the extension labelled_files.h describes)."""
    feature = ds.features["label"]
    labels = file_labels(ds, case)
    if isinstance(feature, ClassLabel):
        return "single_label_classification", list(feature.names)
    if any(isinstance(l, list) for l in labels):
        return "multi_label_classification", sorted({str(x) for l in labels for x in l})
    if getattr(feature, "dtype", None) in ("float32", "float64"):
        return "regression", []
    return "single_label_classification", sorted(set(labels))


def sequence_case(root, case, tokenizer, train):
    ds = load(root / case["file"])
    problem, names = (train["problem"], train["label_names"]) if train else label_plan(ds, case)
    text, pair = sequence_keys(ds.column_names, case["options"])
    n = case["options"].get("max_seq_length", 128)
    ids, types = encode_pairs(tokenizer, ds[text], ds[pair] if pair else None, n)
    feature, labels = ds.features["label"], file_labels(ds, case)
    if isinstance(feature, ClassLabel):
        labels = [feature.names[l] for l in labels]
    out = []
    for l in labels:
        if problem == "regression":
            out.append(float(np.float32(l)))
        elif problem == "multi_label_classification":
            out.extend(1.0 if name in {str(x) for x in l} else 0.0 for name in names)
        else:  # run_glue.py's label_to_id; the ids of a training list given as names
            out.append(float([str(x) for x in names].index(str(l)) if train else names.index(l)))
    return dict(problem=problem, label_names=[str(x) for x in names], input_ids=ids, token_type_ids=types,
                labels=out)


def conll_rows(path):
    """Words and tags as datasets' conll2003 script reads them: -DOCSTART- and blank lines end a sentence;
    the word is the first field, the tag the last."""
    rows, words, tags = [], [], []
    for line in open(path, encoding="utf-8"):
        fields = line.split()
        if not fields or fields[0].startswith("-DOCSTART-"):
            if words:
                rows.append((words, tags))
            words, tags = [], []
            continue
        words.append(fields[0])
        tags.append(fields[-1])
    if words:
        rows.append((words, tags))
    return rows


def token_case(root, case, tokenizer, train):
    path, options = root / case["file"], case["options"]
    feature = None
    if path.suffix == ".conll":
        rows = conll_rows(path)
    else:
        ds = load(path)
        feature = ds.features["ner_tags"].feature
        rows = list(zip(list(ds["tokens"]), list(ds["ner_tags"])))
    # run_ner.py: ClassLabel names, else the sorted unique tags.
    if train:
        label_list = train["label_names"]
    elif isinstance(feature, ClassLabel):
        label_list = list(feature.names)
    else:
        label_list = sorted({t for _, tags in rows for t in tags})
    if isinstance(feature, ClassLabel):
        rows = [(words, [feature.names[t] for t in tags]) for words, tags in rows]
    label_to_id = {l: i for i, l in enumerate(label_list)}
    b_to_i_label = []
    for idx, label in enumerate(label_list):
        if label.startswith("B-") and label.replace("B-", "I-") in label_list:
            b_to_i_label.append(label_list.index(label.replace("B-", "I-")))
        else:
            b_to_i_label.append(idx)
    enc = tokenizer([w for w, _ in rows], truncation=True, max_length=options.get("max_seq_length", 128),
                    is_split_into_words=True)
    labels = []
    for i, (_, tags) in enumerate(rows):  # run_ner.py's tokenize_and_align_labels
        previous = None
        for word_idx in enc.word_ids(batch_index=i):
            if word_idx is None:
                labels.append(IGNORE)
            elif word_idx != previous:
                labels.append(label_to_id[tags[word_idx]])
            elif options.get("label_all_tokens"):
                labels.append(b_to_i_label[label_to_id[tags[word_idx]]])
            else:
                labels.append(IGNORE)
            previous = word_idx
    return dict(problem="token_classification", label_names=label_list, input_ids=enc["input_ids"],
                token_type_ids=enc["token_type_ids"], labels=[float(l) for l in labels])


def tokenizer_for(lower_case):
    vocab = SOURCE / "tests" / "fixtures" / "vocab" / ("bert-base-uncased" if lower_case else "bert-base-cased")
    return BertTokenizerFast.from_pretrained(str(vocab), do_lower_case=lower_case)


def expected(root, case, done):
    tokenizer = tokenizer_for(case.get("lower_case", False))
    train = done[case["train"]] if case.get("train") else None
    if case["options"].get("task_name"):
        return glue_case(root, case, tokenizer, train)
    if case["options"].get("token_classification"):
        return token_case(root, case, tokenizer, train)
    return sequence_case(root, case, tokenizer, train)


def golden(root=FIXTURES):
    """What HF makes of the fixtures under `root`."""
    done = {}
    for case in CASES:
        done[case["name"]] = expected(root, case, done)
    versions = {m.__name__: m.__version__ for m in (transformers, tokenizers, datasets, pyarrow)}
    cases = [dict(case, lower_case=case.get("lower_case", False), expected=done[case["name"]]) for case in CASES]
    return {"generator": "tools/gen_golden/finetune_data.py", "versions": versions, "cases": cases}


def main():
    write_fixtures(FIXTURES)
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(golden(), indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {FIXTURES} and {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    main()
