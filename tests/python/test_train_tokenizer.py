"""`bertforge train-tokenizer` against HF tokenizers.

- The folder it writes loads in HF `tokenizers` and `transformers`, and they encode text exactly as
  `bertforge tokenize` does with it (both algorithms, cased and uncased).
- On wiki.valid.raw at vocabulary 8000 the `hf` algorithm's pieces per word are within 2% of HF's
  WordPieceTrainer on the same input with the same settings, and the two vocabularies nearly coincide (HF's own
  runs differ slightly: its ties follow hash-map order). The `wordpiece` algorithm's pieces per word are
  measured and reported beside them.
- Bad input fails with one line naming file and line and leaves no output behind.
"""
import json

import pytest
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB_SIZE = 8000


@pytest.fixture(scope="module")
def wiki(shared_data):
    return shared_data("wikitext-103-raw/wiki.valid.raw")


@pytest.fixture(scope="module")
def wiki_lines(wiki):
    return wiki.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def trained(tmp_path_factory, run_bertforge, wiki):
    """algorithm -> folder trained by bertforge on wiki.valid.raw (cased, HF's BertWordPieceTokenizer defaults)."""
    out = {}
    for algorithm in ("hf", "wordpiece"):
        folder = tmp_path_factory.mktemp(algorithm)
        run_bertforge("train-tokenizer", "--vocab-size", VOCAB_SIZE, "--algorithm", algorithm, "-o", folder, wiki)
        out[algorithm] = folder
    return out


def hf_trained_vocab(path):
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=VOCAB_SIZE, min_frequency=2, limit_alphabet=1000,
                                        special_tokens=SPECIALS, show_progress=False)
    tok.train([str(path)], trainer)
    return [t for t, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])]


def pieces_per_word(vocab, lines):
    """Pieces per pre-tokenized word over `lines`, WordPiece-encoding with `vocab` (a list in id order)."""
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    encodings = tok.encode_batch(lines, add_special_tokens=False)
    pieces = sum(len(e.ids) for e in encodings)
    words = sum(len(set(e.word_ids) - {None}) for e in encodings)
    return pieces / words


def bertforge_ids(run_bertforge, vocab, lines, *flags):
    out = run_bertforge("tokenize", "--vocab", vocab, *flags, input="\n".join(lines) + "\n").stdout
    return [[int(i) for i in line.split()] for line in out.split("\n")[:-1]]


@pytest.mark.parametrize("algorithm", ["hf", "wordpiece"])
def test_trained_folder_loads_in_hf_and_encodes_like_bertforge(trained, run_bertforge, wiki_lines, algorithm):
    from transformers import AutoTokenizer, BertTokenizerFast

    folder = trained[algorithm]
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert len(vocab) == VOCAB_SIZE and vocab[:5] == SPECIALS
    hf = Tokenizer.from_file(str(folder / "tokenizer.json"))
    assert hf.get_vocab() == {t: i for i, t in enumerate(vocab)}
    lines = wiki_lines + ["Ünïcödé [MASK] naïve café, 東京 😀 " + "x" * 120]
    expected = [e.ids for e in hf.encode_batch(lines, add_special_tokens=False)]
    assert bertforge_ids(run_bertforge, folder / "vocab.txt", lines) == expected
    assert bertforge_ids(run_bertforge, folder, lines) == expected
    fast = BertTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
    auto = AutoTokenizer.from_pretrained(str(folder))
    sample = lines[1:200] + lines[-1:]
    for t in (fast, auto):
        assert [t(line)["input_ids"] for line in sample] == [e.ids for e in hf.encode_batch(sample)]


def test_uncased_vocabulary_loads_and_agrees(tmp_path, run_bertforge, wiki_lines):
    corpus = tmp_path / "uncased.txt"
    corpus.write_text("\n".join(wiki_lines[:3000] + ["Ünïcödé Naïve CAFÉ Çà"] * 3) + "\n", encoding="utf-8")
    folder = tmp_path / "out"
    run_bertforge("train-tokenizer", "--vocab-size", 2000, "--lower-case", "-o", folder, corpus)
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").splitlines()
    assert not any(t != t.lower() for t in vocab if t not in SPECIALS)
    assert json.loads((folder / "tokenizer_config.json").read_text())["do_lower_case"] is True
    hf = Tokenizer.from_file(str(folder / "tokenizer.json"))
    lines = wiki_lines[3000:4000] + ["Ünïcödé Naïve CAFÉ Çà"]
    expected = [e.ids for e in hf.encode_batch(lines, add_special_tokens=False)]
    assert bertforge_ids(run_bertforge, folder, lines) == expected
    assert expected[-1] == hf.encode("unicode naive cafe ca", add_special_tokens=False).ids


def test_pieces_per_word_match_hf_trainer(trained, wiki, wiki_lines, record_property):
    hf = hf_trained_vocab(wiki)
    ours = (trained["hf"] / "vocab.txt").read_text(encoding="utf-8").splitlines()
    wordpiece = (trained["wordpiece"] / "vocab.txt").read_text(encoding="utf-8").splitlines()
    ppw = {name: pieces_per_word(v, wiki_lines) for name, v in (("HF", hf), ("hf", ours), ("wordpiece", wordpiece))}
    overlap = len(set(ours) & set(hf)) / len(hf)
    report = (f"pieces/word at vocab {VOCAB_SIZE}: HF WordPieceTrainer {ppw['HF']:.4f}, bertforge hf {ppw['hf']:.4f} "
              f"(ratio {ppw['hf'] / ppw['HF']:.4f}), bertforge wordpiece {ppw['wordpiece']:.4f}; "
              f"hf vocabulary overlap with HF {overlap:.4f}")
    print(report)
    record_property("train_tokenizer", report)
    assert abs(ppw["hf"] / ppw["HF"] - 1) < 0.02, report
    assert overlap > 0.99, report  # HF against itself: about 0.999
    assert ppw["wordpiece"] >= 1.0, report


def test_invalid_utf8_names_file_and_line_and_writes_nothing(tmp_path, run_bertforge):
    corpus = tmp_path / "bad.txt"
    corpus.write_bytes(b"good line\nanother\nbad \xff byte\n")
    folder = tmp_path / "out"
    proc = run_bertforge("train-tokenizer", "--vocab-size", 50, "-o", folder, corpus, check=False)
    assert proc.returncode == 1
    assert f"{corpus}:3: invalid UTF-8" in proc.stderr
    assert not folder.exists() or not any(folder.iterdir())
    run_bertforge("train-tokenizer", "--vocab-size", 50, "--errors", "replace", "-o", folder, corpus)
    assert (folder / "vocab.txt").exists()


def test_missing_required_special_token_is_refused(tmp_path, run_bertforge):
    corpus = tmp_path / "c.txt"
    corpus.write_text("some words\n")
    proc = run_bertforge("train-tokenizer", "--vocab-size", 50, "--special-tokens", "[PAD],[CLS],[SEP]",
                         "-o", tmp_path / "out", corpus, check=False)
    assert proc.returncode == 1 and "[UNK]" in proc.stderr
