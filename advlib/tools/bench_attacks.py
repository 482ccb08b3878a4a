"""Attack benchmark: advlib's attacks against torchattacks, foolbox and ART, in one process.

    python -m advlib.tools.bench_attacks --profile demo --out bench/attacks-demo.json \\
        [--n 256] [--quick] [--device cuda] [--threads 2] [--no-curves]

One victim (the profile's ``attacks.victim``, trained through the cache), the first ``n`` test
clips it classifies correctly, and for each gradient attack of the library (FGSM, BIM,
PGD-Linf and PGD-L2, DeepFool, CW-L2, DDN, JSMA and NES) the same settings for every library
that implements it: the settings the profile's ``attacks.runs`` gives it
(:func:`profile_settings`: the one source of truth, shared with the "Attack library"
chapter); :data:`SETTINGS` fills in what the profile does not set. JSMA runs targeted at the
label + 1 (the profile's JSMA run), every other attack untargeted.

Per (attack, library) the JSON holds the wall time, the forward and backward passes the
library made on the victim (clips forwarded and backpropagated, counted by
:class:`CallLog` around the victim for every library), the attack success rate, the median
norms of the successful perturbations (L2, Linf, and L0 for JSMA), and the *overhead*:
``(seconds - model_seconds) / model_seconds``, where ``model_seconds`` prices the counted
passes at the per-clip forward and backward costs measured beforehand. Our rows also hold the
*floor*: our attack's own model calls (the same batch sizes, the same clips, each call's
backward passes) replayed and timed alone, without any of the attack's arithmetic, so
``floor_ratio = seconds / floor_seconds`` is what the attack costs beyond its passes.

Per attack, ``speedups`` holds the ratio of the fastest peer's time to ours (the goal: 1.3 or
more at an equal or higher success rate and an equal or smaller median norm), the fastest
peer's time over our floor (the most any implementation of our passes could gain), and for
an attack no peer implements, the goal within 10 % of the floor. ``curves`` holds, for the
minimal-norm attacks (DeepFool, CW-L2, DDN), success and median L2 against time per library
on a ladder of step budgets (:data:`CURVES`, on the first ``--curve-n`` clips), drawn by
:func:`advlib.plots.plot_success_curves`. A last part measures the speed-up of the batched GA
and PSO populations over a wrapper that forwards one sample at a time.

Peers see the victim on their own ``[0, 1]`` box through :class:`Unit`, ``x01 = (x + 1) / 2``
(torchattacks assumes ``[0, 1]``; ART's DeepFool scales its step by the box width), so budgets
are halved for them and their results are mapped back before measuring: the function and the
problem are the same. Foolbox's DDN and NES get the victim on its own ``[-1, 1]`` box instead
(their step sizes are absolute and not settable). With ``--device cuda`` the victim lives on
the GPU: our attacks are handed CPU clips and move each batch there once
(:func:`advlib.attacks._utils.on_model_device`), the peers get the clips on the device.
Speed is measured here, never in tests.
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

from advlib.attacks import PassCounter, bim, cw_l2, ddn, deepfool, fgsm, jsma, nes, pgd
from advlib.cli import ArgumentParser, run
from advlib.study.provenance import environment_info
from advlib.tools.bench_victims import write_json
from advlib.train.classifier import predict_logits

__all__ = [
    "ATTACKS",
    "CURVES",
    "LIBRARIES",
    "QUICK_SETTINGS",
    "SETTINGS",
    "CallLog",
    "Unit",
    "choose_batch_size",
    "load_victim",
    "main",
    "measure_pass_cost",
    "population_speedup",
    "profile_settings",
    "replay_floor",
    "run_benchmark",
    "select_clips",
    "success_curves",
    "write_json",
]

ATTACKS = ("fgsm", "bim", "pgd_linf", "pgd_l2", "deepfool", "cw_l2", "ddn", "jsma", "nes")
LIBRARIES = ("advlib", "torchattacks", "foolbox", "art")
#: Attacks run targeted (at the label + 1, modulo the classes), as the profile runs them.
TARGETED = ("jsma",)
ENV_PACKAGES = (
    "advlib", "torch", "numpy", "torchattacks", "foolbox", "eagerpy",
    "adversarial-robustness-toolbox",
)  # fmt: skip

#: The fallback only: :func:`main` takes each attack's settings from the profile's
#: ``attacks.runs`` (:func:`profile_settings`); these values fill in an attack the profile does
#: not list and the keys a profile's run does not set (``random_start``, ``early_stop``,
#: ``confidence``; ``step_size`` defaults to the attack's own rule). Budgets are on the
#: victim's [-1, 1] waveform scale.
SETTINGS: dict[str, dict[str, Any]] = {
    "fgsm": {"eps": 0.02},
    "bim": {"eps": 0.005, "steps": 10, "variant": "a"},
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
    "ddn": {"steps": 100, "init_norm": 1.0, "gamma": 0.05},
    "jsma": {"theta": 0.5, "gamma": 0.05, "steps": 50},
    "nes": {"eps": 0.02, "steps": 20, "samples": 20, "step_size": 0.004, "sigma": 0.001},
}

#: The ``--quick`` path: a few steps each, for smoke tests and the schema test.
QUICK_SETTINGS: dict[str, dict[str, Any]] = {
    "fgsm": {"eps": 0.02},
    "bim": {"eps": 0.02, "steps": 3, "variant": "a"},
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
    "ddn": {"steps": 3, "init_norm": 1.0, "gamma": 0.05},
    "jsma": {"theta": 0.5, "gamma": 0.1, "steps": 3},
    "nes": {"eps": 0.02, "steps": 2, "samples": 4, "step_size": 0.004, "sigma": 0.001},
}

#: Step budgets of the success-against-time curves of the minimal-norm attacks: each point
#: updates the attack's settings (the last point is the benchmark's own budget).
CURVES: dict[str, tuple[dict[str, Any], ...]] = {
    "deepfool": ({"steps": 1}, {"steps": 2}, {"steps": 3}, {"steps": 5}, {}),
    "cw_l2": (
        {"binary_search_steps": 1, "steps": 10},
        {"binary_search_steps": 1, "steps": 25},
        {"binary_search_steps": 2, "steps": 25},
        {},
    ),
    "ddn": ({"steps": 10}, {"steps": 25}, {"steps": 50}, {}),
}
QUICK_CURVES: dict[str, tuple[dict[str, Any], ...]] = {
    "deepfool": ({"steps": 1}, {}),
    "cw_l2": ({"binary_search_steps": 1, "steps": 2}, {}),
    "ddn": ({"steps": 2}, {}),
}

#: What each peer does differently at the same settings (copied into the JSON).
NOTES: dict[tuple[str, str], str] = {
    ("bim", "advlib"): "variant a: each clip stops at its first success, which is returned",
    ("pgd_linf", "advlib"): "each clip stops at its first success (early_stop)",
    ("pgd_l2", "advlib"): "each clip stops at its first success (early_stop)",
    ("deepfool", "advlib"): "each clip stops at its first success; K-1 class gradients from "
    "one forward; solved clips are dropped before their gradients are taken",
    ("cw_l2", "advlib"): "early abort per clip: an unsuccessful clip whose loss stalls "
    "(Carlini's and Foolbox's rule, per clip instead of per batch), or, before the last "
    "binary-search step, a successful clip whose best L2 stopped improving, leaves the batch "
    "until the next binary-search step",
    ("ddn", "advlib"): "a clip leaves the batch once no remaining step can shrink its norm "
    "below its best (its radius, even shrinking at every step, stays above its best norm)",
    ("jsma", "advlib"): "targeted at label + 1; candidate pairs from the 32 most salient "
    "features (advlib.attacks.jsma); each clip stops at its first success",
    ("nes", "advlib"): "antithetic pairs and the iterate in one forward per step; each clip "
    "stops at its first success; margin loss (the profile's)",
    ("bim", "torchattacks"): "returns the last iterate; every clip runs every step",
    ("bim", "foolbox"): "returns the last iterate; every clip runs every step",
    ("bim", "art"): "every clip runs every step; extra forwards to log its success rate",
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
    ("ddn", "foolbox"): "the same algorithm on the victim's own [-1, 1] box (Foolbox's largest "
    "step, 1, is absolute); every clip runs every step",
    ("nes", "foolbox"): "LinfPGD with Foolbox's evolutionary-strategies gradient estimator "
    "(antithetic Gaussian pairs, as NES): one forward of the batch per query, every clip runs "
    "every step, the last iterate is returned; cross-entropy loss (its only one), on the "
    "victim's own [-1, 1] box",
}

#: Why a library is not run on an attack it has under some name (copied into the JSON).
NOT_COMPARABLE: dict[tuple[str, str], str] = {
    ("jsma", "torchattacks"): "the exact pairwise map: a d x d matrix (6.4e7 pairs for d = "
    "8000) per clip and iteration, one clip at a time with K backward passes per iteration; "
    "hours on these clips, and not the restricted search ours runs",
    ("jsma", "art"): "a different algorithm: ART's SaliencyMapMethod moves the two features "
    "with the largest target-class gradient (no pairwise map, no beta term), without an "
    "iteration cap",
    ("ddn", "torchattacks"): "torchattacks has no DDN",
    ("ddn", "art"): "ART has no DDN",
    ("nes", "torchattacks"): "torchattacks has no NES (its SPSA is another estimator)",
    ("nes", "art"): "ART has no NES",
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
    "bim": ("bim", None),
    "pgd_linf": ("pgd", "inf"),
    "pgd_l2": ("pgd", 2),
    "deepfool": ("deepfool", None),
    "cw_l2": ("cw_l2", None),
    "ddn": ("ddn", None),
    "jsma": ("jsma", None),
    "nes": ("nes", None),
}
_STEP_KEYS = ("steps", "binary_search_steps")


def profile_settings(
    runs: Mapping[str, Mapping[str, Any]], *, quick: bool = False
) -> dict[str, dict[str, Any]]:
    """Each benchmark attack's settings from the profile's ``attacks.runs``: the run labelled
    with the attack's name (``pgd_linf``), else the first run of the same attack and norm,
    untargeted (targeted for the attacks of :data:`TARGETED`); only the keys the benchmark
    uses (those of :data:`SETTINGS` and ``step_size``). An attack no run matches is left out
    (:data:`SETTINGS` is its fallback). ``quick`` drops the step counts, so that
    :data:`QUICK_SETTINGS` keeps its short runs."""
    out: dict[str, dict[str, Any]] = {}
    for attack, (name, norm) in _PROFILE_ATTACK.items():

        def matches(label: str, run: Mapping[str, Any], name=name, norm=norm, a=attack) -> bool:
            s = run.get("settings") or {}
            same_norm = norm is None or str(s.get("norm", "inf")) == str(norm)
            targeted = run.get("targets") is not None
            return run.get("attack", label) == name and same_norm and targeted == (a in TARGETED)

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
    return (2 * t.to(like.dtype) - 1).reshape(like.shape).cpu()


def _step_size(attack: str, s: Mapping[str, Any]) -> float:
    """The step size the attack uses: the setting, else its own default rule (BIM: Kurakin's
    ``1.25 eps / steps``; PGD: Madry's ``2.5 eps / steps``)."""
    rule = 1.25 if attack == "bim" else 2.5
    return float(s.get("step_size") or rule * s["eps"] / s["steps"])


def _device_of(model: nn.Module) -> torch.device:
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.device("cpu")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _ours(attack: str, s: Mapping[str, Any], counter: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """Our attack on CPU clips ``x`` (``y``: labels, targets for :data:`TARGETED`); the
    attack moves them to the victim's device itself."""
    gen = torch.Generator().manual_seed(0)
    if attack == "fgsm":
        return fgsm(counter, x, y, eps=s["eps"])
    if attack == "bim":
        return bim(
            counter, x, y, eps=s["eps"], steps=s["steps"], step_size=_step_size(attack, s),
            variant=s.get("variant", "a"),
        )  # fmt: skip
    if attack in ("pgd_linf", "pgd_l2"):
        return pgd(
            counter, x, y, eps=s["eps"], steps=s["steps"], step_size=_step_size(attack, s),
            norm="inf" if attack == "pgd_linf" else 2, random_start=s["random_start"],
            early_stop=s["early_stop"], generator=gen,
        )  # fmt: skip
    if attack == "deepfool":
        return deepfool(counter, x, y, overshoot=s["overshoot"], steps=s["steps"])
    if attack == "cw_l2":
        return cw_l2(
            counter, x, y, c=s["c"], binary_search_steps=s["binary_search_steps"],
            steps=s["steps"], lr=s["lr"], confidence=s["confidence"], early_stop=s["early_stop"],
            warm_start=s.get("warm_start", False),
        )  # fmt: skip
    if attack == "ddn":
        return ddn(
            counter, x, y, steps=s["steps"], init_norm=s["init_norm"], gamma=s["gamma"],
            generator=gen,
        )  # fmt: skip
    if attack == "jsma":
        return jsma(
            counter, x, y, targeted=True, theta=s["theta"], gamma=s["gamma"], steps=s["steps"]
        )
    if attack == "nes":
        return nes(
            counter, x, y, eps=s["eps"], steps=s["steps"], step_size=s["step_size"],
            samples=s["samples"], sigma=s["sigma"], loss=s.get("loss", "margin"), generator=gen,
        )  # fmt: skip
    raise ValueError(f"unknown attack {attack!r}")


def _torchattacks(attack: str, s: Mapping[str, Any], unit: Unit, x: Tensor, y: Tensor) -> Tensor:
    import torchattacks

    dev = _device_of(unit)
    x01 = _to01(x).reshape(x.shape[0], 1, 1, -1).to(dev)
    if attack == "fgsm":
        atk = torchattacks.FGSM(unit, eps=s["eps"] / 2)
    elif attack == "bim":
        atk = torchattacks.BIM(
            unit, eps=s["eps"] / 2, alpha=_step_size(attack, s) / 2, steps=s["steps"]
        )
    elif attack == "pgd_linf":
        atk = torchattacks.PGD(
            unit, eps=s["eps"] / 2, alpha=_step_size(attack, s) / 2, steps=s["steps"],
            random_start=s["random_start"],
        )  # fmt: skip
    elif attack == "pgd_l2":
        atk = torchattacks.PGDL2(
            unit, eps=s["eps"] / 2, alpha=_step_size(attack, s) / 2, steps=s["steps"],
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
    return _from01(atk(x01, y.to(dev)).detach(), x)


def _foolbox(attack: str, s: Mapping[str, Any], unit: Unit, x: Tensor, y: Tensor) -> Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import foolbox as fb

    dev = _device_of(unit)
    if attack in ("ddn", "nes"):  # on the victim's own box: absolute step sizes, see NOTES
        fmodel = fb.PyTorchModel(unit.model, bounds=(-1.0, 1.0), device=dev)
        xs, ys = x.to(dev), y.to(dev)
        if attack == "ddn":
            atk = fb.attacks.DDNAttack(
                init_epsilon=s["init_norm"], steps=s["steps"], gamma=s["gamma"]
            )
            _, clipped, _ = atk(fmodel, xs, ys, epsilons=None)
        else:
            est = fb.gradient_estimators.es_gradient_estimator(
                fb.attacks.LinfPGD, samples=s["samples"], sigma=s["sigma"], bounds=(-1.0, 1.0),
                clip=True,
            )  # fmt: skip
            atk = est(abs_stepsize=s["step_size"], steps=s["steps"], random_start=False)
            _, clipped, _ = atk(fmodel, xs, ys, epsilons=s["eps"])
        return clipped.detach().cpu().reshape(x.shape)
    fmodel = fb.PyTorchModel(unit, bounds=(0.0, 1.0), device=dev)
    x01 = _to01(x).to(dev)
    eps: float | None = None
    if attack == "fgsm":
        atk, eps = fb.attacks.FGSM(), s["eps"] / 2
    elif attack == "bim":
        atk = fb.attacks.LinfBasicIterativeAttack(
            abs_stepsize=_step_size(attack, s) / 2, steps=s["steps"], random_start=False
        )
        eps = s["eps"] / 2
    elif attack == "pgd_linf":
        atk = fb.attacks.LinfPGD(
            abs_stepsize=_step_size(attack, s) / 2, steps=s["steps"],
            random_start=s["random_start"],
        )  # fmt: skip
        eps = s["eps"] / 2
    elif attack == "pgd_l2":
        atk = fb.attacks.L2PGD(
            abs_stepsize=_step_size(attack, s) / 2, steps=s["steps"],
            random_start=s["random_start"],
        )  # fmt: skip
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
    _, clipped, _ = atk(fmodel, x01, y.to(dev), epsilons=eps)
    if attack == "cw_l2":  # where foolbox's CW finds nothing it returns an all-zero input
        failed = (clipped.flatten(1) == 0).all(dim=1)
        clipped = torch.where(failed[:, None], x01, clipped)
    return _from01(clipped.detach(), x)


def _art(attack: str, s: Mapping[str, Any], unit: Unit, x: Tensor, y: Tensor) -> Tensor:
    import logging

    logging.getLogger("art").setLevel(logging.WARNING)
    from art.attacks.evasion import (
        BasicIterativeMethod,
        CarliniL2Method,
        DeepFool,
        FastGradientMethod,
        ProjectedGradientDescent,
    )
    from art.estimators.classification import PyTorchClassifier

    n = x.shape[0]
    dev = _device_of(unit)
    with torch.no_grad():
        n_classes = int(unit(_to01(x[:1]).to(dev)).shape[1])
    clf = PyTorchClassifier(
        model=unit, loss=nn.CrossEntropyLoss(), input_shape=tuple(x.shape[1:]),
        nb_classes=n_classes, clip_values=(0.0, 1.0),
        device_type="gpu" if dev.type == "cuda" else "cpu",
    )  # fmt: skip
    x01 = _to01(x).numpy().astype(np.float32)
    y_np = y.numpy()
    if attack == "fgsm":
        atk = FastGradientMethod(clf, norm=np.inf, eps=s["eps"] / 2, batch_size=n)
    elif attack == "bim":
        atk = BasicIterativeMethod(
            clf, eps=s["eps"] / 2, eps_step=_step_size(attack, s) / 2, max_iter=s["steps"],
            batch_size=n, verbose=False,
        )  # fmt: skip
    elif attack in ("pgd_linf", "pgd_l2"):
        atk = ProjectedGradientDescent(
            clf, norm=np.inf if attack == "pgd_linf" else 2, eps=s["eps"] / 2,
            eps_step=_step_size(attack, s) / 2, max_iter=s["steps"],
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
IMPLEMENTS: dict[str, tuple[str, ...]] = {
    "advlib": ATTACKS,
    "torchattacks": ("fgsm", "bim", "pgd_linf", "pgd_l2", "deepfool", "cw_l2"),
    "foolbox": ("fgsm", "bim", "pgd_linf", "pgd_l2", "deepfool", "cw_l2", "ddn", "nes"),
    "art": ("fgsm", "bim", "pgd_linf", "pgd_l2", "deepfool", "cw_l2"),
}
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


class CallLog(PassCounter):
    """:class:`~advlib.attacks.PassCounter` that also logs every forward call as
    ``[clips, backward passes through its output]`` in :attr:`calls`, so that
    :func:`replay_floor` can time the same model work alone."""

    def reset(self) -> None:
        super().reset()
        self.calls: list[list[int]] = []

    def forward(self, x: Tensor) -> Tensor:
        out = self.model(x)
        n = int(x.shape[0])
        self.forward_calls += 1
        self.forward_samples += n
        entry = [n, 0]
        self.calls.append(entry)
        if out.requires_grad:

            def hook(grad: Tensor, entry: list[int] = entry, n: int = n) -> None:
                entry[1] += 1
                self._count_backward(n)

            out.register_hook(hook)
        return out


def replay_floor(model: nn.Module, x: Tensor, calls: list[list[int]]) -> float:
    """Seconds the model work of ``calls`` (from :class:`CallLog`) takes alone: each call
    forwards the first ``clips`` clips of ``x`` (tiled when it asks for more, as NES's queries
    do) and takes its backward passes to the input (each of a different logit, the graph kept
    between them), a call without backward under ``torch.no_grad()``. Nothing of the attack's
    own arithmetic is timed; the clips are on ``model``'s device before the clock starts."""
    dev = _device_of(model)
    need = max((n for n, _ in calls), default=0)
    pool = x.to(dev)
    if need > len(pool):
        pool = pool.repeat(math.ceil(need / len(pool)), *[1] * (pool.ndim - 1))
    pool = pool[: max(need, 1)].contiguous()
    _sync(dev)
    t0 = time.perf_counter()
    for n, backward in calls:
        xb = pool[:n]
        if not backward:
            with torch.no_grad():
                model(xb)
            continue
        with torch.enable_grad():
            xi = xb.detach().requires_grad_(True)
            out = model(xi)
            k = out.shape[1]
            for j in range(backward):
                torch.autograd.grad(out[:, j % k].sum(), xi, retain_graph=j < backward - 1)
    _sync(dev)
    return time.perf_counter() - t0


def measure_pass_cost(
    model: nn.Module, x: Tensor, *, batch: int = 64, repeats: int = 3
) -> dict[str, float]:
    """Seconds per clip of a forward (gradient enabled) and of a backward to the input.

    Median of ``repeats`` timed runs on the first ``batch`` clips, after one untimed run, on
    ``model``'s device."""
    dev = _device_of(model)
    xb = x[: min(batch, len(x))].to(dev)
    fwd, bwd = [], []
    for r in range(repeats + 1):
        xi = xb.clone().requires_grad_(True)
        _sync(dev)
        t0 = time.perf_counter()
        out = model(xi)
        _sync(dev)
        t1 = time.perf_counter()
        torch.autograd.grad(out.logsumexp(1).sum(), xi)
        _sync(dev)
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


#: Batch sizes tried by :func:`choose_batch_size`: on a GPU the larger ones too, as far as
#: its memory takes them.
CPU_SIZES = (8, 16, 32, 64, 128, 256)
GPU_SIZES = (*CPU_SIZES, 512, 1024, 2048)


def choose_batch_size(
    model: nn.Module,
    x: Tensor,
    sizes: tuple[int, ...] | None = None,
    rounds: int = 3,
) -> tuple[int, list[dict[str, float]]]:
    """The batch size (of ``sizes``, at most ``len(x)``) with the cheapest forward + backward
    per clip, and the measured costs (per size, the median over ``rounds`` rounds that visit
    every size in turn, so that a change of load on a shared machine hits all sizes alike).

    On a CPU, large batches of long clips fall out of the cache and the per-clip cost grows
    with the batch: every library is given the clips in chunks of this size, so that none is
    favoured or penalised by its own batching. On a GPU the sizes go up to
    :data:`GPU_SIZES`' largest; a size the device's memory cannot hold is left out."""
    dev = _device_of(model)
    if sizes is None:
        sizes = GPU_SIZES if dev.type == "cuda" else CPU_SIZES
    sizes = tuple(b for b in sizes if b <= len(x)) or (len(x),)
    runs: dict[int, list[dict[str, float]]] = {b: [] for b in sizes}
    for _ in range(rounds):
        for b in list(runs):
            try:
                runs[b].append(measure_pass_cost(model, x, batch=b, repeats=1))
            except torch.OutOfMemoryError:
                del runs[b]
                torch.cuda.empty_cache()
    costs = [
        {
            "batch": b,
            "forward_s_per_clip": statistics.median(r["forward_s_per_clip"] for r in runs[b]),
            "backward_s_per_clip": statistics.median(r["backward_s_per_clip"] for r in runs[b]),
            "rounds": rounds,
        }
        for b in runs
    ]
    best = min(costs, key=lambda c: c["forward_s_per_clip"] + c["backward_s_per_clip"])
    return int(best["batch"]), costs


def _norm_stats(
    model: nn.Module, x: Tensor, y: Tensor, x_adv: Tensor, targets: Tensor | None = None
) -> dict[str, Any]:
    """Success (prediction differs from ``y``, or equals ``targets``) and the median norms of
    the successful perturbations: L2, Linf and L0 (samples changed by more than 1e-6)."""
    pred = predict_logits(model, x_adv).argmax(1)
    success = pred == targets if targets is not None else pred != y
    d = (x_adv - x).flatten(1)
    l2, linf, l0 = d.norm(dim=1), d.abs().amax(dim=1), (d.abs() > 1e-6).sum(1).double()

    def med(v: Tensor) -> float | None:
        return float(v[success].median()) if success.any() else None

    return {
        "asr": float(success.float().mean()),
        "n_success": int(success.sum()),
        "median_l2": med(l2),
        "median_linf": med(linf),
        "median_l0": med(l0),
        "max_l2": float(l2.max()),
        "max_linf": float(linf.max()),
    }


def _runner(
    attack: str, library: str, s: Mapping[str, Any], counter: CallLog, shape: tuple[int, ...]
) -> Callable[[Tensor, Tensor], Tensor]:
    """``one(x, y) -> x_adv`` for one chunk of CPU clips: ours through ``counter``, a peer
    through :class:`Unit` around it."""
    unit = Unit(counter, shape).eval()
    # Wrappers are created in training mode; torchattacks restores the mode it found, so a
    # wrapper left in training mode would switch the victim's batch norm and dropout on.
    if library == "advlib":
        return lambda xs, ys: _ours(attack, s, counter, xs, ys)
    return lambda xs, ys: RUNNERS[library](attack, s, unit, xs, ys)


def _chunked(
    one: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor, batch_size: int
) -> Tensor:
    torch.manual_seed(0)  # peers draw their random starts from the global generator
    b = batch_size
    return torch.cat([one(x[i : i + b], y[i : i + b]).cpu() for i in range(0, len(x), b)])


def _timed(fn: Callable[[], Tensor], device: torch.device) -> tuple[Tensor, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _sync(device)
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        return out, time.perf_counter() - t0


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
    targets: Tensor | None = None,
    floor: bool = True,
) -> dict[str, Any]:
    """Warm up on ``warmup`` clips, then time runs on all clips, given to the library in chunks
    of ``batch_size`` (more than one run only while a run is shorter than ``min_seconds``, up to
    ``repeats``); passes and metrics of the first run. With ``targets`` the attack is given
    them instead of the labels ``y`` (the attacks of :data:`TARGETED`). Our rows (with
    ``floor``) add the replayed floor."""
    dev = _device_of(model)
    given = y if targets is None else targets
    counter = CallLog(model).eval()
    one = _runner(attack, library, s, counter, tuple(x.shape[1:]))
    if warmup:
        _timed(lambda: _chunked(one, x[:warmup], given[:warmup], batch_size), dev)
    times: list[float] = []
    passes: dict[str, int] = {}
    calls: list[list[int]] = []
    x_adv = x
    for r in range(max(1, repeats)):
        counter.reset()
        out, seconds = _timed(lambda: _chunked(one, x, given, batch_size), dev)
        times.append(seconds)
        if r == 0:
            x_adv = out
            calls = [list(c) for c in counter.calls]
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
        "targeted": targets is not None,
        "note": NOTES.get((attack, library), ""),
        "seconds": seconds,
        "runs": len(times),
        **passes,
        "forward_per_clip": passes["forward_samples"] / len(x),
        "backward_per_clip": passes["backward_samples"] / len(x),
        "model_seconds": model_seconds,
        "overhead": (seconds - model_seconds) / model_seconds if model_seconds > 0 else None,
        **_norm_stats(model, x, y, x_adv.detach(), targets),
    }
    if floor and library == "advlib":
        row["floor_seconds"] = replay_floor(model, x, calls)
        row["floor_ratio"] = seconds / row["floor_seconds"] if row["floor_seconds"] else None
    return row


#: The norm each attack is judged by: Linf for the Linf-bounded ones, L0 for JSMA, else L2.
NORM_KEY = {
    "fgsm": "median_linf",
    "bim": "median_linf",
    "pgd_linf": "median_linf",
    "nes": "median_linf",
    "jsma": "median_l0",
}


def _norm_key(attack: str) -> str:
    return NORM_KEY.get(attack, "median_l2")


def _not_worse(ours: Mapping[str, Any], peer: Mapping[str, Any], key: str) -> bool:
    """Ours at least as good as ``peer``: ASR no more than 0.5 points lower and median norm
    (in ``key``) no more than 1 % larger."""
    n_o, n_p = ours[key], peer[key]
    norm_ok = n_o is None or n_p is None or n_o <= 1.01 * n_p
    return ours["asr"] >= peer["asr"] - 0.005 and norm_ok


#: The goals: ``SPEEDUP_GOAL`` times the fastest peer's speed; without a peer, within
#: ``FLOOR_GOAL`` of the floor.
SPEEDUP_GOAL, FLOOR_GOAL = 1.3, 1.10


def _speedups(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per attack: ours against the fastest peer that ran (``speedup``; ``not_worse`` says
    whether ours matches its ASR and norm, see :func:`_not_worse`), and against the fastest
    peer among those ours matches (``speedup_at_quality``: a faster peer that pays with a
    lower ASR or larger perturbations is not counted there); our ``floor_ratio`` and the
    fastest peer's time over our floor (``peer_over_floor``: the most speed-up any code
    making our passes could reach). ``goal``: ``"peer"`` (speed-up >= 1.3 over the fastest
    peer, which ours matches) or ``"floor"`` (no peer: ``floor_ratio <= 1.1``)."""
    out: dict[str, dict[str, Any]] = {}
    for attack in dict.fromkeys(r["attack"] for r in rows):
        ran = [r for r in rows if r["attack"] == attack and "seconds" in r]
        ours = next((r for r in ran if r["library"] == "advlib"), None)
        peers = [r for r in ran if r["library"] != "advlib"]
        if ours is None:
            out[attack] = {"fastest_peer": None, "speedup": None}
            continue
        floor_ratio = ours.get("floor_ratio")
        base = {
            "ours_seconds": ours["seconds"],
            "floor_seconds": ours.get("floor_seconds"),
            "floor_ratio": floor_ratio,
            "norm": _norm_key(attack),
        }
        if not peers:
            out[attack] = {
                "fastest_peer": None, "speedup": None, **base, "goal": "floor",
                "goal_met": bool(floor_ratio is not None and floor_ratio <= FLOOR_GOAL),
            }  # fmt: skip
            continue
        key = _norm_key(attack)
        fast = min(peers, key=lambda r: r["seconds"])
        matched = [r for r in peers if _not_worse(ours, r, key)]
        fast_q = min(matched, key=lambda r: r["seconds"]) if matched else None
        n_o, n_p = ours[key], fast[key]
        speedup = fast["seconds"] / ours["seconds"]
        floor_s = ours.get("floor_seconds")
        out[attack] = {
            "fastest_peer": fast["library"],
            **base,
            "fastest_peer_seconds": fast["seconds"],
            "speedup": speedup,
            "peer_over_floor": fast["seconds"] / floor_s if floor_s else None,
            "model_cost_ratio": fast["model_seconds"] / ours["model_seconds"]
            if ours["model_seconds"] > 0
            else None,
            "asr_diff": ours["asr"] - fast["asr"],
            "norm_ratio": n_o / n_p if n_o is not None and n_p else None,
            "not_worse": _not_worse(ours, fast, key),
            "fastest_matched_peer": fast_q["library"] if fast_q else None,
            "speedup_at_quality": fast_q["seconds"] / ours["seconds"] if fast_q else None,
            "goal": "peer",
            "goal_met": bool(fast_q is fast and speedup >= SPEEDUP_GOAL),
        }
    return out


def _merge(base: Mapping[str, dict[str, Any]], extra: Mapping[str, Mapping[str, Any]] | None):
    out = copy.deepcopy(dict(base))
    for attack, kw in (extra or {}).items():
        out.setdefault(attack, {}).update(kw)
    return out


def success_curves(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    cfg: Mapping[str, Mapping[str, Any]],
    *,
    attacks: tuple[str, ...],
    libraries: tuple[str, ...],
    batch_size: int,
    quick: bool = False,
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Success against time of the minimal-norm attacks: for each attack of :data:`CURVES`
    among ``attacks`` and each library that implements it, one run per step budget of the
    ladder (each point's settings update the attack's ``cfg``) on ``(x, y)``: its seconds,
    passes, success rate and median L2. A peer that fails at a point records the error."""
    ladders = QUICK_CURVES if quick else CURVES
    dev = _device_of(model)
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for attack in (a for a in attacks if a in ladders):
        per_lib: dict[str, list[dict[str, Any]]] = {}
        for library in libraries:
            if _available(library) is not None or attack not in IMPLEMENTS[library]:
                continue
            points = []
            for step in ladders[attack]:
                s = {**cfg[attack], **step}
                counter = CallLog(model).eval()
                one = _runner(attack, library, s, counter, tuple(x.shape[1:]))
                try:
                    x_adv, seconds = _timed(lambda one=one: _chunked(one, x, y, batch_size), dev)
                except Exception as exc:  # a peer failing is a result
                    if library == "advlib":
                        raise
                    points.append({"settings": step, "error": f"{type(exc).__name__}: {exc}"})
                    continue
                st = _norm_stats(model, x, y, x_adv)
                points.append(
                    {
                        "settings": {k: s[k] for k in ("steps", "binary_search_steps") if k in s},
                        "seconds": seconds,
                        "forward_samples": counter.forward_samples,
                        "backward_samples": counter.backward_samples,
                        "asr": st["asr"],
                        "median_l2": st["median_l2"],
                    }
                )
            per_lib[library] = points
        out[attack] = per_lib
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
    curves: bool = True,
    curve_n: int = 32,
    batch_size: int | None = None,
    skip: tuple[tuple[str, str], ...] = (),
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run every attack of ``attacks`` with every library of ``libraries`` on ``(x, y)``.

    ``model`` takes ``(B, ...)`` inputs on the ``[-1, 1]`` box, on its own device (``x`` and
    ``y`` stay on the CPU); ``settings`` updates :data:`SETTINGS` (or :data:`QUICK_SETTINGS`
    when ``quick``) per attack. Every library gets the clips in chunks of ``batch_size``
    (default: :func:`choose_batch_size`). With ``curves``, the success-against-time curves
    (:func:`success_curves`) on the first ``curve_n`` clips. ``skip``: ``(library, attack)``
    pairs not run on all clips (their row says so; they still run in the curves, whose last
    point is the full budget on ``curve_n`` clips). ``on_progress`` receives the
    document after each (attack, library), with ``"complete": False`` until the end.
    Returns the JSON document (without the environment block, which :func:`main` adds)."""
    model = model.eval()
    cfg = _merge(QUICK_SETTINGS if quick else SETTINGS, settings)
    unknown = set(attacks) - set(ATTACKS)
    if unknown:
        raise ValueError(f"unknown attacks {sorted(unknown)}; known: {ATTACKS}")
    dev = _device_of(model)
    x, y = x.cpu(), y.cpu()
    batch_costs: list[dict[str, float]] = []
    if batch_size is None:
        batch_size, batch_costs = choose_batch_size(model, x)
    batch_size = max(1, min(int(batch_size), len(x)))
    cost = measure_pass_cost(model, x, batch=batch_size, repeats=1 if quick else 3)
    with torch.no_grad():
        targets = (y + 1) % int(model(x[:1].to(dev)).shape[1])
    rows: list[dict[str, Any]] = []
    doc: dict[str, Any] = {
        "benchmark": "attack_speed",
        "complete": False,
        "quick": quick,
        "n_clips": len(x),
        "input_shape": list(x.shape[1:]),
        "box": [-1.0, 1.0],
        "device": str(dev),
        "torch_threads": torch.get_num_threads(),
        "timing": (
            f"wall time of one run on all clips (in chunks of {batch_size} for every library) "
            f"after an untimed warm-up run on {warmup} clips; "
            f"runs shorter than {min_seconds} s are repeated (up to {repeats}) and the median "
            "is reported; passes, ASR and norms come from the first run"
        ),
        "overhead_definition": "(seconds - model_seconds) / model_seconds, model_seconds = "
        "forward_samples * forward_s_per_clip + backward_samples * backward_s_per_clip",
        "floor_definition": "floor_seconds: our run's own model calls (same clips, same batch "
        "sizes, each call's backward passes) replayed and timed alone; floor_ratio = seconds "
        "/ floor_seconds; peer_over_floor = fastest peer's seconds / our floor_seconds",
        "success_definition": "prediction on x_adv differs from the label (every clip is "
        "classified correctly before the attack), or equals the target (label + 1) for "
        f"{', '.join(TARGETED)}; norms on the [-1, 1] scale, medians over successful clips; "
        "L0 counts samples changed by more than 1e-6",
        "goals": f"speed-up >= {SPEEDUP_GOAL} over the fastest peer at an ASR no more than "
        "0.5 points lower and a median norm no more than 1 % larger; without a peer, "
        f"floor_ratio <= {FLOOR_GOAL}",
        "norms": {a: _norm_key(a) for a in attacks},
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
            if (library, attack) in skip and library != "advlib" and why is None:
                why = "skipped on all clips (--skip, for time); see its success curve"
            if why is not None or attack not in IMPLEMENTS.get(library, ()):
                note = why or NOT_COMPARABLE.get((attack, library), f"{library} has no {attack}")
                rows.append({"attack": attack, "library": library, "available": False,
                             "note": note})  # fmt: skip
                continue
            try:
                row = _run_one(
                    attack, library, cfg[attack], model, x, y, cost,
                    repeats=repeats, min_seconds=min_seconds, warmup=warmup,
                    batch_size=batch_size, targets=targets if attack in TARGETED else None,
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
    if curves:
        k = min(curve_n, len(x))
        doc["curves_clips"] = k
        doc["curves"] = success_curves(
            model, x[:k], y[:k], cfg, attacks=attacks, libraries=libraries,
            batch_size=min(batch_size, k), quick=quick,
        )  # fmt: skip
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


def _fmt(v: float | None, fmt: str) -> str:
    return format(v, fmt) if v is not None and math.isfinite(v) else "-"


def _table(doc: Mapping[str, Any]) -> str:
    lines = [
        f"{'attack':9s} {'library':12s} {'seconds':>8s} {'fwd/clip':>8s} {'bwd/clip':>8s} "
        f"{'ASR':>6s} {'med L2':>7s} {'med Linf':>8s} {'med L0':>7s} {'overhead':>8s} "
        f"{'floor x':>7s}"
    ]
    for r in doc["results"]:
        if "seconds" not in r:
            lines.append(f"{r['attack']:9s} {r['library']:12s} {r.get('error') or r['note']}")
            continue
        lines.append(
            f"{r['attack']:9s} {r['library']:12s} {r['seconds']:8.2f} "
            f"{r['forward_per_clip']:8.1f} {r['backward_per_clip']:8.1f} {r['asr']:6.3f} "
            f"{_fmt(r['median_l2'], '7.3f')} {_fmt(r['median_linf'], '8.4f')} "
            f"{_fmt(r.get('median_l0'), '7.0f')} {_fmt(r['overhead'], '8.2f')} "
            f"{_fmt(r.get('floor_ratio'), '7.2f')}"
        )
    for attack, s in doc["speedups"].items():
        met = "MET" if s.get("goal_met") else "not met"
        if s.get("speedup") is not None:
            q = s["speedup_at_quality"]
            lines.append(
                f"{attack}: {s['speedup']:.2f}x over the fastest peer ({s['fastest_peer']}; "
                f"ours ASR {s['asr_diff']:+.3f}, norm ratio {_fmt(s['norm_ratio'], '.3f')}); "
                + (
                    f"{q:.2f}x over {s['fastest_matched_peer']}, the fastest peer ours matches"
                    if q is not None
                    else "ours matches no peer"
                )
                + f"; floor ratio {_fmt(s['floor_ratio'], '.2f')}, fastest peer / our floor "
                f"{_fmt(s['peer_over_floor'], '.2f')}: {met}"
            )
        elif s.get("goal") == "floor":
            lines.append(
                f"{attack}: no peer; {_fmt(s['floor_ratio'], '.2f')}x its floor "
                f"({_fmt(s['floor_seconds'], '.2f')} s): {met}"
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
    parser.add_argument(
        "--device", default="cpu", help="where the victim runs: cpu (default), cuda, cuda:N"
    )
    parser.add_argument("--no-curves", action="store_true", help="skip the success curves")
    parser.add_argument(
        "--curve-n", type=int, default=32, help="clips of the success curves (default 32)"
    )
    parser.add_argument("--no-population", action="store_true", help="skip GA / PSO")
    parser.add_argument(
        "--skip", nargs="+", default=[], metavar="LIBRARY:ATTACK",
        help="peer runs left out on all clips (still in the curves), e.g. art:cw_l2",
    )  # fmt: skip
    args = parser.parse_args(argv)
    skip = []
    for item in args.skip:
        lib, _, attack = item.partition(":")
        if lib not in LIBRARIES[1:] or attack not in ATTACKS:
            raise ValueError(f"--skip {item!r}: expected PEER:ATTACK, a peer of {LIBRARIES[1:]}")
        skip.append((lib, attack))
    from advlib.device import get_device

    device = get_device(args.device)  # a missing GPU is a clear error, never a CPU run
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
    model = model.to(device)
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
        batch_size=args.batch_size, curves=not args.no_curves, curve_n=args.curve_n,
        population=not args.no_population, skip=tuple(skip), on_progress=progress,
    )  # fmt: skip
    doc = full(doc)
    out = write_json(doc, args.out)
    print(_table(doc))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run(main))
