"""A synthetic spoken-word set that advlib generates itself, for the speech victims offline.

**What it is.** Ten made-up "words", each a fixed sequence of two or three steady vowels, some
after a consonant-like onset, made by textbook formant synthesis: a band-limited sawtooth at a
pitch f0 (the glottal source with lip radiation, about -6 dB per octave) through a cascade of
three second-order resonators at the vowel's formants F1, F2, F3 (Klatt-style, unit gain at
0 Hz). The formants are the adult-male means of Peterson & Barney (1952). Neighbouring vowels
cross-fade over about 40 ms, a stand-in for formant glides. The onsets are a velar stop ``k``
(a short closure, a band-pass noise burst near the next vowel's F2, a breathy aspiration through
its formants) and a fricative ``s`` (band-pass noise high in the band).

**What it is not.** It is not speech and not a model of any language: there are no real
phonemes, coarticulation, prosody, nasals or voice quality, and a victim trained on it says
nothing about recognising recorded speech. It exists so that the chapters on speech victims
(SpchCMD of the universal-perturbation paper) run end to end without downloads, on an input with
the coarse structure of speech (harmonics under formants that move over time, speaker
variation). Real speech is the Free Spoken Digit Dataset (``ci`` profile) and Speech Commands
(``paper`` profile).

**Speakers.** There are ``n_speakers`` simulated speakers; speaker ``s`` has a fixed base pitch
(log-uniform in 90-250 Hz), vocal-tract length (all formants scaled by 0.85-1.2), speaking rate
(0.8-1.25) and formant bandwidths, all drawn from ``(seed, s)``. Each clip varies its speaker's
pitch (+-8 %, with a falling contour and slow wobble), rate (+-10 %) and formants (+-3 %, and
+-4 % per vowel), and draws the word's onset in the clip, per-vowel loudness, a little breath
noise, coloured background noise at 15-35 dB below the word, and a peak gain in [0.1, 0.9] (the
environmental set's normalisation, :mod:`advlib.data.synthetic`). Because the formant scale of
one speaker moves a vowel onto another speaker's neighbouring vowel (``eh`` vs ``ih``), and the
class pairs below differ in one feature only, a small 1-D CNN does well but not perfectly (the
demo's half-width SpchCMD: about 90 % on the test speakers; a nearest-centroid classifier on the
time-averaged log spectrum: about 65 %).

**Classes** (label order, :data:`SPEECH_CLASSES`), each named by its segments: ``ah_ee``,
``ee_ah``, ``k_ah_ee``, ``oo_ee``, ``s_oo_ee``, ``oo_ah_ee``, ``er_aw``, ``er_eh``, ``er_ih``,
``ae_uh``. Confusable pairs on purpose: ``ah_ee`` vs ``ee_ah`` (order only), ``ah_ee`` vs
``k_ah_ee`` and ``oo_ee`` vs ``s_oo_ee`` (onset only), ``oo_ee`` vs ``oo_ah_ee`` (an inserted
vowel), ``er_eh`` vs ``er_ih`` (neighbouring vowels), ``er_aw`` vs ``ae_uh`` (nearby formants).

**Protocol.** Every clip is a pure function of ``(seed, class, index)`` and the settings
(``n_speakers`` among them), so clip ``i`` of class ``c`` is the same whatever
``clips_per_class`` is. Clip ``i`` is spoken by
speaker ``i % n_speakers``; speaker ``s`` belongs to fold ``s % n_folds + 1``. As ``n_speakers``
is a multiple of ``n_folds``, clip ``i`` lies in fold ``i % n_folds + 1`` exactly as in the
environmental set: folds are class-balanced and no speaker is in two folds. By default fold
``n_folds`` (5) is the test set and fold ``n_folds - 1`` the validation set, so with the default
50 speakers (and at least 50 clips per class) the test and validation sets each have 10 speakers
never heard in training, and training has 30. Clip identifiers are
``synthetic_speech/<word>/s<speaker>/<index>``.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import sosfilt

from advlib.data.core import AudioSet
from advlib.data.synthetic import (
    _background,
    _bandpass,
    _envelope,
    _peak_normalise,
    _place,
    _rms,
    generated_set,
)

__all__ = [
    "MIN_SAMPLE_RATE",
    "ONSETS",
    "SPEECH_CLASSES",
    "VOWELS",
    "WORDS",
    "make_synthetic_speech",
    "speech_clip",
]

#: Vowel formants F1, F2, F3 in Hz: adult-male means of Peterson & Barney (1952), keyed by an
#: ASCII spelling (``ee`` as in heed, ``ih`` hid, ``eh`` head, ``ae`` had, ``ah`` hod, ``aw``
#: hawed, ``uu`` hood, ``oo`` who'd, ``uh`` hud, ``er`` heard).
VOWELS: dict[str, tuple[float, float, float]] = {
    "ee": (270.0, 2290.0, 3010.0),
    "ih": (390.0, 1990.0, 2550.0),
    "eh": (530.0, 1840.0, 2480.0),
    "ae": (660.0, 1720.0, 2410.0),
    "ah": (730.0, 1090.0, 2440.0),
    "aw": (570.0, 840.0, 2410.0),
    "uu": (440.0, 1020.0, 2240.0),
    "oo": (300.0, 870.0, 2240.0),
    "uh": (640.0, 1190.0, 2390.0),
    "er": (490.0, 1350.0, 1690.0),
}

#: Consonant-like onsets a word may start with.
ONSETS: tuple[str, ...] = ("k", "s")

#: The words, in label order: an optional onset, then two or three vowels.
WORDS: tuple[tuple[str, ...], ...] = (
    ("ah", "ee"),
    ("ee", "ah"),
    ("k", "ah", "ee"),
    ("oo", "ee"),
    ("s", "oo", "ee"),
    ("oo", "ah", "ee"),
    ("er", "aw"),
    ("er", "eh"),
    ("er", "ih"),
    ("ae", "uh"),
)

#: Class names, in label order.
SPEECH_CLASSES: tuple[str, ...] = tuple("_".join(w) for w in WORDS)

_F0_RANGE = (90.0, 250.0)
_SCALE_RANGE = (0.85, 1.2)
_RATE_RANGE = (0.8, 1.25)
# the highest formant a clip can reach: ee's F3 at the largest speaker scale, clip and vowel jitter
_MAX_FORMANT = max(f for fs in VOWELS.values() for f in fs) * _SCALE_RANGE[1] * 1.03 * 1.04

#: The lowest sample rate accepted (8 kHz): the highest formant a clip can reach (about 3.87 kHz)
#: must lie below the Nyquist frequency; rounded up to whole kHz.
MIN_SAMPLE_RATE = 1000 * int(np.ceil(2 * _MAX_FORMANT / 1000))

_SPEAKER_STREAM, _CLIP_STREAM = 1, 2  # keep the speaker and clip random streams apart


def _speaker(seed: int, speaker: int) -> dict[str, float]:
    """The fixed traits of one simulated speaker, a pure function of ``(seed, speaker)``."""
    rng = np.random.default_rng([seed, _SPEAKER_STREAM, speaker])
    lo, hi = np.log(_F0_RANGE[0]), np.log(_F0_RANGE[1])
    return {
        "f0": float(np.exp(rng.uniform(lo, hi))),
        "scale": float(rng.uniform(*_SCALE_RANGE)),
        "rate": float(rng.uniform(*_RATE_RANGE)),
        "bandwidth": float(rng.uniform(0.8, 1.3)),
    }


def _resonators(formants: np.ndarray, bandwidths: np.ndarray, sr: int) -> np.ndarray:
    """Klatt resonators as second-order sections: ``y = A x + B y[-1] + C y[-2]``, unit DC gain."""
    sos = []
    for f, bw in zip(formants, bandwidths, strict=True):
        c = -np.exp(-2 * np.pi * bw / sr)
        b = 2 * np.exp(-np.pi * bw / sr) * np.cos(2 * np.pi * f / sr)
        sos.append([1 - b - c, 0.0, 0.0, 1.0, -b, -c])
    return np.asarray(sos)


def _sawtooth(f0: np.ndarray, sr: int) -> np.ndarray:
    """A band-limited sawtooth (harmonics ``1/h`` below 0.45 ``sr``) following the pitch ``f0``."""
    phase = 2 * np.pi * np.cumsum(f0) / sr
    out = np.zeros(len(f0))
    for h in range(1, int(0.45 * sr / f0.max()) + 1):
        out += np.sin(h * phase) / h
    return out


def _crossfade(durations: list[int], fade: int) -> np.ndarray:
    """``(k, m)`` weights that hold each of ``k`` segments and cross-fade linearly between them;
    they sum to one at every sample."""
    m, t = sum(durations), np.arange(sum(durations))
    bounds = np.cumsum(durations)[:-1]
    ramps = [np.clip((t - b) / max(fade, 1) + 0.5, 0.0, 1.0) for b in bounds]
    edges = [np.ones(m), *ramps, np.zeros(m)]
    return np.stack([edges[j] - edges[j + 1] for j in range(len(durations))])


def _word(
    label: int, n: int, sr: int, spk: dict[str, float], rng: np.random.Generator
) -> np.ndarray:
    """The word of class ``label`` said by speaker ``spk``, at most ``0.95 n`` samples long."""
    segments = WORDS[label]
    onset = segments[0] if segments[0] in ONSETS else None
    vowels = segments[1:] if onset else segments
    rate = spk["rate"] * rng.uniform(0.9, 1.1)
    scale = spk["scale"] * rng.uniform(0.97, 1.03)
    f0 = spk["f0"] * rng.uniform(0.92, 1.08)
    # durations in seconds: vowels, then the onset's parts (closure, burst, aspiration / frication)
    vowel_s = [rng.uniform(0.14, 0.24) / rate for _ in vowels]
    onset_s = {
        None: [],
        "k": [rng.uniform(0.03, 0.05), rng.uniform(0.01, 0.02), rng.uniform(0.04, 0.08)],
        "s": [rng.uniform(0.08, 0.14) / rate, rng.uniform(0.005, 0.015)],
    }[onset]
    fit = min(1.0, 0.95 * n / sr / (sum(vowel_s) + sum(onset_s)))
    vowel_n = [max(4, int(d * fit * sr)) for d in vowel_s]
    onset_n = [max(2, int(d * fit * sr)) for d in onset_s]

    # voiced part: a sawtooth with a falling, slowly wobbling pitch through each vowel's formants
    m = sum(vowel_n)
    t = np.arange(m) / sr
    contour = 1.06 - 0.12 * t / max(t[-1], 1e-9)
    wobble = 1 + 0.015 * np.sin(2 * np.pi * rng.uniform(2, 5) * t + rng.uniform(0, 2 * np.pi))
    source = _sawtooth(f0 * contour * wobble, sr)
    source += rng.uniform(0.01, 0.05) * _rms(source) * rng.standard_normal(m)  # breath
    bandwidths = np.array([70.0, 100.0, 150.0]) * spk["bandwidth"]
    weights = _crossfade(vowel_n, int(0.04 * fit * sr))
    voiced = np.zeros(m)
    formants = []
    for j, v in enumerate(vowels):
        formants.append(np.array(VOWELS[v]) * scale * rng.uniform(0.96, 1.04, size=3))
        filtered = sosfilt(_resonators(formants[j], bandwidths, sr), source)
        voiced += weights[j] * rng.uniform(0.7, 1.0) * filtered / _rms(filtered)
    voiced *= _envelope(m, sr, 0.02, 0.05)

    if onset == "k":
        closure, burst_n, asp_n = onset_n
        f2 = formants[0][1]
        burst = _bandpass(rng.standard_normal(burst_n), 0.8 * f2, 1.6 * f2, sr, order=2)
        burst *= np.exp(-np.arange(burst_n) / (0.004 * sr)) / _rms(burst)
        breath = sosfilt(_resonators(formants[0], 2 * bandwidths, sr), rng.standard_normal(asp_n))
        breath *= rng.uniform(0.4, 0.7) * np.linspace(0.3, 1, asp_n) / _rms(breath)
        parts = [np.zeros(closure), rng.uniform(3.0, 5.0) * burst, breath]
    elif onset == "s":
        fric_n, gap = onset_n
        lo = min(2800.0 * scale, 0.75 * sr / 2)
        hiss = _bandpass(rng.standard_normal(fric_n), lo, 0.95 * sr / 2, sr)
        hiss *= rng.uniform(0.5, 0.9) * _envelope(fric_n, sr, 0.03, 0.02) / _rms(hiss)
        parts = [hiss, np.zeros(gap)]
    else:
        parts = []
    return np.concatenate([*parts, voiced])


def speech_clip(
    label: int,
    index: int,
    *,
    seed: int = 0,
    sample_rate: int = 8000,
    duration: float = 1.0,
    n_speakers: int = 50,
    snr_db: tuple[float, float] = (15.0, 35.0),
) -> np.ndarray:
    """One clip of word ``label``, spoken by speaker ``index % n_speakers``: a pure function of
    ``(seed, label, index)`` and the settings, float32 with its peak in [0.1, 0.9]."""
    if not 0 <= label < len(WORDS):
        raise ValueError(f"label must be in [0, {len(WORDS)}), got {label}")
    if n_speakers < 1:
        raise ValueError(f"n_speakers must be positive, got {n_speakers}")
    spk = _speaker(seed, index % n_speakers)
    rng = np.random.default_rng([seed, _CLIP_STREAM, label, index])
    n = int(round(sample_rate * duration))
    word = _word(label, n, sample_rate, spk, rng)
    clip = _place(n, word / _rms(word), rng)
    bg = _background(n, sample_rate, rng)
    clip += bg / _rms(bg) * 10 ** (-rng.uniform(*snr_db) / 20)
    return _peak_normalise(clip, rng)


def make_synthetic_speech(
    *,
    seed: int = 0,
    sample_rate: int = 8000,
    duration: float = 1.0,
    clips_per_class: int = 200,
    n_speakers: int = 50,
    n_folds: int = 5,
    test_fold: int | None = None,
    valid_fold: int | None = None,
    snr_db: tuple[float, float] = (15.0, 35.0),
) -> AudioSet:
    """Generate the synthetic spoken-word set (see the module docstring).

    Parameters
    ----------
    seed:
        Everything (speakers and clips) is deterministic given the seed.
    sample_rate, duration:
        Clip format; ``T = round(sample_rate * duration)``. ``sample_rate`` must be at least
        :data:`MIN_SAMPLE_RATE` (the formants must lie below Nyquist) and ``duration`` at least
        0.25 s (longer words are compressed to fit 95 % of the clip).
    clips_per_class:
        Clips per word; the set is exactly class-balanced. At least ``n_folds``.
    n_speakers:
        Simulated speakers, a multiple of ``n_folds`` (each fold gets ``n_speakers / n_folds``
        of them; no speaker is in two folds).
    n_folds:
        Speaker-disjoint, class-balanced folds. ``test_fold`` defaults to ``n_folds`` and
        ``valid_fold`` to ``n_folds - 1``.
    snr_db:
        Range of the word-to-background energy ratio.
    """
    if n_folds < 3:
        raise ValueError("n_folds must be at least 3 (train, valid and test folds)")
    if clips_per_class < n_folds:
        raise ValueError(f"clips_per_class ({clips_per_class}) must be >= n_folds ({n_folds})")
    if n_speakers < n_folds or n_speakers % n_folds:
        raise ValueError(f"n_speakers ({n_speakers}) must be a multiple of n_folds ({n_folds})")
    if sample_rate < MIN_SAMPLE_RATE:
        raise ValueError(
            f"sample_rate {sample_rate} Hz is too low for the formants: the highest reaches "
            f"{_MAX_FORMANT:.0f} Hz, so at least {MIN_SAMPLE_RATE} Hz is needed"
        )
    if duration < 0.25:
        raise ValueError(f"duration must be at least 0.25 s to hold a word, got {duration}")
    if not snr_db[0] <= snr_db[1]:
        raise ValueError(f"snr_db must be a (low, high) range, got {snr_db}")
    clips, labels, folds, files = [], [], [], []
    for label, word in enumerate(SPEECH_CLASSES):
        for i in range(clips_per_class):
            clips.append(
                speech_clip(
                    label,
                    i,
                    seed=seed,
                    sample_rate=sample_rate,
                    duration=duration,
                    n_speakers=n_speakers,
                    snr_db=snr_db,
                )
            )
            labels.append(label)
            speaker = i % n_speakers
            folds.append(speaker % n_folds + 1)
            files.append(f"synthetic_speech/{word}/s{speaker:02d}/{i:05d}")
    params = {
        "seed": seed,
        "sample_rate": sample_rate,
        "duration": duration,
        "clips_per_class": clips_per_class,
        "n_speakers": n_speakers,
        "n_folds": n_folds,
        "snr_db": list(snr_db),
    }
    return generated_set(
        "synthetic_speech", clips, labels, folds, files, SPEECH_CLASSES, sample_rate,
        source="advlib.data.synthetic_speech.make_synthetic_speech", params=params,
        test_fold=n_folds if test_fold is None else test_fold,
        valid_fold=n_folds - 1 if valid_fold is None else valid_fold,
    )  # fmt: skip
