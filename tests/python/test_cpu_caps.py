"""--bf16 on a CPU without bf16 matrix instructions is never silently slow: one warning line with the measured
rates before the first step; `version` and `--dry_run` show what the CPU offers. BERTFORGE_CPU_FLAGS plays a
CPU with or without the instructions (the rates are measured on the real one)."""
import os
import re

import pytest

from tiny import TINY  # noqa: F401  (the tiny_kjv fixture's model)

WARNING = "warning: --bf16: this CPU has no bf16 matrix instructions"


def env(flags):
    return dict(os.environ, BERTFORGE_CPU_FLAGS=flags)


def pretrain(run_bertforge, tiny_kjv, out, *extra, flags):
    return run_bertforge("pretrain", "--model", tiny_kjv / "model" / "config.json", "--train_data", tiny_kjv / "data",
                         "--output_dir", out, "--threads", "1", "--device", "cpu", "--max_steps", "1",
                         "--save_strategy", "no", *extra, env=env(flags))


@pytest.mark.parametrize("flags, warned", [("fpu sse2 avx2", True), ("avx2 avx512f avx512_bf16", False),
                                           ("avx2 amx_tile amx_bf16", False)])
def test_bf16_warns_only_without_bf16_matrix_instructions(tiny_kjv, run_bertforge, tmp_path, flags, warned):
    proc = pretrain(run_bertforge, tiny_kjv, tmp_path / "run", "--bf16", flags=flags)
    lines = [line for line in proc.stderr.splitlines() if WARNING in line]
    assert len(lines) == (1 if warned else 0), proc.stderr
    if warned:
        assert re.search(r"bf16 [0-9.]+ TFLOP/s against fp32 [0-9.]+ TFLOP/s \(fp32 / bf16 = [0-9.]+\); leave out --bf16",
                         lines[0]), lines[0]
        assert "flags: avx2" in lines[0]
        first_step = next(i for i, line in enumerate(proc.stderr.splitlines()) if "training:" in line)
        assert proc.stderr.splitlines().index(lines[0]) < first_step


def test_fp32_never_warns(tiny_kjv, run_bertforge, tmp_path):
    proc = pretrain(run_bertforge, tiny_kjv, tmp_path / "run", flags="avx2")
    assert WARNING not in proc.stderr


def test_version_and_dry_run_show_the_cpu(tiny_kjv, run_bertforge, tmp_path):
    version = run_bertforge("version", env=env("avx2")).stdout
    assert re.search(r"^cpu .*ATen \w+, flags: avx2$", version, re.MULTILINE), version
    assert "bf16 matrix instructions no" in version
    assert re.search(r"^matmul TFLOP/s fp32 [0-9.]+, bf16 [0-9.]+", version, re.MULTILINE), version
    plan = run_bertforge("pretrain", "--model", tiny_kjv / "model" / "config.json", "--train_data", tiny_kjv / "data",
                         "--output_dir", tmp_path / "plan", "--threads", "1", "--device", "cpu", "--max_steps", "4",
                         "--dry_run", env=env("avx2")).stdout
    assert "no bf16 matrix instructions: --bf16 is slow here" in plan
    assert re.search(r"bf16: about [0-9.]+ s per step", plan), plan
    assert re.search(r"fp32 linear layers: (aten|onednn) \((auto: |BERTFORGE_CPU_GEMM)", plan), plan
    assert not (tmp_path / "plan").exists()


def test_cpu_gemm_switch(tiny_kjv, run_bertforge, tmp_path):
    """BERTFORGE_CPU_GEMM forces either library of the fp32 linear layers; `version` says which runs and why; a
    value it does not know stops a command before it writes anything."""
    for gemm in ("aten", "onednn"):
        version = run_bertforge("version", env=dict(os.environ, BERTFORGE_CPU_GEMM=gemm)).stdout
        assert f"fp32 linear layers on the CPU: {gemm} (BERTFORGE_CPU_GEMM)" in version, version
    version = run_bertforge("version", env={k: v for k, v in os.environ.items() if k != "BERTFORGE_CPU_GEMM"}).stdout
    assert re.search(r"^fp32 linear layers on the CPU: (aten|onednn) \(auto: \w+ CPU, oneDNN loads\)$", version,
                     re.MULTILINE), version
    out = tmp_path / "run"
    proc = run_bertforge("pretrain", "--model", tiny_kjv / "model" / "config.json", "--train_data", tiny_kjv / "data",
                         "--output_dir", out, "--max_steps", "1", check=False,
                         env=dict(os.environ, BERTFORGE_CPU_GEMM="mkl"))
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "bertforge pretrain: BERTFORGE_CPU_GEMM: 'mkl' is not one of auto, aten, onednn"], proc.stderr
    assert not out.exists()
