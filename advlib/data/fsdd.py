"""Free Spoken Digit Dataset (FSDD) loader.

Z. Jackson et al., "Jakobovski/free-spoken-digit-dataset", Zenodo, 2018,
doi:10.5281/zenodo.1342401. 8 kHz mono recordings of the digits 0-9, files named
``recordings/{digit}_{speaker}_{index}.wav``. Licence CC BY-SA 4.0.

Official protocol: the recordings with index 0-4 (of every speaker and digit) are the test set,
the rest train. The study draws validation from train only: by default indices 5-9.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from advlib.data.core import AudioSet, fit_length, read_audio, stack_clips
from advlib.data.download import verify_loaded_files
from advlib.data.registry import dataset_provenance

__all__ = ["FSDD_CLASSES", "FSDD_TEST_INDICES", "load_fsdd"]

#: Class names: the digits, as strings, in label order.
FSDD_CLASSES: tuple[str, ...] = tuple(str(d) for d in range(10))
#: Recording indices of the official test set.
FSDD_TEST_INDICES: tuple[int, ...] = (0, 1, 2, 3, 4)

_NAME = re.compile(r"^(?P<digit>[0-9])_(?P<speaker>[A-Za-z0-9]+)_(?P<index>[0-9]+)\.wav$")


def load_fsdd(
    root: str | Path,
    *,
    sample_rate: int = 8000,
    length: int = 8000,
    resample: bool = False,
    crop: Literal["start", "center"] = "start",
    pad: Literal["end", "center"] = "end",
    valid_indices: Iterable[int] = range(5, 10),
    verify: bool = False,
    progress: bool = True,
) -> AudioSet:
    """Load FSDD with its official split (index 0-4 test) and a validation set from train.

    Parameters
    ----------
    root:
        Folder holding ``recordings/`` (a copy laid out so, or an extracted release).
    sample_rate:
        Rate of the returned clips. FSDD is recorded at 8 kHz; another rate needs
        ``resample=True``.
    length:
        Samples per clip; longer recordings are cropped, shorter ones zero-padded (default one
        second at 8 kHz; 99 % of FSDD is shorter than 0.92 s).
    resample:
        Resample files whose rate differs from ``sample_rate`` (else :class:`AudioError`).
    crop, pad:
        How :func:`~advlib.data.core.fit_length` crops and pads.
    valid_indices:
        Recording indices moved from train to ``"valid"``; must not overlap 0-4. Pass ``()`` for
        no validation set.
    verify:
        Check the files against ``SHA256SUMS`` first (the vendored copy lists names relative to
        ``recordings/``); warns when there is no such file.
    progress:
        Show a progress bar while reading.

    Returns
    -------
    AudioSet
        Name ``"fsdd"``, classes ``"0"`` ... ``"9"``, ``folds=None``; ``info["speakers"]`` holds
        the speaker of every clip and ``info["indices"]`` its recording index.

    Raises
    ------
    FileNotFoundError
        ``recordings/`` is missing or empty.
    ValueError
        A ``.wav`` file does not follow ``{digit}_{speaker}_{index}.wav``, or ``valid_indices``
        overlaps the test indices.
    AudioError
        An unreadable, empty, multi-channel, non-finite or wrong-rate file (named).
    ChecksumError
        ``verify=True`` and a file differs from ``SHA256SUMS``.
    """
    from tqdm.auto import tqdm

    root = Path(root)
    rec_dir = root / "recordings"
    valid_set = {int(i) for i in valid_indices}
    overlap = valid_set & set(FSDD_TEST_INDICES)
    if overlap:
        raise ValueError(
            f"valid_indices {sorted(overlap)} overlap the official test indices 0-4; "
            "validation must come from train"
        )
    if not rec_dir.is_dir():
        raise FileNotFoundError(f"{rec_dir}: FSDD recordings folder not found")
    entries: list[tuple[int, str, int, str]] = []
    for path in rec_dir.iterdir():
        if path.suffix.lower() != ".wav":
            continue
        m = _NAME.match(path.name)
        if m is None:
            raise ValueError(f"{path}: not an FSDD file name ({{digit}}_{{speaker}}_{{index}}.wav)")
        entries.append((int(m["digit"]), m["speaker"], int(m["index"]), path.name))
    if not entries:
        raise FileNotFoundError(f"{rec_dir}: no .wav recordings found")
    entries.sort()

    files = [f"recordings/{e[3]}" for e in entries]
    verified = verify_loaded_files(root, files, progress=progress) if verify else False

    clips = []
    for _, _, _, fname in tqdm(entries, desc="FSDD", unit="clip", disable=not progress):
        audio, _ = read_audio(rec_dir / fname, sample_rate=sample_rate, resample=resample)
        clips.append(fit_length(audio, length, crop=crop, pad=pad))

    indices = np.array([e[2] for e in entries], dtype=np.int64)
    split = np.full(len(entries), "train", dtype=object)
    split[np.isin(indices, list(valid_set))] = "valid"
    split[np.isin(indices, FSDD_TEST_INDICES)] = "test"
    info = {
        **dataset_provenance("fsdd"),
        "root": str(root),
        "speakers": [e[1] for e in entries],
        "indices": indices.tolist(),
        "loader": {
            "function": "advlib.data.fsdd.load_fsdd",
            "sample_rate": sample_rate,
            "length": length,
            "resample": resample,
            "crop": crop,
            "pad": pad,
            "valid_indices": sorted(valid_set),
            "verified": verified,
        },
    }
    return AudioSet(
        name="fsdd",
        x=stack_clips(clips),
        y=torch.tensor([e[0] for e in entries], dtype=torch.int64),
        sample_rate=sample_rate,
        classes=FSDD_CLASSES,
        split=split.astype(str),
        folds=None,
        files=tuple(files),
        info=info,
    )
