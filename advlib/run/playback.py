"""Success of adversarial clips after simulated playback (shared by the attack, UAP and GAN
chapters)."""

from __future__ import annotations

from typing import Any

import torch

from advlib.attacks.eot import random_playback
from advlib.metrics import Proportion

__all__ = ["playback_success"]


def playback_success(
    model: torch.nn.Module,
    x_adv: torch.Tensor,
    clean_pred: torch.Tensor,
    attacked: torch.Tensor,
    *,
    draws: int = 8,
    seed: int = 0,
    targets: torch.Tensor | None = None,
    **playback: Any,
) -> Proportion:
    """Success of adversarial clips after random playback (gain, shift, noise, band-pass).

    Each attacked clip is played ``draws`` times through
    :func:`~advlib.attacks.eot.random_playback` (seeded); a play succeeds when the prediction
    differs from the clean prediction (untargeted) or equals the target. The proportion is
    over clip-plays (clips x draws).
    """
    if draws < 1:
        raise ValueError(f"draws must be at least 1, got {draws}")
    g = torch.Generator().manual_seed(seed)
    xa = x_adv[attacked]
    ref = (targets if targets is not None else clean_pred)[attacked]
    hits = 0
    for _ in range(draws):
        pred = model(random_playback(xa, generator=g, **playback)).argmax(1)
        hits += int(((pred == ref) if targets is not None else (pred != ref)).sum())
    return Proportion(hits, draws * int(attacked.sum()))
