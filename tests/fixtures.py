"""Writers of tiny fake data sets in the exact on-disk layouts of the real ones.

They live in the package (:mod:`advlib.data.fixtures`, which the ``smoke`` profile's data sets
come from); this module re-exports them for the tests, which write them into a pytest
``tmp_path``. Nothing is downloaded.
"""

from __future__ import annotations

from advlib.data.fixtures import (
    ESC10_CATEGORIES,
    US8K_CLASSES,
    make_esc10,
    make_esc50,
    make_fsdd,
    make_gtzan,
    make_speech_commands,
    make_urbansound8k,
    signal,
    write_audio,
    write_sha256sums,
)

__all__ = [
    "ESC10_CATEGORIES",
    "US8K_CLASSES",
    "make_esc10",
    "make_esc50",
    "make_fsdd",
    "make_gtzan",
    "make_speech_commands",
    "make_urbansound8k",
    "signal",
    "write_audio",
    "write_sha256sums",
]
