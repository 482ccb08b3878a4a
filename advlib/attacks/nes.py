"""NES gradient-estimation attack, L-inf (Ilyas, Engstrom, Athalye and Lin, ICML 2018).

The AT paper's black-box "partial information attack" (PIA) runs this estimator.
"""

from __future__ import annotations

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
    on_model_device,
    project_linf,
    randn,
)

__all__ = ["nes"]


@on_model_device
def nes(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    eps: float | Tensor,
    steps: int = 500,
    step_size: float | Tensor = 0.01,
    samples: int = 50,
    sigma: float = 0.001,
    loss: str = "margin",
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Black-box L-inf attack with NES gradient estimates (Ilyas et al. 2018, Algorithm 1, Eq. 1).

    Only model outputs are used: every query runs under ``torch.no_grad()``. At the iterate
    ``x_k`` the gradient of the objective ``F`` is estimated from ``n = samples / 2``
    antithetic pairs of Gaussian directions ``u_i ~ N(0, I)``:

        ``g_k = 1 / (2 n sigma) * sum_i [F(x_k + sigma u_i) - F(x_k - sigma u_i)] u_i``

    and used in a projected signed step (PGD with the estimate, Sec. 3.1 of the paper):

        ``x_{k+1} = clip_bounds(x + P_eps(x_k + step_size * sign(g_k) - x))``.

    ``F`` is ascended: ``loss="margin"`` uses minus the logit margin (CW-style,
    ``max_{j != y} Z_j - Z_y`` untargeted, ``Z_t - max_{j != t} Z_j`` targeted; the same on
    log-softmax outputs, the shift cancels); ``loss="ce"`` uses the cross-entropy to the label
    (untargeted) or the target log-probability (targeted, the paper's choice). Query points are
    clamped to ``bounds`` (a black box only takes valid inputs). The search starts at ``x``.

    Queries: each iteration builds the iterate and its ``samples`` neighbours of every
    unsolved sample in one buffer, ``samples + 1`` per sample, and forwards them in calls of
    at most ``max(B, samples + 1)`` inputs (``B``: the batch given): the caller's batch size is
    what it chose for its device, and the queries are ``samples + 1`` times as many (one call
    of 1,344 one-second clips took twice as long as 21 calls of 64 on the demo victim's CPU,
    and a GPU's memory bounds the batch). A sample stops at its first adversarial iterate. At
    most ``steps * (samples + 1) + 1`` queries per sample, counted by
    :class:`~advlib.attacks.PassCounter` as ``forward_samples``.

    Study settings (AT paper, PIA): 500 iterations, ``eps >= 0.001``, learning rate (here
    ``step_size``) in ``[0.001, 0.6]``; Ilyas et al. used 50 samples per estimate and
    ``sigma = 0.001``. Their code's momentum and learning-rate plateau schedule are not
    implemented.

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits; treated as a black box.
        x: inputs ``(B, ...)`` of any rank, inside ``bounds``.
        y: ``(B,)`` labels, or targets when ``targeted=True``.
        eps: L-inf radius, a float or a ``(B,)`` tensor, ``>= 0``.
        steps: iterations (gradient estimates), ``>= 1`` (500 in the study).
        step_size: signed step, a float or a ``(B,)`` tensor, ``> 0`` (default 0.01).
        samples: queries per estimate, even, ``>= 2`` (``samples / 2`` antithetic pairs; 50).
        sigma: search standard deviation, ``> 0`` (0.001).
        loss: ``"margin"`` (default) or ``"ce"``.
        bounds: box ``(lo, hi)``.
        generator: ``torch.Generator`` for the Gaussian directions (seeded runs repeat).
        true_labels: optional ``(B,)`` true labels in targeted mode; a target equal to its
            true label raises ``ValueError``.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds`` and within
        ``eps`` of ``x`` (L-inf): the first adversarial iterate, else the iterate with the
        highest objective.
    """
    lo_hi = check_inputs(x, y, bounds)
    eps_t = check_per_sample(eps, x, "eps")
    steps = check_steps(steps)
    alpha = check_per_sample(step_size, x, "step_size", strict=True)
    samples = check_steps(samples, "samples")
    if samples % 2:
        raise ValueError(f"samples must be even (antithetic pairs), got {samples}")
    sigma = check_float(sigma, "sigma", strict=True)
    if loss not in ("margin", "ce"):
        raise ValueError(f"unknown loss {loss!r}: expected 'margin' or 'ce'")
    if targeted:
        check_targets(y, true_labels)
    x = x.detach()
    n, shape, h = x.shape[0], x.shape[1:], samples // 2
    x_adv = x.clone()
    best = x.clone()
    best_adv = torch.zeros(n, dtype=torch.bool, device=x.device)
    best_obj = torch.full((n,), float("-inf"), dtype=x.dtype, device=x.device)
    active = torch.ones(n, dtype=torch.bool, device=x.device)
    # buffers for the largest step, reused: the queries and the directions of every step
    # are views into them (no fresh allocation, and its page faults, per step)
    queries = torch.empty((n * (1 + 2 * h), *shape), dtype=x.dtype, device=x.device)
    directions = torch.empty((n * h, *shape), dtype=x.dtype, device=x.device)
    in_place = generator is None or generator.device == x.device
    chunk = max(n, samples + 1)

    def forward(batch: Tensor) -> Tensor:
        if len(batch) <= chunk:
            return model(batch)
        return torch.cat([model(batch[i : i + chunk]) for i in range(0, len(batch), chunk)])

    with torch.no_grad():
        for k in range(steps + 1):
            idx = active.nonzero().flatten()
            if idx.numel() == 0:
                break
            m, xa, ys = idx.numel(), x_adv[idx], y[idx]
            last = k == steps
            if last:
                batch = xa
            else:
                # the iterate, then its antithetic queries x_k +- sigma u_i, in one buffer
                if in_place:
                    u = directions[: m * h].view(m, h, *shape)
                    torch.randn(u.shape, generator=generator, out=u)
                else:
                    u = randn((m, h, *shape), x, generator)
                batch = queries[: m * (1 + 2 * h)]
                batch[:m] = xa
                pts = batch[m:].view(m, 2, h, *shape)
                torch.add(xa[:, None], u, alpha=sigma, out=pts[:, 0])
                torch.sub(xa[:, None], u, alpha=sigma, out=pts[:, 1])
                pts.clamp_(*lo_hi)
            logits = forward(batch)
            if k == 0:
                check_labels(y, logits.shape[1])
            obj = attack_objective(logits[:m], ys, targeted, loss)
            adv = is_adversarial(logits[:m], ys, targeted)
            k_adv = best_adv[idx]
            better = (adv & ~k_adv) | ((adv == k_adv) & (obj > best_obj[idx]))
            sel = idx[better]
            best[sel] = xa[better]
            best_adv[sel] = adv[better]
            best_obj[sel] = obj[better]
            active[idx[adv]] = False
            if last or adv.all():
                continue
            f = attack_objective(logits[m:], ys.repeat_interleave(2 * h), targeted, loss)
            f = f.view(m, 2, h)
            w = (f[:, 0] - f[:, 1]) / (2 * h * sigma)  # (m, h)
            g = torch.bmm(w[:, None, :], u.view(m, h, -1)).view(m, *shape)  # sum_i w_i u_i
            move = ~adv
            idm, gm = idx[move], g[move]
            xm = xa[move] + batch_view(alpha[idm], gm) * gm.sign()
            delta = project_linf(xm - x[idm], eps_t[idm])
            x_adv[idm] = clamp_bounds(x[idm] + delta, lo_hi)
    return clamp_bounds(best, lo_hi)
