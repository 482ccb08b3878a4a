"""Jacobian-based Saliency Map Attack, pairwise L0 (Papernot et al., IEEE EuroS&P 2016)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from advlib.attacks._utils import (
    Bounds,
    Model,
    check_float,
    check_inputs,
    check_labels,
    check_steps,
    check_targets,
    clamp_bounds,
    on_model_device,
)

__all__ = ["jsma"]


def _pick_pairs(
    alpha: Tensor, beta: Tensor, domain: Tensor, sign: float, candidates: int
) -> tuple[Tensor, Tensor, Tensor]:
    """Best admissible feature pair per row of the pairwise saliency map (Papernot, Alg. 3).

    ``alpha = dZ_t/dx`` and ``beta = sum_{j != t} dZ_j/dx`` are ``(m, d)``; ``domain`` ``(m, d)``
    marks the features that may still move. The candidates are the ``ceil(candidates / 2)``
    features of the domain with the largest ``sign * alpha`` and the ``floor(candidates / 2)``
    with the largest ``-sign * beta``; every pair of distinct candidates ``(p, q)`` is scored
    ``-(alpha_p + alpha_q) * (beta_p + beta_q)`` where ``sign * (alpha_p + alpha_q) > 0`` and
    ``sign * (beta_p + beta_q) < 0`` (else inadmissible). Returns ``(p, q, found)``, ``(m,)``.
    """
    d = alpha.shape[1]
    k_a = min(math.ceil(candidates / 2), d)
    k_b = min(candidates // 2, d)
    neg_inf = torch.tensor(float("-inf"), dtype=alpha.dtype, device=alpha.device)
    ids = [torch.where(domain, sign * alpha, neg_inf).topk(k_a, dim=1).indices]
    if k_b:
        ids.append(torch.where(domain, -sign * beta, neg_inf).topk(k_b, dim=1).indices)
    cand = torch.cat(ids, dim=1)  # (m, k); a feature may appear twice, harmlessly
    valid = domain.gather(1, cand)
    a, b = alpha.gather(1, cand), beta.gather(1, cand)
    a2 = a[:, :, None] + a[:, None, :]
    b2 = b[:, :, None] + b[:, None, :]
    ok = valid[:, :, None] & valid[:, None, :] & (cand[:, :, None] != cand[:, None, :])
    ok &= (sign * a2 > 0) & (sign * b2 < 0)
    score = torch.where(ok, -a2 * b2, neg_inf).flatten(1)
    best = score.argmax(dim=1)
    k = cand.shape[1]
    p = cand.gather(1, (best // k)[:, None]).squeeze(1)
    q = cand.gather(1, (best % k)[:, None]).squeeze(1)
    return p, q, ok.flatten(1).any(dim=1)


@on_model_device
def jsma(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    theta: float = 1.0,
    gamma: float = 0.1,
    steps: int | None = None,
    candidates: int = 32,
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Pairwise saliency-map attack (Papernot et al. 2016, Eq. 8 and Algorithms 2-3), L0.

    Each iteration computes, on the logits ``Z`` at the current iterate, the forward derivatives
    ``alpha_i = dZ_t / dx_i`` and ``beta_i = sum_{j != t} dZ_j / dx_i`` (two backward passes)
    and picks the pair of features ``(p, q)`` maximising the pairwise saliency map

        ``S(p, q) = -(alpha_p + alpha_q) * (beta_p + beta_q)``

    over the pairs with ``alpha_p + alpha_q > 0`` and ``beta_p + beta_q < 0`` (signs reversed
    for ``theta < 0``, which decreases features). Both features move by ``theta`` and are
    clamped to ``bounds``; a feature leaves the search domain once it reaches the bound it is
    pushed towards (Algorithm 3's rule), so it may move more than once before that.

    Restricted pair search (a deviation for large inputs): the exact map scores all ``d^2``
    pairs, which is infeasible on waveforms or spectrograms (``d`` = 16,000 gives 2.6e8 pairs
    per sample and iteration). Only ``candidates`` features are paired: the
    ``ceil(candidates / 2)`` largest ``alpha`` and the ``floor(candidates / 2)`` most negative
    ``beta`` (``candidates^2`` pairs, 1,024 by default). The search is exact, i.e. Papernot's,
    whenever ``ceil(candidates / 2)`` covers the whole search domain.

    L0 budget: at most ``floor(gamma * d)`` distinct features of a sample ever change
    (``d`` features per sample). Once a new pair would exceed it, only features already changed
    stay in the domain. The iteration cap ``steps`` defaults to Papernot's
    ``max_iter = floor(gamma * d / 2)`` (two features per iteration). A sample stops at its
    first success, when the cap is reached, or when no admissible pair is left.

    Targeted (``targeted=True``, the paper's setting): ``y`` holds the targets ``t`` and
    success is ``argmax Z = t``. Untargeted: the saliency map drives each sample towards its
    runner-up class on the clean input (``argmax_{j != y} Z_j(x)``, fixed per sample) and
    success is any prediction other than ``y``.

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits; gradients are taken with autograd.
        x: inputs ``(B, ...)`` of any rank (waveforms ``(B, T)``, spectrograms
            ``(B, C, H, W)``), inside ``bounds``.
        y: ``(B,)`` labels, or targets when ``targeted=True``.
        targeted: see above. Note the paper's attack is targeted; pass ``targeted=True``.
        theta: change applied to each chosen feature, in the units of ``x``, nonzero
            (``+1`` in the paper on ``[0, 1]`` images, i.e. saturate; on ``(-1, 1)`` a
            feature needs up to ``2``).
        gamma: maximum share of the features changed, ``0 < gamma <= 1`` (paper: 0.145 on
            MNIST; 0.1 here); ``floor(gamma * d)`` must be at least 2.
        steps: iteration cap, ``>= 1``; ``None`` = ``floor(gamma * d) // 2``. The study's
            AT setting caps it at 1000.
        candidates: features paired per iteration, ``>= 2`` (default 32, see above).
        bounds: box ``(lo, hi)``.
        generator: unused (JSMA is deterministic); kept for a uniform signature.
        true_labels: optional ``(B,)`` true labels in targeted mode; a target equal to its
            true label raises ``ValueError``.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds``, differing from
        ``x`` in at most ``floor(gamma * d)`` features per sample: the first successful
        iterate, or the last one for samples that were not solved.
    """
    lo, hi = check_inputs(x, y, bounds)
    theta = check_float(theta, "theta", low=-math.inf)
    if theta == 0:
        raise ValueError("theta must be nonzero (its sign says whether features increase)")
    gamma = check_float(gamma, "gamma", strict=True)
    if gamma > 1:
        raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
    candidates = check_steps(candidates, "candidates")
    if candidates < 2:
        raise ValueError(f"candidates must be >= 2 (features change in pairs), got {candidates}")
    n, d = x.shape[0], x[0].numel()
    budget = math.floor(gamma * d)
    if budget < 2:
        raise ValueError(
            f"gamma * d = {gamma} * {d} allows fewer than 2 changed features: raise gamma"
        )
    steps = budget // 2 if steps is None else check_steps(steps)
    if targeted:
        check_targets(y, true_labels)
    sign = 1.0 if theta > 0 else -1.0
    x = x.detach()
    shape = x.shape[1:]
    x_adv = x.flatten(1).clone()
    touched = torch.zeros(n, d, dtype=torch.bool, device=x.device)
    active = torch.ones(n, dtype=torch.bool, device=x.device)
    target = y
    for k in range(steps + 1):
        idx = active.nonzero().flatten()
        if idx.numel() == 0:
            break
        last = k == steps
        xa = x_adv[idx].view(-1, *shape).clone().requires_grad_(not last)
        with torch.set_grad_enabled(not last):
            logits = model(xa)
            if k == 0:
                check_labels(y, logits.shape[1])
                if not targeted:
                    target = logits.detach().scatter(1, y[:, None], float("-inf")).argmax(1)
            pred = logits.detach().argmax(1)
            solved = pred == y[idx] if targeted else pred != y[idx]
            active[idx[solved]] = False
            if last or solved.all():
                break
            z_t = logits.gather(1, target[idx][:, None]).sum()
            (g_t,) = torch.autograd.grad(z_t, xa, retain_graph=True)
            (g_all,) = torch.autograd.grad(logits.sum(), xa)
        keep = ~solved
        idk = idx[keep]
        alpha = g_t.flatten(1)[keep]
        beta = g_all.flatten(1)[keep] - alpha
        cur = x_adv[idk]
        domain = cur < hi if sign > 0 else cur > lo
        full = touched[idk].sum(1) + 2 > budget
        domain &= ~full[:, None] | touched[idk]
        p, q, found = _pick_pairs(alpha, beta, domain, sign, candidates)
        active[idk[~found]] = False
        rows, p, q = idk[found], p[found], q[found]
        for f in (p, q):
            x_adv[rows, f] = (x_adv[rows, f] + theta).clamp(lo, hi)
            touched[rows, f] = True
    return clamp_bounds(x_adv.view_as(x), (lo, hi))
