"""Seeded, reproducible training of victims, with validation-based model selection and caching.

:func:`train_classifier` is the one training loop of the study: mini-batch SGD-family optimisers
from a config, an optional schedule, the weights of the epoch with the best validation accuracy
kept (the authors' code does this for the UAP victims), a tqdm bar, and a record of the curves.
:func:`fit_victim` wraps it with the victim registry and the content-addressed cache, so a
trained victim is computed once per (data set, victim, knobs, recipe, seed).

Bitwise reproducibility holds on one machine with one thread count: the seed fixes the model's
initial weights, the batch order (a private ``torch.Generator``) and dropout.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.std import tqdm

from advlib.cache import Cache
from advlib.data.core import AudioSet
from advlib.device import OnDevice, get_device, model_device, on_device
from advlib.models.registry import build_victim, count_parameters, victim_spec

__all__ = [
    "EVAL_VALUES",
    "FittedVictim",
    "TrainConfig",
    "TrainResult",
    "cpu_state_dict",
    "eval_batch_size",
    "fit_victim",
    "predict_logits",
    "train_classifier",
    "victim_params",
]

_OPTIMIZERS = {
    "adadelta": torch.optim.Adadelta,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}
_SCHEDULERS = (None, "plateau", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe.

    Attributes
    ----------
    optimizer:
        One of ``adadelta``, ``adam``, ``adamw``, ``sgd``, ``rmsprop``.
    lr:
        Learning rate.
    optimizer_kwargs:
        Extra optimiser arguments (``rho``, ``momentum``, ``weight_decay``, ...).
    batch_size, epochs:
        Mini-batch size and number of passes over the training set.
    scheduler:
        ``None``, ``"plateau"`` (halve the rate after ``patience`` epochs without validation
        gain) or ``"cosine"`` (cosine decay to zero over ``epochs``).
    patience:
        Plateau patience; also stops training early after ``2 * patience`` epochs without a new
        best validation accuracy when ``early_stop`` is true.
    seed:
        Seeds the weights, the batch order and dropout.
    max_steps:
        At most this many mini-batches per epoch (the first of the epoch's shuffled order);
        ``None`` (the default, and every paper recipe) passes over the whole training set. The
        ``smoke`` profile sets it to run the paper recipes' code paths in seconds; left unset,
        it is not part of :meth:`to_dict` (so it changes no cache key).
    micro_batch:
        Forward and backward each mini-batch in chunks of at most this many clips, accumulating
        the gradient (each chunk's mean loss weighted by its share of the batch) before the one
        optimiser step: the mini-batch's gradient with a chunk's memory. Batch-norm layers then
        see the chunks' statistics. ``None`` (the default): the whole mini-batch at once; unset,
        it is not part of :meth:`to_dict` either. The paper-size image classifiers need it: a
        forward and backward pass of one 1308 x 1568 image through ResNet-56 holds 10.5 GB.
    """

    optimizer: str = "adadelta"
    lr: float = 1.0
    optimizer_kwargs: dict[str, Any] = field(default_factory=lambda: {"rho": 0.95})
    batch_size: int = 20
    epochs: int = 100
    scheduler: str | None = None
    patience: int = 5
    early_stop: bool = False
    seed: int = 0
    max_steps: int | None = None
    micro_batch: int | None = None

    def __post_init__(self) -> None:
        for name in ("batch_size", "epochs", "patience", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"{name} must be an integer, got {v!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, int | float):
            hint = " (YAML reads 1e-3 as text: write 1.0e-3)" if isinstance(self.lr, str) else ""
            raise ValueError(f"lr must be a number, got {self.lr!r}{hint}")
        if not isinstance(self.early_stop, bool):
            raise ValueError(f"early_stop must be true or false, got {self.early_stop!r}")
        if not isinstance(self.optimizer_kwargs, dict):
            raise ValueError(f"optimizer_kwargs must be a mapping, got {self.optimizer_kwargs!r}")
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; choose from {sorted(_OPTIMIZERS)}"
            )
        if self.scheduler not in _SCHEDULERS:
            raise ValueError(f"unknown scheduler {self.scheduler!r}; choose from {_SCHEDULERS}")
        if not self.lr > 0 or not math.isfinite(self.lr):
            raise ValueError(f"lr must be positive and finite, got {self.lr}")
        if self.batch_size < 1 or self.epochs < 1 or self.patience < 1:
            raise ValueError(
                "batch_size, epochs and patience must be at least 1, got "
                f"{self.batch_size}, {self.epochs}, {self.patience}"
            )
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        for name in ("max_steps", "micro_batch"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be a positive integer or null, got {v!r}")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Build from a profile's mapping; unknown keys raise a ValueError naming them."""
        known = set(cls.__dataclass_fields__)
        unknown = set(d) - known
        if unknown:
            raise ValueError(
                f"unknown training setting(s) {sorted(unknown)}; valid: {', '.join(sorted(known))}"
            )
        return cls(**dict(d))

    def to_dict(self) -> dict[str, Any]:
        """The recipe as a mapping (:meth:`from_dict` reads it back); ``max_steps`` and
        ``micro_batch`` only when set, so recipes without them keep the cache keys they always
        had."""
        d = asdict(self)
        for name in ("max_steps", "micro_batch"):
            if d[name] is None:
                del d[name]
        return d


@dataclass
class TrainResult:
    """What training produced: the selected weights and the per-epoch record."""

    state_dict: dict[str, torch.Tensor]
    history: list[dict[str, float]]
    best_epoch: int
    best_valid_acc: float
    seconds: float


#: The most input values :func:`predict_logits` forwards at once by default (2**22: 256 clips
#: of 16,384 samples, 82 of 50,999, 2 paper-size AT images of 1308 x 1568). Activations scale
#: with the input: 256 such images through VGG-16 would need over 130 GB per layer output.
EVAL_VALUES = 2**22


def eval_batch_size(x: torch.Tensor, cap: int = 256) -> int:
    """The default batch of :func:`predict_logits` for inputs like ``x``: at most ``cap`` and
    at most :data:`EVAL_VALUES` input values per batch, at least 1."""
    per_clip = max(1, int(x[0].numel())) if len(x) else 1
    return max(1, min(cap, EVAL_VALUES // per_clip))


@torch.no_grad()
def predict_logits(
    model: nn.Module, x: torch.Tensor, batch_size: int | None = None
) -> torch.Tensor:
    """Logits of ``model`` (in eval mode) on ``x``, in batches (default
    :func:`eval_batch_size`); the model's mode is restored."""
    batch_size = batch_size or eval_batch_size(x)
    was_training = model.training
    model.eval()
    dev = model_device(model)
    try:
        outs = [model(x[i : i + batch_size].to(dev)).cpu() for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs) if outs else torch.empty(0)


def _epoch_eval(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    logits = predict_logits(model, x)
    loss = nn.functional.cross_entropy(logits, y).item()
    acc = (logits.argmax(1) == y).float().mean().item()
    return loss, acc


#: ``adversary(model, x, y) -> x_adv``: crafts training examples (e.g. a bound FGSM).
Adversary = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def _craft(model: nn.Module, adversary: Adversary, x: torch.Tensor, y: torch.Tensor):
    """``adversary``'s examples, crafted in eval mode (batch-norm statistics untouched, no
    dropout), the model put back in training mode."""
    model.eval()
    try:
        return adversary(model, x, y).detach()
    finally:
        model.train()


def cpu_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of ``model``'s state dict on the CPU (cached weights load on any machine)."""
    sd = model.state_dict()
    if model_device(model).type == "cpu":
        return copy.deepcopy(sd)
    out = type(sd)((k, v.detach().to("cpu", copy=True)) for k, v in sd.items())
    if hasattr(sd, "_metadata"):
        out._metadata = copy.deepcopy(sd._metadata)  # type: ignore[attr-defined]
    return out


def train_classifier(
    model: nn.Module,
    train: AudioSet,
    valid: AudioSet,
    config: TrainConfig,
    *,
    progress: bool = True,
    desc: str = "train",
    adversary: Adversary | None = None,
    alpha: float = 0.0,
    monitor: Callable[[nn.Module], Mapping[str, float]] | None = None,
    select: str = "valid_acc",
) -> TrainResult:
    """Train ``model`` on ``train``, keep the weights with the best ``select`` score.

    Returns the selected state dict (a copy) and the history: one row per epoch with
    ``train_loss``, ``train_acc`` (running, with dropout), ``valid_loss``, ``valid_acc``, ``lr``
    and ``seconds``, plus whatever ``monitor`` returns. The model is left holding the selected
    weights, in eval mode. ``train`` and ``valid`` need only ``x``, ``y``, ``n_classes`` and a
    length, so image sets (:class:`advlib.chapters.at.Images`) train here too.

    Adversarial training (AT paper, Alfonso Sallo et al., Eq. 14, after Goodfellow et al. 2015):
    with ``adversary``, each mini-batch's loss is

    .. math:: J'(x, l, w) = \\alpha\\, J(x, l, w) + (1 - \\alpha)\\, J(x', l, w)

    where ``x' = adversary(model, x, l)`` is crafted on the current weights (in eval mode, so
    crafting neither updates batch-norm statistics nor draws dropout). ``alpha = 0`` is the
    paper's choice: adversarial examples replace the clean ones; ``train_acc`` is then the
    accuracy on ``x'``. ``monitor(model)`` runs after each epoch (e.g. robust accuracy on a
    validation subset, to watch FGSM training for catastrophic overfitting) and its values join
    the epoch's row; ``select`` names the row value whose *largest* value picks the kept epoch
    (``"valid_acc"``, a monitored accuracy, or ``"last"`` for the final epoch).
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    if adversary is None and alpha != 0.0:
        raise ValueError("alpha weights the adversarial loss; it needs an adversary")
    if len(train) == 0 or len(valid) == 0:
        raise ValueError("training and validation sets must not be empty")
    if train.n_classes != valid.n_classes:
        raise ValueError("training and validation sets have different classes")
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    opt = _OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr, **config.optimizer_kwargs)
    sched: Any = None
    if config.scheduler == "plateau":
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, mode="max", factor=0.5, patience=config.patience
        )
    elif config.scheduler == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    x, y = train.x, train.y
    device = model_device(model)  # batches go where the model is (advlib.device)
    cpu_view = model if device.type == "cpu" else OnDevice(model, device)
    best_acc, best_epoch, best_state = -float("inf"), -1, None
    history: list[dict[str, float]] = []
    t_start = time.perf_counter()
    bar = tqdm(range(1, config.epochs + 1), desc=desc, disable=not progress, unit="epoch")
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total_loss, correct, seen = 0.0, 0, 0
        starts = range(0, len(x), config.batch_size)
        if config.max_steps is not None:
            starts = starts[: config.max_steps]
        for i in starts:
            idx = perm[i : i + config.batch_size]
            opt.zero_grad(set_to_none=True)
            chunk = config.micro_batch or len(idx)
            for j in range(0, len(idx), chunk):
                part = idx[j : j + chunk]
                xb, yb = x[part].to(device), y[part].to(device)
                if adversary is None:
                    logits = model(xb)
                    loss = nn.functional.cross_entropy(logits, yb)
                else:
                    logits = model(_craft(model, adversary, xb, yb))
                    loss = (1.0 - alpha) * nn.functional.cross_entropy(logits, yb)
                    if alpha > 0:
                        loss = loss + alpha * nn.functional.cross_entropy(model(xb), yb)
                # a chunk's mean loss, weighted by its share: the mini-batch's mean loss
                (loss if len(part) == len(idx) else loss * (len(part) / len(idx))).backward()
                total_loss += loss.item() * len(part)
                correct += (logits.argmax(1) == yb).sum().item()
                seen += len(part)
            opt.step()
        v_loss, v_acc = _epoch_eval(model, valid.x, valid.y)
        row = {
            "epoch": epoch,
            "train_loss": total_loss / seen,
            "train_acc": correct / seen,
            "valid_loss": v_loss,
            "valid_acc": v_acc,
            "lr": opt.param_groups[0]["lr"],
            "seconds": time.perf_counter() - t0,
        }
        if monitor is not None:
            row.update({k: float(v) for k, v in monitor(cpu_view).items()})
            model.train()
        if select != "last" and select not in row:
            raise ValueError(f"select={select!r} is not a history value; have {sorted(row)}")
        history.append(row)
        if not np.isfinite(row["train_loss"]):
            raise FloatingPointError(
                f"training diverged at epoch {epoch} (loss {row['train_loss']})"
            )
        score = float(epoch) if select == "last" else row[select]
        if score > best_acc:
            best_acc, best_epoch = score, epoch
            best_state = cpu_state_dict(model)
        if sched is not None:
            sched.step(v_acc) if config.scheduler == "plateau" else sched.step()
        bar.set_postfix(loss=f"{row['train_loss']:.3f}", val_acc=f"{v_acc:.3f}", best=best_epoch)
        if config.early_stop and epoch - best_epoch >= 2 * config.patience:
            break
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval()
    best_valid = history[best_epoch - 1]["valid_acc"]
    return TrainResult(best_state, history, best_epoch, best_valid, time.perf_counter() - t_start)


@dataclass
class FittedVictim:
    """A trained victim (in eval mode) and its training record."""

    model: nn.Module
    name: str
    knobs: dict[str, Any]
    config: TrainConfig
    history: list[dict[str, float]]
    best_epoch: int
    best_valid_acc: float
    train_seconds: float
    n_params: int
    cache_key: str
    cached: bool


def victim_params(
    data: AudioSet,
    victim: str,
    knobs: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """The cache parameters of a victim trained by :func:`fit_victim`: the victim, its knobs
    (``sample_rate`` filled from the data for front-ends with filters in Hz), the whole recipe
    (its paper recipe updated with ``train``, seeded), the data's identity and shape."""
    spec = victim_spec(victim)
    knobs = dict(knobs or {})
    if "sample_rate" in spec.knobs:  # front-ends with filters in Hz follow the data's rate
        if knobs.setdefault("sample_rate", data.sample_rate) != data.sample_rate:
            raise ValueError(
                f"victim {victim!r}: knob sample_rate={knobs['sample_rate']} differs from the "
                f"data's {data.sample_rate} Hz"
            )
    config = TrainConfig.from_dict({**spec.recipe, **dict(train or {}), "seed": seed})
    return {
        "victim": victim,
        "knobs": knobs,
        "config": config.to_dict(),
        "data": data.identity(),
        "n_classes": data.n_classes,
        "input_length": data.length,
    }


def fit_victim(
    cache: Cache,
    data: AudioSet,
    victim: str,
    *,
    knobs: Mapping[str, Any] | None = None,
    train: Mapping[str, Any] | None = None,
    seed: int = 0,
    progress: bool = True,
) -> FittedVictim:
    """Train victim ``victim`` on ``data``'s train part (selecting on its valid part), cached.

    The cache key covers the data set's content identity, the victim, its knobs and the whole
    recipe, so any change retrains and nothing is trained twice. The recipe is the victim's
    paper recipe (its registry entry) updated with ``train`` (a profile shortens it there),
    and ``seed`` seeds weights, batch order and dropout.
    """
    params = victim_params(data, victim, knobs, train, seed=seed)
    knobs = params["knobs"]
    config = TrainConfig.from_dict(params["config"])

    def build() -> nn.Module:
        torch.manual_seed(config.seed)
        return build_victim(victim, data.n_classes, data.length, **knobs)

    def compute() -> dict[str, Any]:
        model = build().to(get_device())
        res = train_classifier(
            model, data.part("train"), data.part("valid"), config, progress=progress, desc=victim
        )
        return {
            "weights": res.state_dict,
            "record": {
                "history": res.history,
                "best_epoch": res.best_epoch,
                "best_valid_acc": res.best_valid_acc,
                "seconds": res.seconds,
            },
        }

    payload, event = cache.fetch("victim", params, compute)
    model = build()
    model.load_state_dict(payload["weights"])
    model = on_device(model.eval())
    rec = payload["record"]
    return FittedVictim(
        model=model,
        name=victim,
        knobs=knobs,
        config=config,
        history=rec["history"],
        best_epoch=rec["best_epoch"],
        best_valid_acc=rec["best_valid_acc"],
        train_seconds=rec["seconds"],
        n_params=count_parameters(model),
        cache_key=event.key,
        cached=event.hit,
    )
