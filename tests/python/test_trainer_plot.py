"""`bertforge plot`: an HF Trainer output folder (TrainerState written by transformers) and a bertforge log with
the MLM/NSP terms and evaluation give a valid PNG (every chunk's CRC checks, the image data inflates and
unfilters to height rows of width RGB pixels, both series' colours are drawn, the edges are anti-aliased)
and a valid SVG (an <svg> document of the figure's size with drawn paths)."""
import json
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from transformers import TrainerState

TRAIN_RGB, EVAL_RGB, MLM_RGB, NSP_RGB = (31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189)


def unfilter(raw, width, height, bpp=3):
    """PNG's five row filters undone (the PNG specification, section 9)."""
    stride, rows, prev = width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            else:
                assert kind == 0, kind
        rows.append(bytes(line))
        prev = line
    return rows


def read_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == height * (1 + 3 * width)
    pixels = set()
    for row in unfilter(raw, width, height):
        pixels.update(row[i:i + 3] for i in range(0, len(row), 3))
    return width, height, {tuple(p) for p in pixels}


def hf_run(tmp_path):
    state = TrainerState(global_step=300, max_steps=300)
    for step in range(10, 301, 10):
        state.log_history.append({"loss": 8.0 - step / 60, "learning_rate": 5e-5 * (1 - step / 300),
                                  "epoch": step / 100, "step": step})
        if step % 100 == 0:
            state.log_history.append({"eval_loss": 8.2 - step / 60, "epoch": step / 100, "step": step})
    checkpoint = tmp_path / "checkpoint-300"
    checkpoint.mkdir()
    state.save_to_json(str(checkpoint / "trainer_state.json"))
    return tmp_path


def test_plot_hf_trainer_state_as_png(tmp_path, run_bertforge):
    run_bertforge("plot", hf_run(tmp_path))
    width, height, pixels = read_png(tmp_path / "loss.png")
    assert width > 400 and height > 300
    assert TRAIN_RGB in pixels and EVAL_RGB in pixels
    assert len(pixels) > 200  # anti-aliased lines and text blend into many shades; a 1-bit drawing has a few


def test_plot_mlm_and_nsp_terms_as_svg(tmp_path, run_bertforge):
    lines = []
    for step in range(1, 41):
        lines.append({"loss": 9 - step / 10, "mlm_loss": 8.3 - step / 10, "nsp_loss": 0.7, "learning_rate": 1e-3,
                      "grad_norm": 1.0, "epoch": step / 40, "step": step})
        if step % 10 == 0:
            lines.append({"eval_loss": 9 - step / 9, "eval_mlm_loss": 8.3 - step / 9, "eval_nsp_loss": 0.69,
                          "epoch": step / 40, "step": step})
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    run_bertforge("plot", tmp_path, "--format", "svg")
    root = ET.parse(tmp_path / "loss.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.get("width").rstrip("pt")) > 400 and float(root.get("height").rstrip("pt")) > 300
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 20
    run_bertforge("plot", tmp_path, "-o", tmp_path / "curves.png")
    _, _, pixels = read_png(tmp_path / "curves.png")
    assert {TRAIN_RGB, EVAL_RGB, MLM_RGB, NSP_RGB} <= pixels


def test_plot_without_history_is_a_clear_error(tmp_path, run_bertforge):
    proc = run_bertforge("plot", tmp_path, check=False)
    assert proc.returncode == 1
    assert str(tmp_path) in proc.stderr and "nothing" not in proc.stderr
    (tmp_path / "metrics.jsonl").write_text('{"loss": 1.0, "step": 1}\n')
    proc = run_bertforge("plot", tmp_path, "-o", tmp_path / "loss.gif", check=False)
    assert proc.returncode == 1 and "loss.gif" in proc.stderr and "png or svg" in proc.stderr
