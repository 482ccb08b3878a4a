"""Attack benchmark: advlib's attacks against torchattacks, foolbox and ART, in one process.

    python -m advlib.tools.bench_attacks --profile demo --out bench/attacks-demo.json \\
        [--n 256] [--quick]

One victim (the profile's ``cnn1d_rand`` on its synthetic set, trained through the cache),
the first ``n`` test clips it classifies correctly, and for each attack the same settings for
every library that implements it: FGSM, PGD-Linf and PGD-L2, DeepFool and CW-L2, each with the
settings the profile's ``attacks.runs`` gives it (:func:`profile_settings`: the one source of
truth, shared with the "Attack library" chapter); :data:`SETTINGS` fills in what the profile does
not set.
Per (attack, library) the JSON holds the wall time, the forward and backward passes the
library made on the victim (clips forwarded and backpropagated, counted by
:class:`~advlib.attacks._utils.PassCounter` around the victim for every library), the attack
success rate, the median L2 and Linf norms of the successful perturbations, and the
*overhead*: ``(seconds - model_seconds) / model_seconds``, where ``model_seconds`` prices the
counted passes at the per-clip forward and backward costs measured beforehand. Per attack it
holds the speed-up of ours over the fastest peer. A second part measures the speed-up of the
batched GA and PSO populations over a wrapper that forwards one sample at a time.

Peers see the victim on their own ``[0, 1]`` box through :class:`Unit`, ``x01 = (x + 1) / 2``
(torchattacks assumes ``[0, 1]``; ART's DeepFool scales its step by the box width), so budgets
are halved for them and their results are mapped back before measuring: the function and the
problem are the same. Speed is measured here, never in tests.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import math
import statistics
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from advlib.attacks import PassCounter, cw_l2, deepfool, fgsm, pgd
from advlib.cli import ArgumentParser, run
from advlib.study.provenance import environment_info
from advlib.tools.bench_victims import write_json
from advlib.train.classifier import predict_logits

__all__ = [
    "ATTACKS",
    "LIBRARIES",
    "QUICK_SETTINGS",
    "SETTINGS",
    "Unit",
    "choose_batch_size",
    "load_victim",
    "main",
    "measure_pass_cost",
    "population_speedup",
    "profile_settings",
    "run_benchmark",
    "select_clips",
    "write_json",
]

ATTACKS = ("fgsm", "pgd_linf", "pgd_l2", "deepfool", "cw_l2")
LIBRARIES = ("advlib", "torchattacks", "foolbox", "art")
ENV_PACKAGES = (
    "advlib", "torch", "numpy", "torchattacks", "foolbox", "eagerpy",
    "adversarial-robustness-toolbox",
)  # fmt: skip

#: The fallback only: :func:`main` takes each attack's settings from the profile's
#: ``attacks.runs`` (:func:`profile_settings`); these values fill in an attack the profile does
#: not list and the keys a profile's run does not set (``random_start``, ``early_stop``,
#: ``confidence``; ``step_size`` defaults to Madry's ``2.5 * eps / steps``). Budgets are on the
#: victim's [-1, 1] waveform scale.
SETTINGS: dict[str, dict[str, Any]] = {
    "fgsm": {"eps": 0.02},
    "pgd_linf": {"eps": 0.015, "steps": 20, "random_start": True, "early_stop": True},
    "pgd_l2": {"eps": 0.8, "steps": 20, "random_start": True, "early_stop": True},
    "deepfool": {"overshoot": 0.02, "steps": 50},
    "cw_l2": {  # 25 steps: the AT paper's smallest step count
        "c": 0.1,
        "binary_search_steps": 5,
        "steps": 25,
        "lr": 0.01,
        "confidence": 0.0,
        "early_stop": True,
    },
}

#: The ``--quick`` path: a few steps each, for smoke tests and the schema test.
QUICK_SETTINGS: dict[str, dict[str, Any]] = {
    "fgsm": {"eps": 0.02},
    "pgd_linf": {"eps": 0.015, "steps": 3, "random_start": True, "early_stop": True},
    "pgd_l2": {"eps": 0.8, "steps": 3, "random_start": True, "early_stop": True},
    "deepfool": {"overshoot": 0.02, "steps": 3},
    "cw_l2": {
        "c": 0.1,
        "binary_search_steps": 2,
        "steps": 3,
        "lr": 0.01,
        "confidence": 0.0,
        "early_stop": True,
    },
}

#: What each peer does differently at the same settings (copied into the JSON).
NOTES: dict[tuple[str, str], str] = {
    ("pgd_linf", "advlib"): "each clip stops at its first success (early_stop)",
    ("pgd_l2", "advlib"): "each clip stops at its first success (early_stop)",
    ("deepfool", "advlib"): "each clip stops at its first success; K-1 class gradients from "
    "one forward; solved clips are dropped before their gradients are taken",
    ("cw_l2", "advlib"): "Carlini's early abort per clip, for clips not yet successful at "
    "their current c: stalled ones leave the batch until the next binary-search step",
    ("pgd_linf", "torchattacks"): "returns the last iterate; every clip runs every step",
    ("pgd_l2", "torchattacks"): "returns the last iterate; every clip runs every step",
    ("pgd_linf", "foolbox"): "returns the last iterate; every clip runs every step",
    ("pgd_l2", "foolbox"): "returns the last iterate; every clip runs every step",
    ("pgd_linf", "art"): "every clip runs every step; extra forwards to log its success rate",
    ("pgd_l2", "art"): "every clip runs every step; extra forwards to log its success rate",
    ("deepfool", "torchattacks"): "one clip at a time; K backward passes (a full Jacobian) "
    "per step; overshoot applied per step, x_{i+1} = x_i + (1 + overshoot) r_i",
    ("deepfool", "foolbox"): "a forward and a backward of the whole batch per candidate "
    "class and step, until every clip is adversarial",
    ("deepfool", "art"): "all K class gradients of the whole batch per step, until every "
    "clip has crossed; iterates without overshoot (applied once at the end, epsilon = "
    "overshoot), so a clip can sit on the boundary until max_iter",
    ("cw_l2", "torchattacks"): "no binary search: one optimisation of binary_search_steps * "
    "steps Adam steps at c = 10 * c0; batch-level early stop; its f() masks the label's "
    "logit with 0 instead of -inf (wrong when logits are negative)",
    ("cw_l2", "foolbox"): "the same algorithm (binary search over c, Adam in tanh space); "
    "abort_early stops the whole batch when its summed loss stalls; its failures (all-zero "
    "inputs) are counted as failures, x itself",
    ("cw_l2", "art"): "a different optimiser: gradient descent with a halving/doubling line "
    "search (max_iter = steps), two class gradients and several forwards per iteration",
}


# --------------------------------------------------------------------------- victim and clips


def load_victim(
    profile: str = "demo", victim: str = "cnn1d_rand", dataset: str | None = None
) -> tuple[nn.Module, Any, dict[str, Any]]:
    """The profile's trained ``victim`` and its data set, through
    :meth:`advlib.study.Study.victim` (the cache entry its data set's page trained; trains on
    a miss).

    Returns ``(model, data, info)``; the model is in eval mode with frozen parameters."""
    from advlib.chapters import load_profile
    from advlib.study import Study
    from advlib.tools.pages import chapter_datasets

    cfg = load_profile(profile)
    name = dataset or next(d for d, v in cfg["datasets"].items() if victim in v["victims"])
    study = Study(profile, cfg["seed"], chapter_datasets(cfg, [name]), notebook="bench_attacks")
    fit = study.victim(name, victim)
    data = study.dataset(name)
    model = fit.model.eval().requires_grad_(False)
    info = {
        "profile": profile,
        "dataset": name,
        "victim": victim,
        "cache_key": fit.cache_key,
        "was_cached": fit.cached,
        "best_valid_acc": fit.best_valid_acc,
        "n_params": fit.n_params,
    }
    return model, data, info


#: What a run of the profile's ``attacks.runs`` is, for each attack of the benchmark: the
#: registry's attack name and its norm (``None``: the attack has one).
_PROFILE_ATTACK = {
    "fgsm": ("fgsm", None),
    "pgd_linf": ("pgd", "inf"),
    "pgd_l2": ("pgd", 2),
    "deepfool": ("deepfool", None),
    "cw_l2": ("cw_l2", None),
}
_STEP_KEYS = ("steps", "binary_search_steps")


def profile_settings(
    runs: Mapping[str, Mapping[str, Any]], *, quick: bool = False
) -> dict[str, dict[str, Any]]:
    """Each benchmark attack's settings from the profile's ``attacks.runs``: the untargeted run
    labelled with the attack's name (``pgd_linf``), else the first untargeted run of the same
    attack and norm; only the keys the benchmark uses (those of :data:`SETTINGS` and
    ``step_size``). An attack no run matches is left out (:data:`SETTINGS` is its fallback).
    ``quick`` drops the step counts, so that :data:`QUICK_SETTINGS` keeps its short runs."""
    out: dict[str, dict[str, Any]] = {}
    for attack, (name, norm) in _PROFILE_ATTACK.items():

        def matches(label: str, run: Mapping[str, Any], name=name, norm=norm) -> bool:
            s = run.get("settings") or {}
            same_norm = norm is None or str(s.get("norm", "inf")) == str(norm)
            untargeted = run.get("targets") is None
            return run.get("attack", label) == name and same_norm and untargeted

        items = [(k, dict(v or {})) for k, v in runs.items()]
        chosen = next((r for k, r in items if k == attack and matches(k, r)), None)
        if chosen is None:
            chosen = next((r for k, r in items if matches(k, r)), None)
        if chosen is None:
            continue
        keys = set(SETTINGS[attack]) | {"step_size"}
        if quick:
            keys -= set(_STEP_KEYS)
        out[attack] = {k: v for k, v in (chosen.get("settings") or {}).items() if k in keys}
    return out


def select_clips(
    model: nn.Module, x: Tensor, y: Tensor, n: int, *, fill: bool = False
) -> tuple[Tensor, Tensor]:
    """The first ``n`` clips of ``x`` (in order) that ``model`` classifies correctly. Fewer than
    ``n`` such clips raise, unless ``fill``: then the first misclassified clips make up the
    number (a victim trained for one step, as in the ``smoke`` profile, classifies few)."""
    right = predict_logits(model, x).argmax(1) == y
    ok = right.nonzero().flatten()
    if len(ok) < n:
        if not fill or len(x) < n:
            raise ValueError(f"only {len(ok)} clips are classified correctly, {n} were asked for")
        ok = torch.cat([ok, (~right).nonzero().flatten()])
    idx = ok[:n]
    return x[idx].contiguous(), y[idx].clone()


# --------------------------------------------------------------------------- peers' view


class Unit(nn.Module):
    """The victim on the ``[0, 1]`` box: ``model(2 * x01 - 1)``, any trailing shape flattened
    back to the victim's ``(B, T)`` (torchattacks gets ``(B, 1, 1, T)`` inputs: its PGD-L2
    views per-sample factors as ``(B, 1, 1, 1)``, which would broadcast a ``(B, T)`` batch
    into ``(B, 1, B, T)``)."""

    def __init__(self, model: nn.Module, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.model = model
        self.shape = tuple(shape)

    def forward(self, x01: Tensor) -> Tensor:
        return self.model((2 * x01 - 1).reshape(x01.shape[0], *self.shape))


def _to01(x: Tensor) -> Tensor:
    return (x + 1) / 2


def _from01(x01: Tensor | np.ndarray, like: Tensor) -> Tensor:
    t = torch.as_tensor(np.asarray(x01) if not isinstance(x01, Tensor) else x01)
    return (2 * t.to(like.dtype) - 1).reshape(like.shape)


def _step_size(s: Mapping[str, Any]) -> float:
    return float(s.get("step_size") or 2.5 * s["eps"] / s["steps"])


def _ours(attack: str, s: Mapping[str, Any], counter: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    gen = torch.Generator().manual_seed(0)
    if attack == "fgsm":
        return fgsm(counter, x, y, eps=s["eps"])
    if attack in ("pgd_linf", "pgd_l2"):
        return pgd(
            counter, x, y, eps=s["eps"], steps=s["steps"], step_size=_step_size(s),
            norm="inf" if attack == "pgd_linf" else 2, random_start=s["random_start"],
            early_stop=s["early_stop"], generator=gen,
        )  # fmt: skip
    if attack == "deepfool":
        return deepfool(counter, x, y, overshoot=s["overshoot"], steps=s["steps"])
    if attack == "cw_l2":
        return cw_l2(
            counter, x, y, c=s["c"], binary_search_steps=s["binary_search_steps"],
            steps=s["steps"], lr=s["lr"], confidence=s["confidence"], early_stop=s["early_stop"],
        )  # fmt: skip
    raise ValueError(f"unknown attack {attack!r}")


def _torchattacks(attack: str, s: Mapping[str, Any], unit: Unit, x: Tensor, y: Tensor) -> Tensor:
    import torchattacks

    x01 = _to01(x).reshape(x.shape[0], 1, 1, -1)
    if attack == "fgsm":
        atk = torchattacks.FGSM(unit, eps=s["eps"] / 2)
    elif attack == "pgd_linf":
        atk = torchattacks.PGD(
            unit, eps=s["eps"] / 2, alpha=_step_size(s) / 2, steps=s["steps"],
            random_start=s["random_start"],
        )  # fmt: skip
    elif attack == "pgd_l2":
        atk = torchattacks.PGDL2(
            unit, eps=s["eps"] / 2, alpha=_step_size(s) / 2, steps=s["steps"],
            random_start=s["random_start"],
        )  # fmt: skip
    elif attack == "deepfool":
        atk = torchattacks.DeepFool(unit, steps=s["steps"], overshoot=s["overshoot"])
    elif attack == "cw_l2":
        # ||d01||^2 = ||d||^2 / 4 on the [0, 1] box: c01 = c / 4 is the same problem
        atk = torchattacks.CW(
            unit, c=10 * s["c"] / 4, kappa=s["confidence"],
            steps=s["binary_search_steps"] * s["steps"], lr=s["lr"],
        )  # fmt: skip
    else:
        raise ValueError(f"unknown attack {attack!r}")
    return _from01(atk(x01, y).detach(), x)


def _foolbox(attack: str, s: Mapping[str, Any], unit: Unit, x: Tensor, y: Tensor) -> Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import foolbox as fb

    fmodel = fb.PyTorchModel(unit, bounds=(0.0, 1.0), device="cpu")
    x01 = _to01(x)
    eps: float | None = None
    if attack == "fgsm":
        atk, eps = fb.attacks.FGSM(), s["eps"] / 2
    elif attack == "pgd_linf":
        atk = fb.attacks.LinfPGD(
            abs_stepsize=_step_size(s) / 2, steps=s["steps"], random_start=s["random_start"]
        )
        eps = s["eps"] / 2
    elif attack == "pgd_l2":
        atk = fb.attacks.L2PGD(
            abs_stepsize=_step_size(s) / 2, steps=s["steps"], random_start=s["random_start"]
        )
        eps = s["eps"] / 2
    elif attack == "deepfool":
        atk = fb.attacks.L2DeepFoolAttack(
            steps=s["steps"], candidates=None, overshoot=s["overshoot"]
        )
    elif attack == "cw_l2":
        atk = fb.attacks.L2CarliniWagnerAttack(
            binary_search_steps=s["binary_search_steps"], steps=s["steps"], stepsize=s["lr"],
            confidence=s["confidence"], initial_const=s["c"] / 4, abort_early=s["early_stop"],
        )  # fmt: skip
    else:
        raise ValueError(f"unknown attack {attack!r}")
    _, clipped, _ = atk(fmodel, x01, y, epsilons=eps)
    if attack == "cw_l2":  # where foolbox's CW finds nothing it returns an all-zero input
        failed = (clipped.flatten(1) == 0).all(dim=1)
        clipped = torch.where(failed[:, None], x01, clipped)
    return _from01(clipped.detach(), x)


def _art(attack: str, s: Mapping[str, Any], unit: Unit, x: Tensor, y: Tensor) -> Tensor:
    import logging

    logging.getLogger("art").setLevel(logging.WARNING)
    from art.attacks.evasion import (
        CarliniL2Method,
        DeepFool,
        FastGradientMethod,
        ProjectedGradientDescent,
    )
    from art.estimators.classification import PyTorchClassifier

    n = x.shape[0]
    with torch.no_grad():
        n_classes = int(unit(_to01(x[:1])).shape[1])
    clf = PyTorchClassifier(
        model=unit, loss=nn.CrossEntropyLoss(), input_shape=tuple(x.shape[1:]),
        nb_classes=n_classes, clip_values=(0.0, 1.0), device_type="cpu",
    )  # fmt: skip
    x01 = _to01(x).numpy().astype(np.float32)
    y_np = y.numpy()
    if attack == "fgsm":
        atk = FastGradientMethod(clf, norm=np.inf, eps=s["eps"] / 2, batch_size=n)
    elif attack in ("pgd_linf", "pgd_l2"):
        atk = ProjectedGradientDescent(
            clf, norm=np.inf if attack == "pgd_linf" else 2, eps=s["eps"] / 2,
            eps_step=_step_size(s) / 2, max_iter=s["steps"],
            num_random_init=1 if s["random_start"] else 0, batch_size=n, verbose=False,
        )  # fmt: skip
    elif attack == "deepfool":
        atk = DeepFool(
            clf, max_iter=s["steps"], epsilon=s["overshoot"], nb_grads=n_classes,
            batch_size=n, verbose=False,
        )  # fmt: skip
    elif attack == "cw_l2":
        atk = CarliniL2Method(
            clf, confidence=s["confidence"], learning_rate=s["lr"],
            binary_search_steps=s["binary_search_steps"], max_iter=s["steps"],
            initial_const=s["c"] / 4, batch_size=n, verbose=False,
        )  # fmt: skip
    else:
        raise ValueError(f"unknown attack {attack!r}")
    return _from01(atk.generate(x01, y=y_np), x)


RUNNERS: dict[str, Callable[..., Tensor]] = {
    "torchattacks": _torchattacks,
    "foolbox": _foolbox,
    "art": _art,
}
IMPLEMENTS: dict[str, tuple[str, ...]] = {lib: ATTACKS for lib in LIBRARIES}
_MODULE = {"torchattacks": "torchattacks", "foolbox": "foolbox", "art": "art"}


def _available(library: str) -> str | None:
    """``None`` when the library can be imported, else why not."""
    if library == "advlib":
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module(_MODULE[library])
    except Exception as exc:  # an optional peer: any import failure means "not available"
        return f"{type(exc).__name__}: {exc}"
    return None


# --------------------------------------------------------------------------- measuring


def measure_pass_cost(
    model: nn.Module, x: Tensor, *, batch: int = 64, repeats: int = 3
) -> dict[str, float]:
    """Seconds per clip of a forward (gradient enabled) and of a backward to the input.

    Median of ``repeats`` timed runs on the first ``batch`` clips, after one untimed run."""
    xb = x[: min(batch, len(x))]
    fwd, bwd = [], []
    for r in range(repeats + 1):
        xi = xb.clone().requires_grad_(True)
        t0 = time.perf_counter()
        out = model(xi)
        t1 = time.perf_counter()
        torch.autograd.grad(out.logsumexp(1).sum(), xi)
        t2 = time.perf_counter()
        if r:
            fwd.append((t1 - t0) / len(xb))
            bwd.append((t2 - t1) / len(xb))
    return {
        "forward_s_per_clip": statistics.median(fwd),
        "backward_s_per_clip": statistics.median(bwd),
        "batch": len(xb),
        "repeats": repeats,
    }


def choose_batch_size(
    model: nn.Module,
    x: Tensor,
    sizes: tuple[int, ...] = (8, 16, 32, 64, 128, 256),
    rounds: int = 3,
) -> tuple[int, list[dict[str, float]]]:
    """The batch size (of ``sizes``, at most ``len(x)``) with the cheapest forward + backward
    per clip, and the measured costs (per size, the median over ``rounds`` rounds that visit
    every size in turn, so that a change of load on a shared machine hits all sizes alike).

    On a CPU, large batches of long clips fall out of the cache and the per-clip cost grows
    with the batch: every library is given the clips in chunks of this size, so that none is
    favoured or penalised by its own batching."""
    sizes = tuple(b for b in sizes if b <= len(x)) or (len(x),)
    runs: dict[int, list[dict[str, float]]] = {b: [] for b in sizes}
    for _ in range(rounds):
        for b in sizes:
            runs[b].append(measure_pass_cost(model, x, batch=b, repeats=1))
    costs = [
        {
            "batch": b,
            "forward_s_per_clip": statistics.median(r["forward_s_per_clip"] for r in runs[b]),
            "backward_s_per_clip": statistics.median(r["backward_s_per_clip"] for r in runs[b]),
            "rounds": rounds,
        }
        for b in sizes
    ]
    best = min(costs, key=lambda c: c["forward_s_per_clip"] + c["backward_s_per_clip"])
    return int(best["batch"]), costs


def _norm_stats(model: nn.Module, x: Tensor, y: Tensor, x_adv: Tensor) -> dict[str, Any]:
    success = predict_logits(model, x_adv).argmax(1) != y
    d = (x_adv - x).flatten(1)
    l2, linf = d.norm(dim=1), d.abs().amax(dim=1)

    def med(v: Tensor) -> float | None:
        return float(v[success].median()) if success.any() else None

    return {
        "asr": float(success.float().mean()),
        "n_success": int(success.sum()),
        "median_l2": med(l2),
        "median_linf": med(linf),
        "max_l2": float(l2.max()),
        "max_linf": float(linf.max()),
    }


def _run_one(
    attack: str,
    library: str,
    s: Mapping[str, Any],
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    cost: Mapping[str, float],
    *,
    repeats: int,
    min_seconds: float,
    warmup: int,
    batch_size: int,
) -> dict[str, Any]:
    """Warm up on ``warmup`` clips, then time runs on all clips, given to the library in chunks
    of ``batch_size`` (more than one run only while a run is shorter than ``min_seconds``, up to
    ``repeats``); passes and metrics of the first run."""
    # Wrappers are created in training mode; torchattacks restores the mode it found, so a
    # wrapper left in training mode would switch the victim's batch norm and dropout on.
    counter = PassCounter(model).eval()
    unit = Unit(counter, tuple(x.shape[1:])).eval()

    def one(xs: Tensor, ys: Tensor) -> Tensor:
        if library == "advlib":
            return _ours(attack, s, counter, xs, ys)
        return RUNNERS[library](attack, s, unit, xs, ys)

    def call(xs: Tensor, ys: Tensor) -> Tensor:
        torch.manual_seed(0)  # peers draw their random starts from the global generator
        b = batch_size
        return torch.cat([one(xs[i : i + b], ys[i : i + b]) for i in range(0, len(xs), b)])

    if warmup:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            call(x[:warmup], y[:warmup])
    times: list[float] = []
    passes: dict[str, int] = {}
    x_adv = x
    for r in range(max(1, repeats)):
        counter.reset()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            out = call(x, y)
            times.append(time.perf_counter() - t0)
        if r == 0:
            x_adv = out
            passes = {
                "forward_calls": counter.forward_calls,
                "forward_samples": counter.forward_samples,
                "backward_calls": counter.backward_calls,
                "backward_samples": counter.backward_samples,
            }
        if model.training:
            raise RuntimeError(f"{library} left the victim in training mode ({attack})")
        if times[-1] >= min_seconds:
            break
    seconds = statistics.median(times)
    model_seconds = (
        passes["forward_samples"] * cost["forward_s_per_clip"]
        + passes["backward_samples"] * cost["backward_s_per_clip"]
    )
    row: dict[str, Any] = {
        "attack": attack,
        "library": library,
        "available": True,
        "note": NOTES.get((attack, library), ""),
        "seconds": seconds,
        "runs": len(times),
        **passes,
        "forward_per_clip": passes["forward_samples"] / len(x),
        "backward_per_clip": passes["backward_samples"] / len(x),
        "model_seconds": model_seconds,
        "overhead": (seconds - model_seconds) / model_seconds if model_seconds > 0 else None,
        **_norm_stats(model, x, y, x_adv.detach()),
    }
    return row


def _norm_key(attack: str) -> str:
    return "median_linf" if attack in ("fgsm", "pgd_linf") else "median_l2"


def _not_worse(ours: Mapping[str, Any], peer: Mapping[str, Any], key: str) -> bool:
    """Ours at least as good as ``peer``: ASR no more than 0.5 points lower and median norm
    (in ``key``) no more than 1 % larger."""
    n_o, n_p = ours[key], peer[key]
    norm_ok = n_o is None or n_p is None or n_o <= 1.01 * n_p
    return ours["asr"] >= peer["asr"] - 0.005 and norm_ok


def _speedups(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per attack: ours against the fastest peer that ran (``speedup``; ``not_worse`` says
    whether ours matches its ASR and norm, see :func:`_not_worse`), and against the fastest
    peer among those ours matches (``speedup_at_quality``: a faster peer that pays with a
    lower ASR or larger perturbations is not counted there). The goal is 1.3 or more."""
    out: dict[str, dict[str, Any]] = {}
    for attack in dict.fromkeys(r["attack"] for r in rows):
        ran = [r for r in rows if r["attack"] == attack and "seconds" in r]
        ours = next((r for r in ran if r["library"] == "advlib"), None)
        peers = [r for r in ran if r["library"] != "advlib"]
        if ours is None or not peers:
            out[attack] = {"fastest_peer": None, "speedup": None}
            continue
        key = _norm_key(attack)
        fast = min(peers, key=lambda r: r["seconds"])
        matched = [r for r in peers if _not_worse(ours, r, key)]
        fast_q = min(matched, key=lambda r: r["seconds"]) if matched else None
        n_o, n_p = ours[key], fast[key]
        speedup = fast["seconds"] / ours["seconds"]
        out[attack] = {
            "fastest_peer": fast["library"],
            "ours_seconds": ours["seconds"],
            "fastest_peer_seconds": fast["seconds"],
            "speedup": speedup,
            "model_cost_ratio": fast["model_seconds"] / ours["model_seconds"],
            "asr_diff": ours["asr"] - fast["asr"],
            "norm": key,
            "norm_ratio": n_o / n_p if n_o is not None and n_p else None,
            "not_worse": _not_worse(ours, fast, key),
            "fastest_matched_peer": fast_q["library"] if fast_q else None,
            "speedup_at_quality": fast_q["seconds"] / ours["seconds"] if fast_q else None,
            "goal_met": bool(fast_q is fast and speedup >= 1.3),
        }
    return out


def _merge(base: Mapping[str, dict[str, Any]], extra: Mapping[str, Mapping[str, Any]] | None):
    out = copy.deepcopy(dict(base))
    for attack, kw in (extra or {}).items():
        out.setdefault(attack, {}).update(kw)
    return out


def run_benchmark(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    quick: bool = False,
    attacks: tuple[str, ...] = ATTACKS,
    libraries: tuple[str, ...] = LIBRARIES,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    repeats: int = 3,
    min_seconds: float = 2.0,
    warmup: int = 4,
    population: bool = True,
    batch_size: int | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run every attack of ``attacks`` with every library of ``libraries`` on ``(x, y)``.

    ``model`` takes ``(B, ...)`` inputs on the ``[-1, 1]`` box; ``settings`` updates
    :data:`SETTINGS` (or :data:`QUICK_SETTINGS` when ``quick``) per attack. Every library gets
    the clips in chunks of ``batch_size`` (default: :func:`choose_batch_size`). ``on_progress``
    receives the document after each (attack, library), with ``"complete": False`` until the
    end. Returns the JSON document (without the environment block, which :func:`main` adds)."""
    model = model.eval()
    cfg = _merge(QUICK_SETTINGS if quick else SETTINGS, settings)
    unknown = set(attacks) - set(ATTACKS)
    if unknown:
        raise ValueError(f"unknown attacks {sorted(unknown)}; known: {ATTACKS}")
    batch_costs: list[dict[str, float]] = []
    if batch_size is None:
        batch_size, batch_costs = choose_batch_size(model, x)
    batch_size = max(1, min(int(batch_size), len(x)))
    cost = measure_pass_cost(model, x, batch=batch_size, repeats=1 if quick else 3)
    rows: list[dict[str, Any]] = []
    doc: dict[str, Any] = {
        "benchmark": "attack_speed",
        "complete": False,
        "quick": quick,
        "n_clips": len(x),
        "input_shape": list(x.shape[1:]),
        "box": [-1.0, 1.0],
        "torch_threads": torch.get_num_threads(),
        "timing": (
            f"wall time of one run on all clips (in chunks of {batch_size} for every library) "
            f"after an untimed warm-up run on {warmup} clips; "
            f"runs shorter than {min_seconds} s are repeated (up to {repeats}) and the median "
            "is reported; passes, ASR and norms come from the first run"
        ),
        "overhead_definition": "(seconds - model_seconds) / model_seconds, model_seconds = "
        "forward_samples * forward_s_per_clip + backward_samples * backward_s_per_clip",
        "success_definition": "prediction on x_adv differs from the label (every clip is "
        "classified correctly before the attack); norms on the [-1, 1] scale, medians over "
        "successful clips",
        "batch_size": batch_size,
        "batch_size_costs": batch_costs,
        "pass_cost": cost,
        "settings": {a: cfg[a] for a in attacks},
        "results": rows,
        "speedups": {},
    }
    for attack in attacks:
        for library in libraries:
            why = _available(library)
            if why is not None or attack not in IMPLEMENTS.get(library, ()):
                rows.append(
                    {"attack": attack, "library": library, "available": False,
                     "note": why or f"{library} has no {attack}"}
                )  # fmt: skip
                continue
            try:
                row = _run_one(
                    attack, library, cfg[attack], model, x, y, cost,
                    repeats=repeats, min_seconds=min_seconds, warmup=warmup,
                    batch_size=batch_size,
                )  # fmt: skip
            except Exception as exc:  # a peer failing is a result, not a crash of the benchmark
                if library == "advlib":
                    raise
                row = {"attack": attack, "library": library, "available": True,
                       "error": f"{type(exc).__name__}: {exc}"}  # fmt: skip
            rows.append(row)
            doc["speedups"] = _speedups(rows)
            if on_progress is not None:
                on_progress(doc)
    if population:
        k = min(8, len(x))
        doc["population"] = population_speedup(model, x[:k], y[:k], quick=quick)
    doc["complete"] = True
    return doc


# --------------------------------------------------------------------------- GA / PSO


class OneAtATime(nn.Module):
    """Forwards a batch one sample at a time (the same logits, ``B`` calls)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.model(x[i : i + 1]) for i in range(x.shape[0])])


def _call_with(fn: Callable[..., Tensor], model: nn.Module, x: Tensor, y: Tensor, **kw: Any):
    accepted = inspect.signature(fn).parameters
    return fn(model, x, y, **{k: v for k, v in kw.items() if k in accepted})


def population_speedup(
    model: nn.Module, x: Tensor, y: Tensor, *, quick: bool = False
) -> dict[str, Any]:
    """GA and PSO with their batched population against :class:`OneAtATime` (a loop over
    individuals): seconds of each, the speed-up, and whether both give the same result.

    Imported lazily: an attack that cannot be imported is skipped with a note."""
    steps = 2 if quick else 10
    plans = {
        "genetic": ("advlib.attacks.genetic", "genetic", {"population": 20}),
        "pso": ("advlib.attacks.pso", "pso", {"particles": 25, "epochs": 1}),
    }
    out: dict[str, Any] = {}
    for name, (module, func, extra) in plans.items():
        try:
            fn = getattr(importlib.import_module(module), func)
        except Exception as exc:  # being written elsewhere: skip, and say why
            out[name] = {"skipped": f"{module}.{func} not importable: {type(exc).__name__}: {exc}"}
            continue
        kw = {"eps": 0.01, "steps": steps, **extra}
        res: dict[str, Any] = {"settings": kw, "n_clips": len(x)}
        try:
            for label in ("batched", "loop"):
                counter = PassCounter(model).eval()  # inside the loop: counts its B calls
                wrapped = counter if label == "batched" else OneAtATime(counter).eval()
                t0 = time.perf_counter()
                x_adv = _call_with(
                    fn, wrapped, x, y, generator=torch.Generator().manual_seed(0), **kw
                )
                res[f"{label}_seconds"] = time.perf_counter() - t0
                res[f"{label}_forward_calls"] = counter.forward_calls
                res[f"{label}_forward_samples"] = counter.forward_samples
                res[f"{label}_x_adv"] = x_adv
            res["same_result"] = bool(
                torch.allclose(res.pop("batched_x_adv"), res.pop("loop_x_adv"), atol=1e-5)
            )
            res["speedup"] = res["loop_seconds"] / res["batched_seconds"]
        except Exception as exc:  # report, do not crash the attack benchmark
            res = {"skipped": f"{name} failed: {type(exc).__name__}: {exc}"}
        out[name] = res
    return out


# --------------------------------------------------------------------------- output


def _table(doc: Mapping[str, Any]) -> str:
    lines = [
        f"{'attack':9s} {'library':12s} {'seconds':>8s} {'fwd/clip':>8s} {'bwd/clip':>8s} "
        f"{'ASR':>6s} {'med L2':>7s} {'med Linf':>8s} {'overhead':>8s}"
    ]
    for r in doc["results"]:
        if "seconds" not in r:
            lines.append(f"{r['attack']:9s} {r['library']:12s} {r.get('error') or r['note']}")
            continue

        def f(v: float | None, fmt: str) -> str:
            return format(v, fmt) if v is not None and math.isfinite(v) else "-"

        lines.append(
            f"{r['attack']:9s} {r['library']:12s} {r['seconds']:8.2f} "
            f"{r['forward_per_clip']:8.1f} {r['backward_per_clip']:8.1f} {r['asr']:6.3f} "
            f"{f(r['median_l2'], '7.3f')} {f(r['median_linf'], '8.4f')} "
            f"{f(r['overhead'], '8.2f')}"
        )
    for attack, s in doc["speedups"].items():
        if s.get("speedup") is not None:
            q = s["speedup_at_quality"]
            lines.append(
                f"{attack}: {s['speedup']:.2f}x over the fastest peer ({s['fastest_peer']}; "
                f"ours ASR {s['asr_diff']:+.3f}, norm ratio {s['norm_ratio']:.3f}); "
                + (
                    f"{q:.2f}x over {s['fastest_matched_peer']}, the fastest peer ours matches"
                    if q is not None
                    else "ours matches no peer"
                )
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m advlib.tools.bench_attacks", description=__doc__)
    parser.add_argument("--profile", default="demo")
    parser.add_argument(
        "--victim", default=None, help="default: the profile's attacks.victim, else cnn1d_rand"
    )
    parser.add_argument("--out", default="bench/attacks-demo.json")
    parser.add_argument("--n", type=int, default=None, help="clips (default 256, quick 16)")
    parser.add_argument("--quick", action="store_true", help="a few steps per attack")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--attacks", nargs="+", default=list(ATTACKS), choices=ATTACKS)
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--batch-size", type=int, default=None, help="clips per attack call (default: measured)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    n = args.n or (16 if args.quick else 256)
    t0 = time.perf_counter()
    from advlib.chapters import load_profile

    section = load_profile(args.profile).get("attacks") or {}
    settings = profile_settings(section.get("runs") or {}, quick=args.quick)
    victim = args.victim or section.get("victim", "cnn1d_rand")
    dataset = section.get("dataset") if victim == section.get("victim") else None
    model, data, info = load_victim(args.profile, victim, dataset)
    test = data.part("test")
    labels = torch.as_tensor(test.y, dtype=torch.long)
    right = int((predict_logits(model, test.x).argmax(1) == labels).sum())
    # a profile that trains its victims for a step (smoke) has few right: fill with wrong ones
    x, y = select_clips(model, test.x, labels, n, fill=right < n)
    env = environment_info(ENV_PACKAGES)
    clips = f"the first {n} test clips the victim classifies correctly"
    if right < n:
        clips = (f"{clips}: only {right} are, so misclassified test clips make up the number "
                 "(success rates then mean little)")  # fmt: skip

    def full(doc: dict[str, Any]) -> dict[str, Any]:
        total = time.perf_counter() - t0
        return {**doc, **info, "clips": clips, "total_seconds": total, "environment": env}

    def progress(doc: dict[str, Any]) -> None:  # a partial file survives a crash
        r = doc["results"][-1]
        print(
            f"{r['attack']:9s} {r['library']:12s} "
            + (f"{r['seconds']:8.2f} s" if "seconds" in r else r.get("error", r.get("note"))),
            flush=True,
        )
        write_json(full(doc), args.out)

    doc = run_benchmark(
        model, x, y, quick=args.quick, attacks=tuple(args.attacks),
        libraries=tuple(args.libraries), settings=settings, repeats=args.repeats,
        batch_size=args.batch_size, on_progress=progress,
    )  # fmt: skip
    doc = full(doc)
    out = write_json(doc, args.out)
    print(_table(doc))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
