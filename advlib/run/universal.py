"""Crafting and evaluating universal perturbations (UAP paper), cached like every result.

:func:`craft_uap` runs :func:`~advlib.attacks.uap.uap_iterative` or
:func:`~advlib.attacks.uap.uap_penalty` on crafting clips of a data set (cached by every
parameter) and :func:`evaluate_uap` applies the perturbation to other clips through
:func:`~advlib.run.runner.run_attack`, so its table has the same columns as a per-clip attack's.

Success follows the UAP paper's Eq. 3 and the spec: untargeted, the prediction on
``x + v`` differs from the clean prediction, over *all* clips (the paper does not drop the
ones the victim gets wrong; the table's ``fooled_label`` column gives the share that differs
from the true label); targeted, it equals the target, clips of the target class excluded.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import torch

from advlib.attacks import PassCounter
from advlib.attacks.registry import attack_spec, code_revision, make_attack
from advlib.attacks.uap import apply_uap
from advlib.run.runner import AttackRun, pick_clips, run_attack
from advlib.train.classifier import predict_logits

__all__ = ["craft_uap", "evaluate_uap", "uap_settings", "uap_space"]

SCENARIOS = ("untargeted", "targeted")


def uap_space(method: str, settings: dict[str, Any] | None) -> str:
    """How the perturbation of ``method`` is added: ``"tanh"`` or ``"wave"``."""
    if method == "uap_penalty":
        return (settings or {}).get("space", "tanh")
    return "wave"


def uap_settings(
    methods: Mapping[str, Mapping[str, Any]],
    method: str,
    scenario: str,
    *,
    table_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A method's settings for a scenario from a profile's ``uap.methods`` block
    (``{method: {shared..., untargeted: {...}, targeted: {...}}}``), then a table's
    per-method ``table_overrides`` (``{method: {...}}``), then ``overrides``."""
    if method not in methods:
        raise ValueError(f"no settings for {method!r}; the profile gives {sorted(methods)}")
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be 'untargeted' or 'targeted', got {scenario!r}")
    block = methods[method]
    if not isinstance(block, Mapping) or not isinstance(block.get(scenario) or {}, Mapping):
        raise ValueError(f"the settings of {method!r} (and of its {scenario!r}) must be mappings")
    out = {k: v for k, v in block.items() if k not in SCENARIOS}
    out.update(block.get(scenario) or {})
    out.update((table_overrides or {}).get(method) or {})
    out.update(overrides)
    return out


def craft_uap(
    cache: Any,
    victim: Any,
    data: Any,
    method: str,
    settings: dict[str, Any] | None = None,
    *,
    part: str = "train",
    n: int = 100,
    target: int | None = None,
    classes: list[int] | None = None,
    seed: int = 0,
) -> tuple[torch.Tensor, dict[str, Any], bool]:
    """Craft one universal perturbation on ``n`` class-balanced clips of ``data``'s ``part``.

    ``method`` is ``"uap_iterative"`` or ``"uap_penalty"`` with its ``settings``. Untargeted,
    the perturbation is driven away from the victim's clean predictions (Eq. 3); targeted, to
    ``target``, with the clips of that class left out of the crafting set. ``classes``
    restricts the crafting clips to those classes (the paper's Table 3 crafts from a single
    clip of one class: ``n=1, classes=[c]``). Returns
    ``(v, record, cached)``; ``record`` holds the crafting time, the model passes and the
    indices of the crafting clips within the part.
    """
    if attack_spec(method).kind != "universal":
        raise ValueError(f"{method!r} is not a universal attack (uap_iterative, uap_penalty)")
    settings = dict(settings or {})
    make_attack(method, settings)  # validate first
    sub = data.part(part)
    if target is not None and not 0 <= target < data.n_classes:
        raise ValueError(f"target must be a class index below {data.n_classes}, got {target}")
    if classes is not None:
        bad = [c for c in classes if not 0 <= int(c) < data.n_classes]
        if not classes or bad:
            raise ValueError(f"classes must be class indices below {data.n_classes}, got {classes}")
        pool = torch.nonzero(torch.isin(sub.y, torch.as_tensor(classes))).flatten()
        idx = pool[pick_clips(sub.y[pool], n, seed=seed)]
    else:
        idx = pick_clips(sub.y, n, seed=seed)
    if target is not None:
        idx = idx[sub.y[idx] != target]
    params = {
        "victim": victim.cache_key,
        "data": data.identity(),
        "part": part,
        "n": n,
        "seed": seed,
        "method": method,
        "revision": code_revision(method),
        "settings": settings,
        "target": target,
    }
    if classes is not None:  # only when given, so earlier cache entries stay valid
        params["classes"] = sorted(int(c) for c in classes)

    def compute() -> dict[str, Any]:
        model = victim.model.eval()
        x = sub.x[idx]
        clean = predict_logits(model, x).argmax(1)
        fn = make_attack(method, settings, seed=seed)
        counter = PassCounter(model)
        t0 = time.perf_counter()
        if target is None:
            v = fn(counter, x, clean)
        else:
            v = fn(counter, x, target, targeted=True)
        seconds = time.perf_counter() - t0
        return {
            "v": v.detach().contiguous(),
            "record": {
                "seconds": seconds,
                "forward_samples": counter.forward_samples,
                "backward_samples": counter.backward_samples,
                "clips": idx.tolist(),
            },
        }

    payload, event = cache.fetch("uap", params, compute)
    return payload["v"], payload["record"], event.hit


def evaluate_uap(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    v: torch.Tensor,
    *,
    space: str = "wave",
    target: int | None = None,
    batch_size: int = 256,
) -> AttackRun:
    """Apply ``v`` to every clip of ``x`` and measure success as a per-clip attack would."""
    if v.shape != x.shape[1:]:
        raise ValueError(f"v has shape {tuple(v.shape)}, the clips {tuple(x.shape[1:])}")

    def add(
        model_: Any, xb: torch.Tensor, yb: torch.Tensor, targeted: bool = False
    ) -> torch.Tensor:
        return apply_uap(xb, v.to(xb.dtype), space=space)

    return run_attack(
        model, x, y, add, targets=target, batch_size=batch_size, skip_misclassified=False,
        progress=False, desc="uap",
    )  # fmt: skip
