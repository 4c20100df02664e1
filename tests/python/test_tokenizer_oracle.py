"""bertforge's tokenizer against HF BertTokenizerFast (transformers + tokenizers) as the oracle.

HF tokenizers are built offline from the vocab files of tests/fixtures/. bertforge runs through its CLI, one
process per batch of lines (never one per case): `tokenize` (ids / --format jsonl for pairs) and `decode`.
"""
import json
import random
import unicodedata

import pytest
from transformers import BertTokenizerFast

VOCABS = {"cased": ("vocab/bert-base-cased/vocab.txt", False), "uncased": ("vocab/bert-base-uncased/vocab.txt", True)}
LOWER_FLAG = {False: "--no-lower-case", True: "--lower-case"}


@pytest.fixture(scope="session", params=sorted(VOCABS))
def vocab(request, shared_data):
    """(name, vocab path, lower_case, HF tokenizer)"""
    rel, lower = VOCABS[request.param]
    path = shared_data(rel)
    return request.param, path, lower, BertTokenizerFast(str(path), do_lower_case=lower)


def bf_lines(run_bertforge, args, lines):
    """Runs bertforge with one input line per element; returns its output lines."""
    out = run_bertforge(*args, input="".join(line + "\n" for line in lines)).stdout
    assert out.endswith("\n") or not lines
    got = out.split("\n")[:-1]
    assert len(got) == len(lines)
    return got


def bf_ids(run_bertforge, vocab, lines, *extra):
    _, path, lower, _ = vocab
    return bf_lines(run_bertforge, ["tokenize", "--vocab", path, LOWER_FLAG[lower], *extra], lines)


def chars_of(categories, limit=0x30000):
    return [chr(c) for c in range(0x80, limit) if unicodedata.category(chr(c)) in categories]


PUNCT = chars_of({"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"})
SYMBOLS = chars_of({"Sm", "Sc", "Sk", "So"}, 0x3000) + list("$+<=>^`|~")
ACCENTED = chars_of({"Ll", "Lu", "Lt"}, 0x0530) + ["e\u0301", "A\u030a", "\u0130", "\u1e9e", "\ufb01", "\u212b"]
MARKS = chars_of({"Mn", "Mc", "Me"}, 0x2000)
CJK = [chr(c) for c in range(0x4E00, 0x4E00 + 400)] + list("日本語のカタカナ한국어\u3400\U00020000\uf900\u2b820")
SCRIPTS = list("Ελληνικά ΣΊΣΥΦΟΣ Русский עברית العربية हिन्दी ไทย ქართული ᏣᎳᎩ 𝐀𝐁𝐂 ＦＵＬＬ")
CONTROL = ["\x00", "\x01", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\u200b", "\u200d", "\u2060",
           "\ufeff", "\ufffd", "\ue000", "\U000f0000", "\u00ad", "\u0600"]
SPACES = [" ", "  ", "\t", "\r", "\u00a0", "\u1680", "\u2003", "\u2028", "\u2029", "\u202f", "\u3000"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "🥰", "🫠", "❤️", "☃", "🤖"]
SPECIAL = ["[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[mask]", "[MASK", "x[MASK]y", "[[SEP]]", "[SEP][CLS]"]
WORDS = ("the of and in to was is for on as by with he at from his an were are which this also be had first one "
         "unaffable running Chicago's don't 1,234.56 e-mail U.S.A. naïve café résumé Zürich São Ångström").split()


def random_word(rng):
    kind = rng.random()
    if kind < 0.45:
        return rng.choice(WORDS)
    if kind < 0.55:
        return "".join(rng.choice(ACCENTED + MARKS[:50]) for _ in range(rng.randint(1, 8)))
    if kind < 0.62:
        return "".join(rng.choice(CJK) for _ in range(rng.randint(1, 5)))
    if kind < 0.70:
        return "".join(rng.choice(SCRIPTS) for _ in range(rng.randint(1, 8)))
    if kind < 0.76:
        return rng.choice(EMOJI)
    if kind < 0.82:
        return rng.choice(SPECIAL)
    if kind < 0.86:  # long words around max_input_chars_per_word (100 characters, not bytes)
        alphabet = rng.choice(["ab", "é", "abcdefghij", "日"])
        return "".join(rng.choice(alphabet) for _ in range(rng.choice([99, 100, 101, 150, rng.randint(20, 130)])))
    return "".join(rng.choice(PUNCT + SYMBOLS + CONTROL) for _ in range(rng.randint(1, 3)))


def random_text(rng, words=(1, 30)):
    parts = []
    for _ in range(rng.randint(*words)):
        parts.append(random_word(rng))
        parts.append(rng.choice(SPACES) if rng.random() < 0.8 else rng.choice(PUNCT + CONTROL + [""]))
    return "".join(parts).replace("\n", " ")


@pytest.fixture(scope="session")
def texts():
    rng = random.Random(20261125)
    return [random_text(rng) for _ in range(3000)] + ["", " ", "\t\r"]


def test_generated_text_gives_identical_ids(run_bertforge, vocab, texts):
    hf = vocab[3]
    expected = [" ".join(map(str, e.ids)) for e in hf._tokenizer.encode_batch(texts, add_special_tokens=False)]
    got = bf_ids(run_bertforge, vocab, texts)
    bad = [(t, g, e) for t, g, e in zip(texts, got, expected) if g != e]
    assert not bad, f"{len(bad)} of {len(texts)} lines differ, first: {bad[0]!r}"


def test_generated_text_gives_identical_pieces(run_bertforge, vocab, texts):
    hf = vocab[3]
    expected = [" ".join(hf.tokenize(t)) for t in texts[:500]]
    assert bf_ids(run_bertforge, vocab, texts[:500], "--tokens") == expected


def test_every_code_point_is_classified_as_hf_does(run_bertforge, vocab):
    # Inside a word and standing alone: exercises cleaning, CJK, accents, case and punctuation tables. Every
    # code point of planes 0-3 (all assigned ones but plane 14's tags) and every 97th beyond, to stay fast.
    points = [c for c in range(1, 0x110000) if c < 0x40000 or c % 97 == 0 or 0xE0000 <= c < 0xE0200]
    texts = [f"a{chr(c)}b {chr(c)}" for c in points if c != 10 and not 0xD800 <= c <= 0xDFFF]
    expected = [" ".join(map(str, e.ids)) for e in vocab[3]._tokenizer.encode_batch(texts, add_special_tokens=False)]
    got = bf_ids(run_bertforge, vocab, texts)
    bad = [(t, g, e) for t, g, e in zip(texts, got, expected) if g != e]
    assert not bad, f"{len(bad)} code points differ, first: {bad[:3]!r}"


def pair_texts(rng, n):
    pairs = []
    for _ in range(n):
        a = random_text(rng, (1, rng.choice([5, 40, 120]))).replace("\t", " ")
        b = random_text(rng, (1, rng.choice([5, 40, 120]))).replace("\t", " ")
        pairs.append((a, b))
    return pairs


@pytest.mark.parametrize("strategy", ["longest_first", "only_first", "only_second"])
@pytest.mark.parametrize("max_length", [128, 17])
def test_pairs_with_truncation_and_padding_match_hf(run_bertforge, vocab, strategy, max_length):
    hf = vocab[3]
    rng = random.Random(max_length)
    pairs = pair_texts(rng, 300)
    if strategy != "longest_first":  # HF refuses the whole batch when the sequence to cut is too short
        def room(a, b):
            na, nb = (len(hf.tokenize(x)) for x in (a, b))
            target, other = (na, nb) if strategy == "only_first" else (nb, na)
            return target > na + nb + 3 - max_length or na + nb + 3 <= max_length
        pairs = [p for p in pairs if room(*p)]
    expected = hf([a for a, _ in pairs], [b for _, b in pairs], truncation=strategy, max_length=max_length,
                  padding="max_length")
    got = bf_ids(run_bertforge, vocab, [f"{a}\t{b}" for a, b in pairs], "--pairs", "--special-tokens",
                 "--format", "jsonl", "--truncation", strategy, "--max-length", max_length, "--padding", "max_length")
    for i, line in enumerate(got):
        enc = json.loads(line)
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            assert enc[key] == expected[key][i], f"pair {i} {key}: {pairs[i]!r}"


def test_single_texts_with_truncation_and_padding_match_hf(run_bertforge, vocab, texts):
    hf = vocab[3]
    expected = hf(texts[:400], truncation=True, max_length=24, padding="max_length")
    got = bf_ids(run_bertforge, vocab, [t.replace("\t", " ") for t in texts[:400]], "--special-tokens",
                 "--format", "jsonl", "--truncation", "longest_first", "--max-length", 24, "--padding", "max_length")
    assert [json.loads(g)["input_ids"] for g in got] == expected["input_ids"][: len(got)]


def test_too_short_sequence_to_truncate_fails_like_hf(run_bertforge, vocab):
    with pytest.raises(Exception, match="too short"):
        vocab[3](["a b c"], ["x " * 200], truncation="only_first", max_length=16)
    proc = run_bertforge("tokenize", "--vocab", vocab[1], "--pairs", "--special-tokens", "--truncation", "only_first",
                         "--max-length", 16, input="a b c\t" + "x " * 200 + "\n", check=False)
    assert proc.returncode == 1 and "too short" in proc.stderr


@pytest.mark.parametrize("skip", [False, True])
@pytest.mark.parametrize("cleanup", [False, True])
def test_decode_matches_hf(run_bertforge, vocab, texts, skip, cleanup):
    _, path, lower, hf = vocab
    ids = [e.ids for e in hf._tokenizer.encode_batch(texts[:600])]  # with [CLS] ... [SEP]
    ids += [[101, 1109, 117, 1110, 112, 188, 1202, 1136, 102, 0, 0], [1], [], [99999, 5, 2]]
    expected = [hf.decode(i, skip_special_tokens=skip, clean_up_tokenization_spaces=cleanup) for i in ids]
    args = ["decode", "--vocab", path] + ["--skip-special-tokens"] * skip + ["--clean-up-tokenization-spaces"] * cleanup
    assert bf_lines(run_bertforge, args, [" ".join(map(str, i)) for i in ids]) == expected


def test_saved_tokenizer_json_with_added_tokens_loads_and_matches(run_bertforge, vocab, texts, tmp_path):
    hf = BertTokenizerFast(str(vocab[1]), do_lower_case=vocab[2])
    hf.add_special_tokens({"additional_special_tokens": ["<ent>"]})
    hf.add_tokens(["zzyzx"])
    hf.save_pretrained(tmp_path)
    (tmp_path / "vocab.txt").unlink(missing_ok=True)  # tokenizer.json and tokenizer_config.json remain
    lines = [t.replace("\t", " ") + " <ent> zzyzx<ent>" for t in texts[:300]]
    expected = [" ".join(map(str, e.ids)) for e in hf._tokenizer.encode_batch(lines, add_special_tokens=False)]
    got = bf_lines(run_bertforge, ["tokenize", "--vocab", tmp_path], lines)
    assert got == expected
    ids = [e.ids for e in hf._tokenizer.encode_batch(lines[:50])]
    decoded = bf_lines(run_bertforge, ["decode", "--vocab", tmp_path, "--skip-special-tokens"],
                       [" ".join(map(str, i)) for i in ids])
    assert decoded == [hf.decode(i, skip_special_tokens=True) for i in ids]


def test_reference_ids_through_the_cli_on_two_threads(run_bertforge, shared_data):
    raw = shared_data("wikitext-103-raw/wiki.valid.raw")
    for rel, lower in VOCABS.values():
        ref = shared_data(f"reference/wiki.valid.{rel.split('/')[1]}.ids").read_text()
        out = run_bertforge("--threads", 2, "tokenize", "--vocab", shared_data(rel), LOWER_FLAG[lower], raw).stdout
        assert out == ref


def test_invalid_utf8_names_the_line_or_is_replaced_like_python(run_bertforge, vocab, tmp_path):
    _, path, lower, hf = vocab
    data = b"fine\nstill fine\nbad \xff\xfe byte \xe2\x82 here\n"
    src = tmp_path / "in.txt"
    src.write_bytes(data)
    out = tmp_path / "out.ids"
    proc = run_bertforge("tokenize", "--vocab", path, src, "-o", out, check=False)
    assert proc.returncode == 1
    assert f"{src}:3: invalid UTF-8 at byte 5" in proc.stderr
    assert not out.exists()  # no partial output
    proc = run_bertforge("tokenize", "--vocab", path, LOWER_FLAG[lower], "--errors", "replace", src, "-o", out)
    lines = data.decode("utf-8", errors="replace").splitlines()
    assert out.read_text().splitlines() == [" ".join(map(str, hf.encode(t, add_special_tokens=False))) for t in lines]


def test_bad_vocabularies_are_clear_errors(run_bertforge, tmp_path):
    cases = {"dup.txt": ("[UNK]\na\nb\na\n", ":4: token \"a\" is listed twice"),
             "empty.txt": ("", ": the vocabulary is empty"),
             "nounk.txt": ("a\nb\n", ": the vocabulary has no unknown token \"[UNK]\"")}
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        proc = run_bertforge("tokenize", "--vocab", tmp_path / name, input="a\n", check=False)
        assert proc.returncode == 1 and f"{tmp_path / name}{message}" in proc.stderr, proc.stderr
    proc = run_bertforge("tokenize", "--vocab", tmp_path / "missing.txt", input="a\n", check=False)
    assert proc.returncode == 1 and "missing.txt" in proc.stderr
