"""The "Adversarial training" chapter: the AT paper's Tables I-III and Fig. 1, and PGD training.

Paper: Alfonso Sallo et al., "Adversarially training for audio classifiers" (the AT paper; study
spec rows AT-T1..T3, AT-F1). Six image classifiers (:mod:`advlib.models.spectrogram`) learn from
2-D representations of environmental sounds (STFT, DWT, each optionally with the tonnetz
appended; the paper's "DWT" images are continuous complex-Morlet wavelet images, for which the
study's db4 DWT stands in, with the Morlet CWT beside it where a profile runs ``cwt``); FGSM
adversarial training (Eq. 14) is then attacked by BIM-a, BIM-b, JSMA, DeepFool, CW-L2 and the
black-box NES attack ("PIA").

**The representation domain.** As in the paper, models train on and attacks act on the images:
:func:`representation_data` computes each clip's image once with the victim's differentiable
front-end and the classifier alone is trained and attacked. The paper's spectrograms are PNG
files that Foolbox saw in [0, 1]; ours are standardised per clip, so a *paper-scale* size is a
size on the image rescaled to [0, 1] by the representation's range over the data set
(``scale = max - min``): an L2 budget ``b`` in the paper's scale is ``b * scale`` on our images.
The paper's images have 1568 x 768 (+540) pixels and ours far fewer, so equal paper-scale L2 is
not equal per-pixel change; budgets are comparable between our models, not with the paper's.

**The waveform domain** (the paper could not do this: its front-end was not differentiable):
the same attacks on the whole victim (front-end + classifier) in the [-1, 1] waveform; paper
scale is then the [0, 1] audio convention (``scale = 2``).

**Fooling rate.** Every attack yields, per clip, whether it succeeded and the L2 size of its
perturbation. Minimal-perturbation attacks (DeepFool, CW, JSMA) run once; budgeted ones (BIM,
NES) run along an increasing grid of budgets on the clips not yet fooled (Foolbox's epsilon
search, which the paper used), keeping each clip's first success. The success rate at budget
``e`` is the share of attacked clips fooled with ``||delta||_2 <= e``
(:func:`advlib.metrics.success_rate_curve`); the fooling AUC is its normalised area on
``[0, cap]`` (:func:`advlib.metrics.fooling_auc`, cap 3 for Table II); ``eps_r`` (Eq. 15) is the
ratio of the mean successful perturbation on the trained and on the original model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from scipy.stats import wilcoxon
from torch import nn

from advlib.attacks.registry import code_revision, make_attack
from advlib.cache import Cache, canonical_json
from advlib.data.core import AudioSet
from advlib.device import get_device, on_device, unwrap
from advlib.metrics import epsilon_at_auc, fooling_auc, success_rate_curve
from advlib.models.registry import build_victim, victim_spec
from advlib.models.spectrogram import ARCHITECTURES
from advlib.run.runner import run_attack
from advlib.stats import holm, mcnemar_exact, two_proportion_z
from advlib.study.profile import check_keys, fail, merge_attack, positive_int
from advlib.study.section import Section
from advlib.study.units import Unit, as_page_parameters, data_spec, study_args, unit_slug
from advlib.tables import percent
from advlib.train.classifier import TrainConfig, eval_batch_size, predict_logits, train_classifier

__all__ = [
    "ATTACK_TITLES",
    "SCALED_SETTINGS",
    "TITLE",
    "CellFit",
    "Chapter",
    "DeferredRepresentation",
    "Images",
    "RepresentationData",
    "Section",
    "attack_cell",
    "attack_one",
    "attacked_clip",
    "auc_table",
    "beside_paper",
    "budget_grid",
    "cell_knobs",
    "clean_accuracy",
    "clip_log_ratios",
    "eps_r_raises",
    "eps_r_table",
    "eps_ratio",
    "fit_cell",
    "fooling",
    "forget_representations",
    "paper_order",
    "pgd_against_fgsm",
    "plot_attacked_clip",
    "plot_robust_curves",
    "plot_success_curves",
    "protocol_notes",
    "record_best_cell",
    "record_eps_r",
    "representation_data",
    "robust_accuracy",
    "significance",
    "significance_table",
    "start",
    "table_cells",
    "table_one",
    "training_pair",
    "units",
    "waveform",
    "with_keys",
]

#: The AT paper's six attacks in its order (Fig. 1, Table II), with their titles.
ATTACK_TITLES = {
    "bim_a": "BIM-a",
    "bim_b": "BIM-b",
    "jsma": "JSMA",
    "deepfool": "DeepFool",
    "cw_l2": "CW",
    "pia": "PIA (NES)",
}
REP_TITLES = {
    "stft": "STFT",
    "dwt": "DWT",
    "stft_tonnetz": "STFT+tonnetz",
    "dwt_tonnetz": "DWT+tonnetz",
    "cwt": "CWT (Morlet)",
    "cwt_tonnetz": "CWT (Morlet)+tonnetz",
}
#: The paper's "DWT" images are continuous Morlet wavelet images: beside the paper, our CWT
#: rows are set against its DWT rows (as our db4 DWT rows are).
PAPER_REPRESENTATION = {"cwt": "dwt", "cwt_tonnetz": "dwt_tonnetz"}
#: Waveform scale: the [-1, 1] waveform in the [0, 1] audio convention of the papers.
WAVE_SCALE = 2.0


def paper_order(names: Any) -> list[str]:
    """``names`` in the AT paper's order of the attacks (Fig. 1), unknown names last."""
    order = list(ATTACK_TITLES)
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


# --------------------------------------------------------------------------------------------
# data: one image per clip
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Images:
    """Labelled images ``x`` ``(N, 1, H, W)`` of one partition; trains like an AudioSet."""

    x: torch.Tensor
    y: torch.Tensor
    n_classes: int

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass(eq=False)
class RepresentationData:
    """A data set's clips as the images a victim's front-end computes.

    ``bounds`` are the smallest and largest pixel over every partition (the box the attacks
    keep to, as a PNG's [0, 1] for the paper), ``scale = bounds[1] - bounds[0]`` the size of one
    paper-scale unit; ``waves`` the test waveforms for the waveform-domain attacks.
    """

    train: Images
    valid: Images
    test: Images
    bounds: tuple[float, float]
    waves: torch.Tensor
    classes: tuple[str, ...]

    @property
    def scale(self) -> float:
        return self.bounds[1] - self.bounds[0]


@torch.no_grad()
def _images(frontend: nn.Module, x: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    frontend.eval()
    return torch.cat([frontend(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def representation_data(frontend: nn.Module, data: AudioSet) -> RepresentationData:
    """Compute every clip's image with ``frontend`` (no gradient), partition by ``data``'s split."""
    parts = {}
    for split in ("train", "valid", "test"):
        p = data.part(split)
        if len(p) == 0:
            raise ValueError(f"{data.name}: the {split} partition is empty")
        parts[split] = Images(_images(frontend, p.x), p.y, data.n_classes)
    lo = min(float(p.x.min()) for p in parts.values())
    hi = max(float(p.x.max()) for p in parts.values())
    if not hi > lo:
        raise ValueError(f"{data.name}: the representation is constant; nothing to learn")
    return RepresentationData(
        parts["train"], parts["valid"], parts["test"], (lo, hi), data.part("test").x, data.classes
    )


class _DeferredPart:
    """One partition of a :class:`DeferredRepresentation`: its labels now, its images ``x``
    when first asked for."""

    def __init__(self, owner: DeferredRepresentation, split: str, y: torch.Tensor,
                 n_classes: int) -> None:  # fmt: skip
        self._owner, self._split, self.y, self.n_classes = owner, split, y, n_classes

    @property
    def x(self) -> torch.Tensor:
        return getattr(self._owner.images, self._split).x

    def __len__(self) -> int:
        return len(self.y)


class DeferredRepresentation:
    """A :class:`RepresentationData` whose images are computed the first time they are used.

    What a page needs without them is known at once: the classes, the test labels and
    waveforms, and, once a cached fit's record gives them (:meth:`know_bounds`), the bounds and
    scale that the attacks' cache keys hold. So a page that only reads cached fits and attack
    results never computes an image: at the paper's size one representation of UrbanSound8K is
    8,732 images of 1308 x 1568 pixels (70 GB), for every fold and representation.
    """

    def __init__(self, make: Any, data: AudioSet) -> None:
        self._make: Any = make
        self._images: RepresentationData | None = None
        self._bounds: tuple[float, float] | None = None
        self.classes = data.classes
        test = data.part("test")
        self.waves = test.x
        self.test = _DeferredPart(self, "test", test.y, data.n_classes)

    @property
    def images(self) -> RepresentationData:
        """Every partition's images (computed now if not yet)."""
        if self._images is None:
            self._images = self._make()
        return self._images

    @property
    def computed(self) -> bool:
        return self._images is not None

    @property
    def train(self) -> Images:
        return self.images.train

    @property
    def valid(self) -> Images:
        return self.images.valid

    @property
    def bounds(self) -> tuple[float, float]:
        return self._bounds if self._bounds is not None else self.images.bounds

    @property
    def scale(self) -> float:
        return self.bounds[1] - self.bounds[0]

    def know_bounds(self, bounds: Sequence[float]) -> None:
        """The bounds a fit recorded when it computed the images (the same numbers)."""
        self._bounds = (float(bounds[0]), float(bounds[1]))


_REPS: dict[tuple[str, str], RepresentationData] = {}
_ARCH_KNOBS = ("width", "depth")
#: The most bytes of images :func:`_memo_representation` keeps (the newest set always stays):
#: at the paper's size one data set's images take 8 MB a clip (1308 x 1568 floats), 70 GB for
#: UrbanSound8K, so the memo holds what fits, not a number of sets.
REPS_BYTES = 4 * 2**30


def _rep_bytes(rep: RepresentationData) -> int:
    parts = (rep.train.x, rep.valid.x, rep.test.x, rep.waves)
    return sum(t.element_size() * t.nelement() for t in parts)


def forget_representations() -> None:
    """Drop every image set :func:`_memo_representation` keeps (their memory goes back)."""
    _REPS.clear()


def _memo_representation(
    frontend: nn.Module, data: AudioSet, knobs: Mapping[str, Any]
) -> RepresentationData:
    """:func:`representation_data`, kept in memory for the last few (data, front-end) pairs:
    every classifier on one representation shares the images."""
    key = (
        data.identity(),
        canonical_json({k: v for k, v in knobs.items() if k not in _ARCH_KNOBS}),
    )
    if key not in _REPS:
        rep = representation_data(frontend, data)
        while _REPS and (len(_REPS) >= 8 or _rep_bytes(rep) + sum(
                _rep_bytes(r) for r in _REPS.values()) > REPS_BYTES):  # fmt: skip
            _REPS.pop(next(iter(_REPS)))
        _REPS[key] = rep
    return _REPS[key]


# --------------------------------------------------------------------------------------------
# training: clean, FGSM (Eq. 14) and PGD
# --------------------------------------------------------------------------------------------


def _adversary(adv: Mapping[str, Any], scale: float, bounds: tuple[float, float], seed: int):
    """The training attack of ``adv`` (``method`` fgsm or pgd, L-inf ``eps`` in paper scale)."""
    eps = float(adv["eps"]) * scale
    if adv["method"] == "fgsm":
        return make_attack("fgsm", {"eps": eps, "bounds": bounds})
    if adv["method"] == "pgd":
        steps = int(adv.get("steps", 7))
        settings = {
            "eps": eps,
            "steps": steps,
            "step_size": float(adv.get("step_size", 2.5 / steps)) * eps,
            "early_stop": False,
            "bounds": bounds,
        }
        return make_attack("pgd", settings, seed=seed)
    raise ValueError(f"adversarial training method must be 'fgsm' or 'pgd', got {adv['method']!r}")


def _monitor(
    images: Images, mon: Mapping[str, Any], scale: float, bounds: tuple[float, float], seed: int
):
    """Per-epoch robust accuracy on the first ``n`` validation images under FGSM and PGD at
    L-inf ``eps`` (paper scale): FGSM high while PGD collapses is catastrophic overfitting."""
    unknown = set(mon) - {"n", "eps", "steps"}
    if unknown:
        raise ValueError(f"unknown monitor setting(s) {sorted(unknown)}; known: n, eps, steps")
    n = int(mon.get("n", 64))
    x, y = images.x[:n], images.y[:n]
    attacks = {
        "valid_fgsm_acc": _adversary({"method": "fgsm", "eps": mon["eps"]}, scale, bounds, seed),
        "valid_pgd_acc": _adversary(
            {"method": "pgd", "eps": mon["eps"], "steps": mon.get("steps", 10)},
            scale,
            bounds,
            seed,
        ),
    }

    step = eval_batch_size(x)  # a few paper-size images at a time (10.5 GB each: ResNet-56)

    def monitor(model: nn.Module) -> dict[str, float]:
        model.eval()
        out = {}
        for key, attack in attacks.items():
            right = 0
            for i in range(0, len(x), step):
                xb, yb = x[i : i + step], y[i : i + step]
                right += int((predict_logits(model, attack(model, xb, yb)).argmax(1) == yb).sum())
            out[key] = right / len(x)
        return out

    return monitor


@dataclass
class CellFit:
    """One trained classifier of the study: an architecture on a representation, clean or
    adversarially trained, with its images and training record."""

    arch: str
    representation: str
    kind: str
    classifier: nn.Module
    frontend: nn.Module
    data: DeferredRepresentation
    history: list[dict[str, float]]
    best_epoch: int
    valid_acc: float
    test_acc: float
    seconds: float
    cache_key: str
    cached: bool
    adversarial: dict[str, Any] | None = None
    original: CellFit | None = field(default=None, repr=False)

    @property
    def victim(self) -> nn.Module:
        """Front-end + classifier: the waveform model."""
        return nn.Sequential(self.frontend, self.classifier).eval()


def _test_acc(model: nn.Module, images: Images | _DeferredPart) -> float:
    return float((predict_logits(model, images.x).argmax(1) == images.y).float().mean())


def fit_cell(
    cache: Cache,
    data: AudioSet,
    arch: str,
    *,
    knobs: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    adversarial: Mapping[str, Any] | None = None,
    seed: int = 0,
    progress: bool = True,
    _rep: DeferredRepresentation | None = None,
) -> CellFit:
    """Train ``arch`` on ``data``'s images (``knobs`` include ``representation``), cached.

    ``train`` updates the paper recipe (:data:`advlib.models.registry.AT_RECIPE`). Without
    ``adversarial`` this is the original model (Table I). With it, the original model is
    fitted first and then adversarially trained: ``method`` (``fgsm``, the paper's, or
    ``pgd``), ``eps`` (L-inf, paper scale), ``alpha`` (Eq. 14; 0 replaces clean examples),
    ``epochs`` and ``lr`` (overriding ``train``), ``init`` (``original``: fine-tune the original
    weights, the paper's fine-tuning; ``scratch``: new weights), ``steps`` (PGD), and
    ``monitor`` (``{n, eps, steps}``: robust validation accuracy per epoch).

    The images are computed only when training needs them (:class:`DeferredRepresentation`):
    a cached fit brings its test accuracy and the images' bounds in its record.
    """
    if arch not in ARCHITECTURES:
        victim_spec(arch)  # unknown names raise with the list
        raise ValueError(f"victim {arch!r} is not one of the AT paper's image classifiers")
    knobs = dict(knobs or {})
    knobs.setdefault("sample_rate", data.sample_rate)
    spec = victim_spec(arch)
    config = TrainConfig.from_dict({**spec.recipe, **dict(train or {}), "seed": seed})

    def build() -> nn.Module:
        torch.manual_seed(seed)
        return build_victim(arch, data.n_classes, data.length, **knobs)

    victim = build()
    rep = _rep if _rep is not None else DeferredRepresentation(
        lambda: _memo_representation(victim[0], data, knobs), data)  # fmt: skip
    original = None
    kind = "original"
    adv: dict[str, Any] | None = None
    if adversarial is not None:
        adv = {"alpha": 0.0, "init": "original", **dict(adversarial)}
        unknown = set(adv) - {"method", "eps", "alpha", "epochs", "lr", "init", "steps",
                              "step_size", "monitor"}  # fmt: skip
        if unknown:
            raise ValueError(f"unknown adversarial training setting(s) {sorted(unknown)}")
        if not 0 < float(adv["eps"]) <= 1:
            raise ValueError(f"adversarial eps must be in (0, 1] (paper scale), got {adv['eps']}")
        if adv["init"] not in ("original", "scratch"):
            raise ValueError(f"init must be 'original' or 'scratch', got {adv['init']!r}")
        if adv.get("method") not in ("fgsm", "pgd"):
            raise ValueError(f"method must be 'fgsm' or 'pgd', got {adv.get('method')!r}")
        if not 0.0 <= float(adv["alpha"]) <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {adv['alpha']}")
        kind = adv["method"]
        original = fit_cell(
            cache, data, arch, knobs=knobs, train=train, seed=seed, progress=progress, _rep=rep
        )
        over = {k: adv[k] for k in ("epochs", "lr") if k in adv}
        config = TrainConfig.from_dict({**config.to_dict(), **over})
    params = {
        "arch": arch,
        "knobs": knobs,
        "config": config.to_dict(),
        "data": data.identity(),
        "adversarial": adv,
        "original": None if original is None else original.cache_key,
    }
    if adv is not None:  # the adversary's code (an original fit keeps its key)
        params["revision"] = code_revision(adv["method"])

    def compute() -> dict[str, Any]:
        model = build()[1].to(get_device())
        kwargs: dict[str, Any] = {}
        if adv is not None:
            if adv["init"] == "original":
                assert original is not None
                model.load_state_dict(unwrap(original.classifier).state_dict())
            kwargs["adversary"] = _adversary(adv, rep.scale, rep.bounds, seed)
            kwargs["alpha"] = float(adv["alpha"])
            if adv.get("monitor"):
                kwargs["monitor"] = _monitor(rep.valid, adv["monitor"], rep.scale, rep.bounds, seed)
        res = train_classifier(
            model, rep.train, rep.valid, config, progress=progress, desc=f"{arch} {kind}", **kwargs
        )
        return {
            "weights": res.state_dict,
            "record": {
                "history": res.history,
                "best_epoch": res.best_epoch,
                "valid_acc": res.best_valid_acc,
                "seconds": res.seconds,
                # kept, so the page and every unit that reads the fit do not forward the test
                # images again (at 1308 x 1568 about 10 s a clip through ResNet-56 on a CPU)
                "test_acc": _test_acc(model, rep.test),
                "bounds": list(rep.bounds),
            },
        }

    payload, event = cache.fetch("at_classifier", params, compute)
    classifier = victim[1]
    classifier.load_state_dict(payload["weights"])
    classifier = on_device(classifier.eval())
    rec = payload["record"]
    if "bounds" in rec:
        rep.know_bounds(rec["bounds"])
    return CellFit(
        arch=arch,
        representation=knobs.get("representation", "dwt_tonnetz"),
        kind=kind,
        classifier=classifier,
        frontend=victim[0].eval(),
        data=rep,
        history=rec["history"],
        best_epoch=rec["best_epoch"],
        valid_acc=rec["valid_acc"],
        test_acc=rec["test_acc"] if "test_acc" in rec else _test_acc(classifier, rep.test),
        seconds=rec["seconds"],
        cache_key=event.key,
        cached=event.hit,
        adversarial=adv,
        original=original,
    )


def table_one(fits: Sequence[CellFit]) -> pd.DataFrame:
    """Table I: clean test accuracy (%) of each original model and the drop (points) after
    adversarial training, one row per (fold, representation, arch, kind) pair of fits."""
    rows = []
    for f in fits:
        if f.original is None:
            continue
        rows.append(
            {
                "representation": f.representation,
                "arch": f.arch,
                "kind": f.kind,
                "accuracy": 100 * f.original.test_acc,
                "trained accuracy": 100 * f.test_acc,
                "drop": 100 * (f.original.test_acc - f.test_acc),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# attacks: per clip, success and the perturbation's size
# --------------------------------------------------------------------------------------------


def _targets(y: torch.Tensor, n_classes: int, seed: int) -> torch.Tensor:
    """A random wrong label per clip (the paper's targeted attacks), seeded."""
    g = torch.Generator().manual_seed(seed)
    shift = torch.randint(1, n_classes, y.shape, generator=g)
    return (y + shift) % n_classes


def _domain(fit: CellFit, domain: str) -> tuple[nn.Module, float, tuple]:
    """``(model, scale, bounds)`` of an attack domain: the classifier on the images, or
    front-end + classifier on the [-1, 1] waveforms (paper scale: [0, 1] audio)."""
    if domain == "representation":
        return fit.classifier, fit.data.scale, fit.data.bounds
    if domain == "waveform":
        return fit.victim, WAVE_SCALE, (-1.0, 1.0)
    raise ValueError(f"domain must be 'representation' or 'waveform', got {domain!r}")


def _inputs(fit: CellFit, domain: str) -> torch.Tensor:
    """The test inputs of an attack domain: the images (computed now if not yet) or the
    waveforms."""
    return fit.data.test.x if domain == "representation" else fit.data.waves


def attack_cell(
    cache: Cache,
    fit: CellFit,
    attacks: Mapping[str, Mapping[str, Any]],
    *,
    domain: str = "representation",
    n: int | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """Run each attack of ``attacks`` on the first ``n`` test clips of ``fit``, cached.

    ``attacks`` maps a name (:data:`ATTACK_TITLES`) to ``{attack, settings, targeted,
    budgets}``: ``attack`` the library name, ``settings`` its keyword settings, ``targeted``
    (random wrong labels, seeded), and for budgeted attacks ``budgets``, the paper-scale grid
    (the attack's own norm: L2 for BIM, L-inf for NES) swept upwards on the clips not yet
    fooled, and optionally ``step_fraction`` (the step size as a share of the budget). Sizes
    among the settings (:data:`SCALED_SETTINGS`: ``eps``, ``step_size``, ``sigma``, ``theta``)
    are in paper scale too. ``domain``: ``"representation"`` (the classifier on the images)
    or ``"waveform"`` (front-end + classifier on the waveforms).

    A targeted attack on a clip the model already assigns to its target succeeds with a zero
    perturbation (it is fooled at budget 0), as Foolbox's epsilon search reports it.

    Returns one row per (attack, clip): ``attack``, ``clip``, ``label``, ``target``,
    ``attacked``, ``success``, ``l2`` and ``linf`` (paper scale; NaN where not fooled),
    ``budget`` (the sweep's budget that fooled it) and ``seconds``.
    """
    model, scale, bounds = _domain(fit, domain)
    y = fit.data.test.y
    if n is not None:
        y = y[:n]
    tables = []
    for name, cfg in attacks.items():
        params = {"fit": fit.cache_key, "domain": domain, "attack": dict(cfg), "n": len(y),
                  "seed": seed, "bounds": list(bounds),
                  "revision": code_revision(cfg["attack"])}  # fmt: skip

        def compute(name: str = name, cfg: Mapping[str, Any] = cfg) -> dict[str, Any]:
            x = _inputs(fit, domain)[: len(y)]
            targets = _targets(y, fit.data.test.n_classes, seed) if cfg.get("targeted") else None
            table, _ = _sweep(model, x, y, targets, cfg, scale, bounds, seed=seed,
                              batch_size=batch_size, progress=progress, name=name)  # fmt: skip
            return {"table": table}

        table, _ = cache.fetch("at_attack", params, compute)
        t = table["table"].copy()
        t.insert(0, "attack", name)
        tables.append(t)
    return pd.concat(tables, ignore_index=True)


#: Attack settings given in paper scale (sizes on the [0, 1] image), multiplied by ``scale``.
SCALED_SETTINGS = ("eps", "step_size", "sigma", "theta")


def _scaled_settings(cfg: Mapping[str, Any], scale: float, bounds) -> dict[str, Any]:
    s = dict(cfg.get("settings", {}))
    for k in SCALED_SETTINGS:
        if k in s:
            s[k] = float(s[k]) * scale
    return {**s, "bounds": bounds}


def _sweep(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    targets: torch.Tensor | None,
    cfg: Mapping[str, Any],
    scale: float,
    bounds: tuple[float, float],
    *,
    seed: int,
    batch_size: int | None = None,
    progress: bool = False,
    name: str = "attack",
    skip_misclassified: bool = True,
) -> tuple[pd.DataFrame, torch.Tensor]:
    """Attack ``x`` with ``cfg`` along its budget grid (once when it has none), each budget on
    the clips not yet fooled. Returns the per-clip table of :func:`attack_cell` and the
    adversarial inputs: each clip's first success, or its last attempt."""
    settings = _scaled_settings(cfg, scale, bounds)
    n = len(x)
    success = np.zeros(n, dtype=bool)
    l2 = np.full(n, np.nan)
    linf = np.full(n, np.nan)
    budget = np.full(n, np.nan)
    seconds = np.zeros(n)
    attacked = np.zeros(n, dtype=bool)
    x_adv = x.clone()
    budgets = cfg.get("budgets")
    todo = torch.arange(n)
    for b in [float(v) for v in budgets] if budgets else [None]:
        if len(todo) == 0:
            break
        s = dict(settings)
        if b is not None:
            s["eps"] = b * scale
            if "step_fraction" in cfg:  # a step relative to the budget (NES's learning rate)
                s["step_size"] = float(cfg["step_fraction"]) * b * scale
        run = run_attack(
            model,
            x[todo],
            y[todo],
            make_attack(cfg["attack"], s, seed=seed),
            targets=None if targets is None else targets[todo],
            batch_size=batch_size,
            skip_misclassified=skip_misclassified,
            progress=progress,
            desc=f"{name}" + ("" if b is None else f" {b:g}"),
        )
        t = run.table
        idx = todo.numpy()
        x_adv[todo] = run.x_adv
        attacked[idx] |= t["attacked"].to_numpy()
        seconds[idx] += t["seconds"].to_numpy()
        ok = t["success"].to_numpy()
        win = idx[ok]
        success[win] = True
        l2[win] = t["l2"].to_numpy()[ok] / scale
        linf[win] = t["linf"].to_numpy()[ok] / scale
        budget[win] = np.nan if b is None else b
        todo = todo[torch.as_tensor(~ok & t["attacked"].to_numpy())]
    table = pd.DataFrame(
        {
            "clip": np.arange(n),
            "label": y.numpy(),
            "target": -1 if targets is None else targets.numpy(),
            "attacked": attacked,
            "success": success,
            "l2": l2,
            "linf": linf,
            "budget": budget,
            "seconds": seconds,
        }
    )
    return table, x_adv


def _attacked_rates(t: pd.DataFrame, grid: np.ndarray) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The attacked rows of ``t`` and their success rate at each budget of ``grid`` (``None``
    when no clip was attacked: untargeted, every clip misclassified)."""
    a = t[t["attacked"]]
    if len(a) == 0:
        return a, None
    return a, success_rate_curve(a["l2"].fillna(0.0), grid, a["success"])


def _curve_auc(t: pd.DataFrame, grid: np.ndarray) -> tuple[np.ndarray, float]:
    _, rates = _attacked_rates(t, grid)
    if rates is None:
        return np.full(len(grid), np.nan), float("nan")
    return rates, fooling_auc(grid, rates)


def budget_grid(cap: float, points: int = 31) -> np.ndarray:
    """``points`` budgets from 0 to ``cap`` (paper scale), for the AUC's integral."""
    if not cap > 0:
        raise ValueError(f"cap must be positive, got {cap}")
    return np.linspace(0.0, float(cap), int(points))


def auc_table(results: pd.DataFrame, cap: float) -> pd.DataFrame:
    """Fooling AUC on ``[0, cap]`` per (everything but clip) group of ``results``.

    ``results`` holds :func:`attack_cell` rows with extra key columns (``representation``,
    ``arch``, ``kind``, ``domain``, ...). Adds ``rate_at_cap`` (the success rate at ``cap``),
    ``n`` (attacked clips), ``mean_l2`` (mean successful perturbation, all successes).
    """
    keys = [c for c in results.columns if c in _KEYS]
    grid = budget_grid(cap)
    rows = []
    for key, t in results.groupby(keys, sort=False):
        rates, auc = _curve_auc(t, grid)
        a = t[t["attacked"]]
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "auc": auc,
                "rate_at_cap": rates[-1],
                "n": len(a),
                "mean_l2": float(a.loc[a["success"], "l2"].mean()),
            }
        )
    return pd.DataFrame(rows)


_KEYS = ("dataset", "fold", "representation", "arch", "kind", "domain", "attack")


def eps_r_table(
    results: pd.DataFrame, *, threshold: float = 0.9, reach: float = 20.0, points: int = 801
) -> pd.DataFrame:
    """Table III: ``eps_r`` (Eq. 15) per (cell, attack) of ``results`` (``kind`` column:
    ``original`` and an adversarially trained kind).

    For each model the mean L2 of the successful perturbations (``eps_o``, ``eps_a``) and
    ``eps_auc``, the smallest cap at which the fooling AUC on ``[0, cap]`` passes ``threshold``
    (:func:`advlib.metrics.epsilon_at_auc` on ``points`` budgets up to ``reach`` times the
    largest perturbation found; inf if it never does: the attack failed on more than about
    ``1 - threshold`` of the clips). ``eps_r = eps_a / eps_o``; ``both_auc`` says whether both
    models reached AUC > ``threshold``, as the paper requires.
    """
    keys = [c for c in results.columns if c in _KEYS and c != "kind"]
    rows = []
    for key, t in results.groupby(keys, sort=False):
        kinds = [k for k in t["kind"].unique() if k != "original"]
        if "original" not in set(t["kind"]) or not kinds:
            continue
        top = float(np.nanmax(t["l2"])) if t["success"].any() else 1.0
        grid = np.linspace(0.0, max(top, 1e-6) * reach, points)
        out = {}
        for kind, g in t.groupby("kind"):
            a, rates = _attacked_rates(g, grid)
            if rates is None:
                out[kind] = (float("nan"), float("inf"))
                continue
            out[kind] = (
                float(a.loc[a["success"], "l2"].mean()),
                epsilon_at_auc(grid, rates, threshold),
            )
        for kind in kinds:
            (ea, aa), (eo, ao) = out[kind], out["original"]
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "kind": kind,
                    "eps_o": eo,
                    "eps_a": ea,
                    "eps_r": ea / eo if eo > 0 else float("nan"),  # NaN when either is
                    "eps_auc_o": ao,
                    "eps_auc_a": aa,
                    "both_auc": bool(np.isfinite(ao) and np.isfinite(aa)),
                }
            )
    return pd.DataFrame(rows)


def significance_table(results: pd.DataFrame, cap: float, alpha: float = 0.05) -> pd.DataFrame:
    """Original against adversarially trained, per (cell, attack): success within ``cap``.

    Only clips attacked on both models count (paired). Two-proportion Z (the UAP paper's test,
    which ignores the pairing; ``alternative="less"`` with the trained model as the lower) and
    the exact McNemar test (paired, the right one), Holm-adjusted over the table's rows. When
    both rates reach 1 the difference is in the sizes: the one-sided Wilcoxon signed-rank test
    of the L2 on the trained model against the original, over clips fooled on both (NaN below
    five such clips).
    """
    keys = [c for c in results.columns if c in _KEYS and c != "kind"]
    rows = []
    for key, t in results.groupby(keys, sort=False):
        kinds = [k for k in t["kind"].unique() if k != "original"]
        for kind in kinds:
            o = t[t["kind"] == "original"].set_index("clip")
            a = t[t["kind"] == kind].set_index("clip")
            both = o.index[o["attacked"] & a.reindex(o.index)["attacked"].fillna(False)]
            if len(both) == 0:
                continue
            so = (o.loc[both, "success"] & (o.loc[both, "l2"] <= cap)).to_numpy()
            sa = (a.loc[both, "success"] & (a.loc[both, "l2"] <= cap)).to_numpy()
            z = two_proportion_z(int(sa.sum()), int(so.sum()), len(both))
            mc = mcnemar_exact(sa, so)
            # sizes: clips fooled on both models, trained against original (paired)
            fo = (o.loc[both, "success"] & a.loc[both, "success"]).to_numpy()
            lo_, la_ = o.loc[both, "l2"].to_numpy()[fo], a.loc[both, "l2"].to_numpy()[fo]
            p_size = (
                float(wilcoxon(la_, lo_, alternative="greater").pvalue)
                if fo.sum() >= 5 and np.any(la_ != lo_)
                else float("nan")
            )
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "kind": kind,
                    "n": len(both),
                    "rate original": so.mean(),
                    "rate trained": sa.mean(),
                    "z": z.z,
                    "p (Z, one-sided)": z.p_value,
                    "p (McNemar)": mc.p_value,
                    "both fooled": int(fo.sum()),
                    "median l2 ratio": float(np.median(la_ / lo_)) if fo.any() else float("nan"),
                    "p (Wilcoxon, larger l2)": p_size,
                }
            )
    df = pd.DataFrame(rows)
    if len(df):
        h = holm(df["p (McNemar)"].to_numpy(), alpha)
        df["p Holm"] = h.p_adjusted
        df["reject"] = h.reject
    return df


def robust_accuracy(
    cache: Cache,
    fit: CellFit,
    eps: float,
    *,
    steps: int = 20,
    n: int | None = None,
    seed: int = 0,
    progress: bool = True,
    batch_size: int | None = None,
) -> float:
    """Test accuracy under untargeted L-inf PGD at ``eps`` (paper scale), in the representation,
    ``batch_size`` clips at a time (default: all)."""
    cfg = {"attack": "pgd", "settings": {"eps": eps * fit.data.scale, "steps": steps}}
    params = {"fit": fit.cache_key, "robust": cfg, "n": n, "seed": seed,
              "revision": code_revision("pgd")}  # fmt: skip

    def compute() -> dict[str, Any]:
        x, y = fit.data.test.x, fit.data.test.y
        if n is not None:
            x, y = x[:n], y[:n]
        attack = make_attack("pgd", {**cfg["settings"], "bounds": fit.data.bounds}, seed=seed)
        run = run_attack(fit.classifier, x, y, attack, batch_size=batch_size, progress=progress,
                         desc="pgd robust")  # fmt: skip
        return {"acc": float((run.table["adv_pred"] == run.table["label"]).mean())}

    payload, _ = cache.fetch("at_robust", params, compute)
    return float(payload["acc"])


# --------------------------------------------------------------------------------------------
# paper numbers and figures
# --------------------------------------------------------------------------------------------


def beside_paper(ours: pd.DataFrame, paper: pd.DataFrame, *, artefact: str, metric: str,
                 column: str, dataset: str | None = None) -> pd.DataFrame:  # fmt: skip
    """Our ``column`` per (representation, arch) beside the paper's ``metric`` of ``artefact``.

    The paper's rows of every data set it has (``dataset`` picks one) become columns
    ``paper <dataset>``; representations and archs that we did not run are left out. Our CWT
    rows get the paper's DWT numbers (its "DWT" images are Morlet CWT images).
    """
    pub = paper[(paper["artefact"] == artefact) & (paper["metric"] == metric)]
    if dataset is not None:
        pub = pub[pub["dataset"] == dataset]
    ours = ours.groupby(["representation", "arch"], sort=False)[column].mean().rename("ours")
    out = ours.reset_index()
    for ds, g in pub.groupby("dataset"):
        m = g.set_index(["representation", "victim"])["value"]
        pairs = zip(out["representation"], out["arch"], strict=True)
        out[f"paper {ds}"] = [m.get((PAPER_REPRESENTATION.get(r, r), a), np.nan)
                              for r, a in pairs]  # fmt: skip
    return out


def plot_success_curves(results: pd.DataFrame, cap: float, *, title: str = "") -> plt.Figure:
    """Success rate against budget (paper scale) per attack, original (solid) and trained
    (dashed), on ``[0, 2 cap]`` with the cap marked."""
    grid = budget_grid(2 * cap, 61)
    attacks = paper_order(dict.fromkeys(results["attack"]))
    fig, ax = plt.subplots(figsize=(7, 4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, name in enumerate(attacks):
        for kind, g in results[results["attack"] == name].groupby("kind"):
            rates, _ = _curve_auc(g, grid)
            ax.plot(grid, rates, color=colors[i % len(colors)],
                    ls="-" if kind == "original" else "--",
                    label=f"{ATTACK_TITLES.get(name, name)} ({kind})")  # fmt: skip
    ax.axvline(cap, color="grey", lw=0.8)
    ax.set_xscale("symlog", linthresh=cap / 100)
    ax.set_xlabel("L2 budget (paper scale; linear below cap / 100, log above)")
    ax.set_ylabel("success rate")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def attack_one(
    cache: Cache,
    fit: CellFit,
    cfg: Mapping[str, Any],
    clip: int,
    *,
    domain: str = "representation",
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """One test clip attacked as :func:`attack_cell` attacks it (same target, the budget sweep
    stopped at the first success), returning ``(x, x_adv, adversarial prediction)``, cached.
    ``x`` is the image or, for ``domain="waveform"``, the waveform (then audible)."""
    model, scale, bounds = _domain(fit, domain)
    if not 0 <= clip < len(fit.data.test):
        raise ValueError(f"clip {clip} out of range for {len(fit.data.test)} test clips")
    x, y = _inputs(fit, domain)[clip : clip + 1], fit.data.test.y[clip : clip + 1]
    targets = _targets(fit.data.test.y, fit.data.test.n_classes, seed)[clip : clip + 1]
    params = {"fit": fit.cache_key, "one": dict(cfg), "clip": clip, "domain": domain, "seed": seed,
              "revision": code_revision(cfg["attack"])}  # fmt: skip

    def compute() -> dict[str, Any]:
        t = targets if cfg.get("targeted") else None
        _, x_adv = _sweep(model, x, y, t, cfg, scale, bounds, seed=seed, skip_misclassified=False)
        return {"x_adv": x_adv, "pred": int(predict_logits(model, x_adv).argmax(1)[0])}

    payload, _ = cache.fetch("at_one", params, compute)
    return x, payload["x_adv"], int(payload["pred"])


def plot_attacked_clip(
    cache: Cache,
    fit: CellFit,
    attacks: Mapping[str, Mapping[str, Any]],
    clip: int,
    *,
    seed: int = 0,
) -> plt.Figure:
    """AT paper Fig. 1: one clip's image under each attack (top) and the perturbation (bottom),
    its L2 size (paper scale) below (:func:`attack_one`: the smallest budget of the sweep that
    fools it; untargeted for DeepFool, the clip's seeded wrong target otherwise)."""
    names = paper_order(attacks)
    fig, axes = plt.subplots(2, len(names) + 1, figsize=(2.0 * (len(names) + 1), 4.4))
    lo, hi = fit.data.bounds
    x = fit.data.test.x[clip : clip + 1]
    axes[0, 0].imshow(x[0, 0].numpy(), origin="lower", aspect="auto", vmin=lo, vmax=hi)
    label = fit.data.classes[int(fit.data.test.y[clip])]
    axes[0, 0].set_title(f"original\n{label}", fontsize=8)
    axes[1, 0].axis("off")
    for j, name in enumerate(names, start=1):
        _, xa, pred = attack_one(cache, fit, attacks[name], clip, seed=seed)
        d = (xa - x)[0, 0].numpy()
        axes[0, j].imshow(xa[0, 0].numpy(), origin="lower", aspect="auto", vmin=lo, vmax=hi)
        title = f"{ATTACK_TITLES.get(name, name)}\n-> {fit.data.classes[pred]}"
        axes[0, j].set_title(title, fontsize=8)
        m = float(np.abs(d).max()) or 1.0
        axes[1, j].imshow(d, origin="lower", aspect="auto", cmap="coolwarm", vmin=-m, vmax=m)
        axes[1, j].set_title(f"||d||2 = {np.linalg.norm(d) / fit.data.scale:.3f}", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def plot_robust_curves(fits: Mapping[str, CellFit], *, title: str = "") -> plt.Figure:
    """Per-epoch clean and robust (FGSM, PGD) validation accuracy of adversarial trainings:
    catastrophic overfitting shows as PGD accuracy collapsing while FGSM accuracy climbs."""
    fig, axes = plt.subplots(1, len(fits), figsize=(4.2 * len(fits), 3.4), squeeze=False)
    for ax, (label, f) in zip(axes[0], fits.items(), strict=True):
        h = pd.DataFrame(f.history)
        for col, name in (("valid_acc", "clean"), ("valid_fgsm_acc", "FGSM"),
                          ("valid_pgd_acc", "PGD")):  # fmt: skip
            if col in h:
                ax.plot(h["epoch"], h[col], marker=".", label=name)
        ax.axvline(f.best_epoch, color="grey", lw=0.8, ls=":")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylim(-0.02, 1.02)
    axes[0, 0].set_ylabel("validation accuracy")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------
# the profile's ``at`` section
# --------------------------------------------------------------------------------------------


def cell_knobs(at: Mapping[str, Any], arch: str, representation: str) -> dict[str, Any]:
    """The knobs of ``arch`` on ``representation``: the section's shared front-end knobs,
    updated by the arch's own; the CWT knobs (``cwt_*``) only for the CWT representations, so
    that they leave the other cells (and their cache keys) as they are."""
    knobs = {**(at.get("frontend") or {}), **(at["archs"][arch] or {}),
             "representation": representation}  # fmt: skip
    if not representation.startswith("cwt"):
        knobs = {k: v for k, v in knobs.items() if not k.startswith("cwt_")}
    return knobs


def table_cells(at: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
    """The ``(arch, representation)`` cells Table I trains on data set ``name``: its ``cells``
    where the section lists them (a smaller profile's choice), else every arch of ``at.archs``
    on every representation; in the table's order (representations, then the paper's order of
    the archs)."""
    reps = list(at["representations"])
    archs = [a for a in ARCHITECTURES if a in at["archs"]]
    listed = at["datasets"][name].get("cells")
    if listed is None:
        return [(arch, rep) for rep in reps for arch in archs]
    return sorted(((a, r) for a, r in listed), key=lambda c: (reps.index(c[1]), archs.index(c[0])))


def training_pair(at: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """FGSM and PGD adversarial training at the ``pgd`` section's budget (beyond the paper):
    the same ``eps``, epochs, start and monitor, PGD with its ``steps``."""
    p = {k: v for k, v in at["pgd"].items() if k not in ("cell", "robust_steps")}
    fgsm = {k: v for k, v in p.items() if k not in ("steps", "step_size")}
    return {"fgsm": {**fgsm, "method": "fgsm"}, "pgd": {**p, "method": "pgd"}}


def with_keys(table: pd.DataFrame, **keys: Any) -> pd.DataFrame:
    """``table`` with constant key columns (``fold``, ``arch``, ``kind``, ...) put first."""
    t = table.copy()
    for i, (k, v) in enumerate(keys.items()):
        t.insert(i, k, v)
    return t


# The profile's ``at`` section: checked when the profile is loaded
# (advlib.chapters.load_profile).
_AT = {
    "datasets",
    "representations",
    "frontend",
    "archs",
    "train",
    "fgsm",
    "n_attack",
    "batch_size",
    "cap",
    "attacks",
    "attack_cells",
    "figure",
    "waveform",
    "pgd",
}
_AT_TRAINING = {"method", "eps", "alpha", "epochs", "lr", "init", "steps", "step_size", "monitor"}
_AT_ATTACK = {"attack", "settings", "targeted", "budgets", "step_fraction"}


def _cells(source: str, where: str, cells: Any, archs: dict, reps: list) -> None:
    """A list of ``[arch, representation]`` pairs the section trains."""
    if not isinstance(cells, list) or not cells:
        fail(source, where, "must be a non-empty list of [arch, representation] pairs")
    for cell in cells:
        if not isinstance(cell, list) or len(cell) != 2:
            fail(source, where, f"{cell!r} is not an [arch, representation] pair")
        if cell[0] not in archs or cell[1] not in reps:
            fail(source, where, f"{cell!r}: not among at.archs x at.representations")


def validate_section(at: Any, datasets: dict[str, Any], source: str) -> None:
    """The ``at`` section (the "Adversarial training" chapter): data sets with folds, image
    classifiers and their knobs, the training recipes, the six attacks' settings (checked
    against each attack's parameters) and the cells that are attacked."""
    from advlib.attacks.registry import make_attack
    from advlib.models.registry import victim_spec
    from advlib.models.spectrogram import ARCHITECTURES, REPRESENTATIONS
    from advlib.train.classifier import TrainConfig

    where = "at"
    check_keys(source, where, at, _AT, {"datasets", "representations", "archs", "fgsm",
                                          "attacks", "attack_cells", "cap"})  # fmt: skip
    if not isinstance(at["datasets"], dict) or not at["datasets"]:
        fail(source, f"{where}.datasets", "must be a non-empty mapping")
    reps = at["representations"]
    if not isinstance(reps, list) or not reps or set(reps) - set(REPRESENTATIONS):
        fail(source, f"{where}.representations", f"must be a list from {REPRESENTATIONS}")
    archs = at["archs"]
    if not isinstance(archs, dict) or not archs or set(archs) - set(ARCHITECTURES):
        fail(source, f"{where}.archs", f"must map names from {ARCHITECTURES} to knobs")
    for name, ds in at["datasets"].items():
        dwhere = f"{where}.datasets.{name}"
        if name not in datasets:
            fail(source, dwhere, f"{name!r} is not a data set of the profile")
        check_keys(source, dwhere, ds, {"folds", "cells"}, {"folds"})
        folds = ds["folds"]
        ok = isinstance(folds, list) and folds and all(
            isinstance(f, list) and len(f) == 2 and all(isinstance(k, int) for k in f)
            and f[0] != f[1] for f in folds)  # fmt: skip
        if not ok:
            fail(source, f"{dwhere}.folds", "must list [test fold, valid fold] pairs of ints")
        if "cells" in ds:
            _cells(source, f"{dwhere}.cells", ds["cells"], archs, reps)
            if len({tuple(c) for c in ds["cells"]}) != len(ds["cells"]):
                fail(source, f"{dwhere}.cells", "lists a cell twice")
    frontend = at.get("frontend") or {}
    for arch, knobs in archs.items():
        bad = set({**frontend, **(knobs or {})}) - set(victim_spec(arch).knobs)
        if bad or "representation" in (knobs or {}):
            fail(source, f"{where}.archs.{arch}", f"unknown knob(s) {sorted(bad)} (the "
                  "representation comes from at.representations)")  # fmt: skip
        try:
            TrainConfig.from_dict({**victim_spec(arch).recipe, **(at.get("train") or {})})
        except (TypeError, ValueError) as exc:
            fail(source, f"{where}.train", str(exc))
    for key in ("fgsm", "pgd"):
        if key not in at:
            continue
        allowed = _AT_TRAINING | ({"cell", "robust_steps"} if key == "pgd" else set())
        sec, kwhere = at[key], f"{where}.{key}"
        check_keys(source, kwhere, sec, allowed, {"eps"})
        eps = sec["eps"]
        if not isinstance(eps, int | float) or not 0 < eps <= 1:
            fail(source, f"{kwhere}.eps", "must be in (0, 1] (paper scale)")
        if sec.get("method", key) != key:
            fail(source, f"{kwhere}.method", f"the {key} section trains with {key}")
        alpha = sec.get("alpha", 0.0)
        if not isinstance(alpha, int | float) or not 0 <= alpha <= 1:
            fail(source, f"{kwhere}.alpha", "must be in [0, 1] (Eq. 14)")
        if sec.get("init", "original") not in ("original", "scratch"):
            fail(source, f"{kwhere}.init", "must be 'original' or 'scratch'")
        for k in ("epochs", "steps", "robust_steps"):
            if k in sec:
                positive_int(source, f"{kwhere}.{k}", sec[k])
        if sec.get("monitor") is not None:
            mon = sec["monitor"]
            check_keys(source, f"{kwhere}.monitor", mon, {"n", "eps", "steps"}, {"eps"})
            for k in ("n", "steps"):
                if k in mon:
                    positive_int(source, f"{kwhere}.monitor.{k}", mon[k])
        if key == "pgd":
            _cells(source, f"{where}.pgd.cell", [at["pgd"].get("cell")], archs, reps)
    for name in ("n_attack", "batch_size"):
        if at.get(name) is not None:
            positive_int(source, f"{where}.{name}", at[name])
    if not isinstance(at["cap"], int | float) or not at["cap"] > 0:
        fail(source, f"{where}.cap", "must be a positive budget (paper scale)")
    attacks = at["attacks"]
    if not isinstance(attacks, dict) or not attacks or set(attacks) - set(ATTACK_TITLES):
        fail(source, f"{where}.attacks", f"must map names from {list(ATTACK_TITLES)}")

    def check_attack(awhere: str, cfg: Any) -> None:
        check_keys(source, awhere, cfg, _AT_ATTACK, {"attack"})
        if not isinstance(cfg.get("targeted", False), bool):
            fail(source, f"{awhere}.targeted", "must be true or false")
        frac = cfg.get("step_fraction", 1.0)
        if not isinstance(frac, int | float) or not frac > 0:
            fail(source, f"{awhere}.step_fraction", "must be positive")
        settings = dict(cfg.get("settings") or {})
        if cfg.get("budgets") is not None:
            b = cfg["budgets"]
            numbers = isinstance(b, list) and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in b
            )
            if not numbers or not b or any(not 0 < v < math.inf for v in b) or b != sorted(b):
                fail(source, f"{awhere}.budgets", "must be increasing positive budgets")
            settings["eps"] = b[0]
        try:
            make_attack(cfg["attack"], settings)
        except ValueError as exc:
            fail(source, awhere, str(exc))

    for name, cfg in attacks.items():
        check_attack(f"{where}.attacks.{name}", cfg)
    _cells(source, f"{where}.attack_cells", at["attack_cells"], archs, reps)
    if "figure" in at:
        check_keys(source, f"{where}.figure", at["figure"], {"cell", "clip"}, {"cell"})
        clip = at["figure"].get("clip", 0)
        if not isinstance(clip, int) or isinstance(clip, bool) or clip < 0:
            fail(source, f"{where}.figure.clip", "must be a test-clip index >= 0")
        _cells(source, f"{where}.figure.cell", [at["figure"]["cell"]], archs, reps)
    if "waveform" in at:
        wave = at["waveform"]
        wwhere = f"{where}.waveform"
        check_keys(source, wwhere, wave, {"cells", "cap", "attacks"}, {"cells", "cap", "attacks"})
        _cells(source, f"{wwhere}.cells", wave["cells"], archs, reps)
        if not isinstance(wave["cap"], int | float) or not wave["cap"] > 0:
            fail(source, f"{wwhere}.cap", "must be a positive budget (paper scale)")
        if not isinstance(wave["attacks"], dict) or set(wave["attacks"]) - set(attacks):
            fail(source, f"{wwhere}.attacks", "must map names of at.attacks to overrides")
        for name, over in wave["attacks"].items():
            check_attack(f"{wwhere}.attacks.{name}", merge_attack(attacks[name], over))


# --------------------------------------------------------------------------------------------
# the page: one function per section, each returning what the notebook shows
# --------------------------------------------------------------------------------------------

#: Titles of the representations and the image classifiers, as the page prints them.
TITLE = {
    **REP_TITLES,
    "googlenet": "GoogLeNet",
    "alexnet": "AlexNet",
    "resnet18": "ResNet-18",
    "resnet34": "ResNet-34",
    "resnet56": "ResNet-56",
    "vgg16": "VGG-16",
}
#: The paper's data sets, as the beside-the-paper tables name them.
PAPER_DATASETS = {"esc50": "ESC-50", "urbansound8k": "UrbanSound8K"}


@dataclass
class Chapter:
    """The chapter on one page: its :class:`advlib.study.Study`, the profile's ``at`` section
    (attacks in the paper's order), the paper's numbers, the fitted cells and the attack rows
    that later sections reuse. Make it with :func:`start`."""

    study: Any
    at: dict[str, Any]
    paper: pd.DataFrame
    archs: list[str]
    reps: list[str]
    fits: dict[tuple, CellFit] = field(default_factory=dict)
    results: pd.DataFrame | None = None
    first_table: pd.DataFrame | None = None

    def first(self, name: str) -> tuple[int, int]:
        """The first fold of data set ``name`` (the attacked one)."""
        return tuple(self.at["datasets"][name]["folds"][0])

    def fit(self, name: str, fold: Sequence[int], arch: str, rep: str,
            adversarial: Any = None, tag: str | None = None) -> CellFit:  # fmt: skip
        """One classifier: original, or adversarially trained (``"fgsm"``: the section's FGSM),
        cached on disk and once per page."""
        if adversarial == "fgsm":
            adversarial = {"method": "fgsm", **self.at["fgsm"]}
        key = (name, tuple(fold), arch, rep, tag or (adversarial or {}).get("method", "original"))
        if key not in self.fits:
            s = self.study
            self.fits[key] = fit_cell(s.cache, s.dataset(name, fold), arch,
                                      knobs=cell_knobs(self.at, arch, rep),
                                      train=self.at.get("train"), adversarial=adversarial,
                                      seed=s.seed, progress=s.progress)  # fmt: skip
        return self.fits[key]

    def attacked(self, name: str, fold: Sequence[int], arch: str, rep: str,
                 fits: Sequence[CellFit], domain: str = "representation",
                 attacks: Mapping[str, Any] | None = None) -> pd.DataFrame:  # fmt: skip
        """The section's attacks on ``fits`` (:func:`attack_cell`), with the cell's keys."""
        out = []
        s = self.study
        for f in fits:
            r = attack_cell(s.cache, f, attacks or self.at["attacks"], domain=domain,
                            n=self.at.get("n_attack"), batch_size=self.at.get("batch_size"),
                            seed=s.seed, progress=s.progress)  # fmt: skip
            out.append(with_keys(r, dataset=name, fold=f"{fold[0]}", representation=rep,
                                 arch=arch, kind=f.kind, domain=domain))  # fmt: skip
        return pd.concat(out, ignore_index=True)


def start(study: Any, at: Mapping[str, Any]) -> Chapter:
    """The chapter on ``study``'s page with the profile's ``at`` section; the classifiers and
    representations in the paper's order (papermill's parameters arrive with sorted keys), the
    attacks too."""
    from advlib.study.paper_numbers import load_paper_numbers

    at = dict(at)
    at["attacks"] = {k: at["attacks"][k] for k in paper_order(at["attacks"])}
    return Chapter(study=study, at=at, paper=load_paper_numbers("AT"),
                   archs=[a for a in ARCHITECTURES if a in at["archs"]],
                   reps=list(at["representations"]))  # fmt: skip


def _titled(df: pd.DataFrame) -> pd.DataFrame:
    """Key columns with readable names and values (architectures, representations, attacks)."""
    t = df.copy()
    for col in ("representation", "arch"):
        if col in t:
            t[col] = t[col].map(lambda v: TITLE.get(v, v))
    if "attack" in t:
        t["attack"] = t["attack"].map(lambda v: ATTACK_TITLES.get(v, v))
    if "kind" in t:
        t["kind"] = t["kind"].map(lambda v: {"fgsm": "FGSM-trained"}.get(v, v))
    names = {"dataset": "data set", "arch": "architecture", "kind": "model"}
    return t.rename(columns=names)


def _beside(ours: pd.DataFrame, c: Chapter, *, artefact: str, metric: str, column: str,
            label: str) -> pd.DataFrame:  # fmt: skip
    """:func:`beside_paper` with readable headers: ``ours: label``, ``paper ESC-50: label``."""
    t = beside_paper(ours, c.paper, artefact=artefact, metric=metric, column=column)
    names = {"ours": f"ours: {label}"}
    for col in t.columns:
        if col.startswith("paper "):
            ds = col.removeprefix("paper ")
            names[col] = f"paper {PAPER_DATASETS.get(ds, ds)}: {label}"
    return _titled(t).rename(columns=names)


def _record_table_one(c: Chapter, name: str, fold: Sequence[int], arch: str, rep: str,
                      t: pd.DataFrame) -> None:  # fmt: skip
    """The scorecard: the drop of one cell with its interval (counts from the test fold)."""
    s = c.study
    n_test = len(s.dataset(name, fold).part("test"))
    k_o = round(t["accuracy"].iloc[0] * n_test / 100)
    k_a = round(t["trained accuracy"].iloc[0] * n_test / 100)
    s.records.record_difference("at_drop", k_o, n_test, k_a, n_test, scale=100,
                                dataset=s.loader(name),
                                label=f"{TITLE[arch]} / {TITLE[rep]}, fold {fold[0]}")  # fmt: skip


def record_best_cell(c: Chapter, mean: pd.DataFrame) -> None:
    """The scorecard: the most accurate cell per data set (accuracy over all its folds)."""
    s = c.study
    for name in c.at["datasets"]:
        acc = mean.loc[name][("accuracy", "mean")]
        rep, arch = acc.idxmax()
        n_test = sum(len(s.dataset(name, f).part("test")) for f in c.at["datasets"][name]["folds"])
        loader = s.loader(name)
        s.records.record("at_best_cell", f"{TITLE[arch]} / {TITLE[rep]}", dataset=loader)
        s.records.record_proportion("at_best_acc", round(acc.max() * n_test / 100), n_test,
                                    scale=100, dataset=loader,
                                    label=f"{TITLE[arch]} / {TITLE[rep]}")  # fmt: skip


def clean_accuracy(c: Chapter) -> Section:
    """Table I: each (representation, arch) trained and FGSM-trained on every fold; the
    accuracy and the drop per data set (means over folds), beside the paper's."""
    out = Section()
    s, at = c.study, c.at
    rows = []
    for name, spec in at["datasets"].items():
        for fold in spec["folds"]:
            for arch, rep in table_cells(at, name):
                t = table_one([c.fit(name, fold, arch, rep, "fgsm")])
                rows.append(with_keys(t, dataset=name, fold=f"{fold[0]}"))
                _record_table_one(c, name, fold, arch, rep, t)
    t1 = pd.concat(rows, ignore_index=True)
    c.first_table = t1
    mean = t1.groupby(["dataset", "representation", "arch"], sort=False)[
        ["accuracy", "trained accuracy", "drop"]].agg(["mean", "std", "count"])  # fmt: skip
    for name in at["datasets"]:
        m = mean.loc[name]
        cell = (m[("accuracy", "mean")].map("{:.2f}".format) + " ("
                + m[("drop", "mean")].map("{:.2f}".format) + ")")  # fmt: skip
        # a cell the profile does not train on this data set (at.datasets.<name>.cells): "-"
        show = cell.unstack("arch").reindex(index=c.reps, columns=c.archs).fillna("-")
        show.index = [TITLE[r] for r in show.index]
        show.columns = [f"{TITLE[a]}: accuracy % (drop, points)" for a in show.columns]
        show = show.rename_axis("representation").reset_index()
        nf = len(at["datasets"][name]["folds"])
        first = c.first(name)
        out.table(show, f"{s.title(name)}: clean test accuracy and its drop after FGSM training "
                  f"({nf} fold{'s' if nf > 1 else ''}; {len(s.dataset(name, first).part('test'))} "
                  f"test clips in fold {first[0]}).")  # fmt: skip
    record_best_cell(c, mean)
    side = beside_paper(t1, c.paper, artefact="Table I", metric="accuracy", column="accuracy")
    drop = beside_paper(t1, c.paper, artefact="Table I", metric="accuracy_drop", column="drop")
    side = side.merge(drop, on=["representation", "arch"], suffixes=(" acc", " drop"))
    names = {}
    for col in side.columns:
        for suffix, label in ((" acc", "accuracy %"), (" drop", "drop (points)")):
            if col.endswith(suffix):
                who = col.removesuffix(suffix)
                ds = who.removeprefix("paper ")
                who = f"paper {PAPER_DATASETS.get(ds, ds)}" if who.startswith("paper ") else who
                names[col] = f"{who}: {label}"
    out.table(
        _titled(side).rename(columns=names),
        "Our Table I beside the paper's (its data "
        "sets are ESC-50 and UrbanSound8K: orders and orderings compare, not values).",
    )
    best = t1.loc[t1["accuracy"].idxmax()]
    out.glue = {
        "at_best_arch": TITLE[best["arch"]],
        "at_best_rep": TITLE[best["representation"]],
        "at_best_acc": f"{best['accuracy']:.1f}",
        "at_drop_min": f"{t1['drop'].min():.1f}",
        "at_drop_max": f"{t1['drop'].max():.1f}",
        "at_drop_mean": f"{t1['drop'].mean():.1f}",
    }
    return out


def _auc_formats() -> dict[str, Any]:
    return {"AUC": "{:.3f}", "mean successful L2": "{:.3f}", "clips": "{:d}",
            "success rate at the cap %": percent}  # fmt: skip


def fooling(c: Chapter) -> Section:
    """Table II: the attacks on the original and the FGSM-trained model of each attacked cell;
    the mean fooling AUC, per attack, beside the paper's; the success-rate curves (figure)."""
    out = Section()
    at = c.at
    res = []
    for name in at["datasets"]:
        fold = c.first(name)
        for arch, rep in at["attack_cells"]:
            o, a = c.fit(name, fold, arch, rep), c.fit(name, fold, arch, rep, "fgsm")
            res.append(c.attacked(name, fold, arch, rep, [o, a]))
    res = pd.concat(res, ignore_index=True)
    c.results = res
    auc = auc_table(res, at["cap"])
    mean_auc = auc.groupby(["dataset", "representation", "arch", "kind"], sort=False)["auc"].mean()
    t2 = (100 * mean_auc).unstack("kind")[["original", "fgsm"]]
    t2.columns = ["AUC % original", "AUC % FGSM-trained"]
    show = _titled(t2.reset_index())
    show["data set"] = show["data set"].map(c.study.title)
    out.table(show, f"Mean fooling AUC over the {len(at['attacks'])} attacks (cap "
              f"{at['cap']:g}, {int(auc['n'].max())} clips per attack).",
              formats={"AUC % original": "{:.1f}", "AUC % FGSM-trained": "{:.1f}"})  # fmt: skip
    names = {"auc": "AUC", "rate_at_cap": "success rate at the cap %", "n": "clips",
             "mean_l2": "mean successful L2"}  # fmt: skip
    per = auc[["dataset", "representation", "arch", "attack", "kind", *names]].rename(columns=names)
    per = _titled(per)
    per["data set"] = per["data set"].map(c.study.title)
    out.table(
        per,
        "Per attack: fooling AUC, success rate at the cap, clips attacked and the "
        "mean L2 of the successful perturbations (paper scale).",
        formats=_auc_formats(),
        why="Here — also marks an attack that attacked no clip (all were misclassified "
        "before it) or fooled none.",
    )
    ours2 = mean_auc.xs("fgsm", level="kind").reset_index()
    ours2["auc %"] = 100 * ours2["auc"]
    out.table(
        _beside(
            ours2,
            c,
            artefact="Table II",
            metric="fooling_auc",
            column="auc %",
            label="mean AUC % (FGSM-trained)",
        ),
        "Beside the paper's Table II (the mean AUC of the adversarially trained models).",
    )
    lower = int((t2["AUC % FGSM-trained"] < t2["AUC % original"]).sum())
    out.glue = {
        "at_t2_lower": f"{lower} of {len(t2)}",
        "at_t2_trained_mean": f"{t2['AUC % FGSM-trained'].mean():.1f}",
        "at_t2_original_mean": f"{t2['AUC % original'].mean():.1f}",
    }
    fname = next(iter(at["datasets"]))
    fcell = at.get("figure", {}).get("cell", at["attack_cells"][0])
    sel = res[(res["dataset"] == fname) & (res["arch"] == fcell[0])
              & (res["representation"] == fcell[1])]  # fmt: skip
    fig = plot_success_curves(sel, at["cap"], title=f"{TITLE[fcell[0]]} on {TITLE[fcell[1]]}: "
                              "success rate against budget")  # fmt: skip
    out.figure(fig, f"Success rate against the L2 budget of each attack on "
               f"{TITLE[fcell[0]]} / {TITLE[fcell[1]]}: original (solid) and FGSM-trained "
               f"(dashed); the grey line is the cap {at['cap']:g}.")  # fmt: skip
    return out


def significance(c: Chapter) -> Section:
    """Original against FGSM-trained, per attack and cell (:func:`significance_table`)."""
    out = Section()
    with np.errstate(divide="ignore", invalid="ignore"):  # ratios over zero sizes: NaN
        sig = significance_table(c.results, c.at["cap"])
    show = _titled(sig.drop(columns=["fold", "domain"], errors="ignore"))
    show = show.rename(columns={"rate original": "success original %",
                                "rate trained": "success trained %", "n": "clips",
                                "reject": "reject (Holm, 5 %)"})  # fmt: skip
    if "data set" in show:
        show["data set"] = show["data set"].map(c.study.title)
    p4 = "{:.4f}"
    out.table(show, "Success within the cap on the original and on the FGSM-trained model, "
              "over the clips attacked on both: exact McNemar test (Holm-adjusted), the "
              "two-proportion Z-test and the paired sizes (one-sided Wilcoxon).",
              formats={"success original %": percent, "success trained %": percent,
                       "z": "{:.2f}", "p (Z, one-sided)": p4, "p (McNemar)": p4,
                       "p Holm": p4, "p (Wilcoxon, larger l2)": p4,
                       "median l2 ratio": "{:.3f}"},
              why="Here — also marks a size test over fewer than five clips fooled on both "
              "models, or a ratio over a zero perturbation.")  # fmt: skip
    out.glue = {"at_sig_reject": f"{int(sig['reject'].sum())} of {len(sig)}"}
    return out


def eps_r_raises(eps_r: Sequence[float] | np.ndarray) -> tuple[float, float, float] | None:
    """Whether training raises ``eps_r``: the one-sided Wilcoxon signed-rank test of
    ``log eps_r > 0``; ``(statistic, p value, median log eps_r)``, None with fewer than two
    values or all equal to 1."""
    logs = np.log(np.asarray(eps_r, dtype=float))
    if len(logs) >= 2 and np.any(logs != 0):
        w = wilcoxon(logs, alternative="greater")
        return float(w.statistic), float(w.pvalue), float(np.median(logs))
    return None


def clip_log_ratios(results: pd.DataFrame) -> pd.DataFrame:
    """Per clip, the log of the trained model's L2 over the original model's, for every (cell,
    attack) and clip fooled on both models (the clips ``eps_r``'s two means share): columns
    ``cluster`` (the clip: data set, fold, clip index; one clip recurs across cells and
    attacks) and ``log_ratio``."""
    keys = [c for c in results.columns if c in _KEYS and c != "kind"]
    parts = []
    for _, t in results.groupby(keys, sort=False):
        o = t[t["kind"] == "original"].set_index("clip")
        for kind in (k for k in t["kind"].unique() if k != "original"):
            a = t[t["kind"] == kind].set_index("clip").reindex(o.index)
            both = (o["success"] & a["success"].fillna(False).astype(bool)).to_numpy()
            lo, la = o["l2"].to_numpy(float)[both], a["l2"].to_numpy(float)[both]
            ok = (lo > 0) & (la > 0)
            where = [str(t[c].iloc[0]) for c in ("dataset", "fold") if c in t.columns]
            clips = o.index.to_numpy()[both][ok]
            parts.append(pd.DataFrame({"cluster": ["/".join([*where, str(i)]) for i in clips],
                                       "log_ratio": np.log(la[ok] / lo[ok])}))  # fmt: skip
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"cluster": [], "log_ratio": []})
    )


def record_eps_r(study: Any, eps: pd.DataFrame, results: pd.DataFrame | None = None) -> None:
    """The scorecard: every finite positive ``eps_r`` of ``eps`` (:func:`eps_r_table`) and
    whether training raises the perturbation an attack needs.

    With the per-clip ``results``, the test uses every clip (issue: direction claims on paired
    data): the mean per-clip log L2 ratio, trained over original (:func:`clip_log_ratios`),
    by a one-sided t-test with clip-clustered standard errors
    (:func:`advlib.stats.clustered_mean`; a clip recurs across cells and attacks); ``n`` is
    the number of clips, and the label gives the Wilcoxon test over the (cell, attack) ratios
    beside it. Without ``results``, the Wilcoxon test alone (:func:`eps_r_raises`)."""
    from advlib.stats import clustered_mean

    vals = eps["eps_r"].astype(float)
    finite = eps[np.isfinite(vals) & (vals > 0)]
    for _, r in finite.iterrows():
        study.records.record("at_eps_r", float(r["eps_r"]), dataset=study.loader(r["dataset"]),
                             label=f"{TITLE[r['arch']]} / {TITLE[r['representation']]}, "
                                   f"{r['attack']}")  # fmt: skip
    dataset = ",".join(sorted({study.loader(d) for d in eps["dataset"]}))
    test = eps_r_raises(finite["eps_r"].to_numpy(dtype=float))
    cells = (
        f"{len(finite)} (cell, attack) pairs, median eps_r {np.exp(test[2]):.2f}"
        if test is not None
        else None
    )
    ratios = clip_log_ratios(results) if results is not None else None
    if ratios is not None and ratios["cluster"].nunique() >= 2:
        c = clustered_mean(ratios["log_ratio"].to_numpy(), ratios["cluster"].to_numpy())
        beside = f"; Wilcoxon over {cells}: p = {test[1]:.3g}" if test is not None else ""
        study.records.record_test(
            "at_raises_eps_r", float(np.exp(c.estimate)), c.p_greater, holds=bool(c.estimate > 0),
            method="t-test of the mean per-clip log L2 ratio, clip-clustered, one-sided",
            dataset=dataset, n=c.clusters, low=float(np.exp(c.low)), high=float(np.exp(c.high)),
            label=f"mean per-clip L2 ratio {np.exp(c.estimate):.2f} over {c.n} (clip, cell, "
                  f"attack) pairs of {c.clusters} clips{beside}",
        )  # fmt: skip
    elif test is not None:
        stat, p, median = test
        study.records.record_test(
            "at_raises_eps_r", stat, p, holds=bool(median > 0),
            method="Wilcoxon signed-rank, one-sided", dataset=dataset, label=cells,
        )  # fmt: skip


_EPS_FORMATS = {"ε_o (L2)": "{:.3f}", "ε_a (L2)": "{:.3f}", "ε_r": "{:.3f}"}
_EPS_NAMES = {"eps_o": "ε_o (L2)", "eps_a": "ε_a (L2)", "eps_r": "ε_r",
              "both_auc": "both AUC > 0.9"}  # fmt: skip
_EPS_NOTE = "Here — also marks an attack that fooled no clip on one of the models."


def eps_ratio(c: Chapter) -> Section:
    """Table III: ``eps_r`` per cell (mean, min, max over attacks) and per attack, beside the
    paper's; the scorecard's ``eps_r`` records and test."""
    out = Section()
    s = c.study
    eps = eps_r_table(c.results)
    t3 = eps.groupby(["dataset", "representation", "arch"], sort=False)["eps_r"].agg(
        ["mean", "min", "max"])  # fmt: skip
    t3 = _titled(t3.rename(columns={"mean": "mean ε_r", "min": "min ε_r", "max": "max ε_r"})
                 .reset_index())  # fmt: skip
    t3["data set"] = t3["data set"].map(s.title)
    out.table(t3, "ε_r (Eq. 15) per cell over the attacks.",
              formats=dict.fromkeys(["mean ε_r", "min ε_r", "max ε_r"], "{:.3f}"),
              why=_EPS_NOTE)  # fmt: skip
    per = _titled(eps[["dataset", "representation", "arch", "attack", "eps_o", "eps_a", "eps_r",
                       "both_auc"]].rename(columns=_EPS_NAMES))  # fmt: skip
    per["data set"] = per["data set"].map(s.title)
    out.table(per, "ε_r per attack: the mean successful L2 on the original (ε_o) and on the "
              "FGSM-trained model (ε_a), paper scale, and whether both reached AUC > 0.9.",
              formats=_EPS_FORMATS, why=_EPS_NOTE)  # fmt: skip
    ours3 = eps.groupby(["representation", "arch"], sort=False)["eps_r"].mean().reset_index()
    out.table(
        _beside(ours3, c, artefact="Table III", metric="eps_r", column="eps_r", label="ε_r"),
        "Beside the paper's Table III (ε_r; ours: mean over attacks).",
    )
    record_eps_r(s, eps, c.results)
    out.glue = {
        "at_epsr_min": f"{eps['eps_r'].min():.2f}",
        "at_epsr_max": f"{eps['eps_r'].max():.2f}",
        "at_epsr_above1": f"{int((eps['eps_r'] > 1).sum())} of {len(eps)}",
    }
    return out


def attacked_clip(c: Chapter) -> Section:
    """Fig. 1: one held-out clip under each attack (the original model of the figure cell)."""
    out = Section()
    at = c.at
    fname = next(iter(at["datasets"]))
    fcfg = at.get("figure", {"cell": at["attack_cells"][0]})
    f = c.fit(fname, c.first(fname), *fcfg["cell"])
    fig = plot_attacked_clip(c.study.cache, f, at["attacks"], int(fcfg.get("clip", 0)),
                             seed=c.study.seed)  # fmt: skip
    out.figure(
        fig,
        f"Test clip {int(fcfg.get('clip', 0))} ({TITLE[f.arch]} on "
        f"{TITLE[f.representation]}, original model): the image under each attack (top, "
        "with the prediction) and the perturbation (bottom, with its L2 in paper scale).",
    )
    return out


def waveform(c: Chapter) -> Section:
    """Beyond the paper: the attacks of ``at.waveform`` on the waveform through the front-end;
    AUC beside the image domain, ``eps_r``, the curves, and one clip to listen to."""
    out = Section()
    at, s = c.at, c.study
    wave = at.get("waveform")
    if not wave:
        out.glue = {"at_wave_epsr": "n/a"}
        return out
    wattacks = {k: merge_attack(at["attacks"][k], v) for k, v in wave["attacks"].items()}
    wres = []
    for name in at["datasets"]:
        fold = c.first(name)
        for arch, rep in wave["cells"]:
            o, a = c.fit(name, fold, arch, rep), c.fit(name, fold, arch, rep, "fgsm")
            wres.append(c.attacked(name, fold, arch, rep, [o, a], "waveform", wattacks))
    wres = pd.concat(wres, ignore_index=True)
    res = c.results
    both = pd.concat([auc_table(res[res["attack"].isin(list(wattacks))], at["cap"]),
                      auc_table(wres, wave["cap"])])  # fmt: skip
    both = both[both["arch"].isin([x[0] for x in wave["cells"]])
                & both["representation"].isin([x[1] for x in wave["cells"]])]  # fmt: skip
    both = _titled(both[["representation", "arch", "attack", "domain", "kind", "auc", "n"]])
    both["domain"] = both["domain"].map({"representation": "image"}).fillna(both["domain"])
    out.table(both.rename(columns={"auc": "AUC", "n": "clips"}),
              f"Fooling AUC of the same attacks on the image (cap {at['cap']:g}) and on the "
              f"waveform (cap {wave['cap']:g}, [0, 1] audio scale).",
              formats={"AUC": "{:.3f}", "clips": "{:d}"},
              why="Here — also marks an attack that attacked no clip (all were misclassified "
              "before it).")  # fmt: skip
    weps = eps_r_table(wres)
    wshow = _titled(weps[["representation", "arch", "attack", "eps_o", "eps_a", "eps_r",
                          "both_auc"]].rename(columns=_EPS_NAMES))  # fmt: skip
    out.table(wshow, "ε_r in the waveform domain (L2 on the [0, 1] audio scale).",
              formats=_EPS_FORMATS, why=_EPS_NOTE)  # fmt: skip
    out.glue = {"at_wave_epsr": f"{weps['eps_r'].mean():.2f}"}
    cell = wave["cells"][0]
    sel = wres[(wres["arch"] == cell[0]) & (wres["representation"] == cell[1])]
    fig = plot_success_curves(sel, wave["cap"], title=f"{TITLE[cell[0]]} on {TITLE[cell[1]]}: "
                              "waveform-domain attacks")  # fmt: skip
    out.figure(
        fig,
        f"Success rate against the L2 budget on the waveform ({TITLE[cell[0]]} / "
        f"{TITLE[cell[1]]}): original (solid) and FGSM-trained (dashed).",
    )
    # listen: one clip, clean and attacked through the front-end, on the original model
    from advlib import metrics, plots

    name0 = next(iter(at["datasets"]))
    f0, clip = c.fit(name0, c.first(name0), *cell), int(at.get("figure", {}).get("clip", 0))
    sr = s.dataset(name0, c.first(name0)).sample_rate
    lic = s.licence(name0)
    out.media(plots.audio_player(
        f0.data.waves[clip].numpy(), sr, credit=lic,
        title=f"clean: {f0.data.classes[int(f0.data.test.y[clip])]}"))  # fmt: skip
    for k, cfg in wattacks.items():
        xw, xa, pred = attack_one(s.cache, f0, cfg, clip, domain="waveform", seed=s.seed)
        snr = float(metrics.snr_db(xw[0].numpy(), (xa - xw)[0].numpy()))
        out.media(plots.audio_player(
            xa[0].numpy(), sr, credit=lic,
            title=f"{ATTACK_TITLES[k]} on the waveform: predicted {f0.data.classes[pred]}, "
                  f"SNR {snr:.1f} dB"))  # fmt: skip
    return out


def pgd_against_fgsm(c: Chapter) -> Section:
    """Beyond the paper: FGSM and PGD training of the ``at.pgd`` cell at the same budget; the
    robust validation curves (catastrophic overfitting), clean and PGD robust test accuracy
    and the attacks' mean AUC of the original and both trained models."""
    out = Section()
    at, s = c.at, c.study
    pg = at.get("pgd")
    if not pg:
        return out
    name = next(iter(at["datasets"]))
    fold, (arch, rep) = c.first(name), pg["cell"]
    pair = {k: c.fit(name, fold, arch, rep, v, tag=f"{k}-beyond")
            for k, v in training_pair(at).items()}  # fmt: skip
    models = {"original": c.fit(name, fold, arch, rep), **pair}
    fig = plot_robust_curves(
        {f"{k.upper()} training": f for k, f in pair.items()},
        title=f"{TITLE[arch]} on {TITLE[rep]}, eps {pg['eps']:g}",
    )
    out.figure(
        fig,
        "Validation accuracy after every epoch of FGSM and of PGD training: clean, "
        "under FGSM and under PGD (the dotted line: the epoch kept).",
    )
    rows = []
    for k, f in models.items():
        r = c.attacked(name, fold, arch, rep, [f]).assign(kind=k)
        rows.append({"model": k, "clean acc": f.test_acc,
                     "PGD robust acc": robust_accuracy(s.cache, f, pg["eps"],
                                                       steps=pg.get("robust_steps", 20),
                                                       seed=s.seed, progress=s.progress,
                                                       batch_size=at.get("batch_size")),
                     "mean AUC (six attacks)": auc_table(r, at["cap"])["auc"].mean()})  # fmt: skip
    beyond = pd.DataFrame(rows).set_index("model")
    show = beyond.reset_index().rename(columns={
        "clean acc": "clean accuracy %", "PGD robust acc": "PGD robust accuracy %",
        "mean AUC (six attacks)": f"mean AUC ({len(at['attacks'])} attacks)"})  # fmt: skip
    show["model"] = show["model"].map({"original": "original", "fgsm": "FGSM-trained",
                                       "pgd": "PGD-trained"})  # fmt: skip
    out.table(show, f"{TITLE[arch]} on {TITLE[rep]}: clean test accuracy, accuracy under "
              f"L-inf PGD at eps {pg['eps']:g} ({pg.get('robust_steps', 20)} steps) and the "
              "attacks' mean fooling AUC.",
              formats={"clean accuracy %": percent, "PGD robust accuracy %": percent,
                       f"mean AUC ({len(at['attacks'])} attacks)": "{:.3f}"})  # fmt: skip
    h = pd.DataFrame(pair["fgsm"].history)
    co = bool(h["valid_pgd_acc"].max() - h["valid_pgd_acc"].iloc[-1] > 0.2)
    out.glue = {
        "at_co": "collapsed" if co else "did not collapse",
        "at_pgd_robust": f"{beyond.loc['pgd', 'PGD robust acc']:.2f}",
        "at_fgsm_robust": f"{beyond.loc['fgsm', 'PGD robust acc']:.2f}",
    }
    return out


def protocol_notes() -> Section:
    """Where the AT paper departs from its data sets' protocols or from itself
    (``data/papers/protocol.csv``): the page's section, one row per finding."""
    from advlib.study.paper_numbers import protocol_section

    return protocol_section("AT")


# --------------------------------------------------------------------------------------------
# units of work: one job per cell fit, per attack family on a cell, per figure
# --------------------------------------------------------------------------------------------

#: The regimes of a cell: the original model, the section's FGSM training, and the ``pgd``
#: section's FGSM and PGD trainings (beyond the paper).
REGIMES = ("original", "fgsm", "fgsm-beyond", "pgd-beyond")


def _regime_fit(c: Chapter, name: str, fold: Sequence[int], arch: str, rep: str,
                regime: str) -> CellFit:  # fmt: skip
    """The cell's model of ``regime`` (:data:`REGIMES`), as the page's sections fit it."""
    if regime == "original":
        return c.fit(name, fold, arch, rep)
    if regime == "fgsm":
        return c.fit(name, fold, arch, rep, "fgsm")
    k = regime.removesuffix("-beyond")
    return c.fit(name, fold, arch, rep, training_pair(c.at)[k], tag=regime)


def _wave_attacks(at: Mapping[str, Any]) -> dict[str, Any]:
    """The waveform section's attacks, merged onto the section's (as :func:`waveform` does)."""
    wave = at.get("waveform") or {}
    return {k: merge_attack(at["attacks"][k], v) for k, v in (wave.get("attacks") or {}).items()}


def _unit_fit(at: Mapping[str, Any], cell: tuple, study: Any) -> CellFit:
    return _regime_fit(start(study, at), *cell)


def _unit_attack(at: Mapping[str, Any], cell: tuple, domain: str, attack: str,
                 study: Any) -> pd.DataFrame:  # fmt: skip
    c = start(study, at)
    f = _regime_fit(c, *cell)
    attacks = c.at["attacks"] if domain == "representation" else _wave_attacks(c.at)
    return c.attacked(*cell[:4], [f], domain, {attack: attacks[attack]})


def _unit_robust(at: Mapping[str, Any], cell: tuple, study: Any) -> float:
    c = start(study, at)
    pg = c.at["pgd"]
    return robust_accuracy(study.cache, _regime_fit(c, *cell), pg["eps"],
                           steps=pg.get("robust_steps", 20), seed=study.seed,
                           progress=study.progress,
                           batch_size=c.at.get("batch_size"))  # fmt: skip


def _unit_figure(at: Mapping[str, Any], study: Any) -> None:
    attacked_clip(start(study, at))
    plt.close("all")


def _unit_listen(at: Mapping[str, Any], cell: tuple, clip: int, study: Any) -> None:
    c = start(study, at)
    f = _regime_fit(c, *cell)
    for cfg in _wave_attacks(c.at).values():
        attack_one(study.cache, f, cfg, clip, domain="waveform", seed=study.seed)


def units(params: Mapping[str, Any]) -> list[Any]:
    """The AT page's units (``params``: the page's parameters): each cell's fit per regime
    (every fold, representation and arch: original and FGSM-trained; the ``pgd`` cell's FGSM
    and PGD trainings), each attack family on each attacked model (image and waveform domain),
    the PGD cell's robust accuracy, and the figure's and the listening section's clips."""
    from functools import partial

    p = as_page_parameters(params)
    at = p["at"]
    args = study_args(p)
    out: dict[str, Unit] = {}

    def cell_id(cell: tuple) -> str:
        name, fold, arch, rep, regime = cell
        return "/".join(["at", unit_slug(name), f"f{fold[0]}v{fold[1]}", unit_slug(rep),
                         unit_slug(arch), regime])  # fmt: skip

    def fit_spec(cell: tuple) -> dict[str, Any]:
        name, fold, arch, rep, regime = cell
        adv = {"original": None, "fgsm": {"method": "fgsm", **at["fgsm"]}}.get(regime)
        if regime.endswith("-beyond"):
            adv = training_pair(at)[regime.removesuffix("-beyond")]
        return {"data": data_spec(p, name), "fold": list(fold), "arch": arch,
                "knobs": cell_knobs(at, arch, rep), "train": at.get("train"),
                "adversarial": adv}  # fmt: skip

    def add(uid: str, spec: dict, work: Any, needs: tuple = (), **kw: Any) -> None:
        if uid not in out:
            out[uid] = Unit(uid, "at", args, spec, work, needs=needs, **kw)

    def fit(cell: tuple) -> str:
        uid = cell_id(cell)
        needs = () if cell[-1] == "original" else (cell_id((*cell[:4], "original")),)
        add(uid, fit_spec(cell), partial(_unit_fit, at, cell), needs, runtime=480)
        return uid

    def attack(cell: tuple, domain: str, name: str, cfg: Mapping[str, Any]) -> None:
        seg = name if domain == "representation" else f"wave-{name}"
        spec = {"fit": fit_spec(cell), "domain": domain, "attack": cfg,
                "n": at.get("n_attack"), "batch_size": at.get("batch_size")}  # fmt: skip
        add(f"{cell_id(cell)}/{unit_slug(seg)}", spec,
            partial(_unit_attack, at, cell, domain, name), (fit(cell),))  # fmt: skip

    for name, spec in at["datasets"].items():
        for fold in spec["folds"]:
            for arch, rep in table_cells(at, name):
                for regime in ("original", "fgsm"):
                    fit((name, tuple(fold), arch, rep, regime))
    wattacks = _wave_attacks(at)
    for name, spec in at["datasets"].items():
        fold = tuple(spec["folds"][0])
        for arch, rep in at["attack_cells"]:
            for regime in ("original", "fgsm"):
                for k, cfg in at["attacks"].items():
                    attack((name, fold, arch, rep, regime), "representation", k, cfg)
        for arch, rep in (at.get("waveform") or {}).get("cells", []):
            for regime in ("original", "fgsm"):
                for k, cfg in wattacks.items():
                    attack((name, fold, arch, rep, regime), "waveform", k, cfg)
    first = next(iter(at["datasets"]))
    fold = tuple(at["datasets"][first]["folds"][0])
    pg = at.get("pgd")
    if pg:
        arch, rep = pg["cell"]
        for regime in ("original", "fgsm-beyond", "pgd-beyond"):
            cell = (first, fold, arch, rep, regime)
            fit(cell)
            for k, cfg in at["attacks"].items():
                attack(cell, "representation", k, cfg)
            add(f"{cell_id(cell)}/robust", {"fit": fit_spec(cell), "eps": pg["eps"],
                                            "steps": pg.get("robust_steps", 20)},
                partial(_unit_robust, at, cell), (fit(cell),))  # fmt: skip
    fig = at.get("figure", {"cell": at["attack_cells"][0]})
    cell = (first, fold, *fig["cell"], "original")
    add(f"{cell_id(cell)}/figure", {"fit": fit_spec(cell), "attacks": at["attacks"],
                                    "clip": int(fig.get("clip", 0))},
        partial(_unit_figure, at), (fit(cell),))  # fmt: skip
    if wattacks and (at.get("waveform") or {}).get("cells"):
        cell = (first, fold, *at["waveform"]["cells"][0], "original")
        clip = int(at.get("figure", {}).get("clip", 0))
        add(f"{cell_id(cell)}/listen", {"fit": fit_spec(cell), "attacks": wattacks, "clip": clip},
            partial(_unit_listen, at, cell, clip), (fit(cell),))  # fmt: skip
    return list(out.values())
