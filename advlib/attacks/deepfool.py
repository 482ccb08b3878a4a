"""DeepFool, untargeted minimal L2 perturbation (Moosavi-Dezfooli et al., CVPR 2016)."""

from __future__ import annotations

import torch
from torch import Tensor

from advlib.attacks._utils import (
    Bounds,
    Model,
    batch_view,
    check_float,
    check_inputs,
    check_labels,
    check_steps,
    clamp_bounds,
    on_model_device,
)

__all__ = ["deepfool"]


@on_model_device
def deepfool(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    steps: int = 100,
    overshoot: float = 0.02,
    n_classes: int | None = None,
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
) -> Tensor:
    """Multiclass DeepFool (Moosavi-Dezfooli et al. 2016, Algorithm 2, Eqs. 8-9), batched.

    At iterate ``x_i`` with label ``y``, for each candidate class ``k``:
    ``f'_k = f_k(x_i) - f_y(x_i)`` and ``w'_k = grad f_k(x_i) - grad f_y(x_i)``; the closest
    linearised boundary is ``l = argmin_k |f'_k| / ||w'_k||_2`` and the step is
    ``r_i = (|f'_l| + 1e-4) / ||w'_l||_2^2 * w'_l`` (Eq. 9; the ``1e-4`` is the authors' code).
    The iterate is ``x_{i+1} = clip_bounds(x + (1 + overshoot) * sum_i r_i)``. Each sample stops
    at its first misclassified iterate and is no longer forwarded; when many samples succeed at
    once (``n_solved * (k - 1) > n_unsolved``), the unsolved ones are forwarded again rather than
    backpropagating ``k - 1`` class gradients of the solved ones, which saves passes. For an
    affine classifier the first step lands exactly on the nearest decision boundary (times
    ``1 + overshoot``).

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits.
        x: inputs ``(B, ...)`` of any rank, inside ``bounds``.
        y: ``(B,)`` labels (usually the clean predictions).
        targeted: must be False (DeepFool is untargeted); True raises ``ValueError``.
        steps: maximum iterations, ``>= 1`` (100 in the study).
        overshoot: ``>= 0`` (0.02 in the paper and the study).
        n_classes: classes considered: the label plus the ``n_classes - 1`` highest-scoring
            other classes on the clean input (the authors' top-k); ``None`` = all classes. Costs
            ``n_classes - 1`` backward passes per iteration.
        bounds: box ``(lo, hi)``.
        generator: unused (DeepFool is deterministic); kept for a uniform signature.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds``: the first
        misclassified iterate, or the last iterate for samples not fooled within ``steps``.
    """
    lo_hi = check_inputs(x, y, bounds)
    if targeted:
        raise ValueError("deepfool is untargeted only: call it with targeted=False")
    steps = check_steps(steps)
    overshoot = check_float(overshoot, "overshoot")
    if n_classes is not None:
        n_classes = check_steps(n_classes, "n_classes")
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2 (or None), got {n_classes}")
    x = x.detach()
    n = x.shape[0]
    x_adv = x.clone()
    r_tot = torch.zeros_like(x)
    active = torch.ones(n, dtype=torch.bool, device=x.device)
    candidates: Tensor | None = None  # (n, k - 1) class indices other than y
    for _ in range(steps):
        idx = active.nonzero().flatten()
        if idx.numel() == 0:
            break
        with torch.enable_grad():
            xa = x_adv[idx].clone().requires_grad_(True)
            logits = model(xa)
            if candidates is None:
                n_cls = logits.shape[1]
                if n_cls < 2:
                    raise ValueError(f"deepfool needs at least 2 classes, the model gives {n_cls}")
                check_labels(y, n_cls)
                k = n_cls if n_classes is None else min(n_classes, n_cls)
                masked = logits.detach().scatter(1, y[:, None], float("-inf"))
                candidates = masked.topk(k - 1, dim=1).indices
            ys = y[idx]
            adv = logits.argmax(1) != ys
            active[idx[adv]] = False
            if adv.all():
                break
            n_adv, n_cand = int(adv.sum()), candidates.shape[1]
            if n_adv * n_cand > idx.numel() - n_adv:
                # Backpropagating the newly solved samples would cost more passes than
                # forwarding the unsolved ones again: drop the solved ones from the graph.
                idx = idx[~adv]
                xa = x_adv[idx].clone().requires_grad_(True)
                logits = model(xa)
                ys = y[idx]
                adv = torch.zeros_like(ys, dtype=torch.bool)
            keep = ~adv
            z_y = logits.gather(1, ys[:, None])
            diffs = logits.gather(1, candidates[idx]) - z_y  # (m, k - 1)
            grads = [
                torch.autograd.grad(diffs[:, j].sum(), xa, retain_graph=j < diffs.shape[1] - 1)[0]
                for j in range(diffs.shape[1])
            ]
        f = diffs.detach()[keep]  # (m', k - 1)
        w = torch.stack(grads, dim=1)[keep]  # (m', k - 1, ...)
        w_norm = w.flatten(2).norm(p=2, dim=2)  # (m', k - 1)
        dist = f.abs() / w_norm.clamp_min(1e-12)
        best = dist.argmin(dim=1)
        rows = torch.arange(best.numel(), device=x.device)
        f_l, w_l, wn_l = f[rows, best], w[rows, best], w_norm[rows, best]
        r = batch_view((f_l.abs() + 1e-4) / wn_l.clamp_min(1e-12).pow(2), w_l) * w_l
        idk = idx[keep]
        r_tot[idk] += r
        x_adv[idk] = clamp_bounds(x[idk] + (1 + overshoot) * r_tot[idk], lo_hi)
    return clamp_bounds(x_adv, lo_hi)
