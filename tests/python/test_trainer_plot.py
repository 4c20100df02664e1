"""`bertforge plot` reads an HF Trainer output folder (TrainerState written by transformers) and writes a
valid PNG: every chunk CRC checks out, the image data inflates to height rows of 1 + 3*width bytes, and both
series' colours are drawn."""
import struct
import zlib

from transformers import TrainerState

TRAIN_RGB, EVAL_RGB = (31, 119, 180), (255, 127, 14)


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
    for y in range(height):
        row = raw[y * (1 + 3 * width) + 1:(y + 1) * (1 + 3 * width)]
        pixels.update(tuple(row[i:i + 3]) for i in range(0, len(row), 3))
    return width, height, pixels


def test_plot_hf_trainer_state(tmp_path, run_bertforge):
    state = TrainerState(global_step=300, max_steps=300)
    for step in range(10, 301, 10):
        state.log_history.append({"loss": 8.0 - step / 60, "learning_rate": 5e-5, "epoch": step / 100, "step": step})
        if step % 100 == 0:
            state.log_history.append({"eval_loss": 8.2 - step / 60, "epoch": step / 100, "step": step})
    checkpoint = tmp_path / "checkpoint-300"
    checkpoint.mkdir()
    state.save_to_json(str(checkpoint / "trainer_state.json"))
    run_bertforge("plot", tmp_path)
    width, height, pixels = read_png(tmp_path / "loss.png")
    assert width > 400 and height > 300
    assert TRAIN_RGB in pixels and EVAL_RGB in pixels


def test_plot_without_history_is_a_clear_error(tmp_path, run_bertforge):
    proc = run_bertforge("plot", tmp_path, check=False)
    assert proc.returncode == 1
    assert str(tmp_path) in proc.stderr and "nothing" not in proc.stderr
