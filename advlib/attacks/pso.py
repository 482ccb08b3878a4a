"""Particle-swarm black-box attack, L-inf: the first stage of SirenAttack (Du et al. 2020).

"SirenAttack: Generating Adversarial Audio for End-to-End Acoustic Systems", ACM AsiaCCS
2020, arXiv:1901.07846. Gradient-free: only model outputs are used.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from advlib.attacks._utils import (
    Bounds,
    Model,
    batch_view,
    check_float,
    check_inputs,
    check_labels,
    check_per_sample,
    check_steps,
    check_targets,
    clamp_bounds,
    is_adversarial,
    margin,
    on_model_device,
    rand,
)

__all__ = ["pso"]


def _check_inertia(inertia: tuple[float, float]) -> tuple[float, float]:
    try:
        w0, w1 = (float(w) for w in inertia)
    except (TypeError, ValueError) as e:
        raise ValueError(f"inertia must be a pair (start, end) of numbers, got {inertia!r}") from e
    if not (math.isfinite(w0) and math.isfinite(w1)) or w0 < 0 or w1 < 0:
        raise ValueError(f"inertia must be a pair of finite numbers >= 0, got {inertia!r}")
    return w0, w1


@on_model_device
def pso(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    eps: float | Tensor = 0.002,
    steps: int = 300,
    particles: int = 25,
    epochs: int = 30,
    inertia: tuple[float, float] = (0.9, 0.1),
    c1: float = 1.4961,
    c2: float = 1.4961,
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Particle swarm optimisation of the logit margin in an L-inf ball (Du et al. 2020,
    Algorithm 1, first stage).

    Each sample of ``x`` ``(B, ...)`` has its own swarm of ``particles`` positions
    ``p_i = x + delta_i`` (``||delta_i||_inf <= eps``) that minimise the margin
    ``M(p) = Z_y - max_{j != y} Z_j`` (untargeted) or ``max_{j != t} Z_j - Z_t`` (targeted), the
    SirenAttack loss with confidence 0 (:func:`~advlib.attacks._utils.margin`); ``M < 0``
    means success. With personal bests ``b_i``, the swarm's global best ``g`` and
    ``r1, r2 ~ U[0, 1)`` drawn per element, one iteration is

        ``v_i <- w_k v_i + c1 r1 (b_i - p_i) + c2 r2 (g - p_i)``,
        ``p_i <- clip_bounds(x + P_eps(p_i + v_i - x))``,

    and the velocity is then set to the move actually made (projection included), so it never
    exceeds the ball's width ``2 eps``. The inertia ``w_k`` decays linearly from
    ``inertia[0]`` to ``inertia[1]`` over an epoch's ``steps`` iterations.

    An epoch starts a fresh swarm (positions uniform in the ball, velocities uniform in
    ``[-eps, eps]``) and runs ``steps`` iterations, each ONE evaluation of the swarm: the first
    scores the fresh positions, the next ``steps - 1`` move then score. Up to ``epochs``
    epochs run; each restart forgets the personal bests but keeps the global best ``g``, which
    keeps attracting the new swarm. A sample stops at the first evaluation in which one of its
    particles is adversarial (the one with the lowest margin is returned) and is no longer
    forwarded; an unsolved sample returns its global best.

    Queries: one batched forward per iteration for the particles of ALL unsolved samples,
    under ``torch.no_grad()``: at most ``epochs * steps`` forward calls and
    ``epochs * steps * particles`` queries per sample (``forward_samples`` of
    :class:`~advlib.attacks.PassCounter`).

    Not implemented: SirenAttack's second stage, which fine-tunes the swarm's best noise
    with the "fooling gradient" method (signed-gradient steps on the same loss) when the
    swarm alone fails. It needs gradients (white box) or an estimate of them; in a black box
    :func:`~advlib.attacks.nes.nes` started from the swarm's result would play that role.

    Study setting (GAN paper, Table 1): 25 particles, ``eps = 0.002``, inertia 0.9 -> 0.1,
    ``c1 = c2 = 1.4961``, margin loss, up to 300 x 30 iterations (``steps=300, epochs=30``).

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits; treated as a black box.
        x: inputs ``(B, ...)`` of any rank, inside ``bounds``.
        y: ``(B,)`` labels, or targets when ``targeted=True``.
        eps: L-inf radius in the units of ``x``, a float or a ``(B,)`` tensor, ``>= 0``
            (0.002).
        steps: iterations (swarm evaluations) per epoch, ``>= 1`` (300).
        particles: particles per sample, ``>= 1`` (25).
        epochs: swarm restarts at most, ``>= 1`` (30).
        inertia: ``(start, end)`` of the linearly decaying inertia weight, both ``>= 0``.
        c1: cognitive (personal best) coefficient, ``>= 0`` (1.4961).
        c2: social (global best) coefficient, ``>= 0`` (1.4961).
        bounds: box ``(lo, hi)``.
        generator: ``torch.Generator`` for every random draw (seeded runs repeat). The draws
            are shared by the batch, so a sample's result depends on its batch.
        true_labels: optional ``(B,)`` true labels in targeted mode; a target equal to its
            true label raises ``ValueError``.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds`` and within
        ``eps`` of ``x`` (L-inf): the first adversarial particle found, else the global best.
    """
    lo_hi = check_inputs(x, y, bounds)
    eps_t = check_per_sample(eps, x, "eps")
    steps = check_steps(steps)
    particles = check_steps(particles, "particles")
    epochs = check_steps(epochs, "epochs")
    w0, w1 = _check_inertia(inertia)
    c1 = check_float(c1, "c1")
    c2 = check_float(c2, "c2")
    if targeted:
        check_targets(y, true_labels)
    x = x.detach()
    n, shape, q = x.shape[0], x.shape[1:], particles
    e_all = batch_view(eps_t, x[:, None])  # (n, 1, 1, ...)

    def within(cand: Tensor, idx: Tensor) -> Tensor:
        """Project particles ``(m, q, ...)`` of samples ``idx`` onto their ball and the box."""
        e, xs = e_all[idx], x[idx, None]
        return clamp_bounds(xs + torch.maximum(torch.minimum(cand - xs, e), -e), lo_hi)

    g_pos = x.clone()  # global best position and margin per sample
    g_val = torch.full((n,), math.inf, dtype=x.dtype, device=x.device)
    active = torch.ones(n, dtype=torch.bool, device=x.device)
    checked = False
    with torch.no_grad():
        for _ in range(epochs):
            idx = active.nonzero().flatten()
            if idx.numel() == 0:
                break
            m = idx.numel()
            # fresh swarm for the m samples ``idx`` still unsolved: positions (m, q, ...),
            # velocities and personal bests; ``live`` marks the rows not solved in this epoch
            u = rand((m, q, *shape), x, generator)
            pos = within(x[idx, None] + (2 * u - 1) * e_all[idx], idx)
            vel = (2 * rand((m, q, *shape), x, generator) - 1) * e_all[idx]
            b_pos = pos.clone()
            b_val = torch.full((m, q), math.inf, dtype=x.dtype, device=x.device)
            live = torch.ones(m, dtype=torch.bool, device=x.device)
            for k in range(steps):
                rows = live.nonzero().flatten()
                if rows.numel() == 0:
                    break
                ids = idx[rows]
                if k > 0:  # move the live swarms
                    w = w0 + (w1 - w0) * k / (steps - 1)
                    p = pos[rows]
                    r1 = rand(p.shape, x, generator)
                    r2 = rand(p.shape, x, generator)
                    gp = g_pos[ids, None]
                    v = w * vel[rows] + c1 * r1 * (b_pos[rows] - p) + c2 * r2 * (gp - p)
                    new = within(p + v, ids)
                    vel[rows] = new - p
                    pos[rows] = new
                mr = rows.numel()
                ys = y[ids].repeat_interleave(q)
                logits = model(pos[rows].reshape(-1, *shape))
                if not checked:
                    check_labels(y, logits.shape[1])
                    checked = True
                val = margin(logits, ys, targeted).view(mr, q)
                adv = is_adversarial(logits, ys, targeted).view(mr, q)
                # personal bests
                better = val < b_val[rows]
                b_val[rows] = torch.where(better, val, b_val[rows])
                keep = better.view(mr, q, *[1] * len(shape))
                b_pos[rows] = torch.where(keep, pos[rows], b_pos[rows])
                # global bests; an adversarial particle (the lowest margin among them) wins
                top_v, top_i = val.min(dim=1)
                solved = adv.any(dim=1)
                val_adv = torch.where(adv, val, torch.full_like(val, math.inf))
                a_v, a_i = val_adv.min(dim=1)
                top_v = torch.where(solved, a_v, top_v)
                top_i = torch.where(solved, a_i, top_i)
                gbetter = solved | (top_v < g_val[ids])
                sel = ids[gbetter]
                g_pos[sel] = pos[rows[gbetter], top_i[gbetter]]
                g_val[sel] = top_v[gbetter]
                active[ids[solved]] = False
                live[rows[solved]] = False
    return clamp_bounds(g_pos, lo_hi)
