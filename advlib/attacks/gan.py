"""SpeechAdvGan: targeted adversarial examples in one forward pass of a trained generator, and
the losses that train it (the GAN paper: Wang et al., IEEE Access; Eqs. 5-10, Algorithm 1).

``x_adv = clip(x + G(x), bounds)`` (paper Eq. 4). The generator is trained per target class
(or conditioned on it) by :func:`advlib.train.generator.train_generator` with

.. math:: L_G = L^f_{adv} + \\alpha L_{fool} + \\beta L_{hinge} + \\gamma L_2   \\quad (5)

* :func:`adv_loss`, Eq. 6: cross-entropy of the victim's logits on ``x_adv`` to the target;
* :func:`fool_loss`, Eq. 7: ``E[log(1 - D(x_adv))]``;
* :func:`hinge_loss`, Eq. 8: ``E[max(0, ||G(x)||_2 - c)]``;
* :func:`l2_loss`, Eq. 9: ``||x_adv - x||_2`` (averaged over the batch);
* :func:`discriminator_loss`, Eq. 10: ``(E[log(1 - D(x))] + E[log D(x_adv)]) / 2``.

The authors' code differs (spec, section 4): its "L2" is a mean absolute error, its GAN losses are
least squares (LSGAN: ``(D(x_adv) - 1)^2`` for the generator, ``((D(x) - 1)^2 + D(x_adv)^2) / 2``
for the discriminator) and it clamps the perturbation to +-0.3. ``variant="code"`` selects those;
the paper's formulation is the default. All losses take the discriminator's *logits* and are
computed in a numerically stable form (``log sigmoid``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from advlib.attacks._utils import Bounds, Model, check_bounds, check_inputs, clamp_bounds

__all__ = [
    "VARIANTS",
    "adv_loss",
    "discriminator_loss",
    "fool_loss",
    "gan_attack",
    "generator_loss",
    "hinge_loss",
    "l2_loss",
    "perturb",
]

VARIANTS = ("paper", "code")
#: The authors' code clamps the perturbation to this magnitude (``variant="code"``).
CODE_CLAMP = 0.3


def _variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return variant


def perturb(
    generator: nn.Module,
    x: Tensor,
    target: Tensor | None = None,
    *,
    bounds: Bounds = (-1.0, 1.0),
    variant: str = "paper",
) -> tuple[Tensor, Tensor]:
    """``(delta, x_adv)``: the generator's perturbation (clamped to +-0.3 with
    ``variant="code"``) and the adversarial clip kept inside ``bounds``."""
    delta = generator(x) if target is None else generator(x, target)
    if _variant(variant) == "code":
        delta = delta.clamp(-CODE_CLAMP, CODE_CLAMP)
    return delta, clamp_bounds(x + delta, check_bounds(bounds))


def adv_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Eq. 6: mean cross-entropy of the victim's logits on ``x_adv`` to the target classes."""
    return F.cross_entropy(logits, target)


def fool_loss(d_adv: Tensor, variant: str = "paper") -> Tensor:
    """Eq. 7 (minimised by the generator), from the discriminator's logits on ``x_adv``:
    ``mean(log(1 - sigmoid(d)))`` (paper) or ``mean((sigmoid(d) - 1)^2)`` (code, LSGAN)."""
    if _variant(variant) == "code":
        return ((torch.sigmoid(d_adv) - 1.0) ** 2).mean()
    return F.logsigmoid(-d_adv).mean()


def hinge_loss(delta: Tensor, c: float = 0.0) -> Tensor:
    """Eq. 8: ``mean(max(0, ||delta_i||_2 - c))`` over the clips (``c = 0`` in the paper)."""
    return F.relu(delta.flatten(1).norm(dim=1) - c).mean()


def l2_loss(x_adv: Tensor, x: Tensor, variant: str = "paper") -> Tensor:
    """Eq. 9: ``mean_i ||x_adv_i - x_i||_2`` (paper) or the mean absolute error (code)."""
    d = (x_adv - x).flatten(1)
    if _variant(variant) == "code":
        return d.abs().mean()
    return d.norm(dim=1).mean()


def discriminator_loss(d_real: Tensor, d_adv: Tensor, variant: str = "paper") -> Tensor:
    """Eq. 10 (minimised by the discriminator) from its logits on genuine and adversarial clips:
    ``(mean log(1 - D(x)) + mean log D(x_adv)) / 2`` (paper) or
    ``(mean (D(x) - 1)^2 + mean D(x_adv)^2) / 2`` (code, LSGAN)."""
    if _variant(variant) == "code":
        return (((torch.sigmoid(d_real) - 1) ** 2).mean() + (torch.sigmoid(d_adv) ** 2).mean()) / 2
    return (F.logsigmoid(-d_real).mean() + F.logsigmoid(d_adv).mean()) / 2


def generator_loss(
    *,
    logits: Tensor | None,
    target: Tensor,
    d_adv: Tensor,
    delta: Tensor,
    x_adv: Tensor,
    x: Tensor,
    alpha: float = 1.0,
    beta: float = 1.0,
    gamma: float = 100.0,
    c: float = 0.0,
    variant: str = "paper",
) -> dict[str, Tensor]:
    """Eq. 5 and its terms. ``logits=None`` leaves the victim out (the warm-up epochs of
    Algorithm 1, step 6). Returns ``{"total", "adv", "fool", "hinge", "l2"}``."""
    terms = {
        "adv": adv_loss(logits, target) if logits is not None else torch.zeros((), device=x.device),
        "fool": fool_loss(d_adv, variant),
        "hinge": hinge_loss(delta, c),
        "l2": l2_loss(x_adv, x, variant),
    }
    terms["total"] = (
        terms["adv"] + alpha * terms["fool"] + beta * terms["hinge"] + gamma * terms["l2"]
    )
    return terms


def gan_attack(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = True,
    net: nn.Module,
    net_target: int | None = None,
    variant: str = "paper",
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
) -> Tensor:
    """Targeted adversarial clips in one forward pass of a trained SpeechAdvGan generator.

    The library's signature: ``model`` (the victim, not queried: crafting needs no model pass),
    ``x`` ``(N, T)`` clips, ``y`` the target classes. ``net`` is the trained generator
    (:class:`advlib.models.speechadvgan.Generator`): a per-target one (the paper's) was trained
    for one class, ``net_target``, and every ``y`` must equal it; a conditional one takes ``y``
    as its condition. ``generator`` (the random generator every attack takes) is unused: the
    attack is deterministic.

    Returns ``clip(x + G(x), bounds)`` (``G(x)`` clamped to +-0.3 with ``variant="code"``).
    """
    del model, generator  # one pass of the network; the victim only judges the result
    if not targeted:
        raise ValueError("SpeechAdvGan is a targeted attack (targeted=True)")
    bounds = check_inputs(x, y, bounds)
    conditional = getattr(net, "n_classes", None) is not None
    if not conditional and net_target is not None and bool((y != net_target).any()):
        raise ValueError(
            f"this generator was trained for target {net_target}; got targets "
            f"{sorted(set(y.tolist()))}"
        )
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            _, x_adv = perturb(net, x, y if conditional else None, bounds=bounds,
                               variant=variant)  # fmt: skip
    finally:
        net.train(was_training)
    return x_adv
