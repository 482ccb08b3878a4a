"""Attacks against closed forms on linear toy models: f(x) = W x + b.

For a linear classifier the decision region of a class is a polyhedron, so the minimal L2
perturbation is a projection onto it (one hyperplane untargeted, a face of a polyhedron
targeted) and FGSM / BIM / PGD move along fixed directions. Everything is tiny, CPU-only,
seeded, and nothing is downloaded.
"""

import ast
import functools
import importlib
import inspect
import itertools
from functools import partial
from pathlib import Path

import pytest
import torch
from torch import nn

import advlib.attacks as attacks_pkg
from advlib.attacks import (
    PassCounter,
    bim,
    cw_l2,
    ddn,
    deepfool,
    fgsm,
    genetic,
    jsma,
    nes,
    pgd,
    pso,
    uap_iterative,
    uap_penalty,
)
from advlib.attacks._utils import (
    check_norm,
    margin,
    project_l2,
    project_linf,
    random_in_ball,
)
from tests.helpers import Recorder

ddn_module = importlib.import_module("advlib.attacks.ddn")  # the package's `ddn` is the function
DIM = 20
SHAPES = {2: (DIM,), 4: (1, 4, 5)}  # input rank -> per-sample shape (flattened by the toy)
BATCHES = [1, 3, 8]
RANKS = [2, 4]
F64 = torch.float64


pytestmark = pytest.mark.usefixtures("one_thread")


# --------------------------------------------------------------------------- toys and closed forms


def linear_toy(n_classes: int, dtype=F64, seed: int = 0):
    """``nn.Sequential(Flatten, Linear)`` with known ``W`` ``(K, DIM)`` and ``b`` ``(K,)``."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(n_classes, DIM, generator=g, dtype=F64)
    b = 0.1 * torch.randn(n_classes, generator=g, dtype=F64)
    lin = nn.Linear(DIM, n_classes, dtype=dtype)
    with torch.no_grad():
        lin.weight.copy_(w)
        lin.bias.copy_(b)
    model = nn.Sequential(nn.Flatten(), lin).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, w, b


def region_projection(w, b, x, t):
    """Closest point (L2) of the decision region of class ``t`` to each ``x`` ``(B, DIM)``.

    The region ``{v : (w_t - w_j) v + b_t - b_j >= 0 for all j != t}`` is a polyhedron; its
    projection lies on one face, i.e. it is the projection onto the affine hull of some subset
    of active constraints. The nearest feasible candidate over all subsets is the projection.
    """
    out = []
    for xi, ti in zip(x, t.tolist()):
        others = [j for j in range(w.shape[0]) if j != ti]
        a = w[ti] - w[others]  # (K - 1, DIM)
        c = b[ti] - b[others]
        best = None
        for size in range(1, len(others) + 1):
            for s in itertools.combinations(range(len(others)), size):
                a_s, c_s = a[list(s)], c[list(s)]
                lam = torch.linalg.solve(a_s @ a_s.T, a_s @ xi + c_s)
                v = xi - a_s.T @ lam
                if (a @ v + c >= -1e-12).all() and (best is None or (v - xi).norm() < best[0]):
                    best = ((v - xi).norm(), v)
        out.append(best[1])
    return torch.stack(out)


@functools.cache
def _toy_pool(n_classes: int, seed: int = 1):
    """Candidate inputs of the toy with ``n_classes`` (see :func:`toy_batch`), computed once."""
    _, w, b = linear_toy(n_classes)
    g = torch.Generator().manual_seed(seed)
    cand = 0.6 * torch.rand(64, DIM, generator=g, dtype=F64) - 0.3
    z = cand @ w.T + b
    y = z.argmax(1)
    t = (y + 1) % n_classes
    ok = optimal_untargeted(w, b, cand, y) >= 0.05
    ok &= z.topk(2, dim=1).values.diff(dim=1).abs().squeeze(1) > 1e-3
    ok &= region_projection(w, b, cand, t).abs().amax(1) < 0.9
    return cand[ok], y[ok], t[ok]


def toy_batch(w, b, n, rank, *, dtype=F64):
    """``n`` inputs in ``[-0.3, 0.3]`` of the toy ``(w, b)`` (from :func:`linear_toy`) whose
    nearest boundary is at L2 distance >= 0.05 and whose minimal adversarial (untargeted, and
    targeted to ``y + 1``) lies well inside ``(-1, 1)``, so the box never binds. Returns ``x``
    of rank ``rank``, the labels (clean predictions) and the targets ``y + 1``."""
    cand, y, t = _toy_pool(w.shape[0])
    assert len(cand) >= n
    return cand[:n].reshape(n, *SHAPES[rank]).to(dtype), y[:n], t[:n]


def optimal_untargeted(w, b, x, y):
    """Minimal L2 distance to misclassification ``(B,)``: the nearest pairwise hyperplane."""
    x = x.flatten(1).to(F64)
    z = x @ w.T + b
    gaps = z.gather(1, y[:, None]) - z  # (B, K), >= 0
    norms = (w[y][:, None, :] - w[None, :, :]).norm(dim=2)  # ||w_y - w_j||
    dist = gaps / norms.clamp_min(1e-30)
    dist[torch.arange(len(y)), y] = float("inf")
    return dist.min(dim=1).values


def l2(a, b):
    return (a - b).flatten(1).to(F64).norm(dim=1)


def linf(a, b):
    return (a - b).flatten(1).to(F64).abs().amax(dim=1)


def predict(model, x):
    with torch.no_grad():
        return model(x).argmax(1)


# --------------------------------------------------------------------------- DeepFool


@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("batch", BATCHES)
def test_deepfool_hits_the_nearest_boundary_in_one_step(batch, rank):
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, batch, rank)
    counter = PassCounter(model)
    x_adv = deepfool(counter, x, y, overshoot=0.02)
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
    assert (predict(model, x_adv) != y).all()
    d = optimal_untargeted(w, b, x, y)
    ratio = l2(x_adv, x) / d
    assert (ratio >= 1.02).all() and (ratio <= 1.02 * 1.002).all(), ratio
    # the step goes straight to the optimal point (times 1 + overshoot; the authors' code adds
    # 1e-4 to the logit gap, which moves it by 1e-4 / ||w_y - w_j|| further)
    x_opt = region_projection(w, b, x.flatten(1), predict(model, x_adv))
    expected = x.flatten(1) + 1.02 * (x_opt - x.flatten(1))
    torch.testing.assert_close(x_adv.flatten(1), expected, atol=1e-4, rtol=0)
    # the linearisation is exact: one step, then one forward to see the success
    assert counter.forward_calls == 2
    assert counter.forward_samples == 2 * batch


def test_deepfool_top_k_candidates_and_untargeted_only():
    model, w, b = linear_toy(5)
    x, y, _ = toy_batch(w, b, 4, 2)
    counter = PassCounter(model)
    x_adv = deepfool(counter, x, y, n_classes=2)
    assert (predict(model, x_adv) != y).all()
    assert counter.backward_calls == counter.forward_calls - 1  # one candidate: one backward each
    with pytest.raises(ValueError, match="untargeted"):
        deepfool(model, x, y, targeted=True)


# --------------------------------------------------------------------------- minimal-norm attacks


MIN_NORM = {
    "ddn": partial(ddn, steps=100),
    "cw_l2": partial(cw_l2, steps=50, binary_search_steps=5, c=1.0),
    "cw_l2_early_stop": partial(cw_l2, steps=50, binary_search_steps=5, c=1.0, early_stop=True),
    "cw_l2_warm_start": partial(cw_l2, steps=50, binary_search_steps=5, c=1.0, warm_start=True),
}


@pytest.mark.parametrize("targeted", [False, True], ids=["untargeted", "targeted"])
@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("name", list(MIN_NORM))
def test_minimal_norm_attacks_land_within_125_percent_of_the_optimum(name, batch, rank, targeted):
    model, w, b = linear_toy(3)
    x, y, t = toy_batch(w, b, batch, rank)
    labels = t if targeted else y
    x_adv = MIN_NORM[name](model, x, labels, targeted=targeted)
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
    pred = predict(model, x_adv)
    assert ((pred == t) if targeted else (pred != y)).all()
    if targeted:
        opt = l2(region_projection(w, b, x.flatten(1), t), x.flatten(1))
    else:
        opt = optimal_untargeted(w, b, x, y)
    ratio = l2(x_adv, x) / opt
    assert (ratio >= 1 - 1e-9).all(), ratio  # nobody beats the closed form
    assert (ratio <= 1.25).all(), ratio


def test_minimal_norm_attacks_return_the_input_where_they_fail():
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 3, 2)
    x_adv = cw_l2(model, x, y, steps=3, binary_search_steps=1, c=1e-6)
    assert torch.equal(x_adv, x)


def test_cw_confidence_buys_a_margin():
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 3, 2)
    x_adv = cw_l2(model, x, y, confidence=2.0, steps=50, binary_search_steps=5)
    with torch.no_grad():
        assert (margin(model(x_adv), y, targeted=False) <= -2.0 + 1e-9).all()


def test_cw_early_abort_stops_a_stalled_sample_at_the_first_check():
    """Constant logits: nothing moves the margin, so every sample's loss stalls and it stops
    at the first check after the start (step ``1 + ceil(steps / 10)``), in every one of the
    binary-search steps; nothing succeeds, so ``x`` comes back."""
    lin = nn.Linear(DIM, 3, dtype=F64)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.copy_(torch.tensor([1.0, 0.0, 0.0], dtype=F64))
    model = nn.Sequential(nn.Flatten(), lin).eval().requires_grad_(False)
    x = 0.2 * torch.rand(4, DIM, generator=torch.Generator().manual_seed(0), dtype=F64)
    y = torch.zeros(4, dtype=torch.long)
    counter = PassCounter(model)
    out = cw_l2(counter, x, y, steps=100, binary_search_steps=3, early_stop=True)
    assert counter.forward_samples == 4 * 11 * 3 and counter.backward_samples == 4 * 11 * 3
    assert torch.equal(out, x)
    counter.reset()
    cw_l2(counter, x, y, steps=100, binary_search_steps=3)
    assert counter.forward_samples == 4 * 100 * 3


def test_cw_early_abort_lets_successful_samples_go_except_in_the_last_search_step():
    """Samples already misclassified at ``x``: success at the first step with L2 ~ 0, which
    no later iterate beats. Before the last binary-search step such a sample leaves at the
    second check running without improvement (checks every ceil(steps / 10) = 2 steps, from
    step 1: it leaves at step 5); in the last one it runs every step. ``x`` itself (up to
    rounding) comes back."""
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 4, 2)
    wrong = (y + 1) % 3
    counter = PassCounter(model)
    out = cw_l2(counter, x, wrong, steps=20, binary_search_steps=3, early_stop=True)
    assert counter.forward_samples == 4 * (2 * 5 + 20)
    torch.testing.assert_close(out, x, rtol=0, atol=1e-6)


def test_cw_early_abort_is_per_sample_and_saves_passes():
    """Samples stop on their own loss: the same result one by one as in a batch, with fewer
    passes than without the abort, and as close to the optimum (see the test above)."""
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 8, 2)
    counter = PassCounter(model)
    whole = cw_l2(counter, x, y, steps=50, binary_search_steps=5, early_stop=True)
    assert counter.forward_samples < 8 * 50 * 5
    alone = [cw_l2(model, x[i : i + 1], y[i : i + 1], steps=50, binary_search_steps=5,
                   early_stop=True) for i in range(8)]  # fmt: skip
    torch.testing.assert_close(whole, torch.cat(alone), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("warm", [False, True], ids=["restart", "warm-start"])
def test_cw_warm_start_continues_from_the_last_iterate(warm):
    """One Adam step per binary-search step: the second starts at ``x`` again, or, warm
    started, where the first ended: one Adam step away, ``w_1 = w_0 - lr * g / (|g| + 1e-8)``,
    i.e. ``lr`` along every coordinate in tanh space."""
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 3, 2)
    rec = Recorder(model)
    cw_l2(rec, x, y, steps=1, binary_search_steps=2, lr=0.01, warm_start=warm)
    first, second = rec.seen[0][0], rec.seen[1][0]
    to_w = lambda v: torch.atanh(v.clamp(-1 + 1e-12, 1 - 1e-12))  # noqa: E731  box (-1, 1)
    if not warm:
        torch.testing.assert_close(second, first, rtol=0, atol=0)
    else:
        moved = (to_w(second) - to_w(first)).abs()
        torch.testing.assert_close(moved, torch.full_like(moved, 0.01), rtol=0, atol=1e-6)


KEEP_BEST = {
    "ddn": partial(ddn, steps=40),
    "cw_l2": partial(cw_l2, steps=15, binary_search_steps=4),
}


@pytest.mark.parametrize("name", list(KEEP_BEST))
def test_minimal_norm_attacks_return_their_smallest_adversarial_iterate(name, monkeypatch):
    """Every iterate is seen (DDN's samples stay in the batch: the test below checks that
    dropping the settled ones changes nothing)."""
    monkeypatch.setattr(ddn_module, "_settled", lambda eps, *a: torch.zeros_like(eps, dtype=bool))
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 8, 4)
    rec = Recorder(model)
    x_adv = KEEP_BEST[name](rec, x, y)
    iterates = torch.stack([v for v, _ in rec.seen])  # (calls, 8, ...) full batch every call
    fooled = torch.stack([z.argmax(1) != y for _, z in rec.seen])
    dist = (iterates - x).flatten(2).norm(dim=2).masked_fill(~fooled, float("inf"))
    best = dist.argmin(dim=0)
    assert fooled.any(dim=0).all()
    torch.testing.assert_close(x_adv, iterates[best, torch.arange(8)], rtol=0, atol=1e-12)


def test_ddn_drops_settled_samples_without_changing_the_result(monkeypatch):
    """A sample leaves DDN's batch once no remaining iterate can beat its best norm: the same
    result as running every step, with fewer samples forwarded."""
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 8, 2)
    counter = PassCounter(model)
    dropped = ddn(counter, x, y, steps=60)
    passes = counter.forward_samples
    assert passes < 8 * 60
    monkeypatch.setattr(ddn_module, "_settled", lambda eps, *a: torch.zeros_like(eps, dtype=bool))
    counter.reset()
    torch.testing.assert_close(ddn(counter, x, y, steps=60), dropped, rtol=0, atol=0)
    assert counter.forward_samples == 8 * 60


def test_ddn_settles_by_its_radius_schedule():
    from advlib.attacks.ddn import _settled

    eps, best, room = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([0.9, 0.8, 0.9]), torch.ones(3)
    # two more radii: at least 0.95^2 = 0.9025 >= every best, at most 1.05^2 = 1.1025: the
    # box (room 1) may cut an iterate below its radius, so none is settled; with room 2, all
    assert not _settled(eps, best, room, 0.05, 2).any()
    assert _settled(eps, best, 2 * room, 0.05, 2).tolist() == [True, True, True]
    # three more: 0.95^3 = 0.857 < 0.9, so only the sample whose best is 0.8
    assert _settled(eps, best, 2 * room, 0.05, 3).tolist() == [False, True, False]


class Wavy(nn.Module):
    """``z = W x + 2 sin(10 V x)``: a loss with many ups and downs, so PGD iterates wander."""

    def __init__(self, n_classes=3, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.register_buffer("w", torch.randn(n_classes, DIM, generator=g, dtype=F64))
        self.register_buffer("v", torch.randn(n_classes, DIM, generator=g, dtype=F64))

    def forward(self, x):
        x = x.flatten(1)
        return x @ self.w.T + 2 * torch.sin(10 * x @ self.v.T)


def test_pgd_returns_its_best_iterate_not_the_last():
    model = Wavy()
    x = 0.6 * torch.rand(8, DIM, generator=torch.Generator().manual_seed(0), dtype=F64) - 0.3
    y = predict(model, x)
    eps = torch.linspace(0.02, 0.3, 8, dtype=F64)
    rec = Recorder(model)
    gen = torch.Generator().manual_seed(0)
    # a large step makes the iterates jump around the ball, so the last is often not the best
    x_adv = pgd(rec, x, y, eps=eps, norm=2, steps=8, step_size=eps, early_stop=False, generator=gen)
    iterates = torch.stack([v for v, _ in rec.seen])
    logits = torch.stack([z for _, z in rec.seen])
    fooled = logits.argmax(2) != y
    ce = torch.stack([nn.functional.cross_entropy(z, y, reduction="none") for z in logits])
    score = ce + 1e6 * fooled  # an adversarial iterate beats any other; then the highest loss
    best = score.argmax(dim=0)
    torch.testing.assert_close(x_adv, iterates[best, torch.arange(8)], rtol=0, atol=0)
    assert (best != len(rec.seen) - 1).any()  # the test would notice "return the last iterate"


# --------------------------------------------------------------------------- bounded attacks


BOUNDED = {
    "fgsm": fgsm,
    "bim_a": partial(bim, steps=5, variant="a"),
    "bim_b": partial(bim, steps=5, variant="b"),
    "pgd": partial(pgd, steps=5, restarts=2, generator=torch.Generator().manual_seed(0)),
}


@pytest.mark.parametrize("per_sample", [False, True], ids=["float_eps", "tensor_eps"])
@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("norm", ["inf", 2])
@pytest.mark.parametrize("name", list(BOUNDED))
def test_bounded_attacks_respect_budget_and_bounds(name, norm, batch, rank, per_sample, capsys):
    model, _, _ = linear_toy(3, dtype=torch.float32)
    g = torch.Generator().manual_seed(batch)
    x = (2 * torch.rand(batch, *SHAPES[rank], generator=g) - 1).clamp(-0.9, 0.9)
    x.flatten(1)[:, :3] = torch.tensor([-1.0, 1.0, 0.0])  # some coordinates on the bounds
    y = predict(model, x)
    big = 0.5 if norm == "inf" else 2.0
    eps = torch.linspace(0.0, big, batch) if per_sample else big
    x_adv = BOUNDED[name](model, x, y, eps=eps, norm=norm, bounds=(-1.0, 1.0))
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype and x_adv.device == x.device
    assert x_adv.min() >= -1.0 and x_adv.max() <= 1.0
    eps_t = torch.as_tensor(eps, dtype=F64).expand(batch)
    dist = linf(x_adv, x) if norm == "inf" else l2(x_adv, x)
    assert (dist <= eps_t * (1 + 1e-6) + 1e-6).all(), (dist, eps_t)
    assert (dist[eps_t > 0] > 0).all()  # the budget is used, not ignored
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("norm", ["inf", 2])
def test_fgsm_is_the_closed_form_step(norm, rank):
    model, w, b = linear_toy(2)
    x, y, t = toy_batch(w, b, 8, rank)
    direction = w[1 - y] - w[y]  # grad of the CE is along w_other - w_y
    step = direction.sign() if norm == "inf" else direction / direction.norm(dim=1, keepdim=True)
    eps = torch.linspace(0.01, 0.2, 8, dtype=F64)
    expected = (x.flatten(1) + eps[:, None] * step).reshape(x.shape)
    torch.testing.assert_close(fgsm(model, x, y, eps=eps, norm=norm), expected)
    # targeted at the other class: the same step
    torch.testing.assert_close(fgsm(model, x, t, eps=eps, norm=norm, targeted=True), expected)


def _binary_margin_and_rate(w, b, x, y, norm):
    """Margin ``m0 = z_y - z_o`` and its decrease per unit of ``norm`` budget along FGSM."""
    a = w[y] - w[1 - y]
    m0 = (x.flatten(1) * a).sum(1) + (b[y] - b[1 - y])
    rate = a.abs().sum(1) if norm == "inf" else a.norm(dim=1)
    return m0, rate


@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("norm", ["inf", 2])
def test_pgd_succeeds_exactly_when_the_budget_exceeds_the_distance(norm, batch, rank):
    model, w, b = linear_toy(2)
    x, y, _ = toy_batch(w, b, batch, rank)
    m0, rate = _binary_margin_and_rate(w, b, x, y, norm)
    dist = m0 / rate  # L-inf (dual norm L1) or L2 distance to the boundary
    factor = torch.tensor([1.2 if i % 2 == 0 else 0.8 for i in range(batch)], dtype=F64)
    gen = torch.Generator().manual_seed(0)
    x_adv = pgd(model, x, y, eps=dist * factor, norm=norm, restarts=2, generator=gen)
    fooled = predict(model, x_adv) != y
    assert fooled.tolist() == (factor > 1).tolist()
    used = linf(x_adv, x) if norm == "inf" else l2(x_adv, x)
    assert (used <= dist * factor * (1 + 1e-9)).all()


@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("batch", BATCHES)
def test_bim_variant_a_stops_at_first_success_and_b_runs_all_steps(batch, rank):
    model, w, b = linear_toy(2)
    x, y, _ = toy_batch(w, b, batch, rank)
    m0, rate = _binary_margin_and_rate(w, b, x, y, "inf")
    steps = 10
    alpha = (m0 / rate).median().item() / 4.37  # about half solved within 10 steps, no ties
    sign = (w[1 - y] - w[y]).sign().reshape(batch, *SHAPES[rank])
    view = (-1, *[1] * (rank - 1))
    first = torch.floor(m0 / (alpha * rate)) + 1  # first k with m0 - k * alpha * rate < 0
    k_a = first.clamp(max=steps)
    kw = {"eps": steps * alpha, "steps": steps, "step_size": alpha}
    torch.testing.assert_close(
        bim(model, x, y, variant="a", **kw), x + (k_a * alpha).view(view) * sign
    )
    torch.testing.assert_close(bim(model, x, y, variant="b", **kw), x + steps * alpha * sign)
    # the budget clips: with eps = 3 steps, b stops growing at eps
    kw_small = {"eps": 3 * alpha, "steps": steps, "step_size": alpha}
    torch.testing.assert_close(bim(model, x, y, variant="b", **kw_small), x + 3 * alpha * sign)


TARGETED = {
    "pgd_inf": partial(pgd, norm="inf", steps=50),
    "pgd_l2": partial(pgd, norm=2, steps=50),
    "bim_a": partial(bim, steps=50),
    "bim_b": partial(bim, steps=50, variant="b"),
}


@pytest.mark.parametrize("rank", RANKS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("name", list(TARGETED))
def test_targeted_bounded_attacks_reach_the_target(name, batch, rank):
    model, w, b = linear_toy(3)
    x, y, t = toy_batch(w, b, batch, rank)
    opt = l2(region_projection(w, b, x.flatten(1), t), x.flatten(1))
    gen = torch.Generator().manual_seed(0)
    kw = {"generator": gen} if name.startswith("pgd") else {}
    x_adv = TARGETED[name](model, x, t, targeted=True, eps=3 * opt, true_labels=y, **kw)
    assert (predict(model, x_adv) == t).all()


# --------------------------------------------------------------------------- PGD bookkeeping


def test_pgd_restarts_rerun_only_unsolved_samples():
    model, w, b = linear_toy(2)
    x, y, _ = toy_batch(w, b, 6, 2)
    m0, rate = _binary_margin_and_rate(w, b, x, y, "inf")
    solvable = torch.tensor([True, False, True, False, False, True])
    eps = torch.where(solvable, 2 * m0 / rate, torch.zeros(6, dtype=F64))
    counts = {}
    for restarts in (1, 3):
        counter = PassCounter(model)
        gen = torch.Generator().manual_seed(0)
        out = pgd(counter, x, y, eps=eps, steps=4, restarts=restarts, generator=gen)
        assert (predict(model, out) != y).tolist() == solvable.tolist()
        counts[restarts] = counter.forward_samples
    # each extra run forwards only the 3 unsolved samples, steps + 1 times
    assert counts[3] - counts[1] == 2 * 3 * (4 + 1)


def test_pgd_early_stop_forwards_only_unsolved_and_keeps_the_best():
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 8, 2)
    eps = optimal_untargeted(w, b, x, y) * 3
    fwd = {}
    for early in (True, False):
        counter = PassCounter(model)
        out = pgd(counter, x, y, eps=eps, norm=2, steps=10, early_stop=early, random_start=False)
        assert (predict(model, out) != y).all()  # the kept iterate is the adversarial one
        fwd[early] = counter.forward_samples
        assert counter.backward_samples == counter.forward_samples - (0 if early else 8)
    assert fwd[False] == 8 * 11
    assert fwd[True] < fwd[False]


def test_pgd_keeps_the_highest_loss_iterate_for_unsolved_samples():
    model, w, b = linear_toy(2)
    x, y, _ = toy_batch(w, b, 4, 2)
    m0, rate = _binary_margin_and_rate(w, b, x, y, "inf")
    eps = 0.5 * m0 / rate  # unsolvable: the best iterate is the corner of the eps ball
    out = pgd(model, x, y, eps=eps, steps=20, generator=torch.Generator().manual_seed(0))
    corner = x + eps.view(-1, 1) * (w[1 - y] - w[y]).sign()
    torch.testing.assert_close(out, corner)


# --------------------------------------------------------------------------- determinism


DETERMINISTIC = {
    "fgsm_inf": partial(fgsm, eps=0.1),
    "fgsm_l2": partial(fgsm, eps=0.3, norm=2),
    "bim_a": partial(bim, eps=0.1),
    "bim_b_l2": partial(bim, eps=0.3, norm=2, variant="b"),
    "pgd_no_start": partial(pgd, eps=0.05, random_start=False),
    "pgd_l2_no_start": partial(pgd, eps=0.2, norm=2, random_start=False),
    "deepfool": deepfool,
    "cw_l2": partial(cw_l2, steps=20, binary_search_steps=3),
    "cw_l2_early_stop": partial(cw_l2, steps=20, binary_search_steps=3, early_stop=True),
    "cw_l2_warm_start": partial(cw_l2, steps=20, binary_search_steps=3, warm_start=True),
    "ddn": partial(ddn, steps=30),
}


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_batch_size_invariance(name):
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 8, 4)
    attack = DETERMINISTIC[name]
    whole = attack(model, x, y)
    one_by_one = torch.cat([attack(model, x[i : i + 1], y[i : i + 1]) for i in range(8)])
    torch.testing.assert_close(whole, one_by_one, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(attack(model, x, y), whole, rtol=0, atol=0)  # run to run


@pytest.mark.parametrize("norm", ["inf", 2])
def test_random_start_pgd_is_seeded(norm):
    model, w, b = linear_toy(3)
    x, y, _ = toy_batch(w, b, 8, 4)

    def run(seed):
        gen = torch.Generator().manual_seed(seed)
        return pgd(model, x, y, eps=0.1, norm=norm, steps=1, early_stop=False, generator=gen)

    torch.testing.assert_close(run(0), run(0), rtol=0, atol=0)
    assert not torch.equal(run(0), run(1))


@pytest.mark.parametrize("norm", ["inf", 2])
def test_random_start_is_uniform_in_the_ball(norm):
    x = torch.zeros(4000, 3, dtype=F64)
    eps = torch.full((4000,), 0.5, dtype=F64)
    v = random_in_ball(x, eps, check_norm(norm), torch.Generator().manual_seed(0))
    dist = linf(v, x) if norm == "inf" else l2(v, x)
    assert (dist <= 0.5 + 1e-12).all()
    # uniform in a 3-d ball: P(r < eps / 2) = 1 / 8 (L2), the cube gives 1 / 8 as well
    share = (dist < 0.25).double().mean().item()
    assert abs(share - 0.125) < 0.02


# --------------------------------------------------------------------------- helpers


def test_projections_are_per_sample():
    delta = torch.tensor([[3.0, 4.0], [0.3, -0.4], [0.0, 0.0]])
    eps = torch.tensor([1.0, 1.0, 1.0])
    torch.testing.assert_close(project_l2(delta, eps)[0], torch.tensor([0.6, 0.8]))
    torch.testing.assert_close(project_l2(delta, eps)[1:], delta[1:])
    torch.testing.assert_close(
        project_linf(delta, torch.tensor([0.5, 0.35, 1.0])),
        torch.tensor([[0.5, 0.5], [0.3, -0.35], [0.0, 0.0]]),
    )


def test_pass_counter_counts_forwards_and_backwards():
    model, _, _ = linear_toy(3)
    counter = PassCounter(model)
    x = torch.zeros(5, DIM, dtype=F64, requires_grad=True)
    torch.autograd.grad(counter(x).sum(), x)
    with torch.no_grad():
        counter(x[:2])
    assert (counter.forward_calls, counter.forward_samples) == (2, 7)
    assert (counter.backward_calls, counter.backward_samples) == (1, 5)
    counter.reset()
    assert counter.forward_calls == counter.backward_calls == 0


# --------------------------------------------------------------------------- invalid settings


def _bad_cases():
    model, w, b = linear_toy(3)
    x, y, t = toy_batch(w, b, 3, 2)
    nan_x = x.clone()
    nan_x[0, 0] = float("nan")
    out_x = x.clone()
    out_x[1, 2] = 1.5
    all_attacks = {
        "fgsm": partial(fgsm, eps=0.1),
        "bim": partial(bim, eps=0.1),
        "pgd": partial(pgd, eps=0.1),
        "deepfool": deepfool,
        "cw_l2": cw_l2,
        "ddn": ddn,
    }
    cases = []
    for name, attack in all_attacks.items():
        cases += [
            (name, "NaN", attack, (model, nan_x, y), {}),
            (name, "outside bounds", attack, (model, out_x, y), {}),
            (name, "bounds", attack, (model, x, y), {"bounds": (1.0, -1.0)}),
            (name, "shape", attack, (model, x, y[:2]), {}),
            (name, "number of classes", attack, (model, x, y + 3), {}),
            (name, "steps", attack, (model, x, y), {"steps": 0})
            if name != "fgsm"
            else (name, "eps", attack, (model, x, y), {"eps": float("nan")}),
        ]
        if name in ("fgsm", "bim", "pgd"):
            cases += [
                (name, "eps", attack, (model, x, y), {"eps": -0.1}),
                (name, "eps", attack, (model, x, y), {"eps": torch.full((2,), 0.1)}),
                (name, "unknown norm", attack, (model, x, y), {"norm": 1}),
            ]
        if name != "deepfool":
            kw = {"targeted": True, "true_labels": y}
            cases.append((name, "target equals the true label", attack, (model, x, y), kw))
    cases += [
        ("bim", "variant", bim, (model, x, y), {"eps": 0.1, "variant": "c"}),
        ("pgd", "restarts", pgd, (model, x, y), {"eps": 0.1, "restarts": 0}),
        ("pgd", "step_size", pgd, (model, x, y), {"eps": 0.1, "step_size": 0.0}),
        ("deepfool", "overshoot", deepfool, (model, x, y), {"overshoot": -0.1}),
        ("deepfool", "n_classes", deepfool, (model, x, y), {"n_classes": 1}),
        ("cw_l2", "binary_search_steps", cw_l2, (model, x, y), {"binary_search_steps": 0}),
        ("cw_l2", "confidence", cw_l2, (model, x, y), {"confidence": -1.0}),
        ("cw_l2", "c must be", cw_l2, (model, x, y), {"c": -1.0}),
        ("cw_l2", "lr", cw_l2, (model, x, y), {"lr": 0.0}),
        ("ddn", "gamma", ddn, (model, x, y), {"gamma": 1.5}),
        ("ddn", "init_norm", ddn, (model, x, y), {"init_norm": 0.0}),
        ("ddn", "step_size", ddn, (model, x, y), {"step_size": -1.0}),
        ("ddn", "true_labels", ddn, (model, x, t), {"targeted": True, "true_labels": y[:1]}),
    ]
    return cases


BAD = _bad_cases()


@pytest.mark.parametrize(
    ("name", "match", "attack", "args", "kwargs"), BAD, ids=[f"{c[0]}-{c[1]}" for c in BAD]
)
def test_invalid_settings_raise_value_error(name, match, attack, args, kwargs):
    with pytest.raises(ValueError, match=match):
        attack(*args, **kwargs)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", [*DETERMINISTIC, "pgd_random_start"])
def test_attacks_keep_the_device_and_take_a_cpu_generator(name):
    model, w, b = linear_toy(3, dtype=torch.float32)
    x, y, _ = toy_batch(w, b, 3, 4, dtype=torch.float32)
    model, x, y = model.cuda(), x.cuda(), y.cuda()
    if name == "pgd_random_start":
        out = pgd(model, x, y, eps=0.1, generator=torch.Generator().manual_seed(0))
    else:
        out = DETERMINISTIC[name](model, x, y)
    assert out.device == x.device and out.dtype == x.dtype and out.shape == x.shape


def test_targets_different_from_true_labels_are_accepted():
    model, w, b = linear_toy(3)
    x, y, t = toy_batch(w, b, 3, 2)
    out = pgd(model, x, t, targeted=True, eps=0.01, steps=1, true_labels=y)
    assert out.shape == x.shape


# --------------------------------------------------------------------------- API contract


ATTACKS = [
    fgsm, bim, pgd, deepfool, cw_l2, ddn, jsma, nes, genetic, pso, uap_iterative, uap_penalty,
]  # fmt: skip
VOCABULARY = {
    "targeted", "eps", "steps", "step_size", "norm", "bounds", "generator", "true_labels",
    "variant", "random_start", "restarts", "early_stop", "overshoot", "n_classes",
    "confidence", "c", "binary_search_steps", "lr", "warm_start", "init_norm", "gamma",
    # sparse and black-box attacks
    "theta", "candidates", "samples", "sigma", "loss", "population", "elite", "temperature",
    "mutation_rate", "particles", "epochs", "inertia", "c1", "c2",
    # universal perturbations
    "inner", "inner_steps", "fooling_rate", "max_passes", "batch_size", "space",
}  # fmt: skip


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda f: f.__name__)
def test_signature_follows_the_shared_vocabulary(attack):
    params = inspect.signature(attack).parameters
    names = list(params)
    assert names[:3] == ["model", "x", "y"]
    assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in names[3:])
    assert set(names[3:]) <= VOCABULARY, set(names[3:]) - VOCABULARY
    assert all(n.isascii() for n in names)
    assert params["targeted"].default is False
    assert params["bounds"].default == (-1.0, 1.0)
    assert params["generator"].default is None
    doc = inspect.getdoc(attack)
    assert "Returns" in doc and "(B, ...)" in doc


def test_attacks_import_no_data_metrics_or_io_and_never_print():
    root = Path(attacks_pkg.__file__).parent
    forbidden_modules = ("advlib.metrics", "advlib.data", "advlib.train.classifier", "advlib.cache")
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith(forbidden_modules), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith(forbidden_modules) for a in node.names), path
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
                assert name not in {"print", "open", "save", "load"}, (path, name)


# --------------------------------------------------------------------------- peer cross-check


def test_pgd_linf_success_rate_matches_torchattacks():
    """Same settings as torchattacks' PGD (its box is [0, 1]) on a small trained MLP."""
    torchattacks = pytest.importorskip("torchattacks")
    g = torch.Generator().manual_seed(0)

    def blobs(n):
        y = torch.randint(0, 2, (n,), generator=g)
        x = 0.5 + 0.08 * (2 * y[:, None] - 1) + 0.15 * torch.randn(n, DIM, generator=g)
        return x.clamp(0, 1), y

    (x_train, y_train), (x, y) = blobs(400), blobs(200)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(DIM, 32), nn.ReLU(), nn.Linear(32, 2))
    for _ in range(300):  # full-batch gradient descent
        loss = nn.functional.cross_entropy(model(x_train), y_train)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        with torch.no_grad():
            for p, grad in zip(model.parameters(), grads):
                p -= 0.5 * grad
    model.eval().requires_grad_(False)
    assert (predict(model, x) == y).float().mean() > 0.9
    eps, steps = 0.06, 10
    alpha = 2.5 * eps / steps
    torch.manual_seed(0)
    peer = torchattacks.PGD(model, eps=eps, alpha=alpha, steps=steps, random_start=True)
    peer_rate = (predict(model, peer(x, y)) != y).float().mean().item()
    gen = torch.Generator().manual_seed(0)
    x_adv = pgd(
        model, x, y, eps=eps, steps=steps, step_size=alpha, bounds=(0.0, 1.0), generator=gen
    )
    ours = (predict(model, x_adv) != y).float().mean().item()
    assert 0.1 < peer_rate < 0.9  # a budget where the comparison says something
    assert abs(ours - peer_rate) <= 0.03, (ours, peer_rate)


def test_code_revision_follows_the_attacks_code(tmp_path, monkeypatch):
    """Cache keys hold each attack's code digest: changing an attack's code changes it."""
    import shutil

    from advlib.attacks import registry

    rev, pgd = registry.code_revision("cw_l2"), registry.code_revision("pgd")
    assert len(rev) == 12 and rev != pgd
    # a copy of the package with cw.py changed gives another digest for CW only
    pkg = tmp_path / "attacks"
    shutil.copytree(Path(registry.__file__).parent, pkg)
    (pkg / "cw.py").write_text((pkg / "cw.py").read_text() + "\n# changed\n")
    monkeypatch.setattr(registry, "__file__", str(pkg / "registry.py"))
    registry.code_revision.cache_clear()
    try:
        assert registry.code_revision("cw_l2") != rev
        assert registry.code_revision("pgd") == pgd  # pgd.py, _utils.py, eot.py unchanged
    finally:
        registry.code_revision.cache_clear()
