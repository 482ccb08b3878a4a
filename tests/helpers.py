"""Small test-only tools shared by the tests."""

import os
from pathlib import Path

from torch import nn

from advlib.paths import data_root


def paper_text(name: str) -> Path:
    """A paper's plain-text extraction in the folder ``$ADVLIB_PAPER_TEXTS`` (the papers cannot
    be redistributed, so they are not in the repository; ``.ci/run`` points at a copy). Tests
    that read one skip when the file is not there."""
    return Path(os.environ.get("ADVLIB_PAPER_TEXTS") or "/nonexistent", name)


def vendored(name: str) -> Path:
    """The vendored copy of a real data set, ``$ADVLIB_DATA_ROOT/<name>``, known by its
    ``SHA256SUMS`` (a fetched release has none); a missing copy skips the calling test."""
    import pytest

    root = data_root() / name
    if not (root / "SHA256SUMS").is_file():
        pytest.skip(f"vendored copy of {name} not found at {root} (set ADVLIB_DATA_ROOT)")
    return root


class Recorder(nn.Module):
    """Wraps a model and records every batch it is shown, with the logits it returned."""

    def __init__(self, model):
        super().__init__()
        self.model, self.seen = model, []

    def forward(self, x):
        out = self.model(x)
        self.seen.append((x.detach().clone(), out.detach().clone()))
        return out
