"""Universal adversarial audio perturbations (Abdoli et al., "Universal adversarial audio
perturbations", arXiv 1908.03173): the iterative greedy method (Sec. 3.1, after
Moosavi-Dezfooli et al., CVPR 2017) and the penalty method (Sec. 3.2, Eqs. 5-11, Algorithm 1).

Unlike the per-sample attacks of this package, both functions return ONE perturbation ``v`` of
shape ``x.shape[1:]`` that is added to every input. How it is added is given by
:func:`apply_uap`: ``clamp(x + v, bounds)`` in waveform space (the iterative method, and the
penalty method with ``space="wave"``), or ``tanh(atanh(x) + v)`` rescaled to ``bounds`` in the
penalty method's tanh space (``space="tanh"``, the paper's Eq. 7 and its default).

Units. The paper works on waveforms in ``[0, 1]``; this package uses ``[-1, 1]``. Waveform
distances double under that map, so the paper's L-inf radii xi = 0.2 / 0.12 (untargeted /
targeted) and DDN's initial norm 0.2 become 0.4 / 0.24 and 0.4 here (in general: times
``hi - lo``). The tanh space is the same under both conventions
(``atanh(2 x01 - 1) = atanh(x)``), so tanh-space quantities (the penalty method's ``v``, its
SPL, its L2 radius xi = 6 for speech) carry over unchanged.
"""

from __future__ import annotations

import torch
from torch import Tensor

from advlib.attacks._utils import (
    Bounds,
    Model,
    check_bounds,
    check_float,
    check_inputs,
    check_labels,
    check_norm,
    check_steps,
    clamp_bounds,
    is_adversarial,
    margin,
    project,
)
from advlib.attacks.ddn import ddn
from advlib.attacks.deepfool import deepfool

__all__ = ["apply_uap", "uap_iterative", "uap_penalty"]

_SPACES = ("tanh", "wave")
_SPL_FLOOR = 1e-12  # RMS floor of the SPL term: SPL(0) = -240 dB with zero gradient, no NaN


# --------------------------------------------------------------------------- helpers


def _tanh_eps(dtype: torch.dtype) -> float:
    """The paper's ``epsilon`` of Eq. 7 (the authors' code: 1e-6), large enough for ``dtype``."""
    return max(1e-6, 4 * torch.finfo(dtype).eps)


def _to_tanh(x: Tensor, bounds: Bounds) -> Tensor:
    """``x' = atanh(u (1 - epsilon))`` with ``u`` = ``x`` mapped from ``bounds`` onto [-1, 1]
    (Eq. 7: ``atanh((2 x - 1)(1 - epsilon))`` on the paper's [0, 1])."""
    lo, hi = bounds
    u = (x - (lo + hi) / 2) / ((hi - lo) / 2)
    return torch.atanh(u * (1 - _tanh_eps(x.dtype)))


def _from_tanh(t: Tensor, bounds: Bounds) -> Tensor:
    """``w = (tanh(t) + 1) / 2`` rescaled from [0, 1] to ``bounds`` (Eq. 7)."""
    lo, hi = bounds
    return (lo + hi) / 2 + (hi - lo) / 2 * torch.tanh(t)


def _perturb(inputs: Tensor, v: Tensor, space: str, bounds: Bounds) -> Tensor:
    """Perturbed inputs: ``inputs`` are waveforms (``"wave"``) or already in tanh space."""
    if space == "tanh":
        return clamp_bounds(_from_tanh(inputs + v, bounds), bounds)
    return clamp_bounds(inputs + v, bounds)


def apply_uap(x: Tensor, v: Tensor, *, space: str = "wave", bounds: Bounds = (-1.0, 1.0)) -> Tensor:
    """Add a universal perturbation ``v`` (shape ``x.shape[1:]``) to every input of ``x``.

    ``space="wave"``: ``clamp(x + v, bounds)`` (:func:`uap_iterative`, and :func:`uap_penalty`
    with ``space="wave"``). ``space="tanh"``: the penalty method's Eq. 7,
    ``w = lo + (hi - lo) (tanh(atanh(u (1 - epsilon)) + v) + 1) / 2`` with ``u`` = ``x`` mapped
    onto [-1, 1] and ``epsilon = 1e-6`` (the authors' code); it stays inside ``bounds`` for any
    ``v`` and, for a sample near the middle of the box, ``w - x ~ (hi - lo) / 2 * v``.

    Args:
        x: inputs ``(B, ...)`` inside ``bounds``.
        v: one perturbation of shape ``x.shape[1:]``.
        space: ``"wave"`` or ``"tanh"``.
        bounds: box ``(lo, hi)``.

    Returns:
        The perturbed inputs ``(B, ...)``, inside ``bounds``, dtype and device of ``x``.
    """
    bounds = check_bounds(bounds)
    space = _check_choice(space, "space", _SPACES)
    if not isinstance(x, Tensor) or not isinstance(v, Tensor) or v.shape != x.shape[1:]:
        raise ValueError("v must be a tensor of shape x.shape[1:]")
    inputs = _to_tanh(x, bounds) if space == "tanh" else x
    return _perturb(inputs, v.to(device=x.device, dtype=x.dtype), space, bounds)


def _spl_db(v: Tensor) -> Tensor:
    """Differentiable sound pressure level ``20 log10(rms(v))`` over all elements (Eqs. 5-6).

    Equals :func:`advlib.metrics.spl_db` for a nonzero ``v``; the RMS is floored at 1e-12, so
    ``v = 0`` gives -240 dB and a zero gradient instead of ``-inf`` and NaN."""
    rms = v.pow(2).mean().clamp_min(_SPL_FLOOR**2).sqrt()
    return 20 * torch.log10(rms)


def _check_choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    key = str(value).lower().strip()
    if key not in choices:
        raise ValueError(f"unknown {name} {value!r}: expected one of {choices}")
    return key


def _check_fooling_rate(value: float) -> float:
    v = check_float(value, "fooling_rate", strict=True)
    if v > 1:
        raise ValueError(f"fooling_rate must be in (0, 1], got {value!r}")
    return v


def _labels(
    x: Tensor, y: Tensor | int, targeted: bool, true_labels: Tensor | None, bounds: Bounds
) -> tuple[Bounds, Tensor, Tensor]:
    """Check the inputs; return ``(bounds, labels (B,), used (B,) bool)``.

    Targeted: ``y`` is one target class, an ``int`` or a ``(B,)`` tensor of identical values;
    with ``true_labels`` the samples of the target class are left out (``used`` False)."""
    if targeted and isinstance(y, int) and not isinstance(y, bool):
        if not isinstance(x, Tensor) or x.ndim < 1:
            raise ValueError("x must be a non-empty batch (B, ...) of rank >= 2")
        y = torch.full((x.shape[0],), y, dtype=torch.int64, device=x.device)
    lo_hi = check_inputs(x, y, bounds)
    used = torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
    if targeted:
        if (y != y[0]).any():
            raise ValueError(
                "a targeted universal perturbation has one target class: y must be an int or a"
                " tensor of identical targets"
            )
        if true_labels is not None:
            if not isinstance(true_labels, Tensor) or true_labels.shape != y.shape:
                raise ValueError(f"true_labels must be a tensor of shape {tuple(y.shape)}")
            used = true_labels.to(y.device) != y
            if not used.any():
                raise ValueError("every sample belongs to the target class: nothing to attack")
    return lo_hi, y, used


def _fooled(
    model: Model, inputs: Tensor, y: Tensor, v: Tensor, *, targeted: bool, space: str,
    bounds: Bounds, chunk: int,
) -> Tensor:  # fmt: skip
    """``(n,)`` bool: which inputs the perturbation ``v`` fools, forwarded ``chunk`` at a time."""
    out = []
    with torch.no_grad():
        for s in range(0, inputs.shape[0], chunk):
            logits = model(_perturb(inputs[s : s + chunk], v, space, bounds))
            if s == 0:
                check_labels(y, logits.shape[1])
            out.append(is_adversarial(logits, y[s : s + chunk], targeted))
    return torch.cat(out)


def _randperm(n: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
    dev = generator.device if generator is not None else device
    return torch.randperm(n, generator=generator, device=dev).to(device)


# --------------------------------------------------------------------------- iterative


def uap_iterative(
    model: Model,
    x: Tensor,
    y: Tensor | int,
    *,
    targeted: bool = False,
    eps: float,
    norm: str | int = "inf",
    inner: str = "ddn",
    inner_steps: int = 50,
    init_norm: float | None = None,
    gamma: float = 0.05,
    overshoot: float = 0.02,
    fooling_rate: float = 0.9,
    max_passes: int = 100,
    batch_size: int = 32,
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Universal perturbation by the iterative greedy method (UAP paper Sec. 3.1, Eqs. 1-3).

    Moosavi-Dezfooli's loop: starting from ``v = 0``, each pass visits the crafting set in a
    random order drawn from ``generator``; for every ``x_i`` that ``v`` does not fool yet, the
    inner minimal-L2 attack (Eq. 1: DDN, untargeted or targeted, or DeepFool, untargeted only)
    run on ``clamp(x_i + v)`` gives ``dv_i`` and ``v <- P_{p,eps}(v + dv_i)`` (Eq. 2, the
    projection onto the ``norm`` ball of radius ``eps``). The loop stops once the fooling rate
    (Eq. 3) on ``x`` reaches ``fooling_rate`` (``1 - delta``) or after ``max_passes`` passes.

    Batching (a deviation for speed; ``batch_size=1`` is the paper's loop exactly): the points
    are taken ``batch_size`` at a time; the ones not fooled by the current ``v`` are attacked
    together by one batched inner call at that ``v``; their ``dv_i`` are then applied one after
    the other, in the drawn order, each followed by the projection, and a point that the
    updated ``v`` already fools is skipped (one extra single-sample forward each), as Algorithm 1
    would. Applying them in turn keeps Algorithm 1's update rule (a sum of projected minimal
    steps, not an average, which would shrink every step by the batch size); the only change is
    that a ``dv_i`` is computed at the ``v`` of the start of its batch, so it may be stale by up
    to ``batch_size - 1`` updates.

    The returned ``v`` is universal: one perturbation for all inputs, not a batch of adversarial
    examples. The fooled inputs are ``clamp(x + v, bounds)`` (:func:`apply_uap` with
    ``space="wave"``). Across passes the ``v`` with the highest fooling rate is kept.

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits.
        x: crafting set ``(B, ...)`` of any rank, inside ``bounds``.
        y: untargeted, ``(B,)`` labels to move away from (Eq. 3 uses the clean predictions
            ``model(x).argmax(1)``; pass those to reproduce it). Targeted, the one target class:
            an ``int`` or a ``(B,)`` tensor of identical values (else ``ValueError``).
        eps: radius ``xi > 0`` of the ``norm`` ball in waveform units of ``bounds``. The
            paper's L-inf xi = 0.2 (untargeted) / 0.12 (targeted) on [0, 1] are 0.4 / 0.24 on
            [-1, 1].
        norm: ``"inf"`` (the paper) or ``2``.
        inner: ``"ddn"`` (the paper) or ``"deepfool"`` (untargeted only).
        inner_steps: steps of the inner attack, ``>= 1`` (50 in the paper).
        init_norm: DDN's initial norm; ``None`` = the paper's 0.2 times the box width
            ``hi - lo`` (0.4 on [-1, 1]).
        gamma: DDN's norm update factor in ``(0, 1)``.
        overshoot: DeepFool's overshoot ``>= 0`` (unused by DDN).
        fooling_rate: stop at this fooling rate, in ``(0, 1]`` (0.9 = ``1 - delta``).
        max_passes: passes over the data, ``>= 1`` (100 in the paper).
        batch_size: points per batched inner call, ``>= 1``; also the forward chunk size.
        bounds: box ``(lo, hi)``.
        generator: ``torch.Generator`` for the visiting order (and DDN's random directions).
        true_labels: optional ``(B,)`` true labels, targeted only: samples of the target class
            are left out of the crafting and of the fooling rate.

    Returns:
        ``v`` of shape ``x.shape[1:]`` (one perturbation for the whole batch ``(B, ...)``),
        dtype and device of ``x``, with ``||v||_norm <= eps``.
    """
    lo_hi, y_t, used = _labels(x, y, targeted, true_labels, bounds)
    eps_f = check_float(eps, "eps", strict=True)
    norm = check_norm(norm)
    inner = _check_choice(inner, "inner", ("ddn", "deepfool"))
    if inner == "deepfool" and targeted:
        raise ValueError("inner='deepfool' is untargeted only: use inner='ddn' for targeted")
    inner_steps = check_steps(inner_steps, "inner_steps")
    init = 0.2 * (lo_hi[1] - lo_hi[0]) if init_norm is None else init_norm
    init = check_float(init, "init_norm", strict=True)
    gamma = check_float(gamma, "gamma", strict=True)
    if gamma >= 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma}")
    overshoot = check_float(overshoot, "overshoot")
    fooling_rate = _check_fooling_rate(fooling_rate)
    max_passes = check_steps(max_passes, "max_passes")
    batch_size = check_steps(batch_size, "batch_size")

    xs, ys = x.detach()[used], y_t[used]
    n = xs.shape[0]
    eps_t = torch.tensor([eps_f], dtype=x.dtype, device=x.device)

    def proj(v: Tensor) -> Tensor:
        return project(v[None], eps_t, norm)[0]

    def fooled(v: Tensor) -> Tensor:
        return _fooled(
            model, xs, ys, v, targeted=targeted, space="wave", bounds=lo_hi, chunk=batch_size
        )

    def inner_attack(z: Tensor, labels: Tensor) -> Tensor:
        if inner == "deepfool":
            return deepfool(model, z, labels, steps=inner_steps, overshoot=overshoot, bounds=lo_hi)
        return ddn(
            model, z, labels, targeted=targeted, steps=inner_steps, init_norm=init,
            gamma=gamma, bounds=lo_hi, generator=generator,
        )  # fmt: skip

    v = torch.zeros_like(xs[0])
    rate = fooled(v).float().mean().item()
    best, best_rate = v.clone(), rate
    passes = 0
    while rate < fooling_rate and passes < max_passes:
        order = _randperm(n, generator, x.device)
        for s in range(0, n, batch_size):
            idx = order[s : s + batch_size]
            z = clamp_bounds(xs[idx] + v, lo_hi)
            with torch.no_grad():
                done = is_adversarial(model(z), ys[idx], targeted)
            if done.all():
                continue
            idx, z = idx[~done], z[~done]
            dv = inner_attack(z, ys[idx]) - z
            for j in range(idx.numel()):
                if j > 0:  # v moved since the batch was checked: skip points already fooled
                    zj = clamp_bounds(xs[idx[j : j + 1]] + v, lo_hi)
                    with torch.no_grad():
                        if is_adversarial(model(zj), ys[idx[j : j + 1]], targeted).item():
                            continue
                v = proj(v + dv[j])
        passes += 1
        rate = fooled(v).float().mean().item()
        if rate > best_rate:
            best, best_rate = v.clone(), rate
    return best


# --------------------------------------------------------------------------- penalty


def _penalty_grad(
    model: Model,
    inputs: Tensor,
    y: Tensor,
    v: Tensor,
    *,
    targeted: bool,
    c: float,
    confidence: float,
    variant: str,
    space: str,
    bounds: Bounds,
) -> tuple[Tensor, Tensor]:
    """Gradient and value of the penalty objective on one mini-batch (Eqs. 10-11).

    ``L(v) = SPL(v) + c * sum_i max(m_i, -kappa)`` with ``w_i`` the perturbed input
    (:func:`apply_uap`) and ``m_i`` the logit margin of ``model(w_i)``: ``Z_y - max_{j!=y} Z_j``
    (untargeted, Eq. 11) or ``max_{j!=t} Z_j - Z_t`` (targeted, Eq. 10).

    ``variant="paper"``: the exact gradient ``dL/dv`` (through ``tanh`` or the clamp).
    ``variant="code"`` (the authors' code): ``sum_i d(c * max(m_i, -kappa))/dw_i``, the gradient
    with respect to the perturbed inputs, summed over the batch and used as the gradient in
    ``v``: no SPL gradient, no ``tanh`` (or clamp) Jacobian.

    ``inputs`` are waveforms (``space="wave"``) or already mapped to tanh space. Returns
    ``(grad, loss)``: ``grad`` of shape ``v.shape`` and the scalar loss (detached).
    """
    with torch.enable_grad():
        if variant == "paper":
            vv = v.detach().clone().requires_grad_(True)
            w = _perturb(inputs, vv, space, bounds)
            hinge = margin(model(w), y, targeted).clamp_min(-confidence)
            loss = _spl_db(vv) + c * hinge.sum()
            (grad,) = torch.autograd.grad(loss, vv)
        else:
            w = _perturb(inputs, v.detach(), space, bounds).requires_grad_(True)
            hinge = margin(model(w), y, targeted).clamp_min(-confidence)
            (gw,) = torch.autograd.grad(c * hinge.sum(), w)
            grad = gw.sum(0)
            loss = _spl_db(v.detach()) + c * hinge.sum()
    return grad.detach(), loss.detach()


def uap_penalty(
    model: Model,
    x: Tensor,
    y: Tensor | int,
    *,
    targeted: bool = False,
    c: float = 0.2,
    confidence: float = 40.0,
    steps: int = 1000,
    lr: float = 0.006,
    batch_size: int = 100,
    eps: float | None = None,
    norm: str | int = 2,
    fooling_rate: float = 0.9,
    variant: str = "paper",
    space: str = "tanh",
    bounds: Bounds = (-1.0, 1.0),
    generator: torch.Generator | None = None,
    true_labels: Tensor | None = None,
) -> Tensor:
    """Universal perturbation by the penalty method (UAP paper Sec. 3.2, Eqs. 5-11, Alg. 1).

    Minimises, by Adam (learning rate ``lr``, betas 0.9/0.999, eps 1e-8) over mini-batches of
    ``batch_size`` samples drawn without replacement (a new permutation from ``generator`` each
    epoch, the last batch of an epoch possibly smaller),

        ``L(v) = SPL(v) + c * sum_{i in batch} max(m_i(w_i), -kappa)``,

    with ``SPL(v) = 20 log10(rms(v))`` (Eqs. 5-6), ``kappa = confidence`` and the logit margin
    ``m_i = Z_y - max_{j!=y} Z_j`` (untargeted, Eq. 11) or ``max_{j!=t} Z_j - Z_t`` (targeted,
    Eq. 10). The perturbed inputs are ``w_i = apply_uap(x_i, v, space=space)``:

    * ``space="tanh"`` (the paper, Eq. 7): ``w_i = (tanh(x'_i + v) + 1) / 2`` rescaled to
      ``bounds``, ``x'_i = atanh(u_i (1 - 1e-6))``; ``v`` lives in tanh space, is universal
      there, and every ``w_i`` is inside ``bounds`` without clipping. For a sample near the
      middle of the box the waveform perturbation is about ``(hi - lo) / 2 * v``.
    * ``space="wave"``: ``w_i = clamp(x_i + v, bounds)``, ``v`` an additive waveform
      perturbation like :func:`uap_iterative`'s.

    The SPL is counted once per mini-batch, as in the authors' code (Algorithm 1 read
    literally sums Eq. 10 per sample, i.e. weights the SPL by the batch size: use
    ``c / batch_size`` for that reading). ``variant="paper"`` takes the exact gradient of ``L``;
    ``variant="code"`` reproduces the authors' code: the SPL term has no gradient and the
    hinge gradient with respect to the perturbed inputs, summed over the batch, is applied to
    ``v`` without the ``tanh`` Jacobian. With ``eps``, ``v`` is projected after every step onto
    the ``norm`` ball of radius ``eps`` (the paper: L2, xi = 6 for speech, in tanh units).

    A property of the paper's objective worth knowing: the SPL in dB is unbounded below
    (``-inf`` at ``v = 0``; here floored at -240 dB), and along a ray ``v = -t g / ||g||``, with
    ``g = c sum_i grad m_i`` the hinge gradient, the loss rises for
    ``t < 20 / (ln 10 * ||g||)``. The exact gradient (``variant="paper"``) therefore pulls a
    small ``v`` back to 0, and since Algorithm 1 starts at ``v = 0`` the paper variant only gets
    away when Adam's first steps (about ``lr`` per element) overshoot that radius, i.e. when
    ``lr * sqrt(d) * ||g||`` is large (long inputs, steep victims, large ``c``). The code's
    variant has no SPL gradient and no such barrier.

    After every epoch (and after the last step) the fooling rate on the whole crafting set is
    measured; the ``v`` with the highest rate (then the lowest SPL) is kept, and the run stops
    once the rate reaches ``fooling_rate`` or after ``steps`` Adam steps.

    The returned ``v`` is universal: one perturbation for all inputs, not a batch of adversarial
    examples. The fooled inputs are ``apply_uap(x, v, space=space, bounds=bounds)``; note that
    for the default ``space="tanh"`` this is NOT ``clamp(x + v)``.

    Args:
        model: callable ``(B, ...) -> (B, K)`` logits.
        x: crafting set ``(B, ...)`` of any rank, inside ``bounds``.
        y: untargeted, ``(B,)`` labels to move away from (the paper's fooling rate, Eq. 3,
            compares with the clean predictions ``model(x).argmax(1)``). Targeted, the one
            target class: an ``int`` or a ``(B,)`` tensor of identical values.
        c: penalty coefficient ``> 0`` (0.2 untargeted, 0.15 targeted in the paper).
        confidence: ``kappa >= 0`` (40 untargeted, 10 targeted in the paper).
        steps: Adam steps, ``>= 1`` (the authors: 100 epochs of ``ceil(B / batch_size)``).
        lr: Adam learning rate ``> 0`` (the authors' code: 0.006 untargeted, 0.0035 targeted).
        batch_size: mini-batch size ``>= 1`` (100 in the paper, 70 in the code).
        eps: optional radius ``> 0`` of the projection ball, in the units of ``v`` (tanh units
            for ``space="tanh"``, waveform units of ``bounds`` for ``space="wave"``, where the
            paper's [0, 1] values double on [-1, 1]).
        norm: ``2`` or ``"inf"``, the ball of ``eps``.
        fooling_rate: stop at this fooling rate, in ``(0, 1]``.
        variant: ``"paper"`` or ``"code"``.
        space: ``"tanh"`` (the paper) or ``"wave"``.
        bounds: box ``(lo, hi)``.
        generator: ``torch.Generator`` for the mini-batch order.
        true_labels: optional ``(B,)`` true labels, targeted only: samples of the target class
            are left out of the crafting and of the fooling rate.

    Returns:
        ``v`` of shape ``x.shape[1:]`` (one perturbation for the whole batch ``(B, ...)``),
        dtype and device of ``x``; apply it with :func:`apply_uap` and the same ``space``.
    """
    lo_hi, y_t, used = _labels(x, y, targeted, true_labels, bounds)
    c = check_float(c, "c", strict=True)
    confidence = check_float(confidence, "confidence")
    steps = check_steps(steps)
    lr = check_float(lr, "lr", strict=True)
    batch_size = check_steps(batch_size, "batch_size")
    eps_f = None if eps is None else check_float(eps, "eps", strict=True)
    norm = check_norm(norm)
    fooling_rate = _check_fooling_rate(fooling_rate)
    variant = _check_choice(variant, "variant", ("paper", "code"))
    space = _check_choice(space, "space", _SPACES)

    xs, ys = x.detach()[used], y_t[used]
    inputs = _to_tanh(xs, lo_hi) if space == "tanh" else xs
    n = xs.shape[0]
    eps_t = None if eps_f is None else torch.tensor([eps_f], dtype=x.dtype, device=x.device)

    def evaluate(v: Tensor) -> tuple[float, float]:
        fooled = _fooled(
            model, inputs, ys, v, targeted=targeted, space=space, bounds=lo_hi, chunk=batch_size
        )
        return fooled.float().mean().item(), _spl_db(v).item()

    v = torch.zeros_like(xs[0])
    m1, m2 = torch.zeros_like(v), torch.zeros_like(v)  # Adam moments
    best = v.clone()
    best_rate, best_spl = evaluate(v)
    t = 0
    while t < steps and best_rate < fooling_rate:
        order = _randperm(n, generator, x.device)
        for s in range(0, n, batch_size):
            idx = order[s : s + batch_size]
            grad, _ = _penalty_grad(
                model, inputs[idx], ys[idx], v, targeted=targeted, c=c, confidence=confidence,
                variant=variant, space=space, bounds=lo_hi,
            )  # fmt: skip
            t += 1
            m1 = 0.9 * m1 + 0.1 * grad
            m2 = 0.999 * m2 + 0.001 * grad * grad
            v = v - lr * (m1 / (1 - 0.9**t)) / ((m2 / (1 - 0.999**t)).sqrt() + 1e-8)
            if eps_t is not None:
                v = project(v[None], eps_t, norm)[0]
            if t == steps:
                break
        rate, spl = evaluate(v)
        if rate > best_rate or (rate == best_rate and spl < best_spl):
            best, best_rate, best_spl = v.clone(), rate, spl
    return best
