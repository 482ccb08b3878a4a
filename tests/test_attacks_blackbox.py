"""Black-box attacks (genetic, PSO, NES) and JSMA on linear toy models: f(x) = W x + b.

For a linear classifier the smallest L-inf perturbation that changes the prediction from ``y``
to ``j`` is ``(z_y - z_j) / ||w_y - w_j||_1`` (a vertex of the cube), and the smallest one
that reaches a target ``t`` is a small linear program. So a budget below the exact distance
must fail (success rate 0, not "low") and a budget above it is known to be feasible.

Batch invariance: the random attacks (genetic, pso, nes) share one generator across the
batch, so a sample's draws depend on which other samples are in the batch; they are tested
for seeded determinism instead. JSMA is deterministic and is tested batch-invariant.

Everything is tiny, CPU-only, single-threaded, seeded, and nothing is downloaded.
"""

import functools
import inspect
import itertools
import math
from functools import partial

import pytest
import torch
from scipy.optimize import linprog
from torch import nn

from advlib.attacks._utils import PassCounter, margin
from advlib.attacks.genetic import genetic
from advlib.attacks.jsma import _pick_pairs, jsma
from advlib.attacks.nes import nes
from advlib.attacks.pso import pso
from tests.helpers import Recorder

DIM = 20
K = 3
F64 = torch.float64
SHAPES = {2: (DIM,), 4: (1, 4, 5)}  # input rank -> per-sample shape (flattened by the toy)


pytestmark = pytest.mark.usefixtures("one_thread")


# --------------------------------------------------------------------------- toy and closed forms


def linear_toy(dtype=F64, seed: int = 0):
    """``nn.Sequential(Flatten, Linear)`` with known ``W`` ``(K, DIM)`` and ``b`` ``(K,)``."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(K, DIM, generator=g, dtype=F64)
    b = 0.1 * torch.randn(K, generator=g, dtype=F64)
    lin = nn.Linear(DIM, K, dtype=dtype)
    with torch.no_grad():
        lin.weight.copy_(w)
        lin.bias.copy_(b)
    model = nn.Sequential(nn.Flatten(), lin).eval()
    return model.requires_grad_(False), w, b


def linf_untargeted(w, b, x, y):
    """Exact smallest L-inf perturbation that changes the prediction ``(B,)`` (box ignored;
    it never binds below, the box being (-1, 1) and ``x`` in [-0.3, 0.3])."""
    z = x @ w.T + b
    gaps = z.gather(1, y[:, None]) - z
    l1 = (w[y][:, None, :] - w[None]).abs().sum(2)
    dist = gaps / l1.clamp_min(1e-30)
    dist[torch.arange(len(y)), y] = math.inf
    return dist.min(1).values


def linf_targeted(w, b, x, t, bounds=(-1.0, 1.0)):
    """Exact smallest L-inf perturbation reaching class ``t`` inside ``bounds``: the LP
    ``min e  s.t.  (w_t - w_j) (x + d) + b_t - b_j >= 0 (j != t), |d_i| <= e``."""
    out = []
    for xi, ti in zip(x.tolist(), t.tolist()):
        xi = torch.tensor(xi, dtype=F64)
        others = [j for j in range(K) if j != ti]
        a = w[ti] - w[others]  # (K - 1, DIM)
        c = b[ti] - b[others] + a @ xi
        eye = torch.eye(DIM, dtype=F64)
        a_ub = torch.cat(
            (
                torch.cat((-a, torch.zeros(K - 1, 1, dtype=F64)), 1),
                torch.cat((eye, -torch.ones(DIM, 1, dtype=F64)), 1),
                torch.cat((-eye, -torch.ones(DIM, 1, dtype=F64)), 1),
            )
        )
        b_ub = torch.cat((c, torch.zeros(2 * DIM, dtype=F64)))
        box = [(bounds[0] - v, bounds[1] - v) for v in xi.tolist()] + [(0, None)]
        cost = [0.0] * DIM + [1.0]
        res = linprog(cost, A_ub=a_ub.numpy(), b_ub=b_ub.numpy(), bounds=box, method="highs")
        assert res.status == 0
        out.append(res.fun)
    return torch.tensor(out, dtype=F64)


@functools.cache
def _pool():
    """Inputs in [-0.3, 0.3] of the toy, with labels (clean predictions), targets ``y + 1``,
    and their exact L-inf distances; kept when the untargeted distance is >= 0.02 (so 'half
    of it' is a real budget) and the targeted one <= 0.25 (the box never binds at 1.5x)."""
    _, w, b = linear_toy()
    g = torch.Generator().manual_seed(1)
    cand = 0.6 * torch.rand(96, DIM, generator=g, dtype=F64) - 0.3
    y = (cand @ w.T + b).argmax(1)
    t = (y + 1) % K
    du, dt = linf_untargeted(w, b, cand, y), linf_targeted(w, b, cand, t)
    ok = (du >= 0.02) & (dt <= 0.25)
    return cand[ok], y[ok], t[ok], du[ok], dt[ok]


def toy_batch(n, rank=2, dtype=F64):
    """``n`` toy inputs of rank ``rank``: ``x, y, t, dist_untargeted, dist_targeted``."""
    x, y, t, du, dt = _pool()
    assert len(x) >= n
    return x[:n].reshape(n, *SHAPES[rank]).to(dtype), y[:n], t[:n], du[:n], dt[:n]


def linf(a, b):
    return (a - b).flatten(1).to(F64).abs().amax(dim=1)


def success(model, x_adv, labels, targeted):
    with torch.no_grad():
        pred = model(x_adv).argmax(1)
    return (pred == labels) if targeted else (pred != labels)


# --------------------------------------------------------------------------- the attacks under test

# Settings for the toy: the study's GA mutation rate (0.0005 per element) barely ever fires on
# 20 features, so the toy uses 0.05; PSO runs 3 epochs of 100 iterations; NES steps eps / 5.
SETTINGS = {
    "genetic": (genetic, {"steps": 200, "mutation_rate": 0.05}),
    "pso": (pso, {"steps": 100, "epochs": 3}),
    "nes": (nes, {"steps": 200}),
}
RANDOM = list(SETTINGS)


def run(name, model, x, y, eps, *, seed=0, **kw):
    """Run the black-box attack ``name`` with the toy settings (``kw`` override them)."""
    attack, settings = SETTINGS[name]
    settings = {**settings, **kw}
    if name == "nes" and "step_size" not in settings:
        step = torch.as_tensor(eps, dtype=x.dtype).expand(len(x)) / 5
        settings["step_size"] = step.clamp_min(1e-4)  # > 0 where eps = 0
    gen = torch.Generator().manual_seed(seed)
    return attack(model, x, y, eps=eps, generator=gen, **settings)


def per_query(name, n=1, **kw):
    """Queries per unsolved sample over a whole run, and the most forward calls for a batch
    of ``n`` (NES forwards at most ``max(n, samples + 1)`` queries per call)."""
    _, settings = SETTINGS[name]
    s = {**settings, **kw}
    if name == "genetic":
        p, e = s.get("population", 20), s.get("elite", 2)
        return p + (s["steps"] - 1) * (p - e), s["steps"]
    if name == "pso":
        return s["epochs"] * s["steps"] * s.get("particles", 25), s["epochs"] * s["steps"]
    q = s.get("samples", 50) + 1
    return s["steps"] * q + 1, s["steps"] * math.ceil(n * q / max(n, q)) + 1


# --------------------------------------------------------------------------- success and failure


@pytest.mark.parametrize("targeted", [False, True], ids=["untargeted", "targeted"])
@pytest.mark.parametrize("name", RANDOM)
def test_black_box_attacks_succeed_above_the_exact_distance(name, targeted):
    """Budget 1.5x each sample's exact L-inf distance: >= 90 % untargeted, >= 80 % targeted
    (measured on this toy: 100 % for all three; at 1.1x genetic still reaches 85 % / 100 %)."""
    model, _, _ = linear_toy()
    x, y, t, du, dt = toy_batch(20)
    labels, dist = (t, dt) if targeted else (y, du)
    x_adv = run(name, model, x, labels, 1.5 * dist, targeted=targeted)
    rate = success(model, x_adv, labels, targeted).double().mean().item()
    assert rate >= (0.8 if targeted else 0.9), rate
    assert (linf(x_adv, x) <= 1.5 * dist + 1e-12).all()


@pytest.mark.parametrize("targeted", [False, True], ids=["untargeted", "targeted"])
@pytest.mark.parametrize("name", RANDOM)
def test_black_box_attacks_fail_below_the_exact_distance(name, targeted):
    """Half the exact untargeted distance: no point of the ball is misclassified, so the
    success rate must be exactly 0 (and the unsolved samples get the best effort)."""
    model, _, _ = linear_toy()
    x, y, t, du, _ = toy_batch(12)
    labels = t if targeted else y
    x_adv = run(name, model, x, labels, 0.5 * du, targeted=targeted, steps=20)
    assert not success(model, x_adv, labels, targeted).any()
    assert (linf(x_adv, x) > 0).all()  # the budget was used


# --------------------------------------------------------------------------- contract


@pytest.mark.parametrize("dtype", [torch.float32, F64], ids=["f32", "f64"])
@pytest.mark.parametrize("rank", [2, 4])
@pytest.mark.parametrize("name", RANDOM)
def test_black_box_attacks_stay_in_eps_and_bounds_and_keep_shape_and_dtype(
    name, rank, dtype, capsys
):
    """A per-sample ``eps`` (one zero) large enough for the box (-0.32, 0.32) to bind."""
    model, _, _ = linear_toy(dtype=dtype)
    x, y, _, _, _ = toy_batch(6, rank, dtype)
    bounds = (-0.32, 0.32)
    eps = torch.tensor([0.0, 0.05, 0.1, 0.2, 0.4, 0.6], dtype=dtype)
    x_adv = run(name, model, x, y, eps, steps=5, bounds=bounds)
    assert x_adv.shape == x.shape and x_adv.dtype == x.dtype and x_adv.device == x.device
    assert x_adv.min() >= bounds[0] and x_adv.max() <= bounds[1]
    tol = torch.finfo(dtype).eps  # one ulp of |x| <= 1: x + delta is rounded once
    assert (linf(x_adv, x) <= eps.to(F64) + tol).all(), (linf(x_adv, x), eps)
    assert torch.equal(x_adv[0], x[0])  # eps = 0 leaves the sample untouched
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("name", RANDOM)
def test_black_box_attacks_are_seeded(name):
    model, _, _ = linear_toy()
    x, y, _, du, _ = toy_batch(8)
    a = run(name, model, x, y, 1.5 * du, seed=3, steps=10)
    b = run(name, model, x, y, 1.5 * du, seed=3, steps=10)
    c = run(name, model, x, y, 1.5 * du, seed=4, steps=10)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("name", RANDOM)
def test_black_box_attacks_accept_a_float_eps_and_default_generator(name):
    model, _, _ = linear_toy(dtype=torch.float32)
    x, y, _, _, _ = toy_batch(4, 4, torch.float32)
    attack, settings = SETTINGS[name]
    x_adv = attack(model, x, y, eps=0.3, **{**settings, "steps": 5})
    assert x_adv.shape == x.shape and x_adv.dtype == torch.float32
    assert (linf(x_adv, x) <= 0.3 + 1e-7).all()


@pytest.mark.parametrize("attack", [genetic, pso, nes, jsma], ids=lambda f: f.__name__)
def test_signature_follows_the_shared_vocabulary(attack):
    vocabulary = {
        "targeted", "eps", "steps", "step_size", "bounds", "generator", "true_labels",
        "population", "elite", "temperature", "mutation_rate",  # genetic
        "particles", "epochs", "inertia", "c1", "c2",  # pso
        "samples", "sigma", "loss",  # nes
        "theta", "gamma", "candidates",  # jsma
    }  # fmt: skip
    params = inspect.signature(attack).parameters
    names = list(params)
    assert names[:3] == ["model", "x", "y"]
    assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in names[3:])
    assert set(names[3:]) <= vocabulary, set(names[3:]) - vocabulary
    assert params["targeted"].default is False
    assert params["bounds"].default == (-1.0, 1.0)
    assert params["generator"].default is None
    doc = inspect.getdoc(attack)
    assert "Returns" in doc and "(B, ...)" in doc


def test_study_defaults():
    g, p = inspect.signature(genetic).parameters, inspect.signature(pso).parameters
    assert [g[k].default for k in ("steps", "population", "elite", "temperature")] == [
        500, 20, 2, 0.01
    ]  # fmt: skip
    assert g["mutation_rate"].default == 0.0005
    assert [p[k].default for k in ("eps", "steps", "particles", "epochs")] == [0.002, 300, 25, 30]
    assert p["inertia"].default == (0.9, 0.1) and p["c1"].default == p["c2"].default == 1.4961


# --------------------------------------------------------------------------- queries


@pytest.mark.parametrize("targeted", [False, True], ids=["untargeted", "targeted"])
@pytest.mark.parametrize("name", RANDOM)
def test_one_forward_per_iteration_and_solved_samples_leave(name, targeted):
    """Sample 0 is solved by any query (its label is not its prediction, or its target is its
    prediction); the others cannot be solved (half their exact distance). So the counts are
    exact: one call for the whole batch per generation / iteration (NES: its queries in calls
    of at most max(batch, samples + 1) = 51), sample 0 only in the first."""
    model, _, _ = linear_toy()
    x, y, t, du, _ = toy_batch(5)
    labels = (t if targeted else y).clone()
    labels[0] = y[0] if targeted else t[0]
    rec = Recorder(model)
    counter = PassCounter(rec)
    steps = 6
    x_adv = run(name, counter, x, labels, 0.5 * du, targeted=targeted, steps=steps)
    per_sample, calls = per_query(name, n=5, steps=steps)
    if name == "nes":
        calls -= steps - 1  # sample 0 is solved after the first iteration: 4 calls, not 5
    assert counter.forward_calls == calls
    assert counter.backward_calls == 0
    sizes = [len(v) for v, _ in rec.seen]
    first = sum(sizes[:5]) // 5 if name == "nes" else sizes[0] // 5  # per sample, first round
    if name == "genetic":
        expected = 5 * 20 + (steps - 1) * 4 * 18
        assert sizes == [5 * 20] + [4 * 18] * (steps - 1)
    elif name == "pso":
        expected = 5 * 25 + (calls - 1) * 4 * 25
        assert sizes == [5 * 25] + [4 * 25] * (calls - 1)
    else:
        expected = 5 * 51 + (steps - 1) * 4 * 51 + 4
        assert sizes == [51] * 5 + [51] * 4 * (steps - 1) + [4]
    # = the budget of 5 unsolved samples, less what sample 0 did not spend after its first call
    assert counter.forward_samples == expected == 5 * per_sample - (per_sample - first)
    assert success(model, x_adv[:1], labels[:1], targeted).all()
    assert not success(model, x_adv[1:], labels[1:], targeted).any()


@pytest.mark.parametrize("name", RANDOM)
def test_query_budget_on_a_solvable_batch(name):
    """Within the stated budget: forward calls <= the per-run maximum, and each sample costs
    at most its per-sample maximum."""
    model, _, _ = linear_toy()
    x, y, _, du, _ = toy_batch(8)
    counter = PassCounter(model)
    run(name, counter, x, y, 1.5 * du, steps=50)
    per_sample, calls = per_query(name, n=8, steps=50)
    assert counter.forward_calls <= calls
    assert counter.forward_samples <= 8 * per_sample
    assert counter.forward_calls < calls  # everything was solved early


# --------------------------------------------------------------------------- keep the best


@pytest.mark.parametrize("elite", [0, 2])
def test_genetic_returns_the_fittest_candidate_it_evaluated(elite):
    """Unsolvable sample: the result is the candidate with the highest fitness among all the
    queries, i.e. the lowest true-class log-probability (without elites, and with a high
    temperature and mutation rate, the last generation need not hold it)."""
    model, _, _ = linear_toy()
    x, y, _, du, _ = toy_batch(1)
    rec = Recorder(model)
    gen = torch.Generator().manual_seed(0)
    x_adv = genetic(
        rec, x, y, eps=0.5 * du, steps=8, elite=elite, mutation_rate=0.5, temperature=10.0,
        generator=gen,
    )  # fmt: skip
    cands = torch.cat([v for v, _ in rec.seen])
    fit = -torch.cat([z for _, z in rec.seen]).log_softmax(1)[:, y[0]]
    torch.testing.assert_close(x_adv[0], cands[fit.argmax()], rtol=0, atol=0)
    assert (linf(cands, x.expand_as(cands)) <= 0.5 * du + 1e-12).all()  # all in the ball


def test_genetic_children_are_uniform_crossovers_of_the_elites_and_children():
    """No mutation, near-uniform selection (temperature 1e6): every element of a child is the
    same element of a member of the previous population, which is the ``elite`` fittest of the
    generation before plus its children; and crossover mixes (some child copies no member)."""
    model, _, _ = linear_toy()
    x, y, _, du, _ = toy_batch(1)
    rec = Recorder(model)
    gen = torch.Generator().manual_seed(0)
    p, e = 8, 4
    genetic(
        rec, x, y, eps=0.5 * du, steps=3, population=p, elite=e, temperature=1e6,
        mutation_rate=0.0, generator=gen,
    )  # fmt: skip
    (c0, z0), (c1, _), (c2, _) = rec.seen
    assert (len(c0), len(c1), len(c2)) == (p, p - e, p - e)
    elites = c0[(-z0.log_softmax(1)[:, y[0]]).argsort(descending=True)[:e]]
    for parents, children in ((c0, c1), (torch.cat((elites, c1)), c2)):
        inherited = (children[:, None, :] == parents[None, :, :]).any(dim=1)  # (children, d)
        assert inherited.all()
        copies = (children[:, None, :] == parents[None, :, :]).all(dim=2).any(dim=1)
        assert not copies.all()


def test_genetic_elites_survive():
    """With ``elite = population - 2`` only two children are new per generation; the elites
    are not re-queried, and the best of generation k is still in generation k + 1."""
    model, _, _ = linear_toy()
    x, y, _, du, _ = toy_batch(1)
    rec = Recorder(model)
    genetic(rec, x, y, eps=0.5 * du, steps=4, population=6, elite=4, generator=None)
    assert [len(v) for v, _ in rec.seen] == [6, 2, 2, 2]


def test_pso_returns_the_lowest_margin_particle_it_evaluated():
    model, _, _ = linear_toy()
    x, y, _, du, _ = toy_batch(1)
    rec = Recorder(model)
    x_adv = pso(rec, x, y, eps=0.5 * du, steps=10, epochs=2, particles=5, generator=None)
    cands = torch.cat([v for v, _ in rec.seen])
    val = margin(torch.cat([z for _, z in rec.seen]), y.expand(len(cands)), False)
    torch.testing.assert_close(x_adv[0], cands[val.argmin()], rtol=0, atol=0)
    assert (linf(cands, x.expand_as(cands)) <= 0.5 * du + 1e-12).all()


def test_pso_restarts_only_unsolved_samples_from_a_fresh_swarm():
    """Two epochs of 3 iterations; sample 0 is solved by its first query (wrong label), so it
    is in the first call only; the second epoch starts from fresh random positions."""
    model, _, _ = linear_toy()
    x, y, t, du, _ = toy_batch(3)
    labels = y.clone()
    labels[0] = t[0]
    rec = Recorder(model)
    gen = torch.Generator().manual_seed(0)
    pso(rec, x, labels, eps=0.5 * du, steps=3, epochs=2, particles=4, generator=gen)
    assert [len(v) for v, _ in rec.seen] == [12] + [8] * 5
    last_of_first, first_of_second = rec.seen[2][0], rec.seen[3][0]
    assert not torch.isclose(last_of_first, first_of_second).any()


@pytest.mark.parametrize("temperature", [1e-9, 1e9])
def test_genetic_selection_follows_the_temperature(temperature):
    """No mutation. Near zero temperature both parents are the fittest candidate, so every
    child is a copy of it; at a huge one selection is uniform and children differ."""
    model, _, _ = linear_toy()
    x, y, _, du, _ = toy_batch(1)
    rec = Recorder(model)
    gen = torch.Generator().manual_seed(0)
    genetic(
        rec, x, y, eps=0.5 * du, steps=2, population=10, temperature=temperature,
        mutation_rate=0.0, generator=gen,
    )  # fmt: skip
    (c0, z0), (c1, _) = rec.seen
    fittest = c0[(-z0.log_softmax(1)[:, y[0]]).argmax()]
    copies = (c1 == fittest).all(dim=1)
    assert copies.all() if temperature < 1 else not copies.any()


# --------------------------------------------------------------------------- NES


def test_nes_first_step_follows_the_true_gradient():
    """On a linear model the margin objective is linear near ``x`` with gradient
    ``w_j - w_y`` (``j`` the runner-up), so a signed step along the NES estimate gains
    ``step * sign(g_hat) . grad``; with 1000 antithetic pairs that is >= 90 % of the best
    signed step's gain ``step * ||grad||_1``."""
    model, w, _ = linear_toy()
    x, y, _, du, _ = toy_batch(6)
    step = 0.25 * du  # small enough for the runner-up to stay the runner-up
    x1 = nes(
        model, x, y, eps=step, steps=1, step_size=step, samples=2000, sigma=0.001,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    with torch.no_grad():
        runner = model(x).scatter(1, y[:, None], -math.inf).argmax(1)
    grad = w[runner] - w[y]  # (B, DIM)
    moved = (x1 - x) / step[:, None]
    assert torch.allclose(moved.abs(), torch.ones_like(moved))  # one full signed step
    gain = (moved * grad).sum(1)
    assert (gain >= 0.9 * grad.abs().sum(1)).all(), gain / grad.abs().sum(1)
    cos = gain / (moved.norm(dim=1) * grad.norm(dim=1))
    best_cos = grad.abs().sum(1) / (math.sqrt(DIM) * grad.norm(dim=1))
    assert (cos >= 0.9 * best_cos).all()


def test_nes_ce_loss_also_reaches_the_target():
    model, _, _ = linear_toy()
    x, _, t, _, dt = toy_batch(8)
    x_adv = nes(
        model, x, t, targeted=True, eps=1.5 * dt, steps=100, step_size=0.3 * dt, loss="ce",
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert success(model, x_adv, t, True).double().mean() >= 0.8


# --------------------------------------------------------------------------- JSMA


def small_mlp(d, seed=0):
    """A tanh MLP ``d -> 16 -> K`` in float64: non-constant Jacobians for the pair search."""
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Linear(16, K)).double().eval()
    return model.requires_grad_(False)


def brute_force_pair(alpha, beta, domain, sign):
    """Papernot et al. 2016, Algorithm 3, one step, all pairs: ``argmax -(a_p + a_q)(b_p + b_q)``
    over ``p < q`` in the domain with ``sign (a_p + a_q) > 0`` and ``sign (b_p + b_q) < 0``."""
    best, pair = -math.inf, None
    for p, q in itertools.combinations(range(len(alpha)), 2):
        if not (domain[p] and domain[q]):
            continue
        a, b = alpha[p] + alpha[q], beta[p] + beta[q]
        if sign * a > 0 and sign * b < 0 and -a * b > best:
            best, pair = -a * b, {p, q}
    return pair


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_jsma_pair_search_is_exact_with_enough_candidates(sign):
    g = torch.Generator().manual_seed(0)
    d = 12
    for _ in range(20):
        alpha = torch.randn(4, d, generator=g, dtype=F64)
        beta = torch.randn(4, d, generator=g, dtype=F64)
        domain = torch.rand(4, d, generator=g) < 0.7
        p, q, found = _pick_pairs(alpha, beta, domain, sign, 2 * d)
        for i in range(4):
            pair = brute_force_pair(alpha[i].tolist(), beta[i].tolist(), domain[i], sign)
            assert bool(found[i]) == (pair is not None)
            if pair is not None:
                assert {int(p[i]), int(q[i])} == pair


@pytest.mark.parametrize("theta", [0.2, -0.2])
def test_jsma_first_step_moves_the_brute_force_pair(theta):
    """One iteration on a tanh MLP, exact search (candidates = 2 d): the two features that
    changed are Papernot's pair, computed from the Jacobian by brute force."""
    d = 10
    model = small_mlp(d)
    g = torch.Generator().manual_seed(1)
    x = 0.5 * torch.rand(6, d, generator=g, dtype=F64) - 0.25
    with torch.no_grad():
        t = (model(x).argmax(1) + 1) % K
    x1 = jsma(model, x, t, targeted=True, theta=theta, gamma=1.0, steps=1, candidates=2 * d)
    for i in range(6):
        jac = torch.autograd.functional.jacobian(lambda v: model(v[None])[0], x[i])  # (K, d)
        alpha = jac[t[i]]
        beta = jac.sum(0) - alpha
        pair = brute_force_pair(alpha.tolist(), beta.tolist(), [True] * d, math.copysign(1, theta))
        changed = set((x1[i] != x[i]).nonzero().flatten().tolist())
        assert changed == pair
        torch.testing.assert_close(
            x1[i, list(pair)] - x[i, list(pair)], torch.full((2,), theta, dtype=F64)
        )


@pytest.mark.parametrize("gamma", [0.1, 0.25, 0.5])
@pytest.mark.parametrize("targeted", [False, True], ids=["untargeted", "targeted"])
def test_jsma_changes_at_most_gamma_d_features(gamma, targeted):
    """With the default cap (floor(gamma d) / 2 iterations), and with a cap of 40 iterations
    in a tight box (-0.31, 0.31): features saturate and leave the domain, many samples stay
    unsolved, and the L0 budget itself binds."""
    model, _, _ = linear_toy()
    x, y, t, _, _ = toy_batch(16, 4)
    labels, budget = (t if targeted else y), math.floor(gamma * DIM)
    x_adv = jsma(model, x, labels, targeted=targeted, theta=0.3, gamma=gamma)
    changed = (x_adv != x).flatten(1).sum(1)
    assert (changed <= budget).all(), changed
    box = (-0.31, 0.31)
    x_adv = jsma(model, x, labels, targeted=targeted, theta=0.3, gamma=gamma, steps=40, bounds=box)
    changed = (x_adv != x).flatten(1).sum(1)
    assert (changed <= budget).all(), changed
    if gamma < 0.5:  # with 10 features the toy's samples are solved (or stuck) before
        assert (changed == budget).any(), changed
    assert x_adv.min() >= -1 and x_adv.max() <= 1 and x_adv.shape == x.shape


@pytest.mark.parametrize("targeted", [False, True], ids=["untargeted", "targeted"])
def test_jsma_reaches_the_target_on_easy_cases(targeted):
    """theta = 1 (saturating on (-1, 1)) and half the features: 100 % on this toy."""
    model, _, _ = linear_toy()
    x, y, t, _, _ = toy_batch(16)
    labels = t if targeted else y
    x_adv = jsma(model, x, labels, targeted=targeted, theta=1.0, gamma=0.5)
    assert success(model, x_adv, labels, targeted).all()


def test_jsma_stops_at_its_first_success():
    """The result of a full run equals the run capped at the first iteration count that
    succeeds, and one iteration less does not succeed: no feature moves after success."""
    model, _, _ = linear_toy()
    x, _, t, _, _ = toy_batch(8)
    kw = {"targeted": True, "theta": 0.5, "gamma": 0.5}
    full = jsma(model, x, t, **kw)
    assert success(model, full, t, True).all()
    for i in range(8):
        xi, ti = x[i : i + 1], t[i : i + 1]
        k = next(
            s for s in range(1, 11) if success(model, jsma(model, xi, ti, steps=s, **kw), ti, True)
        )
        torch.testing.assert_close(
            full[i : i + 1], jsma(model, xi, ti, steps=k, **kw), rtol=0, atol=0
        )
        assert (full[i] != x[i]).sum() <= 2 * k


def test_jsma_forwards_only_unsolved_samples_and_is_batch_invariant():
    model, _, _ = linear_toy()
    x, _, t, _, _ = toy_batch(8, 4)
    rec = Recorder(model)
    counter = PassCounter(rec)
    whole = jsma(counter, x, t, targeted=True, theta=0.5, gamma=0.5)
    sizes = [len(v) for v, _ in rec.seen]
    assert sizes[0] == 8 and all(b <= a for a, b in itertools.pairwise(sizes))
    assert len(sizes) <= math.floor(0.5 * DIM) // 2 + 1
    assert success(model, whole, t, True).all()
    # two backward passes per move, none once every sample is solved
    assert counter.backward_calls == 2 * (counter.forward_calls - 1)
    one_by_one = torch.cat(
        [
            jsma(model, x[i : i + 1], t[i : i + 1], targeted=True, theta=0.5, gamma=0.5)
            for i in range(8)
        ]
    )
    torch.testing.assert_close(whole, one_by_one, rtol=0, atol=0)


# --------------------------------------------------------------------------- invalid settings


def _bad_cases():
    model, _, _ = linear_toy()
    x, y, t, _, _ = toy_batch(3)
    nan_x = x.clone()
    nan_x[0, 0] = math.nan
    out_x = x.clone()
    out_x[1, 2] = 1.5
    attacks = {
        "genetic": partial(genetic, eps=0.1, steps=2),
        "pso": partial(pso, steps=2, epochs=1),
        "nes": partial(nes, eps=0.1, steps=2),
        "jsma": partial(jsma, steps=2),
    }
    cases = []
    for name, attack in attacks.items():
        cases += [
            (name, "NaN", attack, (model, nan_x, y), {}),
            (name, "outside bounds", attack, (model, out_x, y), {}),
            (name, "bounds", attack, (model, x, y), {"bounds": (1.0, -1.0)}),
            (name, "shape", attack, (model, x, y[:2]), {}),
            (name, "number of classes", attack, (model, x, y + K), {}),
            (name, "steps", attack, (model, x, y), {"steps": 0}),
            (name, "target equals the true label", attack, (model, x, y),
             {"targeted": True, "true_labels": y}),
        ]  # fmt: skip
        if name != "jsma":
            cases += [
                (name, "eps", attack, (model, x, y), {"eps": -0.1}),
                (name, "eps", attack, (model, x, y), {"eps": math.nan}),
                (name, "eps", attack, (model, x, y), {"eps": torch.full((2,), 0.1)}),
            ]
    cases += [
        ("genetic", "population", genetic, (model, x, y), {"eps": 0.1, "population": 3}),
        ("genetic", "population", genetic, (model, x, y), {"eps": 0.1, "population": 2.5}),
        ("genetic", "elite", genetic, (model, x, y), {"eps": 0.1, "elite": -1}),
        ("genetic", "temperature", genetic, (model, x, y), {"eps": 0.1, "temperature": 0.0}),
        ("genetic", "temperature", genetic, (model, x, y), {"eps": 0.1, "temperature": -1}),
        ("genetic", "mutation_rate", genetic, (model, x, y), {"eps": 0.1, "mutation_rate": 1.5}),
        ("genetic", "mutation_rate", genetic, (model, x, y), {"eps": 0.1, "mutation_rate": -0.1}),
        ("pso", "particles", pso, (model, x, y), {"particles": 0}),
        ("pso", "epochs", pso, (model, x, y), {"epochs": 0}),
        ("pso", "inertia", pso, (model, x, y), {"inertia": 0.5}),
        ("pso", "inertia", pso, (model, x, y), {"inertia": (0.9, 0.5, 0.1)}),
        ("pso", "inertia", pso, (model, x, y), {"inertia": (0.9, -0.1)}),
        ("pso", "c1", pso, (model, x, y), {"c1": -1.0}),
        ("pso", "c2", pso, (model, x, y), {"c2": math.inf}),
        ("nes", "samples", nes, (model, x, y), {"eps": 0.1, "samples": 3}),
        ("nes", "samples", nes, (model, x, y), {"eps": 0.1, "samples": 0}),
        ("nes", "sigma", nes, (model, x, y), {"eps": 0.1, "sigma": 0.0}),
        ("nes", "step_size", nes, (model, x, y), {"eps": 0.1, "step_size": 0.0}),
        ("nes", "unknown loss", nes, (model, x, y), {"eps": 0.1, "loss": "hinge"}),
        ("jsma", "theta", jsma, (model, x, y), {"theta": 0.0}),
        ("jsma", "gamma", jsma, (model, x, y), {"gamma": 1.5}),
        ("jsma", "gamma", jsma, (model, x, y), {"gamma": 0.05}),  # 0.05 * 20 < 2 features
        ("jsma", "candidates", jsma, (model, x, y), {"candidates": 1}),
        ("jsma", "true_labels", jsma, (model, x, t), {"targeted": True, "true_labels": y[:1]}),
    ]
    return cases


BAD = _bad_cases()


@pytest.mark.parametrize(
    ("name", "match", "attack", "args", "kwargs"), BAD, ids=[f"{c[0]}-{c[1]}" for c in BAD]
)
def test_invalid_settings_raise_value_error(name, match, attack, args, kwargs):
    with pytest.raises(ValueError, match=match):
        attack(*args, **kwargs)


def test_targets_different_from_true_labels_are_accepted():
    model, _, _ = linear_toy()
    x, y, t, _, _ = toy_batch(3)
    for attack in (partial(genetic, eps=0.01), pso, partial(nes, eps=0.01), jsma):
        out = attack(model, x, t, targeted=True, steps=1, true_labels=y)
        assert out.shape == x.shape


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", RANDOM)
def test_black_box_attacks_keep_the_device_and_take_a_cpu_generator(name):
    model, _, _ = linear_toy(dtype=torch.float32)
    x, y, _, _, _ = toy_batch(4, 4, torch.float32)
    model, x, y = model.cuda(), x.cuda(), y.cuda()
    out = run(name, model, x, y, 0.3, steps=5)  # run() passes a CPU generator
    assert out.device == x.device and out.dtype == x.dtype and out.shape == x.shape
