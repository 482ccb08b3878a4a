"""Tables the notebooks show, computed from data sets and fitted victims (no plotting here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from advlib.data.core import SPLITS, AudioSet
from advlib.metrics import confusion_matrix
from advlib.models.registry import build_victim, count_parameters, victim_spec
from advlib.stats import format_proportion, wilson_interval
from advlib.train.classifier import FittedVictim, predict_logits

__all__ = [
    "Evaluation",
    "dataset_summary",
    "evaluate",
    "example_indices",
    "victim_table",
    "victim_title",
]


def dataset_summary(data: AudioSet) -> pd.DataFrame:
    """Clips per class and partition (with totals), the set's format in the index name."""
    rows = {}
    for split in SPLITS:
        part = data.split == split
        counts = np.bincount(data.y.numpy()[part], minlength=data.n_classes)
        rows[split] = counts
    df = pd.DataFrame(rows, index=list(data.classes))
    df.loc["total"] = df.sum()
    df["all"] = df.sum(axis=1)
    df.index.name = f"{data.name}: {data.sample_rate} Hz, {data.length} samples"
    return df


@dataclass
class Evaluation:
    """Predictions of one victim on one partition."""

    name: str
    y: np.ndarray
    pred: np.ndarray
    logits: np.ndarray
    n_classes: int

    @property
    def correct(self) -> int:
        return int((self.pred == self.y).sum())

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def accuracy(self) -> float:
        return self.correct / self.n

    @property
    def interval(self) -> tuple[float, float]:
        lo, hi = wilson_interval(self.correct, self.n)
        return float(lo), float(hi)

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.y, self.pred, self.n_classes)


def evaluate(fit: FittedVictim, data: AudioSet, split: str = "test") -> Evaluation:
    """Predict ``data``'s ``split`` partition with the fitted victim."""
    part = data.part(split)
    if len(part) == 0:
        raise ValueError(f"{data.name} has no clips in its {split!r} partition")
    logits = predict_logits(fit.model, part.x)
    return Evaluation(
        name=fit.name,
        y=part.y.numpy(),
        pred=logits.argmax(1).numpy(),
        logits=logits.numpy(),
        n_classes=data.n_classes,
    )


def _paper_params(name: str, n_classes: int) -> int:
    spec = victim_spec(name)
    cfg = dict(spec.paper_config)
    length = cfg.pop("input_length")
    cfg.pop("sample_rate", None)
    with torch.device("meta"):
        model = build_victim(name, n_classes, length, **cfg)
    return count_parameters(model)


def victim_table(fits: Sequence[FittedVictim], evals: Sequence[Evaluation]) -> pd.DataFrame:
    """One row per victim: size at profile and paper configuration, selection, test accuracy
    with its 95 % Wilson interval, and training time."""
    rows = []
    for fit, ev in zip(fits, evals, strict=True):
        spec = victim_spec(fit.name)
        rows.append(
            {
                "victim": spec.title,
                "params": f"{fit.n_params:,}",
                "params at paper size": f"{_paper_params(fit.name, ev.n_classes):,}",
                "epochs": len(fit.history),
                "kept epoch": fit.best_epoch,
                "valid acc.": f"{100 * fit.best_valid_acc:.1f} %",
                "test acc. [95 % CI]": format_proportion(ev.correct, ev.n),
                "test clips": ev.n,
                "train time (s)": round(fit.train_seconds, 1),
            }
        )
    return pd.DataFrame(rows).set_index("victim")


def victim_title(name: str) -> str:
    """The victim's display name ("1D CNN Rand")."""
    return victim_spec(name).title


def example_indices(data: AudioSet, n: int, seed: int = 0) -> list[int]:
    """``n`` clip indices for listening: one clip each of the first ``n`` classes (a seeded
    random clip within each class), so the examples are stable across runs."""
    rng = np.random.default_rng(seed)
    y = data.y.numpy()
    out = []
    for c in range(data.n_classes):
        idx = np.flatnonzero(y == c)
        if len(idx):
            out.append(int(rng.choice(idx)))
        if len(out) == n:
            break
    return out
