"""Fast Gradient Sign Method (Goodfellow, Shlens and Szegedy, ICLR 2015)."""

from __future__ import annotations

import torch
from torch import Tensor

from advlib.attacks._utils import (
    Bounds,
    Model,
    attack_objective,
    batch_view,
    check_inputs,
    check_labels,
    check_norm,
    check_per_sample,
    check_targets,
    clamp_bounds,
    normalize_l2,
    on_model_device,
)

__all__ = ["fgsm"]


@on_model_device
def fgsm(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    eps: float | Tensor,
    norm: str | int = "inf",
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """One gradient step of size ``eps`` (Goodfellow et al. 2015, Eq. 3).

    ``x' = clip(x + eps * sign(grad_x J(x, y)))`` for ``norm="inf"`` (the paper), and
    ``x' = clip(x + eps * g / ||g||_2)`` for ``norm=2`` (the fast gradient method). Untargeted
    ``J`` is the cross-entropy to the label; targeted, the step descends the cross-entropy to the
    target: ``x' = clip(x - eps * sign(grad_x CE(x, t)))``.

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits (put it in eval mode yourself).
        x: inputs ``(B, ...)`` of any rank (``(B, T)`` waveforms, ``(B, C, H, W)``), inside
            ``bounds``.
        y: ``(B,)`` labels, or targets when ``targeted=True``.
        eps: step size, a float or a ``(B,)`` tensor (per-sample budgets), ``>= 0``.
        norm: ``"inf"`` or ``2``.
        bounds: box ``(lo, hi)`` the result is clamped to.
        generator: unused (FGSM is deterministic); kept for a uniform signature.
        true_labels: optional ``(B,)`` true labels in targeted mode; a target equal to its true
            label raises ``ValueError``.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds`` and within
        ``eps`` of ``x`` in ``norm``. A zero gradient leaves the sample unchanged (L2) or
        moves only coordinates with a nonzero gradient (L-inf).
    """
    lo_hi = check_inputs(x, y, bounds)
    norm = check_norm(norm)
    eps_t = check_per_sample(eps, x, "eps")
    if targeted:
        check_targets(y, true_labels)
    with torch.enable_grad():
        xa = x.detach().clone().requires_grad_(True)
        logits = model(xa)
        check_labels(y, logits.shape[1])
        obj = attack_objective(logits, y, targeted)
        (grad,) = torch.autograd.grad(obj.sum(), xa)
    direction = grad.sign() if norm == "inf" else normalize_l2(grad)
    x_adv = x.detach() + batch_view(eps_t, x) * direction
    return clamp_bounds(x_adv, lo_hi).to(x.dtype)
