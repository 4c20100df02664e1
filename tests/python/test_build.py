"""The binary is built against the venv's LibTorch and never loads Python."""
import subprocess

import torch


def test_version_reports_venv_libtorch(run_bertforge):
    out = run_bertforge("version").stdout
    assert f"LibTorch {torch.__version__.split('+')[0]}" in out


def test_threads_option_is_honoured(run_bertforge):
    assert "threads 1\n" in run_bertforge("version", "--threads", "1").stdout
    assert "threads 2\n" in run_bertforge("--threads", "2", "version").stdout


def test_no_libpython_in_ldd(bertforge_bin):
    ldd = subprocess.run(["ldd", bertforge_bin], capture_output=True, text=True, check=True).stdout
    assert "libpython" not in ldd
