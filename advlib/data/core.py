"""The study's one tensor convention for audio, and the checks that guard it.

Every data set in the study becomes an :class:`AudioSet`: mono float32 waveforms in [-1, 1],
shape ``(N, T)``, one fixed length ``T`` and one sample rate per set, int64 labels, class names
kept with the set, and per-clip split and fold labels that carry the set's official protocol.

Reading a file goes through :func:`read_audio`, which names the file and the problem whenever the
audio is unreadable, empty, cut short (fewer samples than its header declares), multi-channel when
mono was required, non-finite, or at another sample rate than asked for without ``resample=True``.
"""

from __future__ import annotations

import hashlib
import math
import struct
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

__all__ = [
    "CROP_CHOICES",
    "MONO_CHOICES",
    "PAD_CHOICES",
    "SPLITS",
    "AudioError",
    "AudioSet",
    "fit_length",
    "read_audio",
    "resample_audio",
    "stack_clips",
]

#: The split names every loader uses.
SPLITS = ("train", "valid", "test")


class AudioError(ValueError):
    """Raised when an audio file or array breaks the study's audio convention.

    The message always names the file (or array) and the problem.
    """


def resample_audio(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``) of a 1-D signal.

    Deterministic, band-limited (Kaiser window), and exact in length:
    ``ceil(len * target_sr / orig_sr)`` samples.
    """
    from scipy.signal import resample_poly

    if orig_sr <= 0 or target_sr <= 0:
        raise ValueError(f"sample rates must be positive, got {orig_sr} -> {target_sr}")
    if orig_sr == target_sr:
        return audio.astype(np.float32, copy=False)
    g = math.gcd(int(orig_sr), int(target_sr))
    out = resample_poly(audio.astype(np.float64), int(target_sr) // g, int(orig_sr) // g)
    return out.astype(np.float32)


#: ``mono`` choices of :func:`read_audio`.
MONO_CHOICES = ("require", "mean", "first")
#: ``crop`` and ``pad`` choices of :func:`fit_length`.
CROP_CHOICES = ("start", "center")
PAD_CHOICES = ("end", "center")


def _choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """``value`` if it is one of ``choices``, else a ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _header_shortfall(path: Path) -> str | None:
    """Why a RIFF/RIFX WAVE or AIFF/AIFC file is cut short, or ``None``.

    libsndfile reads a truncated WAV or AIFF without complaint, returning only the samples that
    are there (its frame count is computed from the file's length). The header still says how
    many bytes of audio the file should hold: the size of its ``data`` (``SSND``) chunk. A
    declared size of ``0xFFFFFFFF`` (streamed, unknown length) is not checked.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12:
            return None
        if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
            endian, audio_id = ("<" if head[:4] == b"RIFF" else ">"), b"data"
        elif head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            endian, audio_id = ">", b"SSND"
        else:
            return None
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            cid, n = chunk[:4], struct.unpack(f"{endian}I", chunk[4:])[0]
            if cid == audio_id:
                present = size - (pos + 8)
                if n != 0xFFFFFFFF and n > present:
                    return (
                        f"truncated: its header declares {n} bytes of audio data, the file holds "
                        f"{present}"
                    )
                return None
            pos += 8 + n + (n & 1)
    return None


def read_audio(
    path: str | Path,
    *,
    sample_rate: int | None = None,
    resample: bool = False,
    mono: Literal["require", "mean", "first"] = "require",
) -> tuple[np.ndarray, int]:
    """Read one audio file as float32 mono in [-1, 1] with ``soundfile``.

    Parameters
    ----------
    path:
        The file (WAV, FLAC, Ogg Vorbis, ... anything libsndfile reads).
    sample_rate:
        The rate the caller expects. ``None`` accepts the file's rate.
    resample:
        When the file's rate differs from ``sample_rate``: ``False`` raises :class:`AudioError`,
        ``True`` resamples (polyphase, :func:`resample_audio`).
    mono:
        ``"require"`` raises on more than one channel; ``"mean"`` averages channels; ``"first"``
        keeps channel 0.

    Returns
    -------
    (audio, sample_rate):
        A 1-D float32 array and its sample rate.

    Raises
    ------
    AudioError
        Unreadable or missing file, no samples, a file cut short (fewer samples than its header
        declares), wrong channel count, NaN or inf samples, or a sample rate that differs from
        ``sample_rate`` without ``resample=True``.
    ValueError
        ``mono`` is not one of :data:`MONO_CHOICES`, or ``sample_rate`` is not a positive
        integer.
    """
    import soundfile as sf

    mono = _choice(mono, "mono", MONO_CHOICES)  # type: ignore[assignment]
    if sample_rate is not None and (
        isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate <= 0
    ):
        raise ValueError(f"sample_rate must be a positive integer or None, got {sample_rate!r}")
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    try:
        short = _header_shortfall(path)
        with sf.SoundFile(str(path)) as f:
            declared, sr = f.frames, f.samplerate
            data = f.read(declared, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types (LibsndfileError, RuntimeError)
        raise AudioError(f"{path}: unreadable audio ({type(exc).__name__}: {exc})") from exc
    if short is not None:
        raise AudioError(f"{path}: {short}")
    if data.shape[0] != declared:
        raise AudioError(
            f"{path}: truncated: its header declares {declared} frames, {data.shape[0]} could be "
            "read"
        )
    if data.shape[0] == 0:
        raise AudioError(f"{path}: empty audio (0 samples)")
    if data.shape[1] != 1:
        if mono == "require":
            raise AudioError(f"{path}: expected mono audio, found {data.shape[1]} channels")
        data = data.mean(axis=1, keepdims=True) if mono == "mean" else data[:, :1]
    audio = data[:, 0]
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: audio contains NaN or inf samples")
    if sample_rate is not None and sr != sample_rate:
        if not resample:
            raise AudioError(
                f"{path}: sample rate is {sr} Hz, expected {sample_rate} Hz "
                "(pass resample=True to resample)"
            )
        audio = resample_audio(audio, sr, sample_rate)
        sr = sample_rate
    return np.clip(audio, -1.0, 1.0).astype(np.float32, copy=False), int(sr)


def fit_length(
    audio: np.ndarray,
    length: int,
    *,
    crop: Literal["start", "center"] = "start",
    pad: Literal["end", "center"] = "end",
) -> np.ndarray:
    """Crop or zero-pad a 1-D signal to exactly ``length`` samples.

    ``crop="start"`` keeps the first ``length`` samples, ``"center"`` the middle ones;
    ``pad="end"`` appends zeros, ``"center"`` splits them evenly before and after. An unknown
    ``crop`` or ``pad`` raises ``ValueError`` whatever the clip's length.
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length <= 0:
        raise ValueError(f"length must be a positive integer, got {length!r}")
    _choice(crop, "crop", CROP_CHOICES)
    _choice(pad, "pad", PAD_CHOICES)
    n = audio.shape[-1]
    if n > length:
        start = 0 if crop == "start" else (n - length) // 2
        return audio[start : start + length]
    if n < length:
        before = 0 if pad == "end" else (length - n) // 2
        out = np.zeros(length, dtype=audio.dtype)
        out[before : before + n] = audio
        return out
    return audio


def stack_clips(clips: Sequence[np.ndarray]) -> torch.Tensor:
    """Stack equal-length 1-D clips into a float32 ``(N, T)`` tensor."""
    if len(clips) == 0:
        raise AudioError("no clips to stack: the data set is empty")
    lengths = {c.shape[-1] for c in clips}
    if len(lengths) != 1:
        raise AudioError(f"clips differ in length {sorted(lengths)[:5]}; call fit_length first")
    return torch.from_numpy(np.stack(clips).astype(np.float32, copy=False))


#: identity() of each live AudioSet, computed once (the objects are frozen).
_IDENTITIES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class AudioSet:
    """A labelled audio data set in the study's convention.

    Attributes
    ----------
    name:
        Registry name of the data set (``"synthetic"``, ``"fsdd"``, ...).
    x:
        float32 ``(N, T)`` waveforms in [-1, 1].
    y:
        int64 ``(N,)`` labels indexing ``classes``.
    sample_rate:
        Samples per second, the same for every clip.
    classes:
        Class names, ``classes[y[i]]`` is clip ``i``'s class.
    split:
        ``(N,)`` array of ``"train"``, ``"valid"`` or ``"test"``: the protocol's partition.
    folds:
        ``(N,)`` int array of fold numbers (1-based) for sets with predefined folds, else ``None``.
    files:
        One identifier per clip (a path relative to the set's root, or a synthetic id).
    info:
        Free-form provenance: licence, citation key, source, loader parameters.
    """

    name: str
    x: torch.Tensor
    y: torch.Tensor
    sample_rate: int
    classes: tuple[str, ...]
    split: np.ndarray
    folds: np.ndarray | None = None
    files: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        x, y = self.x, self.y
        if x.ndim != 2:
            raise AudioError(f"{self.name}: waveforms must have shape (N, T), got {tuple(x.shape)}")
        if x.dtype != torch.float32:
            raise AudioError(f"{self.name}: waveforms must be float32, got {x.dtype}")
        if y.dtype != torch.int64 or y.shape != (x.shape[0],):
            raise AudioError(f"{self.name}: labels must be int64 of shape ({x.shape[0]},)")
        if not torch.isfinite(x).all():
            raise AudioError(f"{self.name}: waveforms contain NaN or inf")
        if x.numel() and x.abs().max() > 1.0:
            raise AudioError(f"{self.name}: waveforms must lie in [-1, 1]")
        if len(y) and (y.min() < 0 or y.max() >= len(self.classes)):
            raise AudioError(f"{self.name}: labels out of range for {len(self.classes)} classes")
        if len(self.split) != len(y) or not set(np.unique(self.split)) <= set(SPLITS):
            raise AudioError(f"{self.name}: split must hold one of {SPLITS} per clip")
        if self.folds is not None and len(self.folds) != len(y):
            raise AudioError(f"{self.name}: folds must hold one fold number per clip")
        if self.files and len(self.files) != len(y):
            raise AudioError(f"{self.name}: files must hold one identifier per clip")
        if self.sample_rate <= 0:
            raise AudioError(f"{self.name}: sample rate must be positive")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def length(self) -> int:
        """Samples per clip."""
        return int(self.x.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def subset(self, index: np.ndarray | torch.Tensor | Sequence[int]) -> AudioSet:
        """The clips at ``index`` (integer positions or a boolean mask), metadata kept."""
        idx = np.asarray(index)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        t = torch.as_tensor(idx, dtype=torch.long)
        return replace(
            self,
            x=self.x[t],
            y=self.y[t],
            split=self.split[idx],
            folds=None if self.folds is None else self.folds[idx],
            files=tuple(self.files[i] for i in idx) if self.files else (),
        )

    def part(self, split: str) -> AudioSet:
        """One partition of the protocol: ``"train"``, ``"valid"`` or ``"test"``."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
        return self.subset(self.split == split)

    def with_fold_split(self, test_fold: int, valid_fold: int | None = None) -> AudioSet:
        """Re-partition a fold-based set: ``test_fold`` is test, ``valid_fold`` valid, rest train.

        Folds are never mixed: every clip of a fold lands in the same partition.
        """
        if self.folds is None:
            raise ValueError(f"{self.name} has no predefined folds")
        present = set(np.unique(self.folds).tolist())
        for f in (test_fold, valid_fold):
            if f is not None and f not in present:
                raise ValueError(f"{self.name}: fold {f} not among {sorted(present)}")
        if valid_fold == test_fold:
            raise ValueError("valid_fold must differ from test_fold")
        split = np.full(len(self), "train", dtype=object)
        split[self.folds == test_fold] = "test"
        if valid_fold is not None:
            split[self.folds == valid_fold] = "valid"
        return replace(self, split=split.astype(str))

    def class_counts(self) -> dict[str, int]:
        counts = torch.bincount(self.y, minlength=self.n_classes).tolist()
        return dict(zip(self.classes, counts, strict=True))

    def identity(self) -> str:
        """A content hash of the set: waveforms, labels, partition, rate and class names.

        Two sets with the same identity hold the same data under the same protocol, so cached
        results keyed by it are valid for both. The set is frozen, so the hash (a pass over
        every sample) is computed once per object and remembered.
        """
        known = _IDENTITIES.get(self)
        if known is not None:
            return known
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{self.name}|{self.sample_rate}|{tuple(self.x.shape)}|".encode())
        h.update("|".join(self.classes).encode())
        h.update(self.x.contiguous().numpy().tobytes())
        h.update(self.y.numpy().tobytes())
        h.update("|".join(map(str, self.split)).encode())
        if self.folds is not None:
            h.update(np.asarray(self.folds, dtype=np.int64).tobytes())
        _IDENTITIES[self] = h.hexdigest()
        return h.hexdigest()
