"""Metrics of the study spec, section 2: closed-form values, batch == per-item, bad input."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import trapezoid

from advlib.metrics import (
    Proportion,
    UndefinedMetricWarning,
    asr_targeted,
    asr_untargeted,
    asr_untargeted_vs_label,
    epsilon_at_auc,
    epsilon_r,
    fooling_auc,
    ldb,
    ldb_x,
    lp_norm,
    pesq_score,
    rms,
    snr_db,
    spl_db,
    stoi_score,
    success_rate_curve,
)
from advlib.stats import format_proportion, wilson_interval

RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, size=(4, 64))
V = 0.01 * RNG.standard_normal(size=(4, 64))


# --------------------------------------------------------------------------- SNR, loudness


def test_snr_of_a_tenth_is_20_db():
    x = RNG.standard_normal(1000)
    assert snr_db(x, x / 10) == pytest.approx(20.0, abs=1e-9)
    assert snr_db(x, x) == pytest.approx(0.0, abs=1e-12)
    assert snr_db(x, x * 10) == pytest.approx(-20.0, abs=1e-9)


def test_snr_equals_gan_energy_form_and_is_scale_invariant():
    x, v = X[0], V[0]
    energy = 10 * np.log10(np.sum(x**2) / np.sum(v**2))  # GAN paper Eq. 15
    assert snr_db(x, v) == pytest.approx(energy, abs=1e-9)
    assert snr_db(3 * x, 3 * v) == pytest.approx(snr_db(x, v), abs=1e-9)


def test_snr_zero_perturbation_and_silence_are_undefined():
    with pytest.warns(UndefinedMetricWarning, match="SNR is undefined for the clip: the pert"):
        assert math.isnan(snr_db(X[0], np.zeros(64)))
    with pytest.warns(UndefinedMetricWarning, match="the clip is silent"):
        assert math.isnan(snr_db(np.zeros(64), np.zeros(64)))
    with pytest.warns(UndefinedMetricWarning, match="the clip is silent"):
        assert math.isnan(snr_db(np.zeros(64), V[0]))
    v = V.copy()
    v[2] = 0
    with pytest.warns(UndefinedMetricWarning, match=r"clip\(s\) \[2\]: the perturbation is zero"):
        out = snr_db(X, v)
    assert math.isnan(out[2]) and np.all(np.isfinite(np.delete(out, 2)))


def test_ldb_closed_form():
    clip = np.array([0.1, -0.5, 0.25, 0.0])
    assert ldb(clip) == pytest.approx(-6.0206, abs=1e-4)
    assert ldb(-clip) == pytest.approx(-6.0206, abs=1e-4)  # magnitude, not signed maximum
    assert ldb(np.ones(8)) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="l_dB is undefined"):
        assert math.isnan(ldb(np.zeros(8)))


def test_ldb_x_closed_form():
    x = X[1]
    assert ldb_x(x / 10, x) == pytest.approx(-20.0, abs=1e-9)
    assert ldb_x(x, x) == 0.0
    with pytest.warns(UndefinedMetricWarning, match="the perturbation is zero"):
        assert math.isnan(ldb_x(np.zeros(64), x))
    with pytest.warns(UndefinedMetricWarning, match="the clip is silent"):
        assert math.isnan(ldb_x(np.zeros(64), np.zeros(64)))
    with pytest.warns(UndefinedMetricWarning, match="the clip is silent"):
        assert math.isnan(ldb_x(x, np.zeros(64)))
    assert ldb_x(V[0], X[0]) == pytest.approx(ldb(V[0]) - ldb(X[0]))


def test_spl_and_rms_closed_form():
    t = np.arange(8000) / 8000
    sine = 0.5 * np.sin(2 * np.pi * 100 * t)  # whole periods: rms = 0.5 / sqrt(2)
    assert rms(sine) == pytest.approx(0.5 / np.sqrt(2), rel=1e-9)
    assert spl_db(sine) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=1e-9)
    assert spl_db(np.full(10, 0.1)) == pytest.approx(-20.0, abs=1e-9)
    with pytest.warns(UndefinedMetricWarning, match="SPL is undefined"):
        assert math.isnan(spl_db(np.zeros(10)))


def test_snr_is_difference_of_spl():
    assert np.allclose(snr_db(X, V), spl_db(X) - spl_db(V))


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, v: snr_db(x, v),
        lambda x, v: ldb_x(v, x),
        lambda x, v: ldb(x),
        lambda x, v: spl_db(v),
        lambda x, v: rms(v),
        lambda x, v: lp_norm(v, 0),
        lambda x, v: lp_norm(v, 1),
        lambda x, v: lp_norm(v, 2),
        lambda x, v: lp_norm(v, math.inf),
    ],
)
def test_batch_equals_per_item_and_torch_equals_numpy(fn):
    batch = fn(X, V)
    assert isinstance(batch, np.ndarray) and batch.shape == (4,)
    items = [fn(X[i], V[i]) for i in range(4)]
    assert all(isinstance(v, float) for v in items)
    assert np.allclose(batch, items, rtol=1e-12, atol=0)
    tx, tv = torch.tensor(X, dtype=torch.float64), torch.tensor(V, dtype=torch.float64)
    assert np.allclose(fn(tx, tv), batch, rtol=1e-12, atol=0)
    assert np.allclose(fn(X[:, None, :], V[:, None, :]), batch)  # (N, C, T) reduces all but N


def test_float32_and_grad_tensors_are_accepted():
    tx = torch.tensor(X, dtype=torch.float32, requires_grad=True)
    tv = torch.tensor(V, dtype=torch.float32)
    assert np.allclose(snr_db(tx, tv), snr_db(X, V), atol=1e-4)


def test_universal_perturbation_broadcasts_over_a_batch():
    v = V[0]
    assert np.allclose(snr_db(X, v), [snr_db(x, v) for x in X])
    assert np.allclose(ldb_x(v, X), [ldb_x(v, x) for x in X])


def test_lp_norm_closed_form_and_torch_reference():
    v = np.array([3.0, -4.0, 0.0])
    assert lp_norm(v, 0) == 2
    assert lp_norm(v, 1) == 7
    assert lp_norm(v, 2) == 5
    assert lp_norm(v, math.inf) == 4
    assert lp_norm(v, "inf") == 4
    assert lp_norm(v, np.inf) == 4
    tv = torch.tensor(V)
    for p in (0, 1, 2, math.inf):
        ref = torch.linalg.vector_norm(tv, ord=p, dim=1).numpy()
        assert np.allclose(lp_norm(V, p), ref, rtol=1e-12)


@pytest.mark.parametrize("p", [3, -1, 0.5, "l2", None, True])
def test_lp_norm_rejects_unknown_p(p):
    with pytest.raises(ValueError, match="p must be"):
        lp_norm(V, p)


BAD_WAVES = {
    "nan": np.array([0.1, np.nan, 0.2]),
    "inf": np.array([0.1, np.inf, 0.2]),
    "-inf": np.array([0.1, -np.inf, 0.2]),
    "empty": np.array([]),
    "empty batch": np.zeros((0, 3)),
    "scalar": np.float64(0.5),
}


@pytest.mark.parametrize("bad", BAD_WAVES.values(), ids=BAD_WAVES.keys())
@pytest.mark.parametrize(
    "fn",
    [
        lambda b: snr_db(b, np.ones_like(b)),
        lambda b: snr_db(np.ones_like(b), b),
        lambda b: ldb_x(b, np.ones_like(b)),
        lambda b: ldb_x(np.ones_like(b), b),
        ldb,
        spl_db,
        rms,
        lambda b: lp_norm(b, 2),
        lambda b: lp_norm(b, 0),
    ],
)
def test_bad_waveforms_raise(fn, bad):
    with pytest.raises(ValueError):
        fn(bad)


@pytest.mark.parametrize(
    ("x", "v"),
    [(np.ones(5), np.ones(4)), (np.ones((2, 5)), np.ones((3, 5))), (np.ones(5), np.ones((2, 5)))],
)
def test_shape_mismatch_raises(x, v):
    with pytest.raises(ValueError, match="shapes differ"):
        snr_db(x, v)
    with pytest.raises(ValueError, match="shapes differ"):
        ldb_x(v, x)


# --------------------------------------------------------------------------- success rates


def test_asr_untargeted_and_vs_label():
    clean = np.array([0, 1, 2, 3, 4])
    adv = np.array([0, 2, 2, 0, 1])
    y = np.array([1, 1, 2, 3, 1])  # clip 0 was already wrong, stays at 0; clip 4: wrong -> 1
    r = asr_untargeted(clean, adv)
    assert (r.successes, r.n) == (3, 5) and r.rate == pytest.approx(0.6)
    r2 = asr_untargeted_vs_label(y, adv)
    assert (r2.successes, r2.n) == (3, 5)  # clips 0, 1, 3
    assert asr_untargeted(torch.tensor(clean), torch.tensor(adv)) == r


def test_asr_targeted_excludes_samples_of_the_target_class():
    y = np.array([0, 1, 2, 3, 3, 3])
    adv = np.array([3, 3, 2, 3, 3, 1])
    r = asr_targeted(adv, 3, y)
    assert (r.successes, r.n) == (2, 3)  # clips 3-5 are of class 3 and excluded
    per_clip = asr_targeted(adv, np.array([3, 3, 3, 0, 0, 0]), y)
    assert (per_clip.successes, per_clip.n) == (2, 6)
    none_left = asr_targeted(adv, 3, np.full(6, 3))
    assert none_left.n == 0 and math.isnan(none_left.rate)
    assert none_left.interval() == (0.0, 1.0)


def test_proportion_feeds_wilson_and_format():
    r = Proportion(87, 100)
    assert float(r) == 0.87
    assert r.interval() == pytest.approx(wilson_interval(87, 100))
    assert wilson_interval(*r) == pytest.approx(wilson_interval(87, 100))
    assert str(r) == format_proportion(87, 100) == "87.0 % [79.0, 92.2]"
    with pytest.raises(ValueError):
        Proportion(5, 4)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (np.array([0, 1]), np.array([0, 1, 2])),
        (np.array([]), np.array([])),
        (np.array([0.0, np.nan]), np.array([0, 1])),
        (np.array([0.5, 1.0]), np.array([0, 1])),
        (np.array(["a", "b"]), np.array([0, 1])),
    ],
)
def test_asr_bad_labels_raise(a, b):
    with pytest.raises(ValueError):
        asr_untargeted(a, b)
    with pytest.raises(ValueError):
        asr_untargeted_vs_label(b, a)
    with pytest.raises(ValueError):
        asr_targeted(a, 1, b)


def test_asr_targeted_target_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shapes differ"):
        asr_targeted(np.array([0, 1, 2]), np.array([1, 1]), np.array([0, 0, 0]))


# --------------------------------------------------------------------------- AUC, eps_r


def test_auc_constant_and_ramp():
    b = np.linspace(0, 3, 7)
    assert fooling_auc(b, np.full(7, 0.37)) == pytest.approx(0.37)
    assert fooling_auc(b, b / 3) == pytest.approx(0.5)
    assert fooling_auc(b, np.ones(7)) == 1.0 and fooling_auc(b, np.zeros(7)) == 0.0
    # normalised by the budget range, not by the largest budget
    assert fooling_auc([1.0, 2.0, 3.0], [0.4, 0.4, 0.4]) == pytest.approx(0.4)
    assert fooling_auc([2.0, 4.0], [0.0, 1.0]) == pytest.approx(0.5)


def test_auc_uneven_grid_matches_scipy_trapezoid():
    b = np.array([0.0, 0.1, 0.5, 1.0, 2.5])
    r = np.array([0.0, 0.2, 0.6, 0.9, 1.0])
    # closed form: (0.1*0.1 + 0.4*0.4 + 0.5*0.75 + 1.5*0.95) / 2.5
    assert fooling_auc(b, r) == pytest.approx((0.01 + 0.16 + 0.375 + 1.425) / 2.5)
    assert fooling_auc(b, r) == pytest.approx(trapezoid(r, b) / 2.5)
    assert fooling_auc(torch.tensor(b), torch.tensor(r)) == pytest.approx(fooling_auc(b, r))


@pytest.mark.parametrize(
    ("b", "r"),
    [
        ([0, 2, 1], [0, 0.5, 1]),  # not sorted
        ([0, 1, 1], [0, 0.5, 1]),  # not strictly increasing
        ([0, 1], [0, 1.2]),  # rate > 1
        ([0, 1], [-0.1, 1]),  # rate < 0
        ([0], [0.5]),  # one point
        ([0, 1, 2], [0, 1]),  # length mismatch
        ([0, np.nan], [0, 1]),
        ([0, 1], [0, np.inf]),
        ([], []),
        ([[0, 1]], [[0, 1]]),  # not 1-D
    ],
)
def test_auc_bad_curves_raise(b, r):
    with pytest.raises(ValueError):
        fooling_auc(b, r)
    with pytest.raises(ValueError):
        epsilon_at_auc(b, r)


def test_success_rate_curve():
    norms = np.array([0.5, 1.0, 2.0, 4.0])
    budgets = np.array([0.0, 1.0, 3.0, 5.0])
    assert success_rate_curve(norms, budgets).tolist() == [0.0, 0.5, 0.75, 1.0]
    ok = np.array([True, False, True, True])
    assert success_rate_curve(norms, budgets, ok).tolist() == [0.0, 0.25, 0.5, 0.75]
    with pytest.raises(ValueError):
        success_rate_curve(np.array([1.0, np.inf]), budgets)
    with pytest.raises(ValueError):
        success_rate_curve(norms, budgets, ok[:3])


def test_epsilon_at_auc_step_curve():
    # rate jumps 0 -> 1 at eps = 1: AUC over [0, k] is (k - 0.5) / k, > 0.9 first at k = 6
    b = np.arange(11.0)
    r = (b >= 1).astype(float)
    assert fooling_auc(b[:6], r[:6]) == pytest.approx(0.9)  # exactly 0.9 is not "> 0.9"
    assert epsilon_at_auc(b, r) == 6.0
    assert epsilon_at_auc(b, r, threshold=0.5) == 2.0
    assert epsilon_at_auc(b, np.full(11, 0.8)) == math.inf
    with pytest.raises(ValueError):
        epsilon_at_auc(b, r, threshold=1.0)


def test_epsilon_r():
    assert epsilon_r(2.0, 1.0) == 2.0
    assert epsilon_r(np.array([1.0, 3.0]), np.array([1.0, 1.0, 1.0, 1.0])) == 2.0
    assert epsilon_r(torch.tensor([1.37]), 1.0) == pytest.approx(1.37)
    for bad in [(1.0, 0.0), (np.nan, 1.0), (1.0, np.inf), ([], [1.0]), (-1.0, 1.0)]:
        with pytest.raises(ValueError):
            epsilon_r(*bad)


# --------------------------------------------------------------------------- PESQ, STOI


def _speechlike(sr: int, seconds: float = 2.0) -> np.ndarray:
    """Voiced harmonics with a gliding pitch and a 3 Hz syllable envelope."""
    t = np.arange(int(sr * seconds)) / sr
    phase = 2 * np.pi * np.cumsum(140 + 30 * np.sin(2 * np.pi * 0.7 * t)) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 2
    return 0.3 * env * voiced / np.max(np.abs(voiced))


@pytest.mark.parametrize(("sr", "mode"), [(8000, "nb"), (16000, "wb")])
def test_pesq_matches_package_and_orders_noise(sr, mode):
    pesq = pytest.importorskip("pesq")
    x = _speechlike(sr)
    noise = np.random.default_rng(1).standard_normal(x.size)
    scores = [pesq_score(x, x + a * noise, sr) for a in (0.0, 0.003, 0.03)]
    assert scores[0] > 4.0 and scores[0] > scores[1] > scores[2]
    assert scores[1] == pytest.approx(pesq.pesq(sr, x, x + 0.003 * noise, mode))
    batch = np.stack([x + 0.003 * noise, x + 0.03 * noise])
    assert np.allclose(pesq_score(np.stack([x, x]), batch, sr), scores[1:])


def test_pesq_is_nan_where_undefined():
    pytest.importorskip("pesq")
    quiet = np.zeros(16000)  # no utterance for PESQ's voice-activity detector
    assert np.isnan(pesq_score(quiet, quiet + 1e-7, 16000))
    speechy = 0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000) * np.hanning(16000)
    both = pesq_score(np.stack([quiet, speechy]), np.stack([quiet, speechy + 1e-3]), 16000)
    assert np.isnan(both[0]) and np.isfinite(both[1])


def test_pesq_rejects_rates_and_modes():
    x = _speechlike(16000, 0.5)
    for sr in (22050, 44100, 0):
        with pytest.raises(ValueError, match="sample_rate"):
            pesq_score(x, x, sr)
    with pytest.raises(ValueError, match="mode"):
        pesq_score(x, x, 8000, mode="wb")
    with pytest.raises(ValueError, match="shapes differ"):
        pesq_score(x, x[:-1], 16000)
    with pytest.raises(ValueError):
        pesq_score(x, np.full_like(x, np.nan), 16000)


@pytest.mark.parametrize("sr", [8000, 16000])
def test_stoi_matches_package_and_orders_noise(sr):
    pystoi = pytest.importorskip("pystoi")
    x = _speechlike(sr)
    noise = np.random.default_rng(2).standard_normal(x.size)
    scores = [stoi_score(x, x + a * noise, sr) for a in (0.0, 0.003, 0.3)]
    assert scores[0] == pytest.approx(1.0, abs=1e-6)
    assert scores[0] > scores[1] > scores[2]
    assert scores[2] == pytest.approx(pystoi.stoi(x, x + 0.3 * noise, sr))
    ext = stoi_score(x, x + 0.3 * noise, sr, extended=True)
    assert ext == pytest.approx(pystoi.stoi(x, x + 0.3 * noise, sr, extended=True))
    batch = stoi_score(np.stack([x, x]), np.stack([x + 0.003 * noise, x + 0.3 * noise]), sr)
    assert np.allclose(batch, scores[1:])


def test_stoi_rejects_bad_input():
    x = _speechlike(16000, 0.5)
    with pytest.raises(ValueError, match="shapes differ"):
        stoi_score(x, x[:-1], 16000)
    with pytest.raises(ValueError):
        stoi_score(x, x, 0)
    with pytest.raises(ValueError):
        stoi_score(np.array([]), np.array([]), 16000)
