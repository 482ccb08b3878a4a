import numpy as np
import pytest
import torch

from advlib.chapters import load_profile
from advlib.data import LOADERS, SPEECH_CLASSES, load_dataset, make_synthetic_speech
from advlib.data.synthetic_speech import MIN_SAMPLE_RATE, VOWELS, WORDS, speech_clip

ARGS = {"seed": 3, "clips_per_class": 10, "sample_rate": 8000, "duration": 0.5}


@pytest.fixture(scope="module")
def small():
    return make_synthetic_speech(**ARGS)


def _speakers(data):
    return np.array([int(f.split("/")[2][1:]) for f in data.files])


def test_shapes_and_convention(small):
    assert small.name == "synthetic_speech"
    assert small.x.shape == (100, 4000)
    assert small.x.dtype == torch.float32 and small.y.dtype == torch.int64
    assert torch.isfinite(small.x).all() and small.x.abs().max() <= 1.0
    peaks = small.x.abs().amax(dim=1)
    assert (peaks >= 0.1 - 1e-6).all() and (peaks <= 0.9 + 1e-6).all()
    assert small.classes == SPEECH_CLASSES and small.sample_rate == 8000
    assert len(set(SPEECH_CLASSES)) == 10


def test_words_use_known_segments():
    for word in WORDS:
        vowels = [s for s in word if s in VOWELS]
        assert 2 <= len(vowels) <= 3 and set(word) - set(vowels) <= {"k", "s"}


def test_deterministic_given_seed(small):
    again = make_synthetic_speech(**ARGS)
    assert small.x.numpy().tobytes() == again.x.numpy().tobytes()
    assert small.identity() == again.identity()
    other = make_synthetic_speech(**{**ARGS, "seed": 4})
    assert not torch.equal(small.x, other.x) and small.identity() != other.identity()


def test_clip_independent_of_set_size(small):
    bigger = make_synthetic_speech(**{**ARGS, "clips_per_class": 15})
    for c in range(10):
        assert torch.equal(small.x[small.y == c], bigger.x[bigger.y == c][:10])


def test_balanced_classes_and_folds(small):
    assert set(small.class_counts().values()) == {10}
    for fold in range(1, 6):
        counts = np.bincount(small.y.numpy()[small.folds == fold], minlength=10)
        assert (counts == 2).all()


def test_default_split_sizes_and_speaker_disjoint():
    # 50 clips per word reach all 50 default speakers: 30 train, 10 valid, 10 test
    data = make_synthetic_speech(seed=0, clips_per_class=50, duration=0.25)
    sizes = {s: int((data.split == s).sum()) for s in ("train", "valid", "test")}
    assert sizes == {"train": 300, "valid": 100, "test": 100}
    assert set(data.folds[data.split == "test"]) == {5}
    assert set(data.folds[data.split == "valid"]) == {4}
    assert set(data.folds[data.split == "train"]) == {1, 2, 3}
    spk = _speakers(data)
    parts = {s: set(spk[data.split == s]) for s in ("train", "valid", "test")}
    assert len(parts["train"]) == 30 and len(parts["valid"]) == 10 and len(parts["test"]) == 10
    assert not (parts["train"] & parts["valid"] or parts["train"] & parts["test"])
    assert not parts["valid"] & parts["test"]
    for s in ("train", "valid", "test"):  # every part is class-balanced
        assert len(set(np.bincount(data.y.numpy()[data.split == s]))) == 1


def test_loads_through_the_profile_path(small):
    demo = load_profile("demo")["datasets"]["synthetic_speech"]
    assert demo["loader"] == "synthetic_speech" and LOADERS["synthetic_speech"] is (
        make_synthetic_speech
    )
    assert "root" not in demo and {"seed", "clips_per_class"} <= set(demo["args"])
    data = load_dataset(demo["loader"], None, **{**demo["args"], **ARGS})
    assert data.identity() == small.identity()
    with pytest.raises(ValueError, match="takes no root"):
        load_dataset("synthetic_speech", "/tmp", **ARGS)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clips_per_class": -1}, "clips_per_class"),
        ({"clips_per_class": 4}, "clips_per_class"),
        ({"sample_rate": 4000}, "too low for the formants"),
        ({"sample_rate": MIN_SAMPLE_RATE - 1}, "too low for the formants"),
        ({"duration": 0.1}, "duration"),
        ({"n_folds": 2}, "n_folds"),
        ({"n_speakers": 12}, "multiple of n_folds"),
        ({"snr_db": (30.0, 10.0)}, "snr_db"),
    ],
)
def test_bad_settings_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_synthetic_speech(**{"clips_per_class": 10, **kwargs})


def test_bad_label_raises():
    with pytest.raises(ValueError, match="label"):
        speech_clip(10, 0)


def _log_spectrum(x: np.ndarray, nfft: int = 256) -> np.ndarray:
    frames = x[:, : x.shape[1] // nfft * nfft].reshape(len(x), -1, nfft) * np.hanning(nfft)
    power = np.mean(np.abs(np.fft.rfft(frames, axis=-1)) ** 2, axis=1)
    f = np.log(power + 1e-10)
    return f - f.mean(axis=1, keepdims=True)  # gain-invariant


def test_separable_but_not_trivial():
    data = make_synthetic_speech(seed=1, clips_per_class=30, duration=0.5)
    x, y = data.x.numpy(), data.y.numpy()
    # not degenerate: clips of one word differ, and so do one speaker's repetitions of it
    assert not np.array_equal(x[0], x[1])
    same_speaker = [speech_clip(0, i, n_speakers=5, duration=0.5) for i in (0, 5)]
    assert not np.allclose(*same_speaker, atol=1e-2)
    feats = _log_spectrum(x)
    train, test = data.split != "test", data.split == "test"
    centroids = np.stack([feats[train & (y == c)].mean(axis=0) for c in range(10)])
    dist = ((feats[test, None] - centroids[None]) ** 2).sum(axis=-1)
    acc = float((dist.argmin(axis=1) == y[test]).mean())
    # chance is 10 %; a time-averaged spectrum cannot tell ah_ee from ee_ah, and vocal-tract
    # length moves one speaker's vowels onto another's, so it must stay well short of perfect
    assert 0.5 < acc < 0.95, acc
