"""Transfer of adversarial examples between victims: craft on one, evaluate on every other.

The UAP paper's Table 4 reports the success of victim *i*'s perturbation on victim *j*; the
same matrix serves per-clip attacks (the GAN chapter's transfer to other speech victims).
Every cell is a :class:`~advlib.metrics.Proportion`, so it carries its 95 % Wilson interval.

Success on an evaluating victim follows the study's definitions (spec, section 2):
untargeted, its prediction on the adversarial input differs from its own prediction on the
clean input (clips it already gets wrong are excluded when ``only_correct``); targeted, its
prediction equals the target (clips of the target class are excluded).
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from advlib.metrics import Proportion
from advlib.train.classifier import predict_logits

__all__ = ["plot_transfer", "transfer_matrix"]


def transfer_matrix(
    models: Mapping[str, torch.nn.Module],
    x: torch.Tensor,
    y: torch.Tensor,
    adversarial: Mapping[str, torch.Tensor],
    *,
    targets: torch.Tensor | int | None = None,
    only_correct: bool = True,
    batch_size: int = 128,
) -> pd.DataFrame:
    """Success of the examples crafted on each source victim, evaluated on every victim.

    Parameters
    ----------
    models:
        Evaluating victims by name (waveform in, logits out).
    x, y:
        Clean inputs ``(N, ...)`` and their labels ``(N,)``.
    adversarial:
        Source name -> adversarial inputs ``(N, ...)`` (for a UAP, ``apply_uap(x, v)``).
        Sources need not be among ``models`` (a black-box or GAN source, say).
    targets:
        ``None`` (untargeted), a class, or ``(N,)`` targets.
    only_correct:
        Untargeted: count only clips the *evaluating* victim classifies correctly.

    Returns
    -------
    One row per (source, evaluated victim): ``successes``, ``n``, ``rate``, ``ci_low``,
    ``ci_high`` and ``diagonal`` (the white-box case, source = evaluated victim).
    """
    n = len(x)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {tuple(y.shape)}")
    if not models or not adversarial:
        raise ValueError("need at least one evaluating victim and one source")
    for src, xa in adversarial.items():
        if xa.shape != x.shape:
            raise ValueError(
                f"adversarial inputs of {src!r} have shape {tuple(xa.shape)}, not {tuple(x.shape)}"
            )
    if targets is not None:
        t = torch.as_tensor(targets, dtype=torch.long)
        t = t.expand(n) if t.ndim == 0 else t
        if t.shape != (n,):
            raise ValueError(f"targets must be an int or have shape ({n},)")
    rows = []
    for name, model in models.items():
        clean = predict_logits(model, x, batch_size).argmax(1)
        if targets is not None:
            keep = t != y
        elif only_correct:
            keep = clean == y
        else:
            keep = torch.ones(n, dtype=torch.bool)
        for src, xa in adversarial.items():
            pred = predict_logits(model, xa, batch_size).argmax(1)
            ok = (pred == t) if targets is not None else (pred != clean)
            p = Proportion(int((ok & keep).sum()), int(keep.sum()))
            lo, hi = p.interval() if p.n else (float("nan"), float("nan"))
            rows.append(
                {
                    "source": src,
                    "victim": name,
                    "successes": p.successes,
                    "n": p.n,
                    "rate": p.rate if p.n else float("nan"),
                    "ci_low": lo,
                    "ci_high": hi,
                    "diagonal": src == name,
                }
            )
    return pd.DataFrame(rows)


def plot_transfer(
    table: pd.DataFrame, *, title: str = "", ax: plt.Axes | None = None
) -> plt.Figure:
    """Heatmap of success rates (rows: crafted on, columns: evaluated on) with intervals."""
    rate = table.pivot(index="source", columns="victim", values="rate")
    lo = table.pivot(index="source", columns="victim", values="ci_low")
    hi = table.pivot(index="source", columns="victim", values="ci_high")
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.2 * rate.shape[1] + 2.5, 0.9 * rate.shape[0] + 1.5))
    else:
        fig = ax.figure
    im = ax.imshow(rate.to_numpy(float), vmin=0, vmax=1, cmap="Reds")
    for i in range(rate.shape[0]):
        for j in range(rate.shape[1]):
            v = rate.iat[i, j]
            if np.isfinite(v):
                ax.text(
                    j, i, f"{100 * v:.0f} %\n[{100 * lo.iat[i, j]:.0f}, {100 * hi.iat[i, j]:.0f}]",
                    ha="center", va="center", fontsize=8, color="white" if v > 0.6 else "black",
                )  # fmt: skip
    ax.set_xticks(range(rate.shape[1]), rate.columns, rotation=30, ha="right")
    ax.set_yticks(range(rate.shape[0]), rate.index)
    ax.set_xlabel("evaluated on")
    ax.set_ylabel("crafted on")
    ax.set_title(title or "Transfer: success rate [95 % CI]")
    fig.colorbar(im, ax=ax, fraction=0.046, label="success rate")
    fig.tight_layout()
    return fig
