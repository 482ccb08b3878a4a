"""The victims page of each data set (``notebooks/victims.md``) and the front-end figure page
(``notebooks/frontends.md``): what they compute, from data sets and fitted victims."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from advlib import plots
from advlib.data.core import SPLITS, AudioSet
from advlib.metrics import confusion_matrix
from advlib.models.registry import build_victim, count_parameters, victim_spec
from advlib.stats import format_proportion, wilson_interval
from advlib.study import Study
from advlib.study.units import Unit, as_page_parameters, data_spec, study_args, victim_id
from advlib.train.classifier import FittedVictim, predict_logits

__all__ = [
    "Evaluation",
    "FrontendClip",
    "VictimsPage",
    "dataset_summary",
    "evaluate",
    "example_indices",
    "frontend_clip",
    "listen",
    "plot_confusions",
    "plot_curves",
    "plot_frontends",
    "provenance_parameters",
    "train",
    "units",
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


# --------------------------------------------------------------------------- the victims page


@dataclass
class VictimsPage:
    """What the victims page of one data set shows: the data, each fitted victim and its test
    evaluation, and the numbers its prose quotes (``glue``)."""

    dataset: str
    data: AudioSet
    fits: dict[str, FittedVictim]
    evals: dict[str, Evaluation]
    glue: dict[str, str] = field(default_factory=dict)

    @property
    def first(self) -> str:
        return next(iter(self.evals))

    def table(self) -> pd.DataFrame:
        """:func:`victim_table` of every victim."""
        return victim_table(list(self.fits.values()), list(self.evals.values()))


def _glue_values(data: AudioSet, evals: dict[str, Evaluation]) -> dict[str, str]:
    out = {}
    for name, ev in evals.items():
        lo, hi = ev.interval
        out[f"acc_{name}"] = f"{100 * ev.accuracy:.1f} %"
        out[f"acc_ci_{name}"] = f"[{100 * lo:.1f} %, {100 * hi:.1f} %]"
    first = next(iter(evals))
    out["first_victim"] = victim_title(first)
    out["first_acc"] = f"{100 * evals[first].accuracy:.1f} %"
    out["first_ci"] = "[{:.1f} %, {:.1f} %]".format(*(100 * v for v in evals[first].interval))
    out["n_test"] = f"{evals[first].n:,}"
    out["n_train"] = f"{int((data.split == 'train').sum()):,}"
    return out


def train(study: Study, dataset: str) -> VictimsPage:
    """Train (or read from the cache) every victim of ``dataset`` with the profile's knobs and
    recipe, in the profile's order, and evaluate each on the held-out test partition."""
    data = study.dataset(dataset)
    names = list(study.datasets[dataset].get("victims") or {})
    if not names:
        raise ValueError(f"the profile trains no victim on {dataset!r}")
    fits = {name: study.victim(dataset, name) for name in names}
    evals = {name: evaluate(fit, data, "test") for name, fit in fits.items()}
    return VictimsPage(dataset, data, fits, evals, _glue_values(data, evals))


def _train_one(dataset: str, victim: str, study: Study) -> FittedVictim:
    return study.victim(dataset, victim)


def units(params: Mapping[str, Any]) -> list[Unit]:
    """The victims page's units (``params``: the page's parameters): one per victim of its data
    set, training it (:meth:`advlib.study.Study.victim`, as :func:`train` does)."""
    from functools import partial

    p = as_page_parameters(params)
    ds = p["dataset"]
    victims = p["datasets"][ds].get("victims") or {}
    return [
        Unit(
            victim_id(ds, name),
            "victims",
            study_args(p),
            {"data": data_spec(p, ds), "victim": name, "config": cfg},
            partial(_train_one, ds, name),
            dataset=ds,
            runtime=720,
        )
        for name, cfg in victims.items()
    ]


def plot_confusions(page: VictimsPage) -> list[tuple[plt.Figure, str]]:
    """One confusion matrix per victim on the test set (counts, coloured by row share), each
    with its caption; the figures are closed, for the page to display one by one."""
    out = []
    for name, ev in page.evals.items():
        title = f"{victim_title(name)}: test set"
        fig = plots.plot_confusion(ev.confusion(), page.data.classes, title=title).figure
        plt.close(fig)
        out.append((fig, f"Confusion matrix of the {victim_title(name)} on the test set."))
    return out


def plot_curves(page: VictimsPage) -> plt.Figure:
    """Training and validation curves of every victim, the kept epoch marked."""
    return plots.plot_training_curves(
        {victim_title(n): f.history for n, f in page.fits.items()},
        best={victim_title(n): f.best_epoch for n, f in page.fits.items()},
    )


def listen(page: VictimsPage, n_examples: int, *, seed: int, credit: str = "") -> list[Any]:
    """Audio players of test clips of the first classes, with what the first victim predicts."""
    data, test, ev = page.data, page.data.part("test"), page.evals[page.first]
    out = []
    for i in example_indices(test, n_examples, seed=seed):
        verdict = "correct" if ev.pred[i] == ev.y[i] else "wrong"
        title = (
            f"{test.files[i]}: true {data.classes[ev.y[i]]}, "
            f"predicted {data.classes[ev.pred[i]]} ({verdict})"
        )
        out.append(plots.audio_player(test.x[i].numpy(), data.sample_rate, title=title,
                                      credit=credit))  # fmt: skip
    return out


def provenance_parameters(study: Study, dataset: str) -> dict[str, Any]:
    """The victims page's parameters as its provenance block names them."""
    d = study.datasets[dataset]
    return {
        "dataset": dataset,
        "loader": study.loader(dataset),
        "loader_args": d.get("args") or {},
        "victims": d.get("victims") or {},
    }


# --------------------------------------------------------------------------- front-ends


@dataclass
class FrontendClip:
    """One test clip of a data set, as the front-end figure shows it."""

    x: np.ndarray
    sample_rate: int
    name: str
    player: Any


def frontend_clip(study: Study, dataset: str, clip: int) -> FrontendClip:
    """Test clip number ``clip`` of ``dataset``, named by its file and class, with a player."""
    data = study.dataset(dataset)
    test = data.part("test")
    x = test.x[clip].numpy()
    name = f"{test.files[clip]} ({data.classes[int(test.y[clip])]})"
    player = plots.audio_player(x, data.sample_rate, title=name, credit=study.licence(dataset))
    return FrontendClip(x, data.sample_rate, name, player)


def plot_frontends(clip: FrontendClip) -> plt.Figure:
    """Every front-end of the study on the clip (:func:`advlib.plots.plot_frontends`)."""
    return plots.plot_frontends(clip.x, clip.sample_rate, title=clip.name)
