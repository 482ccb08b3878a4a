"""Decoupled Direction and Norm attack (Rony et al., CVPR 2019)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from advlib.attacks._utils import (
    Bounds,
    Model,
    attack_objective,
    batch_view,
    check_float,
    check_inputs,
    check_labels,
    check_per_sample,
    check_steps,
    check_targets,
    clamp_bounds,
    is_adversarial,
    l2_norm,
    normalize_l2,
    on_model_device,
    randn,
)

__all__ = ["ddn"]


def _settled(eps: Tensor, best_l2: Tensor, room: Tensor, gamma: float, left: int) -> Tensor:
    """``(B,)``: samples none of whose remaining iterates can beat their best norm. Their next
    radius is ``eps``, then ``left`` more; each iterate's norm is its radius while the box
    cannot cut it (the largest radius, ``eps (1 + gamma)^left``, fits in ``room``), and the
    smallest radius is ``eps (1 - gamma)^left``."""
    return (eps * (1 - gamma) ** left >= best_l2) & (eps * (1 + gamma) ** left <= room)


@on_model_device
def ddn(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    steps: int = 100,
    init_norm: float | Tensor = 1.0,
    gamma: float = 0.05,
    step_size: float = 1.0,
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Decoupled Direction and Norm (Rony et al. 2019, Algorithm 1), minimal L2 perturbation.

    With ``delta_0 = 0`` and ``eps_0 = init_norm``, for ``k = 0 .. steps - 1``:

    * ``g = grad_delta L(x + delta_k)`` with ``L`` the cross-entropy to the label (untargeted,
      ascended) or minus the cross-entropy to the target (targeted), normalised to unit L2 norm
      (a zero gradient is replaced by a Gaussian direction drawn from ``generator``);
    * ``delta = delta_k + a_k * g`` with the cosine-annealed step
      ``a_k = step_size * (0.01 + 0.99 * (1 + cos(pi k / steps)) / 2)`` (the authors' code);
    * ``eps_{k+1} = (1 - gamma) eps_k`` if ``x + delta_k`` is adversarial, else
      ``(1 + gamma) eps_k``, capped at the largest L2 distance inside the box;
    * ``delta_{k+1} = clip_bounds(x + eps_{k+1} * delta / ||delta||_2) - x``.

    Each sample keeps its smallest-L2 adversarial iterate. A sample leaves the batch (is no
    longer forwarded) once no remaining iterate can beat it: when even shrinking at every
    remaining step its radius stays at or above its best norm,
    ``eps_{k+1} (1 - gamma)^r >= ||delta_best||_2`` with ``r`` the iterates left after the
    next, and the box cannot shorten those iterates (``max |x| + eps_{k+1} (1 + gamma)^r``
    inside ``bounds``, so each has norm exactly its radius). The result is the same as
    running every step (but for the random directions that replace zero gradients, which
    are drawn for fewer samples).

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits.
        x: inputs ``(B, ...)`` of any rank, inside ``bounds``.
        y: ``(B,)`` labels, or targets when ``targeted=True``.
        steps: iterations, ``>= 1``.
        init_norm: ``eps_0``, a float or ``(B,)`` tensor, ``> 0``.
        gamma: norm update factor in ``(0, 1)``.
        step_size: largest step of the cosine schedule, ``> 0``.
        bounds: box ``(lo, hi)``.
        generator: ``torch.Generator`` for the directions replacing zero gradients.
        true_labels: optional ``(B,)`` true labels in targeted mode; a target equal to its true
            label raises ``ValueError``.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds``: the
        smallest-L2 adversarial iterate, or ``x`` itself where none was found.
    """
    lo, hi = check_inputs(x, y, bounds)
    steps = check_steps(steps)
    eps = check_per_sample(init_norm, x, "init_norm", strict=True)
    gamma = check_float(gamma, "gamma", strict=True)
    if gamma >= 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    step_size = check_float(step_size, "step_size", strict=True)
    if targeted:
        check_targets(y, true_labels)
    x = x.detach()
    n = x.shape[0]
    worst_norm = l2_norm(torch.maximum(x - lo, hi - x))
    eps = torch.minimum(eps, worst_norm)
    # room to the box per sample: an iterate of norm <= room has every coordinate inside it
    room = torch.minimum(x.flatten(1).amin(1) - lo, hi - x.flatten(1).amax(1))
    best_l2 = torch.full((n,), float("inf"), dtype=x.dtype, device=x.device)
    best = x.clone()
    # the active set, compacted: only samples that can still improve are forwarded
    idx = torch.arange(n, device=x.device)
    xs, ys, delta = x, y, torch.zeros_like(x)
    for k in range(steps):
        alpha = step_size * (0.01 + 0.99 * (1 + math.cos(math.pi * k / steps)) / 2)
        with torch.enable_grad():
            d = delta.requires_grad_(True)
            x_adv = xs + d
            logits = model(x_adv)
            if k == 0:
                check_labels(y, logits.shape[1])
            obj = attack_objective(logits, ys, targeted)
            (grad,) = torch.autograd.grad(obj.sum(), d)
        delta = delta.detach()
        with torch.no_grad():
            adv = is_adversarial(logits, ys, targeted)
            l2 = l2_norm(delta)
            better = adv & (l2 < best_l2[idx])
            sel = idx[better]
            best_l2[sel] = l2[better]
            best[sel] = x_adv[better]
            if k == steps - 1:
                break
            grad_norm = l2_norm(grad)
            zero = grad_norm < 1e-12
            if zero.any():
                grad[zero] = randn((int(zero.sum()), *x.shape[1:]), x, generator)
                grad_norm = l2_norm(grad)
            step = delta.add_(grad.mul_(batch_view(alpha / grad_norm.clamp_min(1e-12), grad)))
            eps_i = torch.where(adv, (1 - gamma) * eps[idx], (1 + gamma) * eps[idx])
            eps_i = torch.minimum(eps_i, worst_norm[idx])
            eps[idx] = eps_i
            delta = clamp_bounds(xs + normalize_l2(step).mul_(batch_view(eps_i, xs)), (lo, hi))
            delta = delta.sub_(xs)
            done = _settled(eps_i, best_l2[idx], room[idx], gamma, steps - 2 - k)
            if done.any():
                keep = ~done
                idx, delta = idx[keep], delta[keep]
                if idx.numel() == 0:
                    break
                xs, ys = x[idx], y[idx]
    return clamp_bounds(best, (lo, hi))
