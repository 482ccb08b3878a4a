"""A synthetic environmental-sound data set that advlib generates itself (the offline default).

Ten classes with distinct acoustic structure, drawn so that a small 1-D CNN does well but not
perfectly: every clip has random pitch, timing, duration and gain, sits over coloured background
noise at a random event-to-background ratio, and, with some probability, carries a weaker
*distractor* event of another class. Several pairs are confusable on purpose (up- vs down-chirp,
periodic click train vs random crackle, noise bursts vs amplitude-modulated noise, beeps vs
vibrato tones).

Every clip is a pure function of ``(seed, class, index)``: the set is deterministic given a seed,
and clip ``i`` of class ``c`` is the same whatever ``clips_per_class`` is. Fold ``k`` (1-based)
holds clips with ``index % n_folds == k - 1``, so folds are class-balanced; by default the last
fold is the test set and the one before it the validation set.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.signal import butter, sosfilt

from advlib.data.core import AudioSet

__all__ = ["SYNTHETIC_CLASSES", "make_synthetic", "synth_clip"]

#: Class names, in label order.
SYNTHETIC_CLASSES: tuple[str, ...] = (
    "vibrato_tone",
    "noise_burst",
    "chirp_up",
    "chirp_down",
    "click_train",
    "am_noise",
    "impacts",
    "beeps",
    "hum",
    "crackle",
)

Rng = np.random.Generator


def _t(n: int, sr: int) -> np.ndarray:
    return np.arange(n) / sr


def _envelope(n: int, sr: int, attack: float = 0.01, release: float = 0.02) -> np.ndarray:
    """A linear attack/release window that avoids clicks at event boundaries."""
    env = np.ones(n)
    a, r = max(1, int(attack * sr)), max(1, int(release * sr))
    a, r = min(a, n // 2), min(r, n // 2)
    env[:a] = np.linspace(0, 1, a, endpoint=False)
    env[n - r :] = np.linspace(1, 0, r)
    return env


def _bandpass(x: np.ndarray, lo: float, hi: float, sr: int, order: int = 4) -> np.ndarray:
    nyq = sr / 2
    lo, hi = max(lo, 20.0), min(hi, 0.95 * nyq)
    if hi <= lo * 1.05:
        hi = min(lo * 1.5, 0.95 * nyq)
        lo = hi / 1.5
    sos = butter(order, [lo / nyq, hi / nyq], btype="band", output="sos")
    return sosfilt(sos, x)


def _place(n: int, event: np.ndarray, rng: Rng) -> np.ndarray:
    """Put ``event`` at a random onset inside an ``n``-sample clip."""
    out = np.zeros(n)
    m = min(len(event), n)
    start = int(rng.integers(0, n - m + 1))
    out[start : start + m] = event[:m]
    return out


def _fmax(sr: int) -> float:
    return 0.42 * sr


def _vibrato_tone(n: int, sr: int, rng: Rng) -> np.ndarray:
    dur = rng.uniform(0.35, 0.9)
    m = int(dur * n)
    t = _t(m, sr)
    f0 = rng.uniform(150, 500)
    rate, depth = rng.uniform(4, 8), rng.uniform(0.01, 0.04)
    phase = 2 * np.pi * np.cumsum(f0 * (1 + depth * np.sin(2 * np.pi * rate * t))) / sr
    sig = np.zeros(m)
    for h in range(1, int(rng.integers(3, 7)) + 1):
        if h * f0 * (1 + depth) < _fmax(sr):
            sig += rng.uniform(0.4, 1.0) / h * np.sin(h * phase + rng.uniform(0, 2 * np.pi))
    return _place(n, sig * _envelope(m, sr, 0.03, 0.05), rng)


def _noise_burst(n: int, sr: int, rng: Rng) -> np.ndarray:
    out = np.zeros(n)
    fc, bw = rng.uniform(500, min(2500, 0.7 * _fmax(sr))), rng.uniform(200, 800)
    for _ in range(int(rng.integers(1, 4))):
        m = int(rng.uniform(0.1, 0.3) * sr)
        burst = _bandpass(rng.standard_normal(m), fc - bw / 2, fc + bw / 2, sr)
        out += _place(n, burst * _envelope(m, sr, 0.01, 0.03), rng)
    return out


def _chirp(n: int, sr: int, rng: Rng, up: bool) -> np.ndarray:
    m = int(rng.uniform(0.3, 0.8) * sr)
    t = _t(m, sr)
    f_lo = rng.uniform(200, 900)
    f_hi = min(f_lo + rng.uniform(500, 2000), _fmax(sr))
    f_start, f_end = (f_lo, f_hi) if up else (f_hi, f_lo)
    freq = f_start + (f_end - f_start) * t / t[-1]
    sig = np.sin(2 * np.pi * np.cumsum(freq) / sr)
    return _place(n, sig * _envelope(m, sr, 0.02, 0.02), rng)


def _click(sr: int, rng: Rng) -> np.ndarray:
    m = max(8, int(0.004 * sr))
    return rng.standard_normal(m) * np.exp(-np.arange(m) / (0.0008 * sr))


def _click_train(n: int, sr: int, rng: Rng) -> np.ndarray:
    rate = rng.uniform(8, 30)
    span = int(rng.uniform(0.4, 0.95) * n)
    start = int(rng.integers(0, n - span + 1))
    out = np.zeros(n)
    jitter = rng.uniform(0.0, 0.08)
    pos = start + rng.uniform(0, sr / rate)
    while pos < start + span:
        c = _click(sr, rng) * rng.uniform(0.7, 1.0)
        p = int(pos)
        out[p : p + len(c)] += c[: max(0, n - p)]
        pos += sr / rate * (1 + jitter * rng.standard_normal())
    return out


def _am_noise(n: int, sr: int, rng: Rng) -> np.ndarray:
    m = int(rng.uniform(0.5, 1.0) * n)
    t = _t(m, sr)
    rate, depth = rng.uniform(3, 12), rng.uniform(0.5, 1.0)
    carrier = _bandpass(rng.standard_normal(m), 100, _fmax(sr), sr, order=2)
    mod = 1 - depth * 0.5 * (1 + np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi)))
    return _place(n, carrier * mod * _envelope(m, sr, 0.05, 0.05), rng)


def _impacts(n: int, sr: int, rng: Rng) -> np.ndarray:
    out = np.zeros(n)
    for _ in range(int(rng.integers(2, 6))):
        decay = rng.uniform(0.01, 0.04)
        m = int(6 * decay * sr)
        lo = rng.uniform(80, 600)
        body = _bandpass(rng.standard_normal(m), lo, lo * rng.uniform(3, 8), sr, order=2)
        out += _place(n, body * np.exp(-np.arange(m) / (decay * sr)) * rng.uniform(0.5, 1), rng)
    return out


def _beeps(n: int, sr: int, rng: Rng) -> np.ndarray:
    f = rng.uniform(800, min(3000, _fmax(sr)))
    out = np.zeros(n)
    for _ in range(int(rng.integers(2, 5))):
        m = int(rng.uniform(0.05, 0.15) * sr)
        tone = np.sin(2 * np.pi * f * _t(m, sr) + rng.uniform(0, 2 * np.pi))
        out += _place(n, tone * _envelope(m, sr, 0.005, 0.005), rng)
    return out


def _hum(n: int, sr: int, rng: Rng) -> np.ndarray:
    t = _t(n, sr)
    f0 = rng.uniform(50, 120)
    sig = np.zeros(n)
    for h in range(1, 16):
        if h * f0 < _fmax(sr):
            sig += rng.uniform(0.2, 1.0) / np.sqrt(h) * np.sin(2 * np.pi * h * f0 * t)
    slow = 1 + rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t)
    return sig * slow * _envelope(n, sr, 0.05, 0.05)


def _crackle(n: int, sr: int, rng: Rng) -> np.ndarray:
    rate = rng.uniform(30, 120)
    out = np.zeros(n)
    for p in np.sort(rng.uniform(0, n - 1, size=rng.poisson(rate * n / sr))):
        c = _click(sr, rng) * rng.uniform(0.2, 1.0) ** 2
        i = int(p)
        out[i : i + len(c)] += c[: n - i]
    return out


_GENERATORS: tuple[Callable[[int, int, Rng], np.ndarray], ...] = (
    _vibrato_tone,
    _noise_burst,
    lambda n, sr, rng: _chirp(n, sr, rng, up=True),
    lambda n, sr, rng: _chirp(n, sr, rng, up=False),
    _click_train,
    _am_noise,
    _impacts,
    _beeps,
    _hum,
    _crackle,
)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)) + 1e-12)


def _peak_normalise(clip: np.ndarray, rng: Rng) -> np.ndarray:
    """Scale ``clip`` in place so its peak is a random gain in [0.1, 0.9]; return it as float32."""
    clip *= rng.uniform(0.1, 0.9) / (np.abs(clip).max() + 1e-12)
    return clip.astype(np.float32)


def _background(n: int, sr: int, rng: Rng) -> np.ndarray:
    """Coloured noise: white noise through a random one-pole low-pass, plus a faint hum."""
    white = rng.standard_normal(n)
    a = rng.uniform(0.0, 0.95)
    sos = np.array([[1 - a, 0, 0, 1, -a, 0]])
    return sosfilt(sos, white)


def synth_clip(
    label: int,
    index: int,
    *,
    seed: int = 0,
    sample_rate: int = 8000,
    duration: float = 1.0,
    snr_db: tuple[float, float] = (0.0, 20.0),
    distractor_prob: float = 0.4,
    distractor_db: tuple[float, float] = (-18.0, -8.0),
) -> np.ndarray:
    """One clip of class ``label``: a pure function of ``(seed, label, index)`` and the settings.

    ``snr_db`` bounds the event-to-background energy ratio; a distractor event of another class
    is added with probability ``distractor_prob`` at ``distractor_db`` relative to the event.
    The result is peak-normalised to a random gain in [0.1, 0.9].
    """
    if not 0 <= label < len(_GENERATORS):
        raise ValueError(f"label must be in [0, {len(_GENERATORS)}), got {label}")
    rng = np.random.default_rng([seed, label, index])
    n = int(round(sample_rate * duration))
    event = _GENERATORS[label](n, sample_rate, rng)
    event /= _rms(event)
    clip = event.copy()
    if rng.random() < distractor_prob:
        other = int(rng.integers(0, len(_GENERATORS) - 1))
        other += other >= label
        d = _GENERATORS[other](n, sample_rate, rng)
        clip += d / _rms(d) * 10 ** (rng.uniform(*distractor_db) / 20)
    bg = _background(n, sample_rate, rng)
    clip += bg / _rms(bg) * 10 ** (-rng.uniform(*snr_db) / 20)
    return _peak_normalise(clip, rng)


def make_synthetic(
    *,
    seed: int = 0,
    sample_rate: int = 8000,
    duration: float = 1.0,
    clips_per_class: int = 200,
    n_folds: int = 5,
    test_fold: int | None = None,
    valid_fold: int | None = None,
    snr_db: tuple[float, float] = (0.0, 20.0),
    distractor_prob: float = 0.4,
) -> AudioSet:
    """Generate the synthetic environmental-sound set (see the module docstring).

    Parameters
    ----------
    seed:
        Everything is deterministic given the seed.
    sample_rate, duration:
        Clip format; ``T = round(sample_rate * duration)``.
    clips_per_class:
        Clips per class; the set is exactly class-balanced.
    n_folds:
        Cross-validation folds (class-balanced). ``test_fold`` defaults to ``n_folds`` and
        ``valid_fold`` to ``n_folds - 1``.
    snr_db, distractor_prob:
        Difficulty: the event-to-background ratio range and the chance of a distractor event.
    """
    if clips_per_class < n_folds:
        raise ValueError(f"clips_per_class ({clips_per_class}) must be >= n_folds ({n_folds})")
    if n_folds < 3:
        raise ValueError("n_folds must be at least 3 (train, valid and test folds)")
    if sample_rate < 4000:
        raise ValueError(f"sample_rate must be at least 4000 Hz, got {sample_rate}")
    if duration <= 0:
        raise ValueError(f"duration must be positive, got {duration}")
    clips, labels, folds, files = [], [], [], []
    for label in range(len(SYNTHETIC_CLASSES)):
        for i in range(clips_per_class):
            clips.append(
                synth_clip(
                    label,
                    i,
                    seed=seed,
                    sample_rate=sample_rate,
                    duration=duration,
                    snr_db=snr_db,
                    distractor_prob=distractor_prob,
                )
            )
            labels.append(label)
            folds.append(i % n_folds + 1)
            files.append(f"synthetic/{SYNTHETIC_CLASSES[label]}/{i:05d}")
    params = {
        "seed": seed,
        "sample_rate": sample_rate,
        "duration": duration,
        "clips_per_class": clips_per_class,
        "n_folds": n_folds,
        "snr_db": list(snr_db),
        "distractor_prob": distractor_prob,
    }
    return generated_set(
        "synthetic", clips, labels, folds, files, SYNTHETIC_CLASSES, sample_rate,
        source="advlib.data.synthetic.make_synthetic", params=params,
        test_fold=n_folds if test_fold is None else test_fold,
        valid_fold=n_folds - 1 if valid_fold is None else valid_fold,
    )  # fmt: skip


def generated_set(
    name: str,
    clips: list[np.ndarray],
    labels: list[int],
    folds: list[int],
    files: list[str],
    classes: tuple[str, ...],
    sample_rate: int,
    *,
    source: str,
    params: dict,
    test_fold: int,
    valid_fold: int,
) -> AudioSet:
    """An :class:`AudioSet` of clips that advlib generated (CC0), split by folds: the last step
    of :func:`make_synthetic` and of
    :func:`~advlib.data.synthetic_speech.make_synthetic_speech`."""
    base = AudioSet(
        name=name,
        x=torch.from_numpy(np.stack(clips)),
        y=torch.tensor(labels, dtype=torch.int64),
        sample_rate=sample_rate,
        classes=classes,
        split=np.full(len(labels), "train"),
        folds=np.asarray(folds, dtype=np.int64),
        files=tuple(files),
        info={"licence": "CC0 (generated by advlib)", "citation": None, "source": source,
              "params": params},
    )  # fmt: skip
    return base.with_fold_split(test_fold, valid_fold)
