from itertools import pairwise

import numpy as np
import pytest
import torch

from advlib.data import (
    GENERATED_LOADERS,
    LOADERS,
    MUSIC_CLASSES,
    load_dataset,
    make_synthetic_music,
)
from advlib.data.gtzan import GTZAN_GENRES
from advlib.data.synthetic_music import MIN_SAMPLE_RATE, TEMPO_RANGES, music_clip
from advlib.models.samplecnn import samplecnn

ARGS = {"seed": 3, "clips_per_class": 10, "duration": 0.5}


@pytest.fixture(scope="module")
def small():
    return make_synthetic_music(**ARGS)


def test_shapes_and_convention(small):
    assert small.name == "synthetic_music"
    assert small.x.shape == (100, 8000) and small.sample_rate == 16000
    assert small.x.dtype == torch.float32 and small.y.dtype == torch.int64
    assert torch.isfinite(small.x).all() and small.x.abs().max() <= 1.0
    peaks = small.x.abs().amax(dim=1)
    assert (peaks >= 0.1 - 1e-6).all() and (peaks <= 0.9 + 1e-6).all()
    assert small.classes == MUSIC_CLASSES == GTZAN_GENRES  # named after GTZAN's genres
    assert small.files[0] == "synthetic_music/blues/00000"
    assert small.info["licence"].startswith("CC0") and small.info["params"]["seed"] == 3


def test_default_clip_is_the_music_victims_input():
    clip = music_clip(MUSIC_CLASSES.index("metal"), 0)
    assert clip.shape == (16384,) and clip.dtype == np.float32  # 16 kHz x 1.024 s
    victim = samplecnn(len(MUSIC_CLASSES), 16384, width=0.125).eval()
    with torch.no_grad():
        logits = victim(torch.from_numpy(np.stack([clip, music_clip(0, 1)])))
    assert logits.shape == (2, 10) and torch.isfinite(logits).all()


def test_tempo_ranges_overlap_a_neighbour():
    assert set(TEMPO_RANGES) == set(MUSIC_CLASSES)
    for genre, (lo, hi) in TEMPO_RANGES.items():
        assert 40 <= lo < hi <= 220
        others = [r for g, r in TEMPO_RANGES.items() if g != genre]
        assert any(o_lo < hi and lo < o_hi for o_lo, o_hi in others), genre


def test_deterministic_given_seed(small):
    again = make_synthetic_music(**ARGS)
    assert small.x.numpy().tobytes() == again.x.numpy().tobytes()
    assert small.identity() == again.identity()
    other = make_synthetic_music(**{**ARGS, "seed": 4})
    assert not torch.equal(small.x, other.x) and small.identity() != other.identity()


def test_clip_independent_of_set_size(small):
    bigger = make_synthetic_music(**{**ARGS, "clips_per_class": 15})
    for c in range(10):
        assert torch.equal(small.x[small.y == c], bigger.x[bigger.y == c][:10])


def test_balanced_classes_and_folds(small):
    assert set(small.class_counts().values()) == {10}
    for fold in range(1, 6):
        counts = np.bincount(small.y.numpy()[small.folds == fold], minlength=10)
        assert (counts == 2).all()
    assert set(small.folds[small.split == "test"]) == {5}
    assert set(small.folds[small.split == "valid"]) == {4}
    assert set(small.folds[small.split == "train"]) == {1, 2, 3}
    moved = make_synthetic_music(**ARGS, test_fold=1, valid_fold=2)
    assert set(moved.folds[moved.split == "test"]) == {1}
    assert set(moved.folds[moved.split == "valid"]) == {2}


def test_clips_of_a_genre_differ(small):
    x, y = small.x.numpy(), small.y.numpy()
    for c in range(10):
        clips = x[y == c]
        corr = np.corrcoef(clips)[np.triu_indices(len(clips), 1)]
        assert np.abs(corr).max() < 0.9, MUSIC_CLASSES[c]


def test_loads_through_load_dataset(small):
    assert LOADERS["synthetic_music"] is make_synthetic_music
    assert "synthetic_music" in GENERATED_LOADERS
    assert load_dataset("synthetic_music", **ARGS).identity() == small.identity()
    with pytest.raises(ValueError, match="takes no root"):
        load_dataset("synthetic_music", "/tmp", **ARGS)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clips_per_class": -1}, "clips_per_class"),
        ({"clips_per_class": 4}, "clips_per_class"),
        ({"n_folds": 2}, "n_folds"),
        ({"sample_rate": MIN_SAMPLE_RATE - 1}, "sample_rate"),
        ({"duration": 0.1}, "duration"),
        ({"snr_db": (30.0, 10.0)}, "snr_db"),
        ({"drop_prob": 1.0}, "drop_prob"),
        ({"drop_prob": -0.1}, "drop_prob"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_synthetic_music(**{"clips_per_class": 10, **kwargs})


def test_bad_label_raises():
    with pytest.raises(ValueError, match="label"):
        music_clip(10, 0)


def _features(x: np.ndarray, nfft: int = 512, hop: int = 256) -> np.ndarray:
    """Gain-invariant log band spectrum, per-band temporal spread, and the onset rate and
    modulation spectrum (rhythm) of low- and high-band spectral-flux onset envelopes."""
    frames = np.arange(nfft)[None] + hop * np.arange((x.shape[1] - nfft) // hop + 1)[:, None]
    power = np.abs(np.fft.rfft(x[:, frames] * np.hanning(nfft), axis=-1)) ** 2
    edges = np.unique(np.geomspace(1, nfft // 2, 25).astype(int))
    bands = np.log(np.stack([power[..., a:b].sum(-1) for a, b in pairwise(edges)], -1))
    spectrum = bands.mean(axis=1)
    feats = [spectrum - spectrum.mean(axis=1, keepdims=True), bands.std(axis=1)]
    flux = np.clip(np.diff(bands, axis=1), 0, None)
    for onsets in (flux[..., :8].mean(-1), flux[..., 12:].mean(-1)):  # below / above ~1 kHz
        z = (onsets - onsets.mean(1, keepdims=True)) / (onsets.std(1, keepdims=True) + 1e-9)
        mod = np.abs(np.fft.rfft(z * np.hanning(z.shape[1]), axis=1))[:, 1:17]
        feats += [(z > 1).mean(axis=1, keepdims=True), np.log(mod + 1e-6)]
    return np.hstack(feats)


def test_genres_distinguishable_but_not_trivially():
    data = make_synthetic_music(seed=1, clips_per_class=30)
    x, y = data.x.numpy().astype(np.float64), data.y.numpy()
    feats = _features(x)
    train, test = data.split != "test", data.split == "test"
    feats = (feats - feats[train].mean(0)) / (feats[train].std(0) + 1e-9)
    centroids = np.stack([feats[train & (y == c)].mean(axis=0) for c in range(10)])
    dist = ((feats[test, None] - centroids[None]) ** 2).sum(axis=-1)
    acc = float((dist.argmin(axis=1) == y[test]).mean())
    # chance is 10 %; per-clip tempo, key, brightness, levels, dropped parts and noise overlap
    # between neighbouring genres, so simple features must stay short of perfect
    assert 0.4 < acc < 1.0, acc
