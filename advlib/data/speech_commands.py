"""Speech Commands loader (v0.01, v0.02 and the vendored v0.01 sample).

P. Warden, "Speech Commands: A Dataset for Limited-Vocabulary Speech Recognition",
arXiv:1804.03209, 2018. One-second 16 kHz clips of single words,
``<word>/<speaker>_nohash_<n>.wav``. Licence CC BY 4.0.

Official protocol: ``validation_list.txt`` and ``testing_list.txt`` (paths ``word/file.wav``) give
the validation and test sets, every other clip is train. Upstream assigns clips to the lists by
hashing the speaker, so one speaker never spans two partitions. ``_background_noise_`` holds long
noise recordings and is never a class. Clips shorter than one second are zero-padded to 16,000
samples, as upstream does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from advlib.data.core import AudioSet, fit_length, read_audio, stack_clips
from advlib.data.download import verify_loaded_files
from advlib.data.registry import dataset_provenance

__all__ = [
    "BACKGROUND_NOISE",
    "CORE_WORDS",
    "GAN_WORDS",
    "UNKNOWN",
    "load_speech_commands",
]

#: The ten words of the GAN attack paper (Wang et al., IEEE Access 2020, Sec. IV-A): "yes", "no",
#: "up", "down", "left", "right", "on", "off", "stop" and "go".
GAN_WORDS: tuple[str, ...] = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")

#: The 20 core words of Speech Commands (Warden 2018): the ten commands and the digits.
CORE_WORDS: tuple[str, ...] = (
    *GAN_WORDS,
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)

#: Class name of the words outside ``words`` when ``unknown=True``.
UNKNOWN = "_unknown_"
#: The folder of background noise recordings, never a class.
BACKGROUND_NOISE = "_background_noise_"

_V2_ONLY_WORDS = ("backward", "follow", "forward", "learn", "visual")
_LISTS = {"valid": "validation_list.txt", "test": "testing_list.txt"}


def _read_list(path: Path) -> list[str]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: Speech Commands split list not found (the official protocol needs "
            "validation_list.txt and testing_list.txt)"
        )
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.strip().replace("\\", "/")
        if entry:
            out.append(entry[2:] if entry.startswith("./") else entry)
    return out


def load_speech_commands(
    root: str | Path,
    *,
    words: Sequence[str] | None = None,
    unknown: bool = False,
    sample_rate: int = 16000,
    length: int = 16000,
    resample: bool = False,
    crop: Literal["start", "center"] = "start",
    pad: Literal["end", "center"] = "end",
    verify: bool = False,
    progress: bool = True,
) -> AudioSet:
    """Load Speech Commands with the official validation/test lists.

    Parameters
    ----------
    root:
        Folder holding ``validation_list.txt``, ``testing_list.txt`` and the word folders,
        either directly (the official v0.01/v0.02 archives) or under ``root/audio/`` (the
        vendored sample).
    words:
        Words to keep, in class order. ``None`` keeps every word folder (sorted), except
        ``_background_noise_``. Use :data:`GAN_WORDS` for the GAN paper's 10 classes.
    unknown:
        Map the clips of every other word to one extra class ``"_unknown_"`` (last) instead of
        dropping them. Needs ``words``.
    sample_rate:
        Rate of the returned clips (the data are 16 kHz).
    length:
        Samples per clip; shorter clips are zero-padded (default 16,000, one second).
    resample:
        Resample files at another rate (else :class:`AudioError`).
    crop, pad:
        How :func:`~advlib.data.core.fit_length` crops and pads (default: pad at the end).
    verify:
        Check the files against ``SHA256SUMS`` in ``root`` first (warns when absent).
    progress:
        Show a progress bar while reading.

    Returns
    -------
    AudioSet
        Name ``"speech_commands"``. ``files`` are the clips' ids in list format
        (``word/file.wav``, relative to ``info["audio_root"]``), so
        ``set(s.files[s.split == "test"])`` equals the test list restricted to the loaded
        words. ``info["speakers"]`` holds each clip's speaker id, ``folds`` is ``None``.

    Raises
    ------
    FileNotFoundError
        A split list or a requested word folder is missing (named).
    ValueError
        A list names a missing clip of a loaded word, a clip is in both lists, ``words`` has
        duplicates, a non-string or ``_background_noise_``, or ``unknown=True`` without
        ``words``.
    AudioError
        An unreadable, empty, multi-channel, non-finite or wrong-rate file (named).
    """
    from tqdm.auto import tqdm

    root = Path(root)
    audio_dir = root / "audio" if (root / "audio").is_dir() else root
    lists = {part: _read_list(root / fname) for part, fname in _LISTS.items()}
    both = set(lists["valid"]) & set(lists["test"])
    if both:
        raise ValueError(
            f"{root}: {len(both)} clip(s) are in both validation_list.txt and testing_list.txt, "
            f"e.g. {sorted(both)[0]}"
        )
    folders = sorted(
        p.name for p in audio_dir.iterdir() if p.is_dir() and not p.name.startswith("_")
    )
    if words is None:
        if unknown:
            raise ValueError("unknown=True needs an explicit list of words")
        keep = folders
        classes = tuple(folders)
    else:
        keep = list(words)
        bad = [w for w in keep if not isinstance(w, str)]
        if bad:
            raise ValueError(
                f"words must be strings, got {bad} (YAML reads unquoted yes/no/on/off as "
                "booleans: quote them)"
            )
        if len(set(keep)) != len(keep):
            raise ValueError(f"words has duplicates: {keep}")
        if BACKGROUND_NOISE in keep or UNKNOWN in keep:
            raise ValueError(f"{BACKGROUND_NOISE!r} and {UNKNOWN!r} cannot be words")
        for w in keep:
            if not (audio_dir / w).is_dir():
                raise FileNotFoundError(f"{audio_dir / w}: no folder for word {w!r}")
        classes = tuple(keep) + ((UNKNOWN,) if unknown else ())
        if unknown:
            keep = keep + [f for f in folders if f not in keep]
    if not keep:
        raise FileNotFoundError(f"{audio_dir}: no word folders found")

    label_of = {w: (classes.index(w) if w in classes else len(classes) - 1) for w in keep}
    ids: list[str] = []
    for w in keep:
        ids += sorted(f"{w}/{p.name}" for p in (audio_dir / w).iterdir() if p.suffix == ".wav")
    present = set(ids)
    kept_words = set(keep)
    for part, entries in lists.items():
        for e in entries:
            if e.split("/", 1)[0] in kept_words and e not in present:
                raise ValueError(f"{root / _LISTS[part]}: lists {e}, which is not in {audio_dir}")
    valid_ids, test_ids = set(lists["valid"]), set(lists["test"])
    split = np.array(
        ["test" if i in test_ids else "valid" if i in valid_ids else "train" for i in ids]
    )

    rel_audio = "" if audio_dir == root else "audio/"
    verified = (
        verify_loaded_files(root, [rel_audio + i for i in ids], progress=progress)
        if verify
        else False
    )
    clips = []
    for i in tqdm(ids, desc="Speech Commands", unit="clip", disable=not progress):
        audio, _ = read_audio(audio_dir / i, sample_rate=sample_rate, resample=resample)
        clips.append(fit_length(audio, length, crop=crop, pad=pad))

    # v0.02 added five words; their folders tell the versions apart.
    version = "v0.02" if any((audio_dir / w).is_dir() for w in _V2_ONLY_WORDS) else "v0.01"
    info = {
        **dataset_provenance("speech_commands_v2" if version == "v0.02" else "speech_commands_v1"),
        "version": version,
        "root": str(root),
        "audio_root": str(audio_dir),
        "speakers": [i.split("/", 1)[1].split("_nohash_")[0] for i in ids],
        "words": [i.split("/", 1)[0] for i in ids],
        "loader": {
            "function": "advlib.data.speech_commands.load_speech_commands",
            "words": None if words is None else list(words),
            "unknown": unknown,
            "sample_rate": sample_rate,
            "length": length,
            "resample": resample,
            "crop": crop,
            "pad": pad,
            "verified": verified,
        },
    }
    return AudioSet(
        name="speech_commands",
        x=stack_clips(clips),
        y=torch.tensor([label_of[i.split("/", 1)[0]] for i in ids], dtype=torch.int64),
        sample_rate=sample_rate,
        classes=classes,
        split=split,
        folds=None,
        files=tuple(ids),
        info=info,
    )
