"""Training SpeechAdvGan generators (the GAN paper, Algorithm 1), seeded and cached.

:func:`train_generator` alternates generator and discriminator steps on mini-batches of the
training clips that are not of the target class. For the first ``warmup`` epochs (N = 3 in the
paper) the victim stays out and the generator minimises ``alpha L_fool + beta L_hinge +
gamma L_2`` (step 6); afterwards the victim joins, frozen, and the generator minimises the whole
``L_G`` of Eq. 5 (step 8). Each iteration then updates the discriminator on Eq. 10 (step 10).
Training stops after ``epochs`` or, once the victim has joined, when the epoch's training
success rate has not improved for ``patience`` epochs (the paper's stopping rule, read as "no
gain"). Every iteration's losses and training success rate are recorded (the paper's Fig. 9).

:func:`fit_generator` wraps it with the content-addressed cache: one generator per (victim,
data set, target, recipe, seed); :func:`advlib.attacks.gan.gan_attack` then crafts in one pass.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.std import tqdm

from advlib.attacks.gan import VARIANTS, discriminator_loss, generator_loss, perturb
from advlib.cache import Cache
from advlib.data.core import AudioSet
from advlib.device import model_device, on_device, unwrap
from advlib.models.speechadvgan import Discriminator, Generator

__all__ = ["FittedGenerator", "GanConfig", "fit_generator", "train_generator"]


@dataclass(frozen=True)
class GanConfig:
    """A SpeechAdvGan recipe: architecture knobs, Eq. 5's weights and Algorithm 1's schedule.

    Defaults are the paper's (Sec. V-A-2): alpha 1, beta 1, gamma 100, c 0, Adam 2e-4, batch
    64, 50 epochs, 3 warm-up epochs, seed 1024; the full-size generator (depth 8) and
    discriminator (11 blocks). The authors' code: Adam 1e-5 with betas (0.5, 0.999), batch 16,
    ``variant="code"``. The ablation of Figs. 8-9 sets ``beta`` or ``gamma`` to 0.
    ``max_steps``: at most this many iterations per epoch (``None``, the paper's, passes over
    every training clip); the ``smoke`` profile sets it, and when unset it is left out of
    :meth:`to_dict` (so it changes no cache key).
    """

    width: float = 1.0
    depth: int = 8
    d_width: float = 1.0
    d_depth: int = 11
    alpha: float = 1.0
    beta: float = 1.0
    gamma: float = 100.0
    c: float = 0.0
    lr: float = 2e-4
    betas: tuple[float, float] = (0.9, 0.999)
    batch_size: int = 64
    epochs: int = 50
    warmup: int = 3
    patience: int = 5
    variant: str = "paper"
    conditional: bool = False
    seed: int = 1024
    max_steps: int | None = None

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {self.variant!r}")
        for name in ("alpha", "beta", "gamma", "c"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.batch_size < 1 or self.epochs < 1 or self.patience < 1:
            raise ValueError("batch_size, epochs and patience must be at least 1")
        if not 0 <= self.warmup < self.epochs:
            raise ValueError(f"warmup must be in [0, epochs), got {self.warmup}")
        steps = self.max_steps
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                                  or steps < 1):  # fmt: skip
            raise ValueError(f"max_steps must be a positive integer or null, got {steps!r}")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> GanConfig:
        """Build from a profile's mapping; unknown keys raise a ValueError naming them."""
        d = dict(d or {})
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(
                f"unknown GAN setting(s) {sorted(unknown)}; "
                f"known: {sorted(cls.__dataclass_fields__)}"
            )
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["betas"] = list(self.betas)
        if d["max_steps"] is None:
            del d["max_steps"]
        return d

    def build(self, n_classes: int, input_length: int) -> tuple[Generator, Discriminator]:
        """A seeded generator and discriminator for ``input_length``-sample clips."""
        torch.manual_seed(self.seed)
        g = Generator(self.width, self.depth, n_classes=n_classes if self.conditional else None)
        d = Discriminator(input_length, self.d_width, self.d_depth)
        return g, d


def _freeze(victim: nn.Module) -> list[bool]:
    flags = [p.requires_grad for p in victim.parameters()]
    for p in victim.parameters():
        p.requires_grad_(False)
    victim.eval()
    return flags


def train_generator(
    victim: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    target: int | None,
    config: GanConfig,
    *,
    n_classes: int,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a generator against the frozen ``victim`` on clips ``x`` (labels ``y``).

    ``target``: the class every adversarial clip should be assigned (the clips of that class are
    left out, as in the paper); ``None`` with ``config.conditional``: one generator for every
    target, each clip drawn with a random wrong target per iteration.

    Returns ``{"generator", "discriminator"}`` state dicts, ``history`` (one row per iteration:
    ``iteration``, ``epoch``, ``phase`` (``warmup`` / ``full``), the loss terms, ``d_loss`` and
    ``success``, the batch's targeted success rate), ``epochs`` run and ``seconds``.
    """
    if (target is None) != config.conditional:
        raise ValueError("give a target for a per-target generator, none for a conditional one")
    if target is not None:
        if not 0 <= target < n_classes:
            raise ValueError(f"target {target} out of range for {n_classes} classes")
        keep = y != target
        x, y = x[keep], y[keep]
    if len(x) == 0:
        raise ValueError("no training clips outside the target class")
    victim = unwrap(victim)  # train where the victim is (advlib.device)
    device = model_device(victim)
    g, d = config.build(n_classes, x.shape[1])
    g, d = g.to(device), d.to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr, betas=config.betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=config.lr, betas=config.betas)
    gen = torch.Generator().manual_seed(config.seed)
    flags = _freeze(victim)
    history: list[dict[str, Any]] = []
    best, since, it = -1.0, 0, 0
    t0 = time.perf_counter()
    try:
        bar = tqdm(range(1, config.epochs + 1), desc="gan", disable=not progress, unit="epoch")
        for epoch in bar:
            full = epoch > config.warmup
            g.train()
            d.train()
            perm = torch.randperm(len(x), generator=gen)
            hits, seen = 0, 0
            starts = range(0, len(x), config.batch_size)
            if config.max_steps is not None:
                starts = starts[: config.max_steps]
            for i in starts:
                idx = perm[i : i + config.batch_size]
                xb, yb = x[idx], y[idx]
                if target is None:
                    shift = torch.randint(1, n_classes, yb.shape, generator=gen)
                    tb = (yb + shift) % n_classes
                else:
                    tb = torch.full_like(yb, target)
                xb, tb = xb.to(device), tb.to(device)
                # generator step (Algorithm 1, steps 4-8)
                delta, x_adv = perturb(g, xb, tb if config.conditional else None,
                                       variant=config.variant)  # fmt: skip
                logits = victim(x_adv)
                terms = generator_loss(
                    logits=logits if full else None, target=tb, d_adv=d(x_adv), delta=delta,
                    x_adv=x_adv, x=xb, alpha=config.alpha, beta=config.beta,
                    gamma=config.gamma, c=config.c, variant=config.variant,
                )  # fmt: skip
                opt_g.zero_grad(set_to_none=True)
                terms["total"].backward()
                opt_g.step()
                # discriminator step (step 10), on the same batch with G fixed
                d_loss = discriminator_loss(d(xb), d(x_adv.detach()), config.variant)
                opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                opt_d.step()
                ok = (logits.argmax(1) == tb).sum().item()
                hits, seen, it = hits + ok, seen + len(idx), it + 1
                row = {k: float(v.detach()) for k, v in terms.items()}
                if not np.isfinite(row["total"]):
                    raise FloatingPointError(f"generator loss diverged at iteration {it}")
                phase = "full" if full else "warmup"
                row.update(d_loss=float(d_loss.detach()), success=ok / len(idx))
                history.append({"iteration": it, "epoch": epoch, "phase": phase, **row})
            rate = hits / seen
            bar.set_postfix(success=f"{rate:.3f}", phase="full" if full else "warmup")
            if full:
                if rate > best + 1e-9:
                    best, since = rate, 0
                else:
                    since += 1
                    if since >= config.patience:
                        break
    finally:
        for p, f in zip(victim.parameters(), flags, strict=True):
            p.requires_grad_(f)
    return {
        "generator": {k: v.detach().to("cpu", copy=True) for k, v in g.state_dict().items()},
        "discriminator": {k: v.detach().to("cpu", copy=True) for k, v in d.state_dict().items()},
        "history": history,
        "epochs": epoch,
        "seconds": time.perf_counter() - t0,
    }


@dataclass
class FittedGenerator:
    """A trained generator (eval mode) and its record."""

    generator: Generator
    target: int | None
    config: GanConfig
    history: list[dict[str, Any]]
    epochs: int
    seconds: float
    cache_key: str
    cached: bool


def fit_generator(
    cache: Cache,
    victim_fit: Any,
    data: AudioSet,
    target: int | None,
    config: GanConfig | Mapping[str, Any] | None = None,
    *,
    progress: bool = True,
) -> FittedGenerator:
    """:func:`train_generator` on ``data``'s training clips against a fitted victim
    (:class:`advlib.train.classifier.FittedVictim`), cached under the victim's key, the data set's
    identity, the target and the whole recipe."""
    if not isinstance(config, GanConfig):
        config = GanConfig.from_dict(config)
    train = data.part("train")
    params = {
        "victim": victim_fit.cache_key,
        "data": data.identity(),
        "target": target,
        "config": config.to_dict(),
    }

    def compute() -> dict[str, Any]:
        out = train_generator(victim_fit.model, train.x, train.y, target, config,
                              n_classes=data.n_classes, progress=progress)  # fmt: skip
        rec = {k: out[k] for k in ("history", "epochs", "seconds")}
        return {"generator": out["generator"], "record": rec}

    payload, event = cache.fetch("gan_generator", params, compute)
    g, _ = config.build(data.n_classes, data.length)
    g.load_state_dict(payload["generator"])
    g = on_device(g.eval())
    rec = payload["record"]
    return FittedGenerator(g, target, config, rec["history"], rec["epochs"], rec["seconds"],
                           event.key, event.hit)  # fmt: skip
