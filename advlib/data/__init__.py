"""Data sets in the study's convention: float32 mono ``(N, T)`` waveforms in [-1, 1].

``load_dataset(loader, root, **args)`` is the one entry point the notebooks use; it dispatches
to a generator (the synthetic environmental-sound, spoken-word and music-genre sets) or to a
real loader that keeps the set's official protocol.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from advlib.data.core import SPLITS, AudioError, AudioSet, fit_length, read_audio, resample_audio
from advlib.data.download import (
    ChecksumError,
    UnsafeArchiveError,
    download,
    fetch,
    safe_extract,
    verify_checksums,
)
from advlib.data.esc import load_esc10, load_esc50
from advlib.data.fsdd import load_fsdd
from advlib.data.gtzan import GTZAN_GENRES, load_gtzan
from advlib.data.registry import dataset_info
from advlib.data.speech_commands import load_speech_commands
from advlib.data.synthetic import SYNTHETIC_CLASSES, make_synthetic
from advlib.data.synthetic_music import MUSIC_CLASSES, make_synthetic_music
from advlib.data.synthetic_speech import SPEECH_CLASSES, make_synthetic_speech
from advlib.data.urbansound8k import load_urbansound8k

__all__ = [
    "GENERATED_LOADERS",
    "LOADERS",
    "MUSIC_CLASSES",
    "SPEECH_CLASSES",
    "SPLITS",
    "SYNTHETIC_CLASSES",
    "AudioError",
    "AudioSet",
    "ChecksumError",
    "UnsafeArchiveError",
    "class_count",
    "dataset_info",
    "download",
    "fetch",
    "fit_length",
    "load_dataset",
    "load_esc10",
    "load_esc50",
    "load_fsdd",
    "load_gtzan",
    "load_speech_commands",
    "load_urbansound8k",
    "make_synthetic",
    "make_synthetic_music",
    "make_synthetic_speech",
    "read_audio",
    "resample_audio",
    "safe_extract",
    "verify_checksums",
]

#: Loader name (as used in the profiles) -> function. The generated sets take no root.
LOADERS: dict[str, Callable[..., AudioSet]] = {
    "synthetic": make_synthetic,
    "synthetic_speech": make_synthetic_speech,
    "synthetic_music": make_synthetic_music,
    "fsdd": load_fsdd,
    "esc10": load_esc10,
    "esc50": load_esc50,
    "urbansound8k": load_urbansound8k,
    "speech_commands": load_speech_commands,
    "gtzan": load_gtzan,
}

#: Classes of each loader's set (each loader's label order is fixed by its data set).
_CLASS_COUNTS: dict[str, int] = {
    "synthetic": len(SYNTHETIC_CLASSES),
    "synthetic_speech": len(SPEECH_CLASSES),
    "synthetic_music": len(MUSIC_CLASSES),
    "fsdd": 10,
    "esc10": 10,
    "esc50": 50,
    "urbansound8k": 10,
    "gtzan": len(GTZAN_GENRES),
}


def class_count(loader: str, args: Mapping[str, Any] | None = None) -> int | None:
    """How many classes ``loader`` with ``args`` yields, known without loading the set (the
    pipeline enumerates one job per target class before any data exists); ``None`` where only
    the data can tell (Speech Commands without a list of words)."""
    if loader == "speech_commands":
        words = (args or {}).get("words")
        return len(words) + bool((args or {}).get("unknown")) if words else None
    return _CLASS_COUNTS.get(loader)


#: Loaders that generate their set (no ``root``, nothing to download).
GENERATED_LOADERS: frozenset[str] = frozenset({"synthetic", "synthetic_speech", "synthetic_music"})


def load_dataset(loader: str, root: str | Path | None = None, **args: Any) -> AudioSet:
    """Load a data set by loader name; unknown names raise a ValueError listing the known ones."""
    if loader not in LOADERS:
        raise ValueError(f"unknown data set loader {loader!r}; known: {sorted(LOADERS)}")
    if loader in GENERATED_LOADERS:
        if root is not None:
            raise ValueError(f"the {loader} set is generated, it takes no root")
        return LOADERS[loader](**args)
    if root is None:
        raise ValueError(f"loader {loader!r} needs the data set's root folder")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"data set folder {root} not found for loader {loader!r}; download it "
            f"(advlib.data.fetch) or set the profile's root / ADVLIB_DATA_ROOT"
        )
    return LOADERS[loader](root, **args)
