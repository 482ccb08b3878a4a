"""Fixture data sets: tiny copies of the real sets in their exact on-disk layouts.

Every ``make_*`` function writes short synthetic clips with ``soundfile`` into a folder and
returns the data set's root, ready for the matching loader (:mod:`advlib.data`): FSDD's
``recordings/``, the ESC-10 v1 and ESC-50 metadata CSVs and ``audio/``, UrbanSound8K's
``metadata/UrbanSound8K.csv`` and ``audio/fold{k}/``, Speech Commands' word folders with
``validation_list.txt`` and ``testing_list.txt``, GTZAN's genre folders. The clips are ramps and
tones whose content identifies them, so the loader tests can check that labels, folds and
splits stay attached to the right audio. Nothing is downloaded.

The tests write them into a ``tmp_path`` (``tests/fixtures.py`` re-exports them). The ``smoke``
profile reads the sets :func:`make_smoke_data` writes (``python -m advlib fixtures``): every data
set of the ``paper`` profile in its real layout, at its real sample rates and clip lengths (the
loaders resample, mix down and crop them as they do the real files), with all of the set's
classes (ESC-50: its ten ESC-10 categories) and one or two clips per class and fold or split,
so that the paper profile's code paths run end to end in minutes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

__all__ = [
    "ESC10_CATEGORIES",
    "FIXTURES",
    "SMOKE_ESC50_CATEGORIES",
    "SMOKE_SETS",
    "SMOKE_VERSION",
    "SMOKE_WORDS",
    "US8K_ALL_CLASSES",
    "US8K_CLASSES",
    "fixture_set",
    "fixture_stamp",
    "make_esc10",
    "make_esc50",
    "make_fsdd",
    "make_gtzan",
    "make_smoke_data",
    "make_speech_commands",
    "make_urbansound8k",
    "signal",
    "write_audio",
    "write_sha256sums",
]

#: (target, category) of the fake ESC-10: target order deliberately differs from the alphabet.
ESC10_CATEGORIES: tuple[tuple[int, str], ...] = ((0, "rooster"), (1, "dog"), (2, "chainsaw"))
#: (classID, class) of the small fake UrbanSound8K, again not in alphabetical order.
US8K_CLASSES: tuple[tuple[int, str], ...] = ((0, "siren"), (1, "air_conditioner"), (2, "dog_bark"))
#: (classID, class) of the real UrbanSound8K (its ten classes, in ``classID`` order).
US8K_ALL_CLASSES: tuple[tuple[int, str], ...] = (
    (0, "air_conditioner"),
    (1, "car_horn"),
    (2, "children_playing"),
    (3, "dog_bark"),
    (4, "drilling"),
    (5, "engine_idling"),
    (6, "gun_shot"),
    (7, "jackhammer"),
    (8, "siren"),
    (9, "street_music"),
)
#: (target, category, esc10) of the smoke ESC-50: the ten ESC-10 categories with their real
#: ESC-50 targets (not contiguous, as the loader must handle).
SMOKE_ESC50_CATEGORIES: tuple[tuple[int, str, bool], ...] = (
    (0, "dog", True),
    (1, "rooster", True),
    (10, "rain", True),
    (11, "sea_waves", True),
    (12, "crackling_fire", True),
    (20, "crying_baby", True),
    (21, "sneezing", True),
    (38, "clock_tick", True),
    (40, "helicopter", True),
    (41, "chainsaw", True),
)
#: Words of the smoke Speech Commands v0.02: the 20 core words, three of the auxiliary words
#: (the ``_unknown_`` class of the UAP paper's SpchCMD) and two words only v0.02 has.
SMOKE_WORDS: tuple[str, ...] = (
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
    "bed", "bird", "cat", "backward", "follow",
)  # fmt: skip


def signal(
    n: int, *, freq: float = 440.0, sr: int = 8000, amp: float = 0.5, ramp: bool = False
) -> np.ndarray:
    """A float32 test signal of ``n`` samples: a sine, or a ramp from -amp to amp."""
    if ramp:
        return np.linspace(-amp, amp, n, dtype=np.float32)
    t = np.arange(n, dtype=np.float64) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _sound(n: int, *, freq: float, sr: int, seed: int, amp: float = 0.4) -> np.ndarray:
    """A float32 clip of ``n`` samples that sounds like something: a tone at ``freq`` with
    two harmonics (each below Nyquist), a slow amplitude envelope and seeded noise at -30 dB;
    no two clips alike (``seed``), never digital silence."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64) / sr
    x = np.zeros(n)
    for k, w in ((1, 1.0), (2, 0.5), (3, 0.25)):
        if k * freq < 0.45 * sr:
            x += w * np.sin(2 * np.pi * k * freq * t + rng.uniform(0, 2 * np.pi))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.5, 3.0) * t + rng.uniform(0, 2 * np.pi))
    x = x * env / 1.75 + 0.03 * rng.standard_normal(n)
    return (amp * x / max(1e-9, float(np.abs(x).max()))).astype(np.float32)


def _seed(*parts: Any) -> int:
    """A stable seed from ``parts`` (Python's ``hash`` of a string changes between runs)."""
    text = "|".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=4).digest(), "little")


def write_audio(
    path: Path, audio: np.ndarray, sr: int, *, fmt: str | None = None, subtype: str | None = None
) -> Path:
    """Write ``audio`` (1-D mono or 2-D ``(frames, channels)``) with soundfile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, sr, format=fmt, subtype=subtype)
    return path


def write_sha256sums(root: Path, files: Iterable[Path], *, relative_to: Path | None = None) -> Path:
    """Write ``root/SHA256SUMS`` in ``sha256sum`` format, paths relative to ``relative_to``."""
    base = relative_to if relative_to is not None else root
    lines = []
    for f in sorted(files):
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        lines.append(f"{digest}  {f.relative_to(base).as_posix()}\n")
    out = root / "SHA256SUMS"
    out.write_text("".join(lines), encoding="utf-8")
    return out


def make_fsdd(
    root: Path,
    *,
    speakers: Sequence[str] = ("alice", "bob"),
    n_index: int = 12,
    sr: int = 8000,
    sums: bool = True,
    indices: Sequence[int] | None = None,
    seconds: float | None = None,
) -> Path:
    """FSDD layout: ``recordings/{digit}_{speaker}_{index}.wav`` plus a flat ``SHA256SUMS``.

    Every speaker records every digit at ``indices`` (default ``range(n_index)``; the loader
    makes 0-4 test and 5-9 validation). Durations cycle through 0.05-0.2 s and the clip is a
    tone whose frequency encodes the digit; with ``seconds``, they cycle through 0.5-1.0 times
    ``seconds`` and the clip is a seeded harmonic sound (:func:`make_smoke_data`). Like the
    vendored copy, ``SHA256SUMS`` lists bare file names relative to ``recordings/``.
    """
    files = []
    for digit in range(10):
        for s_i, speaker in enumerate(speakers):
            for index in indices if indices is not None else range(n_index):
                if seconds is None:
                    n = int(sr * (0.05 + 0.05 * ((index + s_i) % 4)))
                    audio = signal(n, freq=200.0 + 100 * digit, sr=sr)
                else:
                    n = int(sr * seconds * (0.5 + 0.5 * ((index + s_i) % 3) / 2))
                    audio = _sound(n, freq=200.0 + 60 * digit, sr=sr,
                                   seed=_seed("fsdd", digit, speaker, index))  # fmt: skip
                files.append(
                    write_audio(root / "recordings" / f"{digit}_{speaker}_{index}.wav", audio, sr)
                )
    if sums:
        write_sha256sums(root, files, relative_to=root / "recordings")
    return root


def _esc_rows(n_folds: int, clips_per_class_fold: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for target, category in ESC10_CATEGORIES:
        for fold in range(1, n_folds + 1):
            src = 1000 * (target + 1) + fold  # one Freesound source per class and fold ...
            for k in range(clips_per_class_fold):
                take = "ABCDEFG"[k]  # ... with several takes, all in the same fold
                rows.append(
                    {"fold": fold, "target": target, "category": category, "src": src, "take": take}
                )
    random.Random(seed).shuffle(rows)  # CSV order is not sorted by class or fold
    return rows


def make_esc10(
    root: Path,
    *,
    n_folds: int = 5,
    clips_per_class_fold: int = 2,
    sr: int = 44100,
    sums: bool = True,
    seed: int = 0,
) -> Path:
    """ESC-10 v1 layout: ``meta.csv`` and ``audio/{fold}-{src}-{take}.ogg`` (Ogg Vorbis).

    Clip durations vary between 0.1 and 0.3 s (like the real set's varying lengths, scaled
    down); the signal is a ramp so crops are easy to check.
    """
    rows = _esc_rows(n_folds, clips_per_class_fold, seed)
    files = []
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "meta.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["filename", "fold", "target", "category", "src_file", "take"])
        for i, r in enumerate(rows):
            name = f"{r['fold']}-{r['src']}-{r['take']}.ogg"
            n = int(sr * (0.1 + 0.1 * (i % 3)))
            files.append(
                write_audio(
                    root / "audio" / name,
                    signal(n, sr=sr, ramp=True),
                    sr,
                    fmt="OGG",
                    subtype="VORBIS",
                )
            )
            w.writerow([name, r["fold"], r["target"], r["category"], r["src"], r["take"]])
    if sums:
        write_sha256sums(root, files)
    return root


#: The five categories of the default fake ESC-50 (real targets; three are ESC-10's).
_ESC50_FEW = (
    (0, "dog", True),
    (5, "cow", False),
    (10, "rain", True),
    (14, "chirping_birds", False),
    (41, "chainsaw", True),
)


def make_esc50(
    root: Path,
    *,
    sr: int = 44100,
    seed: int = 1,
    categories: Sequence[tuple[int, str, bool]] | None = None,
    clips_per_class_fold: int = 1,
    seconds: float | None = None,
) -> Path:
    """ESC-50 GitHub layout: ``meta/esc50.csv`` and ``audio/{fold}-{src}-{take}-{target}.wav``.

    ``categories``: ``(target, category, esc10)`` rows with their real ESC-50 targets; by
    default five (0, 5, 10, 14, 41), of which dog, rain and chainsaw are flagged ``esc10``.
    ``clips_per_class_fold`` takes of one source per category and fold. Clips last 0.1 s (a
    tone whose frequency encodes the target) or, with ``seconds``, exactly ``seconds`` (as the
    real set's 5 s clips) of a seeded harmonic sound.
    """
    cats = tuple(categories) if categories is not None else _ESC50_FEW
    rows = [(fold, t, c, e) for t, c, e in cats for fold in range(1, 6)]
    random.Random(seed).shuffle(rows)
    (root / "meta").mkdir(parents=True, exist_ok=True)
    with open(root / "meta" / "esc50.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["filename", "fold", "target", "category", "esc10", "src_file", "take"])
        for i, (fold, t, c, e) in enumerate(rows):
            src = 5000 + i
            for k in range(clips_per_class_fold):
                take = "ABCDEFG"[k]
                name = f"{fold}-{src}-{take}-{t}.wav"
                if seconds is None:
                    audio = signal(int(sr * 0.1), sr=sr, freq=300 + 10 * t)
                else:
                    audio = _sound(int(sr * seconds), freq=150.0 + 20 * t, sr=sr,
                                   seed=_seed("esc50", name))  # fmt: skip
                write_audio(root / "audio" / name, audio, sr)
                w.writerow([name, fold, t, c, str(e), src, take])
    return root


def make_urbansound8k(
    root: Path,
    *,
    clips_per_class_fold: int = 1,
    seed: int = 2,
    classes: Sequence[tuple[int, str]] = US8K_CLASSES,
    seconds: float | None = None,
) -> Path:
    """UrbanSound8K layout: ``metadata/UrbanSound8K.csv`` and ``audio/fold{k}/{file}``.

    Rates cycle through 8, 22.05, 44.1 and 48 kHz and every third clip is stereo, as the real
    set mixes formats. ``classes``: ``(classID, class)`` pairs (default three; the real ten are
    :data:`US8K_ALL_CLASSES`). Durations vary between 0.1 and 0.25 s (a 500 Hz tone), or, with
    ``seconds``, between 0.625 and 1 times ``seconds`` (the real slices last up to 4 s) of a
    seeded harmonic sound whose pitch follows the class.
    """
    rates = (8000, 22050, 44100, 48000)
    rows = []
    i = 0
    for cid, cname in classes:
        for fold in range(1, 11):
            for k in range(clips_per_class_fold):
                fsid = 70000 + 100 * cid + fold
                rows.append((f"{fsid}-{cid}-0-{k}.wav", fsid, fold, cid, cname, i))
                i += 1
    random.Random(seed).shuffle(rows)
    (root / "metadata").mkdir(parents=True, exist_ok=True)
    with open(root / "metadata" / "UrbanSound8K.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"]
        )
        for name, fsid, fold, cid, cname, j in rows:
            sr = rates[j % len(rates)]
            if seconds is None:
                n = int(sr * (0.1 + 0.05 * (j % 4)))
                mono = signal(n, sr=sr, freq=500.0)
            else:
                n = int(sr * seconds * (1.0 - 0.125 * (j % 4)))
                mono = _sound(n, freq=180.0 + 70 * cid, sr=sr, seed=_seed("us8k", name))
            audio = np.stack([mono, 0.5 * mono], axis=1) if j % 3 == 0 else mono
            write_audio(root / "audio" / f"fold{fold}" / name, audio, sr)
            w.writerow([name, fsid, 0.0, n / sr, 1 + j % 2, fold, cid, cname])
    return root


def make_speech_commands(
    root: Path,
    *,
    layout: str = "flat",
    words: Sequence[str] = ("yes", "no", "up", "dog", "marvin"),
    speakers: Sequence[str] = ("aaaa0001", "bbbb0002", "cccc0003", "dddd0004", "eeee0005"),
    clips_per_speaker: int = 2,
    sums: bool = False,
) -> Path:
    """Speech Commands layout: ``<word>/<speaker>_nohash_<n>.wav`` in ``root`` (``"flat"``,
    like the official archives) or in ``root/audio`` (``"audio"``, like the vendored sample),
    with ``validation_list.txt``/``testing_list.txt`` in ``root`` and a ``_background_noise_``
    folder holding a long recording.

    Speaker 0 is test and speaker 1 validation (as upstream's speaker hashing would put whole
    speakers in one list); every fourth clip lasts 0.5 s so padding is exercised.
    """
    audio_root = root / "audio" if layout == "audio" else root
    files, test, valid = [], [], []
    j = 0
    for wi, word in enumerate(words):
        for si, spk in enumerate(speakers):
            for n in range(clips_per_speaker):
                dur = 0.5 if j % 4 == 0 else 1.0
                audio = signal(int(16000 * dur), sr=16000, freq=300 + 50 * wi)
                rel = f"{word}/{spk}_nohash_{n}.wav"
                files.append(write_audio(audio_root / rel, audio, 16000))
                (test if si == 0 else valid if si == 1 else []).append(rel)
                j += 1
    write_audio(
        audio_root / "_background_noise_" / "white_noise.wav", signal(16000 * 3, sr=16000), 16000
    )
    (audio_root / "_background_noise_" / "README.md").write_text("noise\n")
    (root / "testing_list.txt").write_text("".join(f"{t}\n" for t in test))
    (root / "validation_list.txt").write_text("".join(f"{v}\n" for v in valid))
    if sums:
        write_sha256sums(root, files)
    return root


def make_gtzan(
    root: Path,
    *,
    ids: Iterable[str],
    folder: str = "genres",
    ext: str = ".wav",
    sr: int = 22050,
    n: int = 441,
    corrupt: Iterable[str] = ("jazz.00054",),
) -> Path:
    """GTZAN layout: ``<folder>/<genre>/<genre>.000NN<ext>`` with ``n``-sample clips.

    Tracks in ``corrupt`` are written as garbage bytes (as the broken ``jazz.00054.wav`` of
    common redistributions is unreadable).
    """
    corrupt = set(corrupt)
    subtype_fmt = {".wav": ("WAV", "PCM_16"), ".au": ("AU", "PCM_16")}[ext]
    for track in ids:
        genre = track.split(".", 1)[0]
        path = root / folder / genre / f"{track}{ext}"
        if track in corrupt:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"RIFF\x00\x00garbage" * 3)
            continue
        number = int(track.split(".", 1)[1])
        write_audio(
            path,
            signal(n, sr=sr, freq=100.0 + number),
            sr,
            fmt=subtype_fmt[0],
            subtype=subtype_fmt[1],
        )
    return root


# --------------------------------------------------------------------------------------------
# the smoke profile's data sets
# --------------------------------------------------------------------------------------------


def _smoke_urbansound8k(root: Path) -> Path:
    # the ten classes, one slice per class and fold, up to 4 s at mixed rates and channels
    return make_urbansound8k(root, classes=US8K_ALL_CLASSES, clips_per_class_fold=1, seconds=4.0)


def _smoke_esc50(root: Path) -> Path:
    # ten categories (ESC-10's, real targets), one 5 s take per category and fold at 44.1 kHz
    return make_esc50(root, categories=SMOKE_ESC50_CATEGORIES, seconds=5.0)


def _smoke_speech_commands(root: Path) -> Path:
    # v0.02's flat layout: each word said once by four speakers (test, valid, two train)
    speakers = ("0a0b0c0d", "1a1b1c1d", "2a2b2c2d", "3a3b3c3d")
    return make_speech_commands(root, words=SMOKE_WORDS, speakers=speakers, clips_per_speaker=1)


def _smoke_gtzan(root: Path) -> Path:
    # every track of the fault-filtered split (the loader reads exactly those), 1.2 s at
    # 22,050 Hz (the loader resamples to 16 kHz and crops 16,384 samples); jazz.00054 corrupt
    from advlib.data.gtzan import GTZAN_CORRUPT, gtzan_split_ids

    ids = [t for part in ("train", "valid", "test") for t in gtzan_split_ids(part)]
    return make_gtzan(root, ids=ids, n=int(1.2 * 22050), corrupt=GTZAN_CORRUPT)


def _smoke_fsdd(root: Path) -> Path:
    # two speakers, indices 0 (test), 5 (valid), 10 and 11 (train), 0.4-0.8 s at 8 kHz
    return make_fsdd(root, speakers=("jackson", "theo"), indices=(0, 5, 10, 11), seconds=0.8)


#: The smoke profile's data sets: folder name under the root -> writer. The folder names are
#: those of the real sets under ``$ADVLIB_DATA_ROOT`` (``speech_commands_v2`` as in the paper
#: profile).
SMOKE_SETS: dict[str, Callable[[Path], Path]] = {
    "urbansound8k": _smoke_urbansound8k,
    "esc50": _smoke_esc50,
    "speech_commands_v2": _smoke_speech_commands,
    "gtzan": _smoke_gtzan,
    "fsdd": _smoke_fsdd,
}
#: The placeholder of a profile root that names a fixture set (``"{fixtures}/urbansound8k"``),
#: expanded by :func:`advlib.paths.resolve` to :func:`advlib.paths.fixtures_dir`.
FIXTURES = "{fixtures}"
#: Bump when a writer's output changes: sets written by another version are rewritten.
SMOKE_VERSION = 1
_STAMP = ".advlib-fixture.json"


def fixture_stamp(path: str | Path) -> Path:
    """The stamp file that marks a finished fixture set at ``path`` (written last)."""
    return Path(path) / _STAMP


def _is_current(target: Path, stamp: dict[str, Any]) -> bool:
    try:
        return json.loads(fixture_stamp(target).read_text()) == stamp
    except (OSError, ValueError):
        return False


def make_smoke_data(root: str | Path, names: Iterable[str] | None = None) -> dict[str, Path]:
    """Write the smoke profile's data sets (:data:`SMOKE_SETS`, or those named) under ``root``
    (the pipeline's: :func:`advlib.paths.fixtures_dir`), one folder each
    (``root/urbansound8k``, ...), and return their paths.

    Idempotent: a set already written by this version (its ``.advlib-fixture.json`` stamp) is
    left as it is. A set is written into a temporary folder and renamed into place, under a
    file lock, so an interrupted run leaves no half-written set and two processes asking at
    once write it once. The clips are deterministic, so the sets' content (and every cache key
    computed from it) is the same on every machine. About 100 MB and 10 s for all five.
    """
    from filelock import FileLock

    root = Path(root)
    chosen = list(SMOKE_SETS) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in SMOKE_SETS]
    if unknown:
        raise ValueError(f"unknown fixture set(s) {unknown}; known: {', '.join(SMOKE_SETS)}")
    out = {}
    for name in chosen:
        target = root / name
        stamp = {"set": name, "version": SMOKE_VERSION}
        if not _is_current(target, stamp):
            root.mkdir(parents=True, exist_ok=True)
            with FileLock(str(root / f".{name}.lock")):
                if not _is_current(target, stamp):  # another process may have written it
                    tmp = root / f".{name}.{os.getpid()}.tmp"
                    shutil.rmtree(tmp, ignore_errors=True)
                    SMOKE_SETS[name](tmp)
                    fixture_stamp(tmp).write_text(json.dumps(stamp))
                    shutil.rmtree(target, ignore_errors=True)
                    os.replace(tmp, target)
        out[name] = target
    return out


def fixture_set(template: str) -> str | None:
    """The fixture set a profile root names (``"{fixtures}/gtzan"`` -> ``"gtzan"``), or
    ``None`` for a root elsewhere (:func:`advlib.paths.resolve` expands the placeholder)."""
    text = str(template).replace("\\", "/")
    if not text.startswith(FIXTURES + "/"):
        return None
    return text[len(FIXTURES) + 1 :].split("/", 1)[0] or None
