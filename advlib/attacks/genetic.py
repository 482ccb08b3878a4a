"""Genetic-algorithm black-box attack, L-inf (Alzantot, Balaji and Srivastava 2018).

"Did you hear that? Adversarial examples against automatic speech recognition", NIPS 2017
Machine Deception workshop, arXiv:1801.00554. Gradient-free: only model outputs are used.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
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
    on_model_device,
    rand,
)

__all__ = ["genetic"]


def _fitness(logits: Tensor, y: Tensor, targeted: bool) -> Tensor:
    """Per-individual fitness ``(N,)``: ``log p_t`` (targeted) or ``-log p_y`` (untargeted)."""
    logp = F.log_softmax(logits, dim=1).gather(1, y[:, None]).squeeze(1)
    return logp if targeted else -logp


def _within(x: Tensor, cand: Tensor, eps: Tensor, bounds: Bounds) -> Tensor:
    """``cand`` ``(m, P, ...)`` projected onto the L-inf ball of ``x`` ``(m, ...)`` and the box."""
    e = eps.view(-1, *[1] * (cand.ndim - 1))
    delta = torch.maximum(torch.minimum(cand - x[:, None], e), -e)
    return clamp_bounds(x[:, None] + delta, bounds)


@on_model_device
def genetic(
    model: Model,
    x: Tensor,
    y: Tensor,
    *,
    targeted: bool = False,
    eps: float | Tensor,
    steps: int = 500,
    population: int = 20,
    elite: int = 2,
    temperature: float = 0.01,
    mutation_rate: float = 0.0005,
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Gradient-free genetic search in an L-inf ball (Alzantot et al. 2018, Algorithm 1).

    Each sample of ``x`` ``(B, ...)`` evolves its own population of ``population`` candidates
    ``x + delta`` with ``||delta||_inf <= eps``. One generation:

    1. fitness of every candidate, from the model's outputs only: the target log-probability
       ``log softmax(Z)_t`` (targeted) or minus the true-class log-probability
       ``-log softmax(Z)_y`` (untargeted); the search maximises it;
    2. a sample whose population holds an adversarial candidate is solved: its fittest
       adversarial candidate is returned and it leaves the search (no more queries);
    3. the ``elite`` fittest candidates pass unchanged to the next generation;
    4. ``population - elite`` children: two parents drawn (with replacement) with probabilities
       ``softmax(fitness / temperature)``, uniform crossover (each element from either parent
       with probability 1/2), then mutation: each element receives, with probability
       ``mutation_rate``, uniform noise in ``[-eps, eps]``;
    5. every candidate is projected onto the ``eps`` ball around ``x`` and clamped to
       ``bounds``.

    The initial population is ``x`` plus uniform noise in the ``eps`` ball, then mutated
    (a dense start; the authors' code starts from sparse mutations of ``x``).

    Units of ``eps``: the paper bounds the noise by ``±eps_int16`` in 16-bit PCM units; on
    waveforms scaled to ``[-1, 1]`` this is ``eps = eps_int16 / 32768`` (e.g. 256 units give
    ``eps = 0.0078125``). Fitness: the authors' code ranks by the softmax probability; the
    log-probability used here ranks identically (same elites) but keeps the selection
    informative while the probabilities are tiny. Their adaptive mutation schedule is not
    implemented.

    Queries: one batched forward per generation for the candidates of ALL unsolved samples,
    under ``torch.no_grad()``. Generation 0 forwards ``population`` candidates per sample,
    later generations only the ``population - elite`` children (the elites' fitness is kept,
    the model being deterministic). At most ``population + (steps - 1) * (population - elite)``
    queries per sample, counted by :class:`~advlib.attacks.PassCounter` as
    ``forward_samples``, and at most ``steps`` forward calls.

    Study setting (GAN paper, Table 1): population 20, elite 2, temperature 0.01, mutation
    probability 0.0005, up to 500 generations, stop at success.

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits; treated as a black box.
        x: inputs ``(B, ...)`` of any rank, inside ``bounds``.
        y: ``(B,)`` labels, or targets when ``targeted=True``.
        eps: L-inf noise amplitude in the units of ``x``, a float or a ``(B,)`` tensor,
            ``>= 0`` (see "Units" above).
        steps: generations, ``>= 1`` (500).
        population: candidates per sample, ``>= elite + 2`` (20).
        elite: candidates carried over unchanged, ``>= 0`` (2).
        temperature: selection temperature, ``> 0`` (0.01).
        mutation_rate: per-element mutation probability, in ``[0, 1]`` (0.0005).
        bounds: box ``(lo, hi)``.
        generator: ``torch.Generator`` for every random draw (seeded runs repeat). The draws
            are shared by the batch, so a sample's result depends on its batch.
        true_labels: optional ``(B,)`` true labels in targeted mode; a target equal to its
            true label raises ``ValueError``.

    Returns:
        ``x_adv`` with the shape, dtype and device of ``x``, inside ``bounds`` and within
        ``eps`` of ``x`` (L-inf): the fittest adversarial candidate of the first generation
        that had one, else the fittest candidate ever evaluated.
    """
    lo_hi = check_inputs(x, y, bounds)
    eps_t = check_per_sample(eps, x, "eps")
    steps = check_steps(steps)
    if isinstance(elite, bool) or not isinstance(elite, int) or elite < 0:
        raise ValueError(f"elite must be an integer >= 0, got {elite!r}")
    if isinstance(population, bool) or not isinstance(population, int) or population < elite + 2:
        raise ValueError(
            f"population must be an integer >= elite + 2 = {elite + 2} (two parents besides "
            f"the elites), got {population!r}"
        )
    temperature = check_float(temperature, "temperature", strict=True)
    mutation_rate = check_float(mutation_rate, "mutation_rate")
    if mutation_rate > 1:
        raise ValueError(f"mutation_rate must be in [0, 1], got {mutation_rate!r}")
    if targeted:
        check_targets(y, true_labels)
    x = x.detach()
    n, shape, p = x.shape[0], x.shape[1:], population
    n_child = p - elite
    gen_dev = generator.device if generator is not None else x.device

    def mutate(cand: Tensor, e: Tensor) -> Tensor:
        if mutation_rate == 0:
            return cand
        hit = rand(cand.shape, x, generator) < mutation_rate
        noise = (2 * rand(cand.shape, x, generator) - 1) * e.view(-1, *[1] * (cand.ndim - 1))
        return cand + hit * noise

    # population (n, P, ...) and the fitness of its members (n, P); only children are re-scored
    start = x[:, None] + (2 * rand((n, p, *shape), x, generator) - 1) * batch_view(
        eps_t, x[:, None]
    )
    pop = _within(x, mutate(start, eps_t), eps_t, lo_hi)
    fit = torch.full((n, p), -math.inf, dtype=x.dtype, device=x.device)
    best = x.clone()
    best_fit = torch.full((n,), -math.inf, dtype=x.dtype, device=x.device)
    active = torch.ones(n, dtype=torch.bool, device=x.device)
    with torch.no_grad():
        for k in range(steps):
            idx = active.nonzero().flatten()
            if idx.numel() == 0:
                break
            m, ys = idx.numel(), y[idx]
            first = 0 if k == 0 else elite  # elites keep their fitness
            new = pop[idx, first:].reshape(-1, *shape)
            logits = model(new)
            if k == 0:
                check_labels(y, logits.shape[1])
            yr = ys.repeat_interleave(p - first)
            f_new = _fitness(logits, yr, targeted).view(m, p - first)
            adv = is_adversarial(logits, yr, targeted).view(m, p - first)
            f = torch.cat((fit[idx, :first], f_new), dim=1)
            fit[idx] = f
            # solved samples: their fittest adversarial candidate, then they stop
            solved = adv.any(dim=1)
            f_adv = torch.where(adv, f_new, torch.full_like(f_new, -math.inf))
            pick = f_adv.argmax(dim=1) + first
            rows = torch.arange(m, device=x.device)
            sel = idx[solved]
            best[sel] = pop[sel, pick[solved]]
            active[sel] = False
            # unsolved samples: keep the fittest candidate ever seen
            top_f, top_i = f.max(dim=1)
            better = ~solved & (top_f > best_fit[idx])
            sel = idx[better]
            best[sel] = pop[sel, top_i[better]]
            best_fit[sel] = top_f[better]
            if k == steps - 1 or solved.all():
                continue
            # next generation for the unsolved samples
            keep = ~solved
            idk, fk, mk = idx[keep], f[keep], int(keep.sum())
            probs = torch.softmax(fk / temperature, dim=1)
            parents = torch.multinomial(
                probs.to(gen_dev), 2 * n_child, replacement=True, generator=generator
            ).to(x.device)  # (mk, 2 * n_child)
            pk = pop[idk]
            r = rows[:mk, None]
            pa, pb = pk[r, parents[:, :n_child]], pk[r, parents[:, n_child:]]
            cross = rand((mk, n_child, *shape), x, generator) < 0.5
            children = _within(
                x[idk], mutate(torch.where(cross, pa, pb), eps_t[idk]), eps_t[idk], lo_hi
            )
            order = fk.argsort(dim=1, descending=True)[:, :elite]
            pop[idk, :elite] = pk[r, order]
            fit[idk, :elite] = fk.gather(1, order)
            pop[idk, elite:] = children
    return clamp_bounds(best, lo_hi)
