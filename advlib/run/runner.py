"""Running an attack over a data set: batching, skipping, timing, pass counts, per-sample table.

Attacks in :mod:`advlib.attacks` are plain functions over one batch; :func:`run_attack` is the
one place that loops over batches, decides which samples to attack, times the work, counts the
model's forward and backward passes (through :class:`advlib.attacks.PassCounter`) and
builds the per-sample result table the notebooks cache and aggregate.

Definitions follow the study spec (section 2): untargeted success is a prediction under attack
that differs from the *clean prediction* (UAP paper, Eq. 3), and the table also records whether
it differs from the true label; targeted success is a prediction equal to the target, and
samples whose true class is the target are not attacked and not counted.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm.std import tqdm

from advlib.attacks import PassCounter
from advlib.data.core import AudioSet
from advlib.metrics import Proportion, UndefinedMetricWarning, snr_db
from advlib.train.classifier import predict_logits

__all__ = ["AttackRun", "attack_clips", "eot_victim", "eval_clips", "pick_clips", "run_attack"]

Attack = Callable[..., torch.Tensor]


@dataclass
class AttackRun:
    """What :func:`run_attack` returns.

    Attributes
    ----------
    x_adv:
        Adversarial inputs, same shape as the inputs (unattacked samples are returned as is).
    table:
        One row per sample: ``label``, ``target`` (-1 when untargeted), ``clean_pred``,
        ``adv_pred``, ``attacked``, ``success``, ``fooled_label`` (prediction differs from the
        label), ``l2``, ``linf``, ``snr_db`` (NaN where undefined: no perturbation, as for
        unattacked samples, or a silent clip) and ``seconds`` (the sample's share of its
        batch).
    seconds:
        Wall time of the attack calls (clean and final predictions excluded).
    passes:
        Forward/backward calls and samples the attack made on the model.
    """

    x_adv: torch.Tensor
    table: pd.DataFrame
    seconds: float
    passes: dict[str, int]

    @property
    def success(self) -> Proportion:
        """Attack success rate over the attacked samples, with its Wilson interval."""
        attacked = self.table["attacked"].to_numpy()
        return Proportion(int(self.table["success"][attacked].sum()), int(attacked.sum()))

    def summary(self) -> dict[str, Any]:
        """Success rate, median norms and SNR over successful samples, time and passes."""
        ok = self.table[self.table["success"]]
        return {
            "success": self.success.rate,
            "attacked": int(self.table["attacked"].sum()),
            "median_l2": float(ok["l2"].median()) if len(ok) else float("nan"),
            "median_linf": float(ok["linf"].median()) if len(ok) else float("nan"),
            "median_snr_db": float(ok["snr_db"].median()) if len(ok) else float("nan"),
            "seconds": self.seconds,
            **self.passes,
        }


def run_attack(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    attack: Attack,
    *,
    targets: torch.Tensor | int | None = None,
    batch_size: int | None = None,
    skip_misclassified: bool = True,
    progress: bool = True,
    desc: str = "attack",
) -> AttackRun:
    """Attack ``x`` (labels ``y``) with ``attack(model, x, y_or_targets, targeted=...)``.

    Parameters
    ----------
    model:
        The victim (put in eval mode here; its mode is restored afterwards).
    attack:
        A batch attack with the library's signature, configuration bound beforehand
        (``functools.partial(pgd, eps=0.01, steps=20)``).
    targets:
        ``None`` for untargeted; an int or a ``(N,)`` tensor of target classes for targeted.
        Samples whose label equals their target are skipped (and excluded from the rate).
    batch_size:
        Samples per attack call (default: all at once).
    skip_misclassified:
        Untargeted only: leave samples the model already gets wrong unattacked, as most
        papers do (their clean prediction already differs from the label).
    """
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or y.is_floating_point() or y.is_complex():
        raise ValueError("y must be a 1-D integer tensor of labels")
    if x.ndim < 1 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0] if x.ndim else 0} samples but y has {y.shape[0]}")
    if len(x) == 0:
        raise ValueError("nothing to attack: x is empty (an empty batch has no success rate)")
    if not torch.isfinite(x).all():
        raise ValueError("inputs contain NaN or inf")
    n = len(x)
    batch_size = batch_size or n
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    targeted = targets is not None
    if targeted:
        t = torch.as_tensor(targets, dtype=torch.long)
        t = t.expand(n).clone() if t.ndim == 0 else t
        if t.shape != y.shape:
            raise ValueError(f"targets must be an int or have shape {tuple(y.shape)}")
    was_training = model.training
    model.eval()
    try:
        logits = predict_logits(model, x, batch_size)
        k = logits.shape[1]
        for name, labels in (("label", y), ("target", t if targeted else None)):
            if labels is not None and ((labels < 0) | (labels >= k)).any():
                bad = labels[(labels < 0) | (labels >= k)][:5].tolist()
                raise ValueError(
                    f"{name}(s) {bad} out of range: the model has {k} classes (0..{k - 1})"
                )
        clean = logits.argmax(1)
        if targeted:
            attacked = t != y
        elif skip_misclassified:
            attacked = clean == y
        else:
            attacked = torch.ones(n, dtype=torch.bool)
        counter = PassCounter(model)
        x_adv = x.clone()
        sample_seconds = torch.zeros(n, dtype=torch.float64)
        idx = torch.nonzero(attacked).flatten()
        total = 0.0
        batches = range(0, len(idx), batch_size)
        for start in tqdm(batches, desc=desc, disable=not progress, unit="batch"):
            b = idx[start : start + batch_size]
            t0 = time.perf_counter()
            out = attack(counter, x[b], t[b] if targeted else y[b], targeted=targeted)
            dt = time.perf_counter() - t0
            if out.shape != x[b].shape:
                raise ValueError(
                    f"attack returned shape {tuple(out.shape)}, not {tuple(x[b].shape)}"
                )
            x_adv[b] = out.detach()
            sample_seconds[b] = dt / len(b)
            total += dt
        adv = predict_logits(model, x_adv, batch_size).argmax(1)
    finally:
        model.train(was_training)
    success = (adv == t) if targeted else (adv != clean)
    success &= attacked
    delta = (x_adv - x).reshape(n, -1)
    flat_x = x.reshape(n, -1)
    with warnings.catch_warnings():  # unattacked clips have no perturbation: their SNR is NaN
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        snr = snr_db(flat_x.numpy(), delta.numpy())
    table = pd.DataFrame(
        {
            "label": y.numpy(),
            "target": t.numpy() if targeted else np.full(n, -1),
            "clean_pred": clean.numpy(),
            "adv_pred": adv.numpy(),
            "attacked": attacked.numpy(),
            "success": success.numpy(),
            "fooled_label": (adv != y).numpy(),
            "l2": delta.norm(dim=1).numpy(),
            "linf": delta.abs().amax(dim=1).numpy(),
            "snr_db": snr,
            "seconds": sample_seconds.numpy(),
        }
    )
    passes = {
        "forward_calls": counter.forward_calls,
        "forward_samples": counter.forward_samples,
        "backward_calls": counter.backward_calls,
        "backward_samples": counter.backward_samples,
    }
    return AttackRun(x_adv=x_adv, table=table, seconds=total, passes=passes)


def pick_clips(y: torch.Tensor, n: int, *, seed: int = 0) -> torch.Tensor:
    """Indices of ``n`` clips drawn class-balanced (round-robin over classes in a seeded
    shuffle), so a small attack set covers every class; all clips when ``n >= len(y)``."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if len(y) == 0:
        raise ValueError("no clips to pick from: the part is empty")
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(y), generator=g)
    by_class = [order[y[order] == c] for c in torch.unique(y).tolist()]
    picked: list[int] = []
    for rank in range(max(len(b) for b in by_class)):
        for b in by_class:
            if rank < len(b):
                picked.append(int(b[rank]))
    return torch.tensor(picked[:n], dtype=torch.long)


def attack_clips(
    cache: Any,
    victim: Any,
    data: Any,
    attack: str,
    settings: dict[str, Any] | None = None,
    *,
    part: str = "test",
    n: int = 100,
    targets: int | str | None = None,
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool = True,
) -> tuple[AttackRun, torch.Tensor, bool]:
    """Attack ``n`` clips of ``data``'s ``part`` with the named attack, cached.

    ``victim`` is a :class:`~advlib.train.classifier.FittedVictim`; ``attack`` a name of
    :data:`advlib.attacks.registry.ATTACKS` with ``settings`` (checked by
    :func:`~advlib.attacks.registry.make_attack`; a ``generator`` seeded with ``seed`` is bound
    when the attack takes one). The cache key covers the victim's own key, the data's identity,
    the part, the clips, the attack and every setting, so nothing is attacked twice.
    Returns ``(run, index, cached)``: the run, the indices of the clips within the part, and
    whether it came from the cache. ``targets``: ``None`` (untargeted), a class index, or
    ``"next"`` (each clip's label + 1, modulo the number of classes).
    """
    from advlib.attacks.registry import code_revision, make_attack

    settings = dict(settings or {})
    make_attack(attack, settings)  # validate before any work
    sub = data.part(part)
    idx = pick_clips(sub.y, n, seed=seed)
    params = {
        "victim": victim.cache_key,
        "data": data.identity(),
        "part": part,
        "n": n,
        "seed": seed,
        "attack": attack,
        "revision": code_revision(attack),
        "settings": settings,
        "targets": targets,
        "batch_size": batch_size,
    }
    x, y = sub.x[idx], sub.y[idx]
    if targets == "next":
        tgt: torch.Tensor | int | None = (y + 1) % data.n_classes
    elif targets is None or (isinstance(targets, int) and 0 <= targets < data.n_classes):
        tgt = targets
    else:
        raise ValueError(f"targets must be None, 'next' or a class index, got {targets!r}")

    def compute() -> dict[str, Any]:
        fn = make_attack(attack, settings, seed=seed)
        run = run_attack(
            victim.model, x, y, fn, targets=tgt, batch_size=batch_size, progress=progress,
            desc=attack,
        )  # fmt: skip
        return {
            "x_adv": run.x_adv.contiguous(),
            "table": run.table,
            "record": {"seconds": run.seconds, "passes": run.passes},
        }

    payload, event = cache.fetch("attack", params, compute)
    rec = payload["record"]
    table = payload["table"]
    for col in ("attacked", "success", "fooled_label"):
        table[col] = table[col].astype(bool)
    run = AttackRun(
        x_adv=payload["x_adv"], table=table, seconds=rec["seconds"], passes=rec["passes"]
    )
    return run, idx, event.hit


def eot_victim(fit: Any, *, samples: int = 4, seed: int = 0) -> Any:
    """``fit``'s model seen through :class:`~advlib.attacks.EOTModel` (its logits averaged over
    ``samples`` random playback transforms, seeded), with its own cache key, so attacks
    crafted through it (:func:`attack_clips`, :func:`~advlib.run.universal.craft_uap`) are cached
    apart from the plain victim's."""
    from advlib.attacks import EOTModel

    model = EOTModel(fit.model, samples=samples, generator=torch.Generator().manual_seed(seed))
    return SimpleNamespace(
        model=model.eval(), name=fit.name, cache_key=f"{fit.cache_key}+eot{samples}"
    )


def eval_clips(
    data: AudioSet, n: int | None, *, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out clips every UAP is evaluated on: the whole test partition, or ``n``
    class-balanced clips of it."""
    test = data.part("test")
    if n is None or n >= len(test.y):
        return test.x, test.y
    idx = pick_clips(test.y, n, seed=seed)
    return test.x[idx], test.y[idx]
