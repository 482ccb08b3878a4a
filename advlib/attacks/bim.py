"""Basic Iterative Method, variants a and b (Kurakin, Goodfellow and Bengio, ICLR 2017 workshop)."""

from __future__ import annotations

import torch
from torch import Tensor

from advlib.attacks._utils import (
    Bounds,
    Model,
    check_inputs,
    check_norm,
    check_per_sample,
    check_steps,
    check_targets,
    clamp_bounds,
    on_model_device,
)
from advlib.attacks.pgd import _iterate

__all__ = ["bim"]


@on_model_device
def bim(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    eps: float | Tensor,
    steps: int = 10,
    step_size: float | Tensor | None = None,
    norm: str | int = "inf",
    variant: str = "a",
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Iterative FGSM with clipping (Kurakin et al. 2017, Sec. 2.1, the equation for BIM):

    ``x_0 = x``, ``x_{k+1} = Clip_{x, eps}{x_k + a * sign(grad_x J(x_k, y))}``, where the clip
    keeps each sample inside its ``eps`` ball and inside ``bounds``. ``norm=2`` swaps the sign
    for ``g / ||g||_2`` and the clip for the L2-ball projection. Targeted, the step descends the
    cross-entropy to the target.

    Variants, as the AT paper (Sallo et al.) names them:

    * ``"a"``: each sample stops at its first success and that first adversarial example is
      returned (unsolved samples return their last iterate); solved samples are no longer
      forwarded.
    * ``"b"``: every sample runs all ``steps`` iterations and the last iterate is returned,
      whether or not an earlier one was adversarial.

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits.
        x: inputs ``(B, ...)`` of any rank, inside ``bounds``.
        y: ``(B,)`` labels, or targets when ``targeted=True``.
        eps: radius, a float or ``(B,)`` tensor, ``>= 0``.
        steps: iterations, ``>= 1``.
        step_size: ``a``, a float or ``(B,)`` tensor; default ``1.25 * eps / steps``
            (Kurakin's rule ``N = 1.25 eps / a``).
        norm: ``"inf"`` (the paper) or ``2``.
        variant: ``"a"`` or ``"b"``.
        bounds: box ``(lo, hi)``.
        generator: unused (BIM is deterministic); kept for a uniform signature.
        true_labels: optional ``(B,)`` true labels in targeted mode; a target equal to its true
            label raises ``ValueError``.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds`` and ``eps``.
    """
    lo_hi = check_inputs(x, y, bounds)
    norm = check_norm(norm)
    steps = check_steps(steps)
    if variant not in ("a", "b"):
        raise ValueError(f"unknown BIM variant {variant!r}: expected 'a' or 'b'")
    eps_t = check_per_sample(eps, x, "eps")
    if step_size is None:
        alpha = 1.25 * eps_t / steps
    else:
        alpha = check_per_sample(step_size, x, "step_size", strict=True)
    if targeted:
        check_targets(y, true_labels)
    x = x.detach()
    kept, _, _ = _iterate(
        model, x, y, x, targeted=targeted, eps=eps_t, steps=steps, step_size=alpha, norm=norm,
        bounds=lo_hi, early_stop=variant == "a", keep="last",
    )  # fmt: skip
    return clamp_bounds(kept, lo_hi)
