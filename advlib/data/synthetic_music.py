"""A synthetic music-genre set that advlib generates itself, for the music victim offline.

**What it is.** Ten procedural "genres", named after GTZAN's (Tzanetakis and Cook 2002), each a
caricature written as a loop of 4/4 bars: a drum pattern on a sixteenth-note grid (straight or
swung), a bass line, chords following a fixed progression, sometimes a lead, all synthesised from
scratch (band-limited wavetable oscillators, Karplus-Strong plucked strings, tanh overdrive,
noise-based drums, an exponentially decaying noise reverb). The recipes, in label order
(:data:`MUSIC_CLASSES`; tempo ranges in :data:`TEMPO_RANGES`):

* ``blues``: a triplet shuffle (kick on 1 and 3, snare on 2 and 4, swung hi-hat eighths), a
  boogie bass, a lightly overdriven guitar playing the root-fifth / root-sixth shuffle riff and
  an organ holding dominant-seventh chords that follow the 12-bar changes (I7 IV7 I7 V7 IV7).
* ``classical``: no drums; legato string-like additive tones (sawtooth spectra, slow attack and
  release, 4.5-6.5 Hz vibrato) holding triads that change every two bars (I IV V I vi ii V I),
  a stepwise violin-like melody above, and a wet reverb.
* ``country``: a train beat (brushed snare on every sixteenth, accents on 2 and 4, kick on 1 and
  3), boom-chick Karplus-Strong plucks (bass root / fifth on 1 and 3, bright twangy strummed
  major triads on 2 and 4, sometimes also on the "and" of 4).
* ``disco``: four-on-the-floor kick at about 120 BPM, clap on 2 and 4, open hi-hats on the
  off-beats, an octave-jumping eighth-note bass and a detuned sawtooth pad of major chords.
* ``hiphop``: a slow beat with swung sixteenths (kick on 1, the "a" of 2 and the "and" of 3,
  snare on 2 and 4), a heavy, slightly saturated sine sub-bass (808) on the kicks, dark
  electric-piano seventh chords with tremolo (i7 VImaj7), low-passed ("dusty") overall.
* ``jazz``: a swung ride-cymbal pattern (1, 2, the swung "and" of 2, 3, 4, the "and" of 4) with
  the hi-hat foot on 2 and 4, a walking bass (a chord tone on every beat, approaching the next
  chord by a semitone), piano comping of rootless seventh chords (ii7 V7 Imaj7) on the
  Charleston rhythm, some reverb.
* ``metal``: fast double kick (every sixteenth), snare on 2 and 4, crashes; power chords (root,
  fifth, octave) as palm-muted sixteenth chugs and sustained accents, distorted hard (tanh with
  a large drive, then clipped) through a cabinet low-pass; minor-mode changes (i bVI bVII).
* ``pop``: kick on 1 and 3, snare on 2 and 4, closed hi-hats; eighth-note bass, a soft pad on
  I-V-vi-IV and a bright square / sawtooth synth melody on the major pentatonic scale.
* ``reggae``: a slow one-drop (kick and rim shot together on 3 only), short bright off-beat
  skank chords on every "and", a dark, round, melodic bass with rests; I-IV, major or minor.
* ``rock``: backbeat snare on 2 and 4, kick on 1, 3 and the "and" of 3, eighth-note hi-hats,
  overdriven guitar-like power chords or triads strummed in eighths (less drive than metal),
  eighth-note bass; I bVII IV I.

**What varies per clip.** Each clip is a window of ``duration`` seconds starting at a random
point (the start offset) in a loop of the genre's progression, so it may catch a chord change or
a bar line anywhere. Per clip are drawn: the tempo (uniform in the genre's range, overlapping
its neighbours'), the key (any of twelve), the swing ratio where the genre swings, the
brightness of the tonal instruments (a harmonic roll-off cutoff from a genre range that overlaps
others), the drive of overdriven parts, drum tunings and decays, the level of every part (+-5 dB
around the genre's balance), a part's dropping out (each with probability ``drop_prob``, as in a
break; one part always stays), timing (4 ms) and velocity jitter, the reverb, a random
"recording" low-pass on about half the clips, coloured background noise at ``snr_db`` below the
music, and the peak gain in [0.1, 0.9] (the environmental set's normalisation,
:mod:`advlib.data.synthetic`). Neighbouring recipes share tempi, timbres and patterns (blues /
jazz swing, rock / metal drive, disco / pop straight beats, hiphop / reggae slow grooves), so
a small classifier does well but not perfectly. On the default set (seed 0) a nearest-centroid
classifier on the time-averaged log spectrum gets about 35 % of the test fold; adding per-band
temporal spread and the onset rate and modulation spectrum of two onset envelopes (the
features of ``tests/test_synthetic_music.py``) about 85 %, and a logistic regression on those
about 95 %. The genres differ more in time (rhythm, articulation) than in average spectrum.

**What it is not.** It is not music and not a model of any genre: there are no songs, no
arrangement, no recorded instruments, no production, and ten caricatures cannot stand for the
variety inside one real genre. A victim trained on it says nothing about classifying recorded
music. It exists so that the music victim (SampleCNN of the GAN paper, 16,384-sample input at
16 kHz: the default ``sample_rate`` 16000 and ``duration`` 1.024 s give exactly that) runs end to
end without downloads, on an input with the coarse structure of music (pitched harmonic tones in
keys and chords, periodic drum patterns at a tempo). Real music is GTZAN (``paper`` profile,
:mod:`advlib.data.gtzan`).

**Protocol.** Every clip is a pure function of ``(seed, class, index)`` and the settings: clip
``i`` of class ``c`` is the same whatever ``clips_per_class`` is. Fold ``k`` (1-based) holds the
clips with ``index % n_folds == k - 1``, so folds are class-balanced; by default fold ``n_folds``
is the test set and fold ``n_folds - 1`` the validation set, as in the environmental set. Clip
identifiers are ``synthetic_music/<genre>/<index>``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import fftconvolve, lfilter, sosfilt

from advlib.data.core import AudioSet
from advlib.data.gtzan import GTZAN_GENRES
from advlib.data.synthetic import _background, _peak_normalise, _rms, generated_set

__all__ = [
    "MIN_SAMPLE_RATE",
    "MUSIC_CLASSES",
    "TEMPO_RANGES",
    "make_synthetic_music",
    "music_clip",
]

#: Class names, in label order: GTZAN's genres (the GTZAN loader's list).
MUSIC_CLASSES: tuple[str, ...] = GTZAN_GENRES

#: Tempo range (BPM) of each genre; neighbouring genres overlap.
TEMPO_RANGES: dict[str, tuple[float, float]] = {
    "blues": (70.0, 115.0),
    "classical": (60.0, 110.0),
    "country": (100.0, 145.0),
    "disco": (110.0, 130.0),
    "hiphop": (78.0, 100.0),
    "jazz": (105.0, 180.0),
    "metal": (130.0, 190.0),
    "pop": (95.0, 130.0),
    "reggae": (65.0, 95.0),
    "rock": (100.0, 150.0),
}

#: The lowest sample rate accepted (8 kHz): the cymbals and hi-hats (noise above about 3 kHz)
#: need some band below Nyquist. Every frequency is kept below 0.45 ``sample_rate``.
MIN_SAMPLE_RATE = 8000

Rng = np.random.Generator
_TABLE = 2048  # wavetable length
_LOOKBACK = 2.5  # seconds before the window whose notes may still sound in it
_STREAM = 3  # keeps the clips' random streams apart from the other generated sets'

# chord qualities as semitones above the root
_CHORDS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "m7": (0, 3, 7, 10),
    "maj7": (0, 4, 7, 11),
    "5": (0, 7, 12),
}
_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_PENTATONIC = (0, 2, 4, 7, 9)

# harmonic weights of the oscillator timbres, as functions of the harmonic numbers h = 1, 2, ...
_TIMBRES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "saw": lambda h: 1.0 / h,
    "square": lambda h: (h % 2) / h,
    "soft": lambda h: h**-2.5,
    "sine": lambda h: (h == 1).astype(float),
    "organ": lambda h: np.isin(h, (1, 2, 3, 4, 6, 8)) / np.sqrt(h),
    "piano": lambda h: h**-1.3,
}


def _hz(midi: float | np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def _table(f0: float, sr: int, cutoff: float, timbre: str) -> np.ndarray:
    """One band-limited period of ``timbre`` at ``f0``: harmonics below 0.45 ``sr``, rolled off
    by ``exp(-h f0 / cutoff)``; ``_TABLE + 1`` samples (the first repeated, for interpolation)."""
    top = max(1, min(_TABLE // 2 - 1, int(0.45 * sr / f0)))
    h = np.arange(1, top + 1)
    spec = np.zeros(_TABLE // 2 + 1, dtype=complex)
    spec[1 : top + 1] = -0.5j * _TABLE * _TIMBRES[timbre](h) * np.exp(-h * f0 / cutoff)
    tab = np.fft.irfft(spec, _TABLE)
    return np.append(tab, tab[0])


def _lookup(tab: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """Linear-interpolated wavetable lookup at ``phase`` (in cycles)."""
    x = phase * _TABLE  # phases are non-negative; the table length is a power of two
    i = x.astype(np.intp)
    frac = x - i
    i &= _TABLE - 1
    return tab[i] + frac * (tab[i + 1] - tab[i])


def _sos(sr: int, cutoff: float | tuple[float, float], btype: str, order: int = 2) -> np.ndarray:
    """Butterworth ``order`` (2 or 4) low-, high- or band-pass (a high-pass at the lower edge
    then a low-pass at the upper) as second-order sections, in closed form (the bilinear
    biquads of the Audio EQ Cookbook), so that per-clip random cutoffs cost no filter design."""
    if btype == "band":
        lo, hi = cutoff  # type: ignore[misc]
        hi = min(hi, 0.45 * sr)
        return np.vstack([_sos(sr, min(lo, 0.7 * hi), "high", order), _sos(sr, hi, "low", order)])
    w = 2 * np.pi * min(float(cutoff), 0.45 * sr) / sr  # type: ignore[arg-type]
    cos, sos = np.cos(w), []
    for q in (0.7071,) if order <= 2 else (0.5412, 1.3066):
        alpha = np.sin(w) / (2 * q)
        b = (1 - cos) / 2 if btype == "low" else (1 + cos) / 2
        b1 = 2 * b if btype == "low" else -2 * b
        sos.append(np.array([b, b1, b, 1 + alpha, -2 * cos, 1 - alpha]) / (1 + alpha))
    return np.array(sos)


def _decay(m: int, sr: int, tau: float, attack: float = 0.0) -> np.ndarray:
    t = np.arange(m) / sr
    env = np.exp(-t / tau)
    if attack > 0:
        env *= np.minimum(t / attack, 1.0)
    return env


# --- drums: one template per clip, re-triggered at every hit ----------------------------------


def _kick(sr: int, rng: Rng, tau: tuple[float, float] = (0.08, 0.25)) -> np.ndarray:
    m = int(0.5 * sr)
    t = np.arange(m) / sr
    f_end = rng.uniform(42, 65)
    f_start, k = f_end * rng.uniform(2.5, 4.5), rng.uniform(0.015, 0.04)
    phase = f_end * t + (f_start - f_end) * k * (1 - np.exp(-t / k))
    x = np.sin(2 * np.pi * phase) * np.exp(-t / rng.uniform(*tau))
    click = int(0.003 * sr)
    x[:click] += rng.uniform(0.1, 0.5) * rng.standard_normal(click) * np.linspace(1, 0, click)
    return x


def _snare(sr: int, rng: Rng, tau: tuple[float, float] = (0.05, 0.14)) -> np.ndarray:
    m = int(0.35 * sr)
    tone = np.sin(2 * np.pi * rng.uniform(160, 240) * np.arange(m) / sr)
    noise = sosfilt(_sos(sr, (rng.uniform(800, 1500), 7000), "band"), rng.standard_normal(m))
    mix = rng.uniform(0.3, 0.7)
    return mix * tone * _decay(m, sr, 0.04) + (1 - mix) * 1.5 * noise * _decay(
        m, sr, rng.uniform(*tau)
    )


def _clap(sr: int, rng: Rng) -> np.ndarray:
    m = int(0.3 * sr)
    noise = sosfilt(_sos(sr, (rng.uniform(900, 1400), 4000), "band"), rng.standard_normal(m))
    t = np.arange(m) / sr
    env = np.exp(-t / rng.uniform(0.05, 0.12))
    for d in (0.0, 0.011, 0.022):
        env += 0.8 * np.exp(-np.clip(t - d, 0, None) / 0.004) * (t >= d)
    return noise * env


def _hat(sr: int, rng: Rng, tau: tuple[float, float] = (0.015, 0.05)) -> np.ndarray:
    tau_ = rng.uniform(*tau)
    m = int(min(0.6, 8 * tau_) * sr)
    lo = min(rng.uniform(5000, 7500), 0.38 * sr)
    return sosfilt(_sos(sr, lo, "high"), rng.standard_normal(m)) * _decay(m, sr, tau_, 0.001)


def _ride(sr: int, rng: Rng) -> np.ndarray:
    tau = rng.uniform(0.25, 0.6)
    m = int(min(1.2, 4 * tau) * sr)
    t = np.arange(m) / sr
    base = rng.uniform(280, 450)
    ratios = np.sort(rng.uniform(1.0, 9.0, size=6))
    freqs = base * ratios[base * ratios < 0.45 * sr]
    bell = np.sin(2 * np.pi * freqs[:, None] * t + rng.uniform(0, 2 * np.pi, (len(freqs), 1)))
    hiss = sosfilt(_sos(sr, min(4000, 0.3 * sr), "high"), rng.standard_normal(m))
    return (0.3 * bell.sum(0) / max(len(freqs), 1) + 0.4 * hiss) * _decay(m, sr, tau, 0.001)


def _crash(sr: int, rng: Rng) -> np.ndarray:
    m = int(1.5 * sr)
    hiss = sosfilt(_sos(sr, min(3000, 0.3 * sr), "high"), rng.standard_normal(m))
    return hiss * _decay(m, sr, rng.uniform(0.4, 0.8), 0.002)


def _rim(sr: int, rng: Rng) -> np.ndarray:
    m = int(0.1 * sr)
    t = np.arange(m) / sr
    tone = np.sin(2 * np.pi * rng.uniform(400, 700) * t) * np.exp(-t / rng.uniform(0.015, 0.03))
    click = sosfilt(_sos(sr, min(2500, 0.3 * sr), "high"), rng.standard_normal(m))
    return tone + 0.8 * click * np.exp(-t / 0.004)


def _brush(sr: int, rng: Rng) -> np.ndarray:
    tau = rng.uniform(0.04, 0.09)
    m = int(5 * tau * sr)
    band = (rng.uniform(1500, 2500), rng.uniform(5000, 7000))
    return sosfilt(_sos(sr, band, "band"), rng.standard_normal(m)) * _decay(m, sr, tau, 0.006)


# --- the clip: its timeline, and parts rendered into it ------------------------------------


class _Clip:
    """One clip's window on an endless loop of 4/4 bars, and the helpers that render into it.

    Times are in seconds relative to the window's start; bar ``k`` starts at ``k * bar -
    offset``. ``grid`` holds the four sixteenth positions within a beat (in beats), swung or
    straight.
    """

    def __init__(
        self,
        genre: str,
        n: int,
        sr: int,
        rng: Rng,
        cycle: int,
        *,
        swing: float = 0.5,
        swing16: float = 0.5,
        cutoff: tuple[float, float] = (1500.0, 4000.0),
    ) -> None:
        self.n, self.sr, self.rng = n, sr, rng
        self.bpm = rng.uniform(*TEMPO_RANGES[genre])
        self.beat = 60.0 / self.bpm
        self.bar = 4 * self.beat
        self.cycle = cycle
        self.offset = rng.uniform(0, cycle * self.bar)
        self.key = int(rng.integers(12))
        self.cutoff = min(rng.uniform(*cutoff), 0.45 * sr)
        if swing16 > 0.5:
            self.grid = (0.0, swing16 / 2, 0.5, 0.5 + swing16 / 2)
        else:  # eighth-note swing: the "and" at `swing` of the beat
            self.grid = (0.0, swing / 2, swing, swing + (1 - swing) / 2)

    def bars(self) -> range:
        first = int(np.floor((self.offset - _LOOKBACK) / self.bar))
        return range(first, int(np.floor((self.offset + self.n / self.sr) / self.bar)) + 1)

    def time(self, bar: int, step: float) -> float:
        """Window time of sixteenth ``step`` of ``bar``, with a little timing jitter."""
        beat, sub = divmod(int(step), 4)
        frac = step - int(step)
        pos = beat + self.grid[sub] + frac * 0.25
        return bar * self.bar + pos * self.beat - self.offset + self.rng.normal(0, 0.004)

    def root(self, bar: int, progression: list[tuple[int, str]], low: int = 36) -> tuple[int, str]:
        """The chord of ``bar``: its root as a MIDI note in ``[low, low + 12)`` and quality."""
        deg, quality = progression[bar % len(progression)]
        return low + (self.key + deg) % 12, quality

    def zeros(self) -> np.ndarray:
        return np.zeros(self.n)

    def hits(
        self, out: np.ndarray, tmpl: np.ndarray, pattern: dict[float, float], prob: float = 1.0
    ) -> np.ndarray:
        """Add ``tmpl`` (faded out over its last fifth) at every step of ``pattern`` (step ->
        velocity) in every bar."""
        m = len(tmpl)
        tmpl = tmpl * np.minimum(1.0, 5.0 * (1.0 - np.arange(m) / m))
        for bar in self.bars():
            for step, vel in pattern.items():
                if prob < 1.0 and self.rng.random() >= prob:
                    continue
                p = int(round(self.time(bar, step) * self.sr))
                a, b = max(p, 0), min(p + m, self.n)
                if a < b:
                    out[a:b] += vel * self.rng.uniform(0.8, 1.0) * tmpl[a - p : b - p]
        return out

    def note(
        self,
        out: np.ndarray,
        t0: float,
        dur: float,
        midis: tuple[float, ...] | list[float],
        timbre: str = "saw",
        *,
        vel: float = 1.0,
        attack: float = 0.005,
        release: float = 0.05,
        tau: float | None = None,
        vibrato: tuple[float, float] | None = None,
        detune: float = 0.0,
        cutoff: float | None = None,
    ) -> None:
        """Add a note (or a chord: several ``midis``) starting at window time ``t0``.

        The envelope rises over ``attack``, holds (or decays with time constant ``tau``) for
        ``dur`` and falls linearly over ``release``. ``vibrato`` is ``(rate Hz, depth)``;
        ``detune`` adds a second oscillator per note at ``1 + detune`` times the pitch.
        """
        sr = self.sr
        end = t0 + dur + release
        if tau is not None:
            end = min(end, t0 + 7 * tau)
        a, b = max(int(np.ceil(t0 * sr)), 0), min(int(end * sr) + 1, self.n)
        if a >= b:
            return
        t = np.maximum(np.arange(a, b) / sr - t0, 0.0)
        env = np.minimum(t / attack, 1.0) * np.clip((dur + release - t) / release, 0.0, 1.0)
        if tau is not None:
            env *= np.exp(-t / tau)
        wave = np.zeros(b - a)
        for midi in midis:
            for f in (_hz(midi), *((_hz(midi) * (1 + detune),) if detune else ())):
                f = float(f)
                if f >= 0.45 * sr:
                    continue
                tab = _table(f, sr, cutoff or self.cutoff, timbre)
                phase = f * t + self.rng.random()
                if vibrato is not None:
                    rate, depth = vibrato
                    phase += f * depth * (1 - np.cos(2 * np.pi * rate * t)) / (2 * np.pi * rate)
                wave += _lookup(tab, phase)
        out[a:b] += vel * env * wave

    def pluck(
        self,
        out: np.ndarray,
        t0: float,
        dur: float,
        midi: float,
        *,
        vel: float = 1.0,
        decay: float = 0.6,
        smooth: float = 0.3,
    ) -> None:
        """A Karplus-Strong string: a noise burst of one period circulating in a delay line
        with an averaging (low-pass) loss; ``smooth`` in [0, 1) dulls the burst (0 = brightest),
        ``decay`` is the time constant, and the string is muted after ``dur``."""
        sr = self.sr
        p0 = int(round(t0 * sr))
        end = min(p0 + int((dur + 0.03) * sr), self.n)
        if end <= max(p0, 0):
            return
        period = max(2, int(round(sr / float(_hz(midi)) - 0.5)))
        m = end - p0
        blocks = -(-m // period) + 1
        y = np.zeros((blocks, period))
        y[0] = lfilter([1 - smooth], [1, -smooth], self.rng.uniform(-1, 1, period))
        g = np.exp(-period / (sr * decay))
        last = 0.0
        for k in range(1, blocks):
            prev = y[k - 1]
            y[k, 0] = 0.5 * g * (prev[0] + last)
            y[k, 1:] = 0.5 * g * (prev[1:] + prev[:-1])
            last = prev[-1]
        x = y.ravel()[:m] * np.clip((dur + 0.03 - np.arange(m) / sr) / 0.03, 0.0, 1.0)
        a = max(p0, 0)
        out[a:end] += vel * x[a - p0 :]


def _drive(x: np.ndarray, gain: float, clip: float = 1.0) -> np.ndarray:
    """Overdrive: tanh of the peak-normalised signal, optionally hard-clipped at ``clip``."""
    y = np.tanh(gain * x / (np.abs(x).max() + 1e-12)) / np.tanh(gain)
    return np.clip(y, -clip, clip) if clip < 1.0 else y


def _reverb(x: np.ndarray, sr: int, rng: Rng, wet: float) -> np.ndarray:
    """Add ``wet`` (relative energy) of a room: exponentially decaying, darkening noise."""
    if wet <= 0:
        return x
    rt = rng.uniform(0.6, 1.8)
    m = min(len(x), int(rt * sr))
    ir = sosfilt(_sos(sr, rng.uniform(2000, 5000), "low"), rng.standard_normal(m))
    ir *= np.exp(-6.9 * np.arange(m) / (rt * sr))
    tail = fftconvolve(x, ir)[: len(x)]
    return x + np.sqrt(wet) * tail * _rms(x) / _rms(tail)


# --- the genres: each returns its parts as (signal, level in dB) ---------------------------

Parts = list[tuple[np.ndarray, float]]


def _blues(c: _Clip) -> Parts:
    prog = (
        [(0, "7")] * 4 + [(5, "7")] * 2 + [(0, "7")] * 2 + [(7, "7"), (5, "7"), (0, "7"), (7, "7")]
    )
    r, sr = c.rng, c.sr
    drums = c.hits(c.zeros(), _kick(sr, r), {0: 1.0, 8: 0.8})
    c.hits(drums, _snare(sr, r), {4: 0.8, 12: 0.8})
    c.hits(drums, _hat(sr, r), {s: 0.3 for s in (0, 2, 4, 6, 8, 10, 12, 14)})
    bass, guitar, organ = c.zeros(), c.zeros(), c.zeros()
    for bar in c.bars():
        root, quality = c.root(bar, prog, 33)
        for beat, iv in enumerate((0, 4, 7, 9)):
            for sub, v in ((0, 1.0), (2, 0.7)):
                t = c.time(bar, 4 * beat + sub)
                c.note(bass, t, 0.3 * c.beat, [root + iv], "soft", vel=v, tau=0.3)
                dyad = [root + 12, root + 19 if beat % 2 == 0 else root + 21]
                c.note(guitar, t, 0.35 * c.beat, dyad, "saw", vel=v, tau=0.25)
        c.note(
            organ,
            c.time(bar, 0),
            c.bar,
            [root + 12 + i for i in _CHORDS[quality]],
            "organ",
            attack=0.03,
            release=0.1,
            vel=0.8,
        )
    guitar = _drive(guitar, r.uniform(1.5, 5.0))
    return [(drums, 0.0), (bass, -3.0), (guitar, -2.0), (organ, -6.0)]


def _classical(c: _Clip) -> Parts:
    chords = [
        (0, "maj"),
        (5, "maj"),
        (7, "maj"),
        (0, "maj"),
        (9, "min"),
        (2, "min"),
        (7, "maj"),
        (0, "maj"),
    ]
    prog = [ch for ch in chords for _ in range(2)]
    r = c.rng
    strings, melody = c.zeros(), c.zeros()
    attack, release = r.uniform(0.12, 0.4), r.uniform(0.25, 0.5)
    for bar in c.bars():
        root, quality = c.root(bar, prog, 43)
        iv = _CHORDS[quality]
        voices = [root - 12, root + iv[1], root + iv[2], root + 12]
        for v in voices:
            c.note(
                strings,
                c.time(bar, 0),
                c.bar,
                [v],
                "saw",
                attack=attack,
                release=release,
                vibrato=(r.uniform(4.5, 6.5), r.uniform(0.002, 0.007)),
                vel=0.6,
            )
        step = 0.0
        deg = int(r.integers(0, 7))
        while step < 16:
            length = float(r.choice([4, 4, 8, 2, 6]))
            deg = int(np.clip(deg + r.choice([-2, -1, -1, 1, 1, 2]), -3, 10))
            midi = 60 + c.key + 12 * (deg // 7) + _MAJOR[deg % 7]
            c.note(
                melody,
                c.time(bar, step),
                length * c.beat / 4,
                [midi],
                "saw",
                attack=0.08,
                release=0.15,
                vibrato=(r.uniform(5.0, 6.5), r.uniform(0.004, 0.01)),
            )
            step += length
    wet = r.uniform(0.2, 0.6)
    return [(_reverb(strings, c.sr, r, wet), 0.0), (_reverb(melody, c.sr, r, wet), -3.0)]


def _country(c: _Clip) -> Parts:
    prog = [(0, "maj"), (0, "maj"), (5, "maj"), (7, "maj")]
    r, sr = c.rng, c.sr
    drums = c.hits(c.zeros(), _kick(sr, r), {0: 0.8, 8: 0.8})
    c.hits(drums, _brush(sr, r), {s: (1.0 if s in (4, 12) else 0.45) for s in range(16)})
    bass, guitar = c.zeros(), c.zeros()
    smooth, decay = r.uniform(0.0, 0.35), r.uniform(0.4, 1.2)
    spread = r.uniform(0.006, 0.02)
    for bar in c.bars():
        root, quality = c.root(bar, prog, 38)
        for beat, iv in ((0, 0), (2, 7)):
            c.pluck(
                bass, c.time(bar, 4 * beat), 0.9 * c.beat, root + iv - 12, decay=0.5, smooth=0.6
            )
        chord = [root + i for i in (0, *_CHORDS[quality][1:], 12)]
        for step in (4, 12, 14) if r.random() < 0.5 else (4, 12):
            t = c.time(bar, step)
            for j, midi in enumerate(chord):
                c.pluck(
                    guitar,
                    t + j * spread,
                    0.6 * c.beat,
                    midi + 12,
                    vel=0.7,
                    decay=decay,
                    smooth=smooth,
                )
    return [(drums, 0.0), (bass, -2.0), (guitar, 0.0)]


def _disco(c: _Clip) -> Parts:
    prog = [(0, "maj"), (5, "maj"), (7, "maj"), (5, "maj")]
    r, sr = c.rng, c.sr
    drums = c.hits(c.zeros(), _kick(sr, r, (0.1, 0.2)), {0: 1.0, 4: 1.0, 8: 1.0, 12: 1.0})
    c.hits(drums, _clap(sr, r), {4: 0.7, 12: 0.7})
    c.hits(drums, _hat(sr, r, (0.1, 0.25)), {2: 0.5, 6: 0.5, 10: 0.5, 14: 0.5})
    c.hits(drums, _hat(sr, r), {s: 0.15 for s in (1, 3, 5, 7, 9, 11, 13, 15)}, prob=0.6)
    bass, pad = c.zeros(), c.zeros()
    for bar in c.bars():
        root, quality = c.root(bar, prog, 36)
        for step in range(0, 16, 2):
            c.note(
                bass,
                c.time(bar, step),
                0.4 * c.beat,
                [root + 12 * (step % 4 == 2)],
                "saw",
                cutoff=800,
                tau=0.2,
            )
        c.note(
            pad,
            c.time(bar, 0),
            c.bar,
            [root + 12 + i for i in _CHORDS[quality]],
            "saw",
            attack=r.uniform(0.05, 0.2),
            release=0.2,
            detune=0.004,
            vel=0.6,
        )
    return [(drums, 0.0), (bass, -3.0), (pad, -5.0)]


def _hiphop(c: _Clip) -> Parts:
    prog = [(0, "m7"), (0, "m7"), (8, "maj7"), (8, "maj7")]
    r, sr = c.rng, c.sr
    kicks = {0: 1.0, 7: 0.8, 10: 0.9}
    drums = c.hits(c.zeros(), _kick(sr, r, (0.1, 0.3)), kicks)
    c.hits(drums, _snare(sr, r, (0.1, 0.2)), {4: 1.0, 12: 1.0})
    c.hits(drums, _hat(sr, r), {s: (0.35 if s % 2 == 0 else 0.2) for s in range(16)}, prob=0.8)
    sub, keys = c.zeros(), c.zeros()
    tau = r.uniform(0.25, 0.7)
    trem = (r.uniform(3.0, 6.0), r.uniform(0.1, 0.4))
    for bar in c.bars():
        root, quality = c.root(bar, prog, 24)
        for step in kicks:
            c.note(sub, c.time(bar, step), 2 * c.beat, [root], "sine", tau=tau, attack=0.003)
        c.note(
            keys,
            c.time(bar, 0),
            2 * c.beat,
            [root + 36 + i for i in _CHORDS[quality]],
            "piano",
            tau=0.8,
            release=0.2,
            vel=0.5,
        )
    keys *= 1 - trem[1] * (0.5 + 0.5 * np.sin(2 * np.pi * trem[0] * np.arange(c.n) / sr))
    mix = [(drums, 0.0), (_drive(sub, r.uniform(1.0, 3.0)), 0.0), (keys, -7.0)]
    lp = _sos(sr, r.uniform(2500, 6000), "low")
    return [(sosfilt(lp, x), db) for x, db in mix]


def _jazz(c: _Clip) -> Parts:
    prog = [(2, "m7"), (7, "7"), (0, "maj7"), (0, "maj7")]
    r, sr = c.rng, c.sr
    ride = _ride(sr, r)
    drums = c.hits(c.zeros(), ride, {0: 0.7, 4: 1.0, 6: 0.6, 8: 0.7, 12: 1.0, 14: 0.6})
    c.hits(drums, _hat(sr, r, (0.01, 0.03)), {4: 0.4, 12: 0.4})
    c.hits(drums, _snare(sr, r), {s: 0.12 for s in (2, 6, 10, 14)}, prob=0.25)
    c.hits(drums, _kick(sr, r), {0: 0.15, 4: 0.15, 8: 0.15, 12: 0.15})
    bass, piano = c.zeros(), c.zeros()
    for bar in c.bars():
        root, quality = c.root(bar, prog, 36)
        nxt, _ = c.root(bar + 1, prog, 36)
        iv = _CHORDS[quality]
        walk = [
            root,
            root + int(r.choice(iv[1:])),
            root + int(r.choice((*iv, 12, 2, 5))),
            nxt + int(r.choice((-1, 1))),
        ]
        for beat, midi in enumerate(walk):
            c.note(bass, c.time(bar, 4 * beat), 0.85 * c.beat, [midi], "soft", tau=0.5)
        voicing = [root + 12 + i for i in (iv[1], iv[2], iv[3], 14)]
        for step in (0, 6) if r.random() < 0.7 else tuple(r.choice(np.arange(0, 16, 2), 2)):
            c.note(piano, c.time(bar, step), 0.5 * c.beat, voicing, "piano", tau=0.5, vel=0.6)
    wet = r.uniform(0.05, 0.3)
    return [(drums, -5.0), (bass, 0.0), (_reverb(piano, sr, r, wet), -3.0)]


def _metal(c: _Clip) -> Parts:
    prog = [(0, "5"), (8, "5"), (10, "5"), (0, "5")]
    if c.rng.random() < 0.3:
        prog[3] = (1, "5")
    r, sr = c.rng, c.sr
    drums = c.hits(c.zeros(), _kick(sr, r, (0.04, 0.1)), {s: 0.8 for s in range(16)})
    c.hits(drums, _snare(sr, r), {4: 1.0, 12: 1.0})
    c.hits(drums, _hat(sr, r), {s: 0.4 for s in range(0, 16, 2)})
    c.hits(drums, _crash(sr, r), {0: 0.8}, prob=0.5)
    guitar, bass = c.zeros(), c.zeros()
    for bar in c.bars():
        root, _ = c.root(bar, prog, 28)
        chord = [root + 12 + i for i in _CHORDS["5"]]
        accents = {s: int(r.integers(2, 5)) for s in (0, 6, 10) if r.random() < 0.6}
        step = 0
        while step < 16:
            held = accents.get(step, 1)
            t = c.time(bar, step)
            mute = held == 1
            c.note(
                guitar,
                t,
                held * c.beat / 4 * (0.5 if mute else 1.0),
                chord,
                "saw",
                vel=0.6 if mute else 1.0,
                cutoff=900 if mute else None,
                release=0.02,
            )
            c.note(bass, t, 0.2 * c.beat, [root], "saw", cutoff=600, tau=0.1)
            step += held
    guitar = _drive(guitar, r.uniform(8.0, 30.0), clip=r.uniform(0.6, 0.9))
    guitar = sosfilt(_sos(sr, c.cutoff + 1500, "low", 4), guitar)
    return [(drums, -2.0), (guitar, 2.0), (bass, -6.0)]


def _pop(c: _Clip) -> Parts:
    prog = [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")]
    r, sr = c.rng, c.sr
    drums = c.hits(c.zeros(), _kick(sr, r), {0: 1.0, 8: 1.0, 10: 0.6})
    c.hits(drums, _clap(sr, r) if r.random() < 0.5 else _snare(sr, r), {4: 0.9, 12: 0.9})
    c.hits(drums, _hat(sr, r), {s: 0.3 for s in range(0, 16, 2)})
    bass, pad, lead = c.zeros(), c.zeros(), c.zeros()
    timbre = "square" if r.random() < 0.5 else "saw"
    deg = int(r.integers(0, 5))
    for bar in c.bars():
        root, quality = c.root(bar, prog, 36)
        for step in range(0, 16, 2):
            c.note(bass, c.time(bar, step), 0.45 * c.beat, [root], "saw", cutoff=700)
        c.note(
            pad,
            c.time(bar, 0),
            c.bar,
            [root + 24 + i for i in _CHORDS[quality]],
            "soft",
            attack=0.05,
            release=0.2,
            vel=0.5,
        )
        step = 0
        while step < 16:
            length = int(r.choice([2, 2, 4, 1, 3]))
            deg = int(np.clip(deg + r.choice([-2, -1, 0, 1, 1, 2]), 0, 9))
            if r.random() > 0.15:
                midi = 72 + c.key % 12 + 12 * (deg // 5) - 12 + _PENTATONIC[deg % 5]
                c.note(
                    lead,
                    c.time(bar, step),
                    0.85 * length * c.beat / 4,
                    [midi],
                    timbre,
                    cutoff=c.cutoff * 1.5,
                    vibrato=(5.5, 0.003),
                    vel=0.8,
                )
            step += length
    return [(drums, 0.0), (bass, -4.0), (pad, -8.0), (lead, -1.0)]


def _reggae(c: _Clip) -> Parts:
    minor = c.rng.random() < 0.5
    prog = [(0, "min" if minor else "maj"), (5, "min" if minor else "maj")]
    r, sr = c.rng, c.sr
    drums = c.hits(c.zeros(), _kick(sr, r), {8: 1.0})
    c.hits(drums, _rim(sr, r), {8: 0.8})
    c.hits(drums, _hat(sr, r), {s: 0.25 for s in range(0, 16, 2)}, prob=0.8)
    skank, bass = c.zeros(), c.zeros()
    length = r.uniform(0.06, 0.13)
    for bar in c.bars():
        root, quality = c.root(bar, prog, 36)
        chord = [root + 24 + i for i in _CHORDS[quality]]
        for step in (2, 6, 10, 14):
            c.note(
                skank, c.time(bar, step), length, chord, "saw", release=0.02, cutoff=c.cutoff * 1.3
            )
        iv = _CHORDS[quality]
        for step, dur in ((0, 6), (6, 2), (10, 2), (12, 4)):
            if step > 0 and r.random() < 0.35:
                continue
            midi = root + (0 if step == 0 else int(r.choice((*iv, 12))))
            c.note(
                bass,
                c.time(bar, step),
                0.9 * dur * c.beat / 4,
                [midi],
                "soft",
                cutoff=500,
                attack=0.01,
                release=0.08,
            )
    skank = sosfilt(_sos(sr, 400, "high"), skank)
    return [(drums, 0.0), (skank, -3.0), (bass, 1.0)]


def _rock(c: _Clip) -> Parts:
    prog = [(0, "maj"), (10, "maj"), (5, "maj"), (0, "maj")]
    r, sr = c.rng, c.sr
    drums = c.hits(c.zeros(), _kick(sr, r), {0: 1.0, 8: 0.9, 10: 0.7})
    c.hits(drums, _snare(sr, r), {4: 1.0, 12: 1.0})
    c.hits(
        drums, _hat(sr, r) if r.random() < 0.6 else _ride(sr, r), {s: 0.35 for s in range(0, 16, 2)}
    )
    c.hits(drums, _crash(sr, r), {0: 0.6}, prob=0.3)
    guitar, bass = c.zeros(), c.zeros()
    power = r.random() < 0.5
    for bar in c.bars():
        root, _ = c.root(bar, prog, 40)
        chord = [root + i for i in (_CHORDS["5"] if power else (0, 7, 12, 16))]
        for step in range(0, 16, 2):
            t = c.time(bar, step)
            c.note(guitar, t, 0.45 * c.beat, chord, "saw", vel=1.0 if step % 4 == 0 else 0.75)
            c.note(bass, t, 0.45 * c.beat, [root - 12], "saw", cutoff=600)
    guitar = _drive(guitar, r.uniform(3.0, 10.0))
    guitar = sosfilt(_sos(sr, c.cutoff + 1000, "low", 4), guitar)
    return [(drums, 0.0), (guitar, 0.0), (bass, -5.0)]


# genre -> (recipe, bars in its loop, _Clip settings drawn per clip)
_RECIPES: dict[str, tuple[Callable[[_Clip], Parts], int, Callable[[Rng], dict]]] = {
    "blues": (_blues, 12, lambda r: {"swing": r.uniform(0.62, 0.7), "cutoff": (1200, 3500)}),
    "classical": (_classical, 16, lambda r: {"cutoff": (1000, 3000)}),
    "country": (_country, 4, lambda r: {"cutoff": (2500, 5000)}),
    "disco": (_disco, 4, lambda r: {"cutoff": (1800, 4500)}),
    "hiphop": (_hiphop, 4, lambda r: {"swing16": r.uniform(0.54, 0.64), "cutoff": (700, 2000)}),
    "jazz": (_jazz, 4, lambda r: {"swing": r.uniform(0.6, 0.7), "cutoff": (1200, 3000)}),
    "metal": (_metal, 4, lambda r: {"cutoff": (2500, 5500)}),
    "pop": (_pop, 4, lambda r: {"cutoff": (2500, 6000)}),
    "reggae": (_reggae, 2, lambda r: {"swing": r.uniform(0.5, 0.6), "cutoff": (2000, 4500)}),
    "rock": (_rock, 4, lambda r: {"cutoff": (1800, 4500)}),
}


def music_clip(
    label: int,
    index: int,
    *,
    seed: int = 0,
    sample_rate: int = 16000,
    duration: float = 1.024,
    snr_db: tuple[float, float] = (10.0, 30.0),
    drop_prob: float = 0.1,
) -> np.ndarray:
    """One clip of genre ``label``: a pure function of ``(seed, label, index)`` and the settings,
    float32 with its peak in [0.1, 0.9] (see the module docstring for the recipes)."""
    if not 0 <= label < len(MUSIC_CLASSES):
        raise ValueError(f"label must be in [0, {len(MUSIC_CLASSES)}), got {label}")
    rng = np.random.default_rng([seed, _STREAM, label, index])
    n = int(round(sample_rate * duration))
    recipe, cycle, settings = _RECIPES[MUSIC_CLASSES[label]]
    clip = _Clip(MUSIC_CLASSES[label], n, sample_rate, rng, cycle, **settings(rng))
    parts = [(x, db) for x, db in recipe(clip) if np.any(x)]
    keep = rng.random(len(parts)) >= drop_prob
    if parts:  # one part always plays
        keep[int(rng.integers(len(parts)))] = True
    mix = np.zeros(n)
    for (x, db), k in zip(parts, keep, strict=True):
        if k:
            mix += x / _rms(x) * 10 ** ((db + rng.uniform(-5, 5)) / 20)
    if rng.random() < 0.5:  # the "recording": a gentle low-pass on about half the clips
        mix = sosfilt(_sos(sample_rate, rng.uniform(2500, 7000), "low"), mix)
    bg = _background(n, sample_rate, rng)
    mix += bg / _rms(bg) * _rms(mix) * 10 ** (-rng.uniform(*snr_db) / 20)
    return _peak_normalise(mix, rng)


def make_synthetic_music(
    *,
    seed: int = 0,
    sample_rate: int = 16000,
    duration: float = 1.024,
    clips_per_class: int = 200,
    n_folds: int = 5,
    test_fold: int | None = None,
    valid_fold: int | None = None,
    snr_db: tuple[float, float] = (10.0, 30.0),
    drop_prob: float = 0.1,
) -> AudioSet:
    """Generate the synthetic music-genre set (see the module docstring).

    Parameters
    ----------
    seed:
        Everything is deterministic given the seed.
    sample_rate, duration:
        Clip format; ``T = round(sample_rate * duration)``. The defaults, 16 kHz and 1.024 s,
        give SampleCNN's 16,384 samples. ``sample_rate`` must be at least
        :data:`MIN_SAMPLE_RATE` and ``duration`` at least 0.25 s.
    clips_per_class:
        Clips per genre; the set is exactly class-balanced. At least ``n_folds``.
    n_folds:
        Cross-validation folds (class-balanced). ``test_fold`` defaults to ``n_folds`` and
        ``valid_fold`` to ``n_folds - 1``.
    snr_db, drop_prob:
        Difficulty: the range of the music-to-background energy ratio, and the chance that
        each part (drums, bass, chords, lead) is silent in a clip (one part always plays).
    """
    if n_folds < 3:
        raise ValueError("n_folds must be at least 3 (train, valid and test folds)")
    if clips_per_class < n_folds:
        raise ValueError(f"clips_per_class ({clips_per_class}) must be >= n_folds ({n_folds})")
    if sample_rate < MIN_SAMPLE_RATE:
        raise ValueError(
            f"sample_rate must be at least {MIN_SAMPLE_RATE} Hz (cymbals and hi-hats need the "
            f"band above 3 kHz), got {sample_rate}"
        )
    if duration < 0.25:
        raise ValueError(f"duration must be at least 0.25 s to hold a beat, got {duration}")
    if not snr_db[0] <= snr_db[1]:
        raise ValueError(f"snr_db must be a (low, high) range, got {snr_db}")
    if not 0.0 <= drop_prob < 1.0:
        raise ValueError(f"drop_prob must be in [0, 1), got {drop_prob}")
    clips, labels, folds, files = [], [], [], []
    for label, genre in enumerate(MUSIC_CLASSES):
        for i in range(clips_per_class):
            clips.append(
                music_clip(
                    label,
                    i,
                    seed=seed,
                    sample_rate=sample_rate,
                    duration=duration,
                    snr_db=snr_db,
                    drop_prob=drop_prob,
                )
            )
            labels.append(label)
            folds.append(i % n_folds + 1)
            files.append(f"synthetic_music/{genre}/{i:05d}")
    params = {
        "seed": seed,
        "sample_rate": sample_rate,
        "duration": duration,
        "clips_per_class": clips_per_class,
        "n_folds": n_folds,
        "snr_db": list(snr_db),
        "drop_prob": drop_prob,
    }
    return generated_set(
        "synthetic_music",
        clips,
        labels,
        folds,
        files,
        MUSIC_CLASSES,
        sample_rate,
        source="advlib.data.synthetic_music.make_synthetic_music",
        params=params,
        test_fold=n_folds if test_fold is None else test_fold,
        valid_fold=n_folds - 1 if valid_fold is None else valid_fold,
    )
