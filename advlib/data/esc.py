"""ESC-10 and ESC-50 loaders (environmental sound classification).

K. J. Piczak, "ESC: Dataset for Environmental Sound Classification", Proc. 23rd ACM International
Conference on Multimedia, 2015, pp. 1015-1018, doi:10.1145/2733373.2806390.

Both sets come in 5 predefined folds, and every take of one Freesound recording sits in the same
fold, so the only valid protocol is cross-validation over those folds (or holding out whole
folds): never a random split. The loaders keep the CSV's fold of every clip in
:attr:`AudioSet.folds` and partition by whole folds (default fold 5 test, fold 4 valid).

ESC audio is 44.1 kHz. The study works at 16 kHz, so the defaults resample
(``sample_rate=16000, resample=True``) and bring every clip to 5 s by a centred crop or
zero-padding at the end (``length=80000, crop="center"``): the ESC-10 v1 clips run from 3.6 s to
7.2 s.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from advlib.data.core import AudioSet, fit_length, read_audio, stack_clips
from advlib.data.download import verify_loaded_files
from advlib.data.registry import dataset_provenance

__all__ = ["ESC10_META_COLUMNS", "ESC50_META_COLUMNS", "load_esc10", "load_esc50"]

#: Columns of the vendored ESC-10 ``meta.csv``.
ESC10_META_COLUMNS = ("filename", "fold", "target", "category", "src_file", "take")
#: Columns of the official ESC-50 ``meta/esc50.csv``.
ESC50_META_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")


def _read_meta(meta: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not meta.is_file():
        raise FileNotFoundError(f"{meta}: metadata CSV not found")
    with open(meta, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{meta}: missing column(s) {', '.join(missing)}")
        rows = list(reader)
    if not rows:
        raise ValueError(f"{meta}: no rows")
    for i, row in enumerate(rows, start=2):
        for col in ("fold", "target"):
            try:
                row[col] = str(int(row[col]))
            except (TypeError, ValueError):
                raise ValueError(
                    f"{meta}:{i}: {col} must be an integer, got {row[col]!r}"
                ) from None
        if not row["filename"].startswith(f"{row['fold']}-"):
            raise ValueError(
                f"{meta}:{i}: {row['filename']} is in fold {row['fold']} but its name does not "
                "start with that fold number"
            )
    return rows


def _classes_by_target(meta: Path, rows: list[dict[str, str]]) -> dict[int, str]:
    """Map each target to its one category; targets need not be contiguous here."""
    by_target: dict[int, str] = {}
    for row in rows:
        t, cat = int(row["target"]), row["category"]
        if by_target.setdefault(t, cat) != cat:
            raise ValueError(
                f"{meta}: target {t} is used for two categories ({by_target[t]!r}, {cat!r})"
            )
    if len(set(by_target.values())) != len(by_target):
        raise ValueError(f"{meta}: a category appears under two targets")
    return by_target


def _load_folds(
    *,
    name: str,
    registry_name: str,
    root: Path,
    audio_dir: str,
    rows: list[dict[str, str]],
    label_of_target: dict[int, int],
    classes: tuple[str, ...],
    sample_rate: int,
    length: int,
    resample: bool,
    crop: Literal["start", "center"],
    pad: Literal["end", "center"],
    test_fold: int,
    valid_fold: int | None,
    verify: bool,
    progress: bool,
    loader: dict[str, Any],
) -> AudioSet:
    from tqdm.auto import tqdm

    files = [f"{audio_dir}/{row['filename']}" for row in rows]
    verified = verify_loaded_files(root, files, progress=progress) if verify else False
    clips = []
    for rel in tqdm(files, desc=name, unit="clip", disable=not progress):
        audio, _ = read_audio(root / rel, sample_rate=sample_rate, resample=resample)
        clips.append(fit_length(audio, length, crop=crop, pad=pad))
    folds = np.array([int(r["fold"]) for r in rows], dtype=np.int64)
    info = {
        **dataset_provenance(registry_name),
        "root": str(root),
        "src_files": [r["src_file"] for r in rows],
        "takes": [r["take"] for r in rows],
        "loader": {
            **loader,
            "sample_rate": sample_rate,
            "length": length,
            "resample": resample,
            "crop": crop,
            "pad": pad,
            "test_fold": test_fold,
            "valid_fold": valid_fold,
            "verified": verified,
        },
    }
    aset = AudioSet(
        name=name,
        x=stack_clips(clips),
        y=torch.tensor([label_of_target[int(r["target"])] for r in rows], dtype=torch.int64),
        sample_rate=sample_rate,
        classes=classes,
        split=np.full(len(rows), "train"),
        folds=folds,
        files=tuple(files),
        info=info,
    )
    return aset.with_fold_split(test_fold, valid_fold)


def load_esc10(
    root: str | Path,
    *,
    sample_rate: int = 16000,
    length: int = 5 * 16000,
    resample: bool = True,
    crop: Literal["start", "center"] = "center",
    pad: Literal["end", "center"] = "end",
    test_fold: int = 5,
    valid_fold: int | None = 4,
    verify: bool = False,
    progress: bool = True,
) -> AudioSet:
    """Load the ESC-10 v1 layout: ``meta.csv`` and ``audio/{fold}-{freesound id}-{take}.ogg``.

    This is the layout of the vendored copy (``$ADVLIB_DATA_ROOT/esc10`` in CI, 398 clips).

    Parameters
    ----------
    root:
        Folder holding ``meta.csv`` (columns ``filename,fold,target,category,src_file,take``)
        and ``audio/``.
    sample_rate:
        Rate of the returned clips. ESC is 44.1 kHz, so the default 16 kHz needs (and gets)
        ``resample=True``.
    length:
        Samples per clip (default 5 s at ``sample_rate``).
    resample:
        Resample to ``sample_rate`` (polyphase). ``False`` makes a rate mismatch an error.
    crop, pad:
        How :func:`~advlib.data.core.fit_length` crops (default centred) and pads.
    test_fold, valid_fold:
        The folds (1-5) that form the test and validation partitions; every other fold is
        train. ``valid_fold=None`` means no validation partition. Use
        :meth:`AudioSet.with_fold_split` to rotate folds for cross-validation.
    verify:
        Check the files against ``SHA256SUMS`` first (warns when absent).
    progress:
        Show a progress bar while reading.

    Returns
    -------
    AudioSet
        Name ``"esc10"``. Class ``t`` is the ``category`` of ``target == t`` (so the order
        follows ``target``, not the alphabet); ``folds`` is the CSV ``fold``;
        ``info["src_files"]`` and ``info["takes"]`` hold the Freesound source of every clip.

    Raises
    ------
    FileNotFoundError
        ``meta.csv`` is missing.
    ValueError
        A column is missing, a target/category pair is inconsistent, targets are not 0..K-1, or
        a file name disagrees with its fold.
    AudioError
        An unreadable, empty, multi-channel or non-finite file (named), or a rate mismatch
        without ``resample``.
    """
    root = Path(root)
    meta = root / "meta.csv"
    rows = _read_meta(meta, ESC10_META_COLUMNS)
    by_target = _classes_by_target(meta, rows)
    if sorted(by_target) != list(range(len(by_target))):
        raise ValueError(
            f"{meta}: targets must be 0..{len(by_target) - 1}, got {sorted(by_target)}"
        )
    classes = tuple(by_target[t] for t in range(len(by_target)))
    return _load_folds(
        name="esc10",
        registry_name="esc10",
        root=root,
        audio_dir="audio",
        rows=rows,
        label_of_target={t: t for t in by_target},
        classes=classes,
        sample_rate=sample_rate,
        length=length,
        resample=resample,
        crop=crop,
        pad=pad,
        test_fold=test_fold,
        valid_fold=valid_fold,
        verify=verify,
        progress=progress,
        loader={"function": "advlib.data.esc.load_esc10"},
    )


def load_esc50(
    root: str | Path,
    *,
    esc10_only: bool = False,
    sample_rate: int = 16000,
    length: int = 5 * 16000,
    resample: bool = True,
    crop: Literal["start", "center"] = "center",
    pad: Literal["end", "center"] = "end",
    test_fold: int = 5,
    valid_fold: int | None = 4,
    verify: bool = False,
    progress: bool = True,
) -> AudioSet:
    """Load the official ESC-50 GitHub layout: ``meta/esc50.csv`` and ``audio/*.wav``.

    Parameters
    ----------
    root:
        The ``ESC-50-master`` folder (holding ``meta/esc50.csv`` with columns
        ``filename,fold,target,category,esc10,src_file,take`` and ``audio/``).
    esc10_only:
        Keep only the rows with ``esc10 == True`` (400 clips). Their ESC-50 targets are mapped
        to 0..9 in increasing order (the original targets are in
        ``info["esc50_targets"]``); this order differs from the ESC-10 v1 release's.
    sample_rate, length, resample, crop, pad, test_fold, valid_fold, verify, progress:
        As for :func:`load_esc10`.

    Returns
    -------
    AudioSet
        Name ``"esc50"`` (``info["subset"]`` is ``"esc10"`` with ``esc10_only``); classes in
        increasing ``target`` order, label ``i`` standing for target ``info["esc50_targets"][i]``
        (the identity for the full set); ``folds`` from the CSV.

    Raises
    ------
    FileNotFoundError
        ``meta/esc50.csv`` is missing.
    ValueError, AudioError
        As for :func:`load_esc10`.
    """
    root = Path(root)
    meta = root / "meta" / "esc50.csv"
    rows = _read_meta(meta, ESC50_META_COLUMNS)
    if esc10_only:
        flags = {r["esc10"].strip().lower() for r in rows}
        if not flags <= {"true", "false", "1", "0"}:
            raise ValueError(f"{meta}: esc10 column must be True/False, got {sorted(flags)}")
        rows = [r for r in rows if r["esc10"].strip().lower() in ("true", "1")]
        if not rows:
            raise ValueError(f"{meta}: no row has esc10 == True")
    by_target = _classes_by_target(meta, rows)
    targets = sorted(by_target)
    label_of_target = {t: i for i, t in enumerate(targets)}
    aset = _load_folds(
        name="esc50",
        registry_name="esc50",
        root=root,
        audio_dir="audio",
        rows=rows,
        label_of_target=label_of_target,
        classes=tuple(by_target[t] for t in targets),
        sample_rate=sample_rate,
        length=length,
        resample=resample,
        crop=crop,
        pad=pad,
        test_fold=test_fold,
        valid_fold=valid_fold,
        verify=verify,
        progress=progress,
        loader={"function": "advlib.data.esc.load_esc50", "esc10_only": esc10_only},
    )
    aset.info["subset"] = "esc10" if esc10_only else "esc50"
    aset.info["esc50_targets"] = targets
    return aset
