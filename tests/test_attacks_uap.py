"""Universal perturbations (iterative and penalty) and Expectation over Transformation, on toys
whose answer is known.

The UAP toy is a linear classifier on 64-sample "waveforms" whose only informative direction
is a unit vector ``u``: logits ``(1, a u.x, -a u.x)``. Class 0 wins on clean inputs, and any
perturbation with ``u.v > 1/a - min_i u.x_i`` (or ``-u.v > ...``) fools every input: the best
universal perturbation is known in closed form. Everything is tiny, CPU-only and seeded.
"""

import inspect
import math

import numpy as np
import pytest
import torch
from torch import nn

from advlib import metrics
from advlib.attacks import pgd
from advlib.attacks.ddn import ddn
from advlib.attacks.deepfool import deepfool
from advlib.attacks.eot import EOTModel, eot, random_playback
from advlib.attacks.uap import (
    _penalty_grad,
    _spl_db,
    _to_tanh,
    apply_uap,
    uap_iterative,
    uap_penalty,
)

T = 64
F64 = torch.float64
ALPHA = 5.0  # slope of the toy along u


pytestmark = pytest.mark.usefixtures("one_thread")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def uap_toy(n: int = 40, seed: int = 0, alpha: float = ALPHA, gauss: bool = False):
    """``(model, u, x, y)``: logits ``(1, a u.x, -a u.x)``, ``x`` noise of std 0.1 whose
    component along ``u`` is ``N(0, 0.03^2)``; ``y`` the clean predictions (all 0). ``u`` is a
    sign vector / 8, or with ``gauss`` a random unit vector (then L-inf clipping bends it)."""
    g = gen(seed)
    u = (torch.randint(0, 2, (T,), generator=g) * 2 - 1).to(F64) / math.sqrt(T)
    if gauss:
        u = torch.randn(T, generator=g, dtype=F64)
        u = u / u.norm()
    lin = nn.Linear(T, 3, dtype=F64)
    with torch.no_grad():
        lin.weight.copy_(alpha * torch.stack([0 * u, u, -u]))
        lin.bias.copy_(torch.tensor([1.0, 0.0, 0.0], dtype=F64))
    model = lin.eval().requires_grad_(False)
    x = 0.1 * torch.randn(n, T, generator=g, dtype=F64)
    x = x - (x @ u)[:, None] * u + 0.03 * torch.randn(n, 1, generator=g, dtype=F64) * u
    y = model(x).argmax(1)
    assert (y == 0).all()
    return model, u, x, y


def fooling(model, x, y, v, *, targeted=False, space="wave"):
    pred = model(apply_uap(x, v, space=space)).argmax(1)
    return ((pred == y) if targeted else (pred != y)).double().mean().item()


# --------------------------------------------------------------------------- iterative


def test_iterative_finds_the_universal_direction_within_budget():
    model, u, x, y = uap_toy()
    v = uap_iterative(
        model, x, y, eps=0.4, norm=2, batch_size=1, fooling_rate=1.0, generator=gen(1)
    )
    assert v.shape == x.shape[1:] and v.dtype == x.dtype
    assert fooling(model, x, y, v) == 1.0
    # every input fooled needs |u.v| >= 1/a - min_i(+-u.x_i); the optimum is along +-u
    cos = (v @ u / v.norm()).item()
    sign = math.copysign(1.0, cos)
    optimum = (1 / ALPHA - (sign * x @ u).min()).item()
    assert abs(cos) > 0.999
    assert optimum <= v.norm().item() <= 1.25 * optimum


@pytest.mark.parametrize("batch_size", [1, 8, 40])
@pytest.mark.parametrize("inner", ["ddn", "deepfool"])
def test_iterative_reaches_the_fooling_rate(inner, batch_size):
    model, _, x, y = uap_toy()
    v = uap_iterative(
        model,
        x,
        y,
        eps=0.05,
        inner=inner,
        batch_size=batch_size,
        fooling_rate=0.9,
        generator=gen(1),
    )
    assert fooling(model, x, y, v) >= 0.9
    assert v.abs().max().item() <= 0.05


@pytest.mark.parametrize(
    ("norm", "eps", "binding"),
    [("inf", 0.02, True), (2, 0.15, True), ("inf", 0.2, False), (2, 2.0, False)],
)
def test_iterative_respects_eps_exactly(norm, eps, binding):
    """A radius too small to fool everyone makes the projection bind: ``||v|| = eps``."""
    model, _, x, y = uap_toy()
    v = uap_iterative(
        model, x, y, eps=eps, norm=norm, max_passes=2, fooling_rate=1.0, generator=gen(1)
    )
    size = v.abs().max() if norm == "inf" else v.norm()
    assert size.item() <= eps * (1 + 1e-12)
    if binding:
        assert size.item() == pytest.approx(eps, rel=1e-9)
        assert fooling(model, x, y, v) < 1.0


def algorithm1(model, x, y, *, eps, norm, inner, generator, max_passes, target):
    """Hand transcription of the greedy loop (UAP paper Sec. 3.1; Moosavi-Dezfooli 2017)."""
    v = torch.zeros(x.shape[1:], dtype=x.dtype)

    def rate(v):
        return (model((x + v).clamp(-1, 1)).argmax(1) != y).double().mean().item()

    passes = 0
    while rate(v) < target and passes < max_passes:
        for i in torch.randperm(x.shape[0], generator=generator).tolist():
            xi = (x[i : i + 1] + v).clamp(-1, 1)
            if model(xi).argmax(1).item() != y[i].item():
                continue  # already fooled
            if inner == "ddn":
                x_adv = ddn(
                    model,
                    xi,
                    y[i : i + 1],
                    steps=50,
                    init_norm=0.4,
                    gamma=0.05,
                    generator=generator,
                )
            else:
                x_adv = deepfool(model, xi, y[i : i + 1], steps=50, overshoot=0.02)
            v = v + (x_adv - xi)[0]
            if norm == "inf":
                v = v.clamp(-eps, eps)
            else:
                v = v * min(1.0, eps / v.norm().item())
        passes += 1
    return v


@pytest.mark.parametrize(
    ("inner", "norm", "eps", "target"),
    [("ddn", "inf", 0.045, 0.95), ("deepfool", "inf", 0.06, 0.95), ("ddn", 2, 0.24, 0.9)],
)
def test_iterative_batch_one_is_algorithm_1(inner, norm, eps, target):
    """Cases where the projection binds; the first two need two and three passes."""
    model, _, x, y = uap_toy(n=24, seed=3, gauss=True)
    kw = dict(eps=eps, norm=norm, inner=inner, max_passes=4, target=target)
    ref = algorithm1(model, x, y, generator=gen(5), **kw)
    kw["fooling_rate"] = kw.pop("target")
    ours = uap_iterative(model, x, y, batch_size=1, inner_steps=50, generator=gen(5), **kw)
    assert torch.equal(ours, ref)
    size = ours.abs().max() if norm == "inf" else ours.norm()
    assert size.item() == pytest.approx(eps, rel=1e-12)
    assert fooling(model, x, y, ours) >= target


def test_iterative_targeted_fools_to_the_target():
    model, u, x, _ = uap_toy()
    v = uap_iterative(model, x, 2, targeted=True, eps=0.05, generator=gen(1))
    assert fooling(model, x, torch.full((x.shape[0],), 2), v, targeted=True) >= 0.9
    assert (v @ u).item() < 0  # class 2 lies along -u
    same = uap_iterative(
        model, x, torch.full((x.shape[0],), 2), targeted=True, eps=0.05, generator=gen(1)
    )
    assert torch.equal(v, same)  # an int target is the same as a tensor of identical targets


def test_targeted_true_labels_leave_the_target_class_out():
    model, _, x, _ = uap_toy()
    t = torch.full((x.shape[0],), 2)
    true = torch.zeros_like(t)
    true[:5] = 2  # pretend five samples belong to the target class
    v = uap_iterative(model, x, 2, targeted=True, eps=0.05, true_labels=true, generator=gen(1))
    assert fooling(model, x[5:], t[5:], v, targeted=True) >= 0.9
    with pytest.raises(ValueError, match="target class"):
        uap_iterative(model, x, 2, targeted=True, eps=0.05, true_labels=t)


def test_seeded_runs_are_reproducible():
    model, _, x, y = uap_toy()
    for attack, kw in [
        (uap_iterative, dict(eps=0.04, batch_size=4, max_passes=3, fooling_rate=1.0)),
        (uap_penalty, dict(steps=30, batch_size=8, lr=0.05, c=1.0, fooling_rate=1.0)),
    ]:
        a = attack(model, x, y, generator=gen(7), **kw)
        b = attack(model, x, y, generator=gen(7), **kw)
        assert torch.equal(a, b)


# --------------------------------------------------------------------------- penalty


@pytest.mark.parametrize("space", ["tanh", "wave"])
@pytest.mark.parametrize("variant", ["paper", "code"])
def test_penalty_reaches_the_fooling_target(variant, space):
    model, _, x, y = uap_toy()
    v = uap_penalty(
        model,
        x,
        y,
        c=1.0,
        lr=0.05,
        batch_size=20,
        steps=200,
        variant=variant,
        space=space,
        generator=gen(1),
    )
    assert v.shape == x.shape[1:] and v.dtype == x.dtype
    assert fooling(model, x, y, v, space=space) >= 0.9


@pytest.mark.parametrize("variant", ["paper", "code"])
def test_penalty_targeted(variant):
    model, u, x, _ = uap_toy()
    v = uap_penalty(
        model,
        x,
        2,
        targeted=True,
        c=1.0,
        confidence=10.0,
        lr=0.05,
        batch_size=20,
        steps=200,
        variant=variant,
        generator=gen(1),
    )
    t = torch.full((x.shape[0],), 2)
    assert fooling(model, x, t, v, targeted=True, space="tanh") >= 0.9
    assert (v @ u).item() < 0


@pytest.mark.parametrize(("norm", "eps"), [(2, 0.5), ("inf", 0.06)])
def test_penalty_projection_keeps_v_in_the_ball(norm, eps):
    model, _, x, y = uap_toy()
    v = uap_penalty(
        model, x, y, c=1.0, lr=0.05, batch_size=20, steps=100, eps=eps, norm=norm, generator=gen(1)
    )
    size = v.abs().max() if norm == "inf" else v.norm()
    assert size.item() <= eps * (1 + 1e-12)
    assert fooling(model, x, y, v, space="tanh") >= 0.9


def test_tanh_parametrisation_keeps_inputs_in_bounds():
    """Eq. 7: ``w = (tanh(atanh(x) + v) + 1) / 2`` lies in the box for any ``v``, even at the
    bounds; for a sample at 0 the waveform perturbation is ``tanh(v)``."""
    g = gen(0)
    x = torch.cat(
        [torch.rand(6, T, generator=g, dtype=F64) * 2 - 1, torch.ones(1, T), -torch.ones(1, T)]
    ).to(F64)
    for scale in (0.01, 1.0, 100.0):
        v = scale * torch.randn(T, generator=g, dtype=F64)
        w = apply_uap(x, v, space="tanh")
        assert w.min() >= -1 and w.max() <= 1 and torch.isfinite(w).all()
        # no clipping was needed: the unclamped Eq. 7 gives the same
        raw = torch.tanh(_to_tanh(x, (-1.0, 1.0)) + v)
        assert torch.equal(w, raw)
    v = 0.1 * torch.randn(T, generator=g, dtype=F64)
    assert torch.allclose(
        apply_uap(torch.zeros(1, T, dtype=F64), v, space="tanh")[0], torch.tanh(v)
    )
    # other bounds: the box is rescaled, the wave space clamps
    w = apply_uap(torch.full((2, T), 0.5, dtype=F64), 50 * v, space="tanh", bounds=(0.0, 1.0))
    assert w.min() >= 0 and w.max() <= 1
    w = apply_uap(x, 50 * v, space="wave")
    assert torch.equal(w, (x + 50 * v).clamp(-1, 1))


def test_penalty_on_inputs_at_the_bounds_stays_finite():
    model, _, x, y = uap_toy(n=10)
    x = x.clone()
    x[:, :4] = 1.0
    x[:, 4:8] = -1.0
    v = uap_penalty(model, x, y, c=1.0, lr=0.05, batch_size=10, steps=50, generator=gen(1))
    w = apply_uap(x, v, space="tanh")
    assert torch.isfinite(v).all() and w.min() >= -1 and w.max() <= 1


def test_penalty_gradients_paper_vs_code():
    """On the linear toy both gradients have closed forms: with ``d_i = W[y_i] - W[j_i]`` the
    margin gradient in the input and ``s = 1 - tanh^2(x'_i + v)`` the tanh Jacobian,
    paper: ``dSPL/dv + c sum_i s_i * d_i``; code: ``c sum_i d_i`` (hinges not clamped)."""
    model, u, x, y = uap_toy(n=6)
    g = gen(2)
    v = 0.05 * torch.randn(T, generator=g, dtype=F64) + 0.02 * u
    xt = _to_tanh(x, (-1.0, 1.0))
    kw = dict(targeted=False, c=0.3, confidence=40.0, space="tanh", bounds=(-1.0, 1.0))
    gp, lp = _penalty_grad(model, xt, y, v, variant="paper", **kw)
    gc, lc = _penalty_grad(model, xt, y, v, variant="code", **kw)
    w_mat = model.weight
    logits = model(torch.tanh(xt + v))
    others = logits.scatter(1, y[:, None], -math.inf).argmax(1)
    d = w_mat[y] - w_mat[others]  # (B, T)
    rms = v.pow(2).mean().sqrt()
    dspl = 20 / math.log(10) * v / (T * rms**2)
    s = 1 - torch.tanh(xt + v) ** 2
    assert torch.allclose(gp, dspl + 0.3 * (s * d).sum(0), atol=1e-10)
    assert torch.allclose(gc, 0.3 * d.sum(0), atol=1e-10)
    assert (gp - gc).norm() > 0.1 * gc.norm()  # they really differ
    assert lp.item() == pytest.approx(lc.item())  # same loss value
    margin = logits.gather(1, y[:, None]).squeeze(1) - logits.gather(1, others[:, None]).squeeze(1)
    assert lp.item() == pytest.approx(_spl_db(v).item() + 0.3 * margin.sum().item())
    # the paper's gradient is the true gradient of the loss: compare with finite differences
    k = 7
    e = torch.zeros(T, dtype=F64)
    e[k] = 1e-6
    lp_plus = _penalty_grad(model, xt, y, v + e, variant="paper", **kw)[1]
    lp_minus = _penalty_grad(model, xt, y, v - e, variant="paper", **kw)[1]
    assert ((lp_plus - lp_minus) / 2e-6).item() == pytest.approx(gp[k].item(), rel=1e-5)


def test_hinge_saturates_at_minus_kappa():
    """``max(m, -kappa)``: once every margin is below ``-kappa`` only the SPL term is left."""
    model, u, x, y = uap_toy(n=6)
    v = -3.0 * u  # margins about 1 - 15 = -14
    xt = _to_tanh(x, (-1.0, 1.0))
    kw = dict(targeted=False, c=0.3, space="tanh", bounds=(-1.0, 1.0))
    gp, lp = _penalty_grad(model, xt, y, v, variant="paper", confidence=5.0, **kw)
    assert lp.item() == pytest.approx(_spl_db(v).item() - 0.3 * 5.0 * 6)
    assert torch.allclose(gp, 20 / math.log(10) * v / (v.pow(2).sum()))
    gc, _ = _penalty_grad(model, xt, y, v, variant="code", confidence=5.0, **kw)
    assert torch.equal(gc, torch.zeros_like(gc))


def test_spl_helper_equals_the_metrics_spl():
    g = gen(0)
    for scale in (1e-4, 0.01, 0.7):
        v = scale * torch.randn(1000, generator=g, dtype=F64)
        assert _spl_db(v).item() == pytest.approx(metrics.spl_db(v.numpy()), abs=1e-6)
        v32 = v.float()
        assert _spl_db(v32).item() == pytest.approx(metrics.spl_db(v32.numpy()), abs=1e-4)
    # v = 0: a floor (-240 dB) and a zero gradient; the metric says it is undefined (NaN)
    z = torch.zeros(10, dtype=F64, requires_grad=True)
    spl = _spl_db(z)
    spl.backward()
    assert spl.item() == pytest.approx(-240.0) and torch.equal(z.grad, torch.zeros(10, dtype=F64))
    with pytest.warns(metrics.UndefinedMetricWarning, match="SPL is undefined"):
        assert np.isnan(metrics.spl_db(np.zeros(10)))


# --------------------------------------------------------------------------- validation


def _bad_calls():
    model, _, x, y = uap_toy(n=4)
    nan = x.clone()
    nan[0, 0] = float("nan")
    mixed = torch.tensor([1, 1, 2, 1])
    it = lambda **kw: uap_iterative(model, x, y, **{"eps": 0.1, **kw})  # noqa: E731
    pen = lambda **kw: uap_penalty(model, x, y, **kw)  # noqa: E731
    return {
        "it negative eps": lambda: it(eps=-0.1),
        "it zero eps": lambda: it(eps=0.0),
        "it unknown norm": lambda: it(norm=1),
        "it unknown inner": lambda: it(inner="cw"),
        "it deepfool targeted": lambda: uap_iterative(
            model, x, 1, targeted=True, eps=0.1, inner="deepfool"
        ),
        "it fooling_rate 0": lambda: it(fooling_rate=0.0),
        "it fooling_rate > 1": lambda: it(fooling_rate=1.5),
        "it max_passes 0": lambda: it(max_passes=0),
        "it inner_steps 0": lambda: it(inner_steps=0),
        "it batch_size 0": lambda: it(batch_size=0),
        "it gamma 1": lambda: it(gamma=1.0),
        "it nan input": lambda: uap_iterative(model, nan, y, eps=0.1),
        "it mixed targets": lambda: uap_iterative(model, x, mixed, targeted=True, eps=0.1),
        "it int y untargeted": lambda: uap_iterative(model, x, 1, eps=0.1),
        "it label out of range": lambda: uap_iterative(model, x, 3, targeted=True, eps=0.1),
        "pen negative eps": lambda: pen(eps=-1.0),
        "pen unknown norm": lambda: pen(norm="l1"),
        "pen unknown variant": lambda: pen(variant="tf"),
        "pen unknown space": lambda: pen(space="mel"),
        "pen steps 0": lambda: pen(steps=0),
        "pen fooling_rate 0": lambda: pen(fooling_rate=0),
        "pen fooling_rate > 1": lambda: pen(fooling_rate=1.01),
        "pen c 0": lambda: pen(c=0.0),
        "pen negative confidence": lambda: pen(confidence=-1.0),
        "pen lr 0": lambda: pen(lr=0.0),
        "pen nan input": lambda: uap_penalty(model, nan, y),
        "pen mixed targets": lambda: uap_penalty(model, x, mixed, targeted=True),
        "apply wrong shape": lambda: apply_uap(x, torch.zeros(T + 1, dtype=F64)),
    }


@pytest.mark.parametrize("case", list(_bad_calls()))
def test_invalid_settings_raise(case):
    with pytest.raises(ValueError):
        _bad_calls()[case]()


def test_signatures_and_docs():
    for f in (uap_iterative, uap_penalty):
        params = inspect.signature(f).parameters
        names = list(params)
        assert names[:3] == ["model", "x", "y"]
        assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in names[3:])
        assert params["targeted"].default is False
        assert params["bounds"].default == (-1.0, 1.0)
        assert params["generator"].default is None
        doc = inspect.getdoc(f)
        assert "Returns" in doc and "(B, ...)" in doc and "x.shape[1:]" in doc


# --------------------------------------------------------------------------- EOT transforms


def _one(name, **kw):
    """One transform with a fresh, fixed generator: deterministic, so gradcheck can probe it."""
    return lambda z: random_playback(z, (name,), generator=gen(3), **kw)


@pytest.mark.parametrize("name", ["gain", "shift", "noise", "bandpass"])
def test_each_transform_keeps_shape_and_is_differentiable(name):
    x = torch.randn(2, 16, generator=gen(0), dtype=F64, requires_grad=True)
    f = _one(name, max_shift=5, band=((0.0, 0.2), (0.4, 0.9)))
    out = f(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.autograd.gradcheck(f, (x,), eps=1e-6, atol=1e-7)
    x32 = x.detach().float()
    assert f(x32).dtype == torch.float32


def test_transforms_do_what_they_say():
    g = gen(0)
    x = torch.randn(50, 256, generator=g, dtype=F64)
    # gain: a per-row factor inside the range
    out = random_playback(x, ("gain",), gain_db=(-6, 6), generator=gen(1))
    ratio = out / x
    assert torch.allclose(ratio, ratio[:, :1].expand_as(ratio))
    assert ratio.min() >= 10 ** (-6 / 20) and ratio.max() <= 10 ** (6 / 20)
    # shift: each row is a circular roll by some s in [-k, k]
    out = random_playback(x, ("shift",), max_shift=3, generator=gen(1))
    for row, src in zip(out, x):
        assert any(torch.equal(row, torch.roll(src, s)) for s in range(-3, 4))
    # noise: the SNR lies in the range (up to the sampling error of 256 samples)
    out = random_playback(x, ("noise",), noise_snr_db=(30, 40), generator=gen(1))
    snr = metrics.snr_db(x.numpy(), (out - x).numpy())
    assert snr.min() > 28 and snr.max() < 42
    # band-pass: a tone inside the band passes unchanged, a tone outside is removed
    n = torch.arange(256, dtype=F64)
    low, high = torch.sin(2 * math.pi * 32 * n / 256), torch.sin(2 * math.pi * 100 * n / 256)
    band = ((0.1, 0.2), (0.5, 0.6))  # keeps 0.2-0.5 of Nyquist at least, bin 32 = 0.25
    out = random_playback(torch.stack([low, high]), ("bandpass",), band=band, generator=gen(1))
    assert torch.allclose(out[0], low, atol=1e-9) and out[1].abs().max() < 1e-9  # bin 100 = 0.78


def test_waveform_transforms_refuse_other_ranks():
    model = nn.Linear(16, 2)
    for bad in (torch.zeros(2, 1, 16), torch.zeros(16)):
        with pytest.raises(ValueError, match=r"\(B, T\)"):
            random_playback(bad)
        with pytest.raises(ValueError, match=r"\(B, T\)"):
            EOTModel(model)(bad)


@pytest.mark.parametrize(
    "kw",
    [
        dict(transforms=("gain", "reverb")),
        dict(transforms=("gain", "gain")),
        dict(samples=0),
        dict(average="median"),
        dict(max_shift=-1),
        dict(gain_db=(6, -6)),
        dict(noise_snr_db=(30, math.nan)),
        dict(band=((0.0, 0.6), (0.5, 1.0))),
        dict(band=((0.0, 0.1), (0.5, 1.5))),
    ],
)
def test_eot_invalid_settings_raise(kw):
    with pytest.raises(ValueError):
        eot(pgd, **kw)


# --------------------------------------------------------------------------- EOT model


def linear_model(k=3, seed=0, bias=True):
    g = gen(seed)
    lin = nn.Linear(T, k, bias=bias, dtype=F64)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(k, T, generator=g, dtype=F64))
        if bias:
            lin.bias.copy_(torch.randn(k, generator=g, dtype=F64))
    return lin.eval().requires_grad_(False)


def test_gain_only_eot_gives_the_expected_averaged_gradient():
    model = linear_model()
    x = 0.3 * torch.randn(4, T, generator=gen(1), dtype=F64)
    samples = 8
    wrapped = EOTModel(model, ("gain",), samples, generator=gen(2))
    xr = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(wrapped(xr)[:, 1].sum(), xr)
    # the same draws: gains g_{s,b} applied to the stacked copies
    gains = random_playback(torch.ones(samples * 4, 1, dtype=F64), ("gain",), generator=gen(2))
    g_mean = gains.view(samples, 4).mean(0)
    assert torch.allclose(grad, g_mean[:, None] * model.weight[1], atol=1e-12)
    # many draws: E[10^(g/20)], g ~ U(-6, 6) dB, = (20 / ln 10)(10^0.3 - 10^-0.3) / 12
    wrapped = EOTModel(model, ("gain",), 4096, generator=gen(3))
    (grad,) = torch.autograd.grad(wrapped(xr)[:, 1].sum(), xr)
    expected = 20 / math.log(10) * (10**0.3 - 10**-0.3) / 12  # 1.0814
    assert torch.allclose(grad, expected * model.weight[1].expand_as(grad), rtol=0.01)


def test_eot_model_averages_logits_or_probabilities():
    model = linear_model()
    x = 0.3 * torch.randn(5, T, generator=gen(1), dtype=F64)
    tr = ("gain", "noise")
    copies = random_playback(x.repeat(6, 1), tr, generator=gen(4))
    logits = model(copies).view(6, 5, -1)
    out = EOTModel(model, tr, 6, generator=gen(4))(x)
    assert torch.allclose(out, logits.mean(0))
    out = EOTModel(model, tr, 6, average="probs", generator=gen(4))(x)
    assert torch.allclose(out.softmax(1), logits.softmax(2).mean(0))
    assert torch.allclose(out.exp().sum(1), torch.ones(5, dtype=F64))


def test_eot_wrapper_keeps_the_attack_signature():
    wrapped = eot(pgd, samples=2, generator=gen(0))
    assert inspect.signature(wrapped) == inspect.signature(pgd)
    assert wrapped.__name__ == "eot_pgd"
    model = linear_model()
    x = 0.2 * torch.rand(3, T, generator=gen(1), dtype=F64) - 0.1
    y = model(x).argmax(1)
    x_adv = wrapped(model, x, y, eps=0.05, steps=3, generator=gen(2))
    assert x_adv.shape == x.shape and (x_adv - x).abs().max() <= 0.05 + 1e-12


def test_eot_pgd_survives_playback_better_than_plain_pgd():
    """A linear victim without bias on band-limited inputs (bins 1-12 of 33): the clean
    predictions survive gain, noise and the band-pass (the band keeps at least bins 1-16), but
    a plain PGD perturbation is broadband and loses its upper half to the band-pass; EOT-PGD
    puts its energy where the band-pass lets it through."""
    model = linear_model(k=4, bias=False)
    g = gen(5)
    n = 200
    spec = torch.zeros(n, T // 2 + 1, dtype=torch.complex128)
    spec[:, 1:13] = torch.complex(
        torch.randn(n, 12, generator=g, dtype=F64), torch.randn(n, 12, generator=g, dtype=F64)
    )
    x = torch.fft.irfft(spec, n=T)
    x = 0.5 * x / x.abs().amax(1, keepdim=True)
    y = model(x).argmax(1)
    tr = ("gain", "noise", "bandpass")

    def playback_rate(xx):
        pg = gen(9)
        draws = [model(random_playback(xx, tr, generator=pg)).argmax(1) != y for _ in range(10)]
        return torch.stack(draws).double().mean().item()

    kw = dict(eps=0.05, steps=20, generator=gen(1))
    plain = pgd(model, x, y, **kw)
    robust = eot(pgd, transforms=tr, samples=8, generator=gen(2))(model, x, y, **kw)
    assert playback_rate(x) < 0.02  # the victim itself is robust to the playback
    assert (model(plain).argmax(1) != y).double().mean() > 0.9
    assert playback_rate(robust) >= playback_rate(plain) + 0.2  # measured: 0.73 vs 0.34


def test_paper_variant_spl_barrier_at_zero():
    """Documented property of Eq. 10-11 with the exact gradient: near ``v = 0`` the SPL term
    (unbounded below) outweighs the hinge inside the radius ``20 / (ln 10 ||g||)``; on this
    short toy with the paper's ``c`` and ``lr`` the paper variant stays inside it while the
    code variant (no SPL gradient) fools everything."""
    model, _, x, y = uap_toy()
    kw = dict(c=0.2, lr=0.006, batch_size=20, steps=100, generator=gen(1))
    code = uap_penalty(model, x, y, variant="code", **kw)
    paper = uap_penalty(model, x, y, variant="paper", **kw)
    radius = 20 / math.log(10) / (0.2 * 20 * ALPHA)  # ||g|| = c * batch * ||W[0] - W[j]||
    assert fooling(model, x, y, code, space="tanh") == 1.0
    assert fooling(model, x, y, paper, space="tanh") < 0.9
    assert paper.norm().item() < radius


def test_eot_wraps_the_universal_attacks():
    model, _, x, y = uap_toy(n=10)
    kw = dict(transforms=("gain", "noise"), samples=2, generator=gen(0))
    v = eot(uap_penalty, **kw)(model, x, y, c=1.0, lr=0.05, batch_size=10, steps=5)
    assert v.shape == x.shape[1:]
    v = eot(uap_iterative, **kw)(model, x, y, eps=0.05, max_passes=1, inner_steps=5)
    assert v.shape == x.shape[1:] and v.abs().max() <= 0.05
