"""``make gpu-check``: on a machine without a CUDA GPU it fails at once, clearly."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from advlib.tools import gpu_check

ROOT = Path(__file__).resolve().parents[1]


def test_without_a_gpu_it_prints_one_line_and_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main([]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and "CUDA GPU" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_the_command_line_fails_clearly_without_a_gpu():
    proc = subprocess.run(
        [sys.executable, "-m", "advlib.tools.gpu_check"], cwd=ROOT, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs a CUDA GPU" in lines[0], proc.stderr


def test_make_has_the_target():
    text = (ROOT / "Makefile").read_text()
    assert "\ngpu-check: setup\n\t$(BIN)/python -m advlib.tools.gpu_check" in text
    assert "gpu-check" in text.split(".PHONY:")[1].splitlines()[0]
