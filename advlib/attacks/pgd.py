"""Projected Gradient Descent, L-inf and L2 (Madry et al., ICLR 2018)."""

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
    check_steps,
    check_targets,
    clamp_bounds,
    is_adversarial,
    normalize_l2,
    on_model_device,
    project,
    random_in_ball,
)

__all__ = ["pgd"]


def _iterate(
    model: Model,
    x: Tensor,
    y: Tensor,
    x_start: Tensor,
    *,
    targeted: bool,
    eps: Tensor,
    steps: int,
    step_size: Tensor,
    norm: str | int,
    bounds: Bounds,
    early_stop: bool,
    keep: str,
) -> tuple[Tensor, Tensor, Tensor]:
    """Projected gradient ascent on the cross-entropy objective from ``x_start``.

    Iterates ``x_0 = x_start``, ``x_{k+1} = clip_bounds(x + P_eps(x_k + a * d_k - x))`` with
    ``d_k = sign(g_k)`` (L-inf) or ``g_k / ||g_k||_2`` (L2). Iterates ``x_0 .. x_{steps-1}`` are
    evaluated with a gradient; ``x_steps`` is evaluated without one for ``keep="best"`` and not
    at all for ``keep="last"``. With ``early_stop`` a sample leaves the active set at its first
    adversarial iterate and is no longer forwarded.

    ``keep="best"``: per sample, an adversarial iterate beats a non-adversarial one, and among
    equals the higher objective wins. ``keep="last"``: the last iterate (with ``early_stop``,
    the first adversarial one for solved samples).

    Returns ``(x_kept, is_adv, objective)``, per sample (the last two are only meaningful for
    ``keep="best"``).
    """
    n = x.shape[0]
    x_adv = x_start.detach().clone()
    # keep="last": x_adv is the result (a solved sample, with early_stop, is not moved again),
    # so nothing is copied aside
    kept = x_adv.clone() if keep == "best" else x_adv
    kept_adv = torch.zeros(n, dtype=torch.bool, device=x.device)
    kept_obj = torch.full((n,), float("-inf"), dtype=x.dtype, device=x.device)
    active = torch.ones(n, dtype=torch.bool, device=x.device)
    for k in range(steps + 1):
        idx = active.nonzero().flatten()
        if idx.numel() == 0:
            break
        last = k == steps
        if last and keep == "last":  # the result is known without evaluating it
            break
        xa = x_adv[idx].detach().requires_grad_(not last)
        with torch.set_grad_enabled(not last):
            logits = model(xa)
            if k == 0:
                check_labels(y, logits.shape[1])
            obj = attack_objective(logits, y[idx], targeted)
            grad = None if last else torch.autograd.grad(obj.sum(), xa)[0]
        obj = obj.detach()
        adv = is_adversarial(logits.detach(), y[idx], targeted)
        if keep == "best":
            k_adv = kept_adv[idx]
            better = (adv & ~k_adv) | ((adv == k_adv) & (obj > kept_obj[idx]))
            sel = idx[better]
            kept[sel] = xa.detach()[better]
            kept_adv[sel] = adv[better]
            kept_obj[sel] = obj[better]
        if last:
            break
        move = ~adv if early_stop else torch.ones_like(adv)
        if early_stop:
            active[idx[adv]] = False
        n_move = int(move.sum())
        if n_move == 0:
            continue
        if n_move == n:  # every sample moves: no gathering
            direction = grad.sign() if norm == "inf" else normalize_l2(grad)
            xm = xa.detach().add_(batch_view(step_size, grad) * direction)
            delta = project(xm.sub_(x), eps, norm)
            x_adv = clamp_bounds(x + delta, bounds)
            if keep == "last":
                kept = x_adv
            continue
        idm = idx[move]
        g = grad[move]
        direction = g.sign() if norm == "inf" else normalize_l2(g)
        xm = xa.detach()[move] + batch_view(step_size[idm], g) * direction
        delta = project(xm - x[idm], eps[idm], norm)
        x_adv[idm] = clamp_bounds(x[idm] + delta, bounds)
    return kept, kept_adv, kept_obj


@on_model_device
def pgd(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    eps: float | Tensor,
    steps: int = 20,
    step_size: float | Tensor | None = None,
    norm: str | int = "inf",
    random_start: bool = True,
    restarts: int = 1,
    early_stop: bool = True,
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Projected gradient ascent on the cross-entropy in an ``eps`` ball (Madry et al. 2018, Eq. 2).

    ``x_{k+1} = Pi_{B(x, eps) & box}(x_k + a * sign(grad_x L(x_k, y)))`` for L-inf and
    ``x_{k+1} = Pi(x_k + a * g / ||g||_2)`` for L2, starting from a uniform random point of the
    ball (``random_start``). Targeted, the step descends the cross-entropy to the target.

    Each sample keeps its best iterate: an adversarial one if any was found, otherwise the one
    with the highest loss (never blindly the last step). ``restarts > 1`` re-runs, from a new
    random start, only the samples no earlier run solved. With ``early_stop`` (default) a
    sample stops at its first success and only the unsolved ones are forwarded.

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits.
        x: inputs ``(B, ...)`` of any rank, inside ``bounds``.
        y: ``(B,)`` labels, or targets when ``targeted=True``.
        eps: radius, a float or a ``(B,)`` tensor, ``>= 0``.
        steps: iterations per run, ``>= 1``.
        step_size: ``a``, a float or ``(B,)`` tensor; default ``2.5 * eps / steps`` (Madry).
        norm: ``"inf"`` or ``2``.
        random_start: start uniformly in the ball (else at ``x``; restarts are then skipped,
            being identical).
        restarts: number of runs, ``>= 1``.
        early_stop: stop each sample at its first success.
        bounds: box ``(lo, hi)``.
        generator: ``torch.Generator`` for the random starts (seeded runs are reproducible).
        true_labels: optional ``(B,)`` true labels in targeted mode; a target equal to its true
            label raises ``ValueError``.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds`` and ``eps``.
    """
    lo_hi = check_inputs(x, y, bounds)
    norm = check_norm(norm)
    steps = check_steps(steps)
    restarts = check_steps(restarts, "restarts")
    eps_t = check_per_sample(eps, x, "eps")
    if step_size is None:
        alpha = 2.5 * eps_t / steps
    else:
        alpha = check_per_sample(step_size, x, "step_size", strict=True)
    if targeted:
        check_targets(y, true_labels)
    x = x.detach()
    best = x.clone()
    best_adv = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
    best_obj = torch.full((x.shape[0],), float("-inf"), dtype=x.dtype, device=x.device)
    for r in range(restarts if random_start else 1):
        idx = (~best_adv).nonzero().flatten()
        if idx.numel() == 0:
            break
        xs, ys, es = x[idx], y[idx], eps_t[idx]
        start = xs
        if random_start:
            start = clamp_bounds(xs + random_in_ball(xs, es, norm, generator), lo_hi)
        kept, adv, obj = _iterate(
            model, xs, ys, start, targeted=targeted, eps=es, steps=steps, step_size=alpha[idx],
            norm=norm, bounds=lo_hi, early_stop=early_stop, keep="best",
        )  # fmt: skip
        better = adv | (obj > best_obj[idx]) if r else torch.ones_like(adv)
        sel = idx[better]
        best[sel] = kept[better]
        best_adv[sel] = adv[better]
        best_obj[sel] = obj[better]
    return clamp_bounds(best, lo_hi)
