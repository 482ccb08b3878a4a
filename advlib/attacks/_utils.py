"""Shared pieces of the attacks: input checks, per-sample views, projections, losses, counting.

Every helper works per sample for inputs of any rank ``(B, ...)`` (``(B, T)`` waveforms,
``(B, C, H, W)`` spectrograms) and keeps the dtype and device of its inputs. Nothing here
imports the rest of ``advlib``: an attack sees its victim only as a callable from inputs to
logits.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "PassCounter",
    "attack_objective",
    "batch_view",
    "check_bounds",
    "check_float",
    "check_inputs",
    "check_labels",
    "check_norm",
    "check_per_sample",
    "check_steps",
    "check_targets",
    "clamp_bounds",
    "is_adversarial",
    "l2_norm",
    "margin",
    "model_device_of",
    "normalize_l2",
    "on_model_device",
    "project",
    "project_l2",
    "project_linf",
    "rand",
    "randn",
    "random_in_ball",
]

Model = Callable[[Tensor], Tensor]
Bounds = tuple[float, float]
_Attack = TypeVar("_Attack", bound=Callable[..., Tensor])


# --------------------------------------------------------------------------- shapes


def batch_view(t: Tensor, like: Tensor) -> Tensor:
    """A ``(B,)`` tensor viewed as ``(B, 1, ..., 1)`` so that it broadcasts against ``like``."""
    return t.view(-1, *[1] * (like.ndim - 1))


def l2_norm(t: Tensor) -> Tensor:
    """Per-sample L2 norm of a ``(B, ...)`` tensor: ``(B,)``."""
    return t.flatten(1).norm(p=2, dim=1)


def normalize_l2(t: Tensor, tiny: float = 1e-12) -> Tensor:
    """``t / ||t||_2`` per sample; a zero sample stays zero (no NaN)."""
    return t / batch_view(l2_norm(t).clamp_min(tiny), t)


# --------------------------------------------------------------------------- checks


def check_bounds(bounds: Bounds) -> Bounds:
    """``(lo, hi)`` as two finite floats with ``lo < hi``."""
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError) as e:
        raise ValueError(f"bounds must be a pair (lo, hi) of numbers, got {bounds!r}") from e
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise ValueError(f"bounds must be finite with lo < hi, got {bounds!r}")
    return lo, hi


def check_inputs(x: Tensor, y: Tensor, bounds: Bounds) -> Bounds:
    """Check a batch: ``x`` floating ``(B, ...)`` with ``B >= 1`` and rank >= 2, finite, inside
    ``bounds``; ``y`` integer ``(B,)`` on the same device. Returns the checked bounds."""
    lo, hi = check_bounds(bounds)
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise ValueError(f"x must be a floating-point tensor, got {type(x).__name__}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty batch (B, ...) of rank >= 2, got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    if x.min().item() < lo or x.max().item() > hi:
        raise ValueError(
            f"x lies outside bounds {(lo, hi)}: min {x.min().item():.6g}, max {x.max().item():.6g}"
        )
    if not isinstance(y, Tensor) or y.dtype not in (torch.int64, torch.int32, torch.int16):
        raise ValueError("y must be an integer tensor of labels (targets when targeted=True)")
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) to match x, got {tuple(y.shape)}")
    if y.device != x.device:
        raise ValueError(f"x and y are on different devices: {x.device} vs {y.device}")
    if (y < 0).any():
        raise ValueError("y contains negative labels")
    return lo, hi


def check_labels(y: Tensor, n_classes: int) -> None:
    """Labels must index the model's logits."""
    if (y >= n_classes).any():
        raise ValueError(f"y contains labels >= the number of classes ({n_classes})")


def check_targets(targets: Tensor, true_labels: Tensor | None) -> None:
    """A targeted attack on its own true label is meaningless: raise if any target equals it."""
    if true_labels is None:
        return
    if not isinstance(true_labels, Tensor) or true_labels.shape != targets.shape:
        raise ValueError(
            f"true_labels must be a tensor of shape {tuple(targets.shape)} like the targets"
        )
    same = true_labels.to(targets.device) == targets
    if same.any():
        idx = same.nonzero().flatten()[:5].tolist()
        raise ValueError(f"target equals the true label for samples {idx} (first five shown)")


def check_steps(steps: int, name: str = "steps") -> int:
    """A positive integer count (``bool`` is refused)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {steps!r}")
    return steps


def check_float(value: float, name: str, *, low: float = 0.0, strict: bool = False) -> float:
    """A finite float ``>= low`` (``> low`` when ``strict``)."""
    try:
        v = float(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a number, got {value!r}") from e
    if not math.isfinite(v) or v < low or (strict and v == low):
        rel = ">" if strict else ">="
        raise ValueError(f"{name} must be finite and {rel} {low}, got {value!r}")
    return v


def check_per_sample(
    value: float | Tensor, x: Tensor, name: str, *, strict: bool = False
) -> Tensor:
    """A budget given as a float or a ``(B,)`` (or scalar) tensor, returned as a ``(B,)`` tensor
    with the dtype and device of ``x``. NaN, infinite or negative values (zero too when
    ``strict``) raise ``ValueError``."""
    n = x.shape[0]
    if isinstance(value, Tensor):
        if value.ndim == 0:
            value = value.expand(n)
        if value.shape != (n,):
            raise ValueError(f"{name} must be a float or a ({n},) tensor, got {tuple(value.shape)}")
        t = value.detach().to(device=x.device, dtype=x.dtype)
    else:
        try:
            t = torch.full((n,), float(value), device=x.device, dtype=x.dtype)
        except RuntimeError as e:  # a finite float64 beyond the range of x's dtype
            raise ValueError(f"{name} = {value!r} does not fit {x.dtype}") from e
        except (TypeError, ValueError) as e:
            raise ValueError(f"{name} must be a float or a ({n},) tensor, got {value!r}") from e
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    if (t < 0).any() or (strict and (t == 0).any()):
        rel = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be {rel}, got min {t.min().item():.6g}")
    return t


def check_norm(norm: str | float) -> str | int:
    """``"inf"`` (also ``float('inf')``, ``"linf"``) or ``2`` (also ``"2"``, ``"l2"``)."""
    key = str(norm).lower().strip()
    if key in ("inf", "linf", "l_inf"):
        return "inf"
    if key in ("2", "2.0", "l2"):
        return 2
    raise ValueError(f"unknown norm {norm!r}: expected 'inf' or 2")


# --------------------------------------------------------------------------- projections


def clamp_bounds(x: Tensor, bounds: Bounds) -> Tensor:
    """Clamp to the box ``bounds`` (the last operation of every attack)."""
    return x.clamp(min=bounds[0], max=bounds[1])


def project_linf(delta: Tensor, eps: Tensor) -> Tensor:
    """Project each sample of ``delta`` onto its L-inf ball of radius ``eps`` ``(B,)``."""
    e = batch_view(eps, delta)
    return torch.maximum(torch.minimum(delta, e), -e)


def project_l2(delta: Tensor, eps: Tensor) -> Tensor:
    """Project each sample of ``delta`` onto its L2 ball of radius ``eps`` ``(B,)``."""
    norms = l2_norm(delta)
    factor = torch.where(norms > eps, eps / norms.clamp_min(1e-30), torch.ones_like(norms))
    return delta * batch_view(factor, delta)


def project(delta: Tensor, eps: Tensor, norm: str | int) -> Tensor:
    """Projection onto the ``norm`` ball (``"inf"`` or ``2``)."""
    return project_linf(delta, eps) if norm == "inf" else project_l2(delta, eps)


def rand(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None) -> Tensor:
    """Uniform ``[0, 1)`` draws of ``shape`` with ``like``'s dtype and device.

    Drawn on the generator's device (``like``'s when ``generator`` is None), then moved, so a
    CPU generator seeds an attack on any device reproducibly."""
    dev = generator.device if generator is not None else like.device
    return torch.rand(shape, generator=generator, device=dev, dtype=like.dtype).to(like.device)


def randn(shape: tuple[int, ...], like: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard normal draws, placed like :func:`rand`'s."""
    dev = generator.device if generator is not None else like.device
    return torch.randn(shape, generator=generator, device=dev, dtype=like.dtype).to(like.device)


def random_in_ball(
    x: Tensor, eps: Tensor, norm: str | int, generator: torch.Generator | None
) -> Tensor:
    """A random perturbation uniform in each sample's ``norm`` ball (shape and dtype of ``x``).

    Drawn on the generator's device (CPU when ``generator`` is None and ``x`` is on CPU), then
    moved to ``x``'s device, so a CPU generator seeds a CUDA attack reproducibly."""
    if norm == "inf":
        return (2 * rand(x.shape, x, generator) - 1) * batch_view(eps, x)
    d = x[0].numel()
    g = randn(x.shape, x, generator)
    r = rand((x.shape[0],), x, generator)
    radius = eps * r.pow(1.0 / d)
    return normalize_l2(g) * batch_view(radius, x)


# --------------------------------------------------------------------------- losses


def margin(logits: Tensor, y: Tensor, targeted: bool) -> Tensor:
    """Per-sample logit margin ``(B,)``, positive while the attack has not succeeded.

    Untargeted: ``z_y - max_{j != y} z_j``. Targeted (``y`` = targets): ``max_{j != t} z_j - z_t``.
    """
    z_y = logits.gather(1, y[:, None]).squeeze(1)
    others = logits.scatter(1, y[:, None], float("-inf")).amax(dim=1)
    return others - z_y if targeted else z_y - others


def attack_objective(logits: Tensor, y: Tensor, targeted: bool, loss: str = "ce") -> Tensor:
    """Per-sample objective ``(B,)`` that an attack *ascends* (``reduction='none'``).

    ``"ce"``: cross-entropy to the label (untargeted) or minus cross-entropy to the target
    (targeted). ``"margin"``: minus :func:`margin`. Sum it before differentiating, so each
    sample's gradient is not scaled by ``1/B``."""
    if loss == "ce":
        ce = F.cross_entropy(logits, y, reduction="none")
        return -ce if targeted else ce
    if loss == "margin":
        return -margin(logits, y, targeted)
    raise ValueError(f"unknown loss {loss!r}: expected 'ce' or 'margin'")


def is_adversarial(logits: Tensor, y: Tensor, targeted: bool) -> Tensor:
    """``(B,)`` bool: prediction equals the target (targeted) or differs from the label."""
    pred = logits.argmax(dim=1)
    return pred == y if targeted else pred != y


# --------------------------------------------------------------------------- counting


class PassCounter(nn.Module):
    """Wrap a model and count its passes.

    ``forward_calls`` / ``forward_samples``: calls and samples forwarded;
    ``backward_calls`` / ``backward_samples``: gradients that reached the output (counted by a
    hook on the output, so ``torch.autograd.grad`` and ``.backward()`` both count; a forward
    under ``torch.no_grad()`` adds no backward). :meth:`reset` zeroes them.
    """

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model
        self.reset()

    def reset(self) -> None:
        self.forward_calls = 0
        self.forward_samples = 0
        self.backward_calls = 0
        self.backward_samples = 0

    def _count_backward(self, n: int) -> None:
        self.backward_calls += 1
        self.backward_samples += n

    def forward(self, x: Tensor) -> Tensor:
        out = self.model(x)
        n = int(x.shape[0])
        self.forward_calls += 1
        self.forward_samples += n
        if out.requires_grad:
            out.register_hook(lambda g: self._count_backward(n))
        return out

    def extra_repr(self) -> str:
        return (
            f"forward_calls={self.forward_calls}, forward_samples={self.forward_samples}, "
            f"backward_calls={self.backward_calls}, backward_samples={self.backward_samples}"
        )


# --------------------------------------------------------------------------- devices


def model_device_of(model: Model) -> torch.device | None:
    """The device of ``model``'s first parameter or buffer (through any wrapper module, such
    as :class:`PassCounter` or ``advlib.device.OnDevice``); ``None`` for a plain callable or a
    module without tensors, whose device is unknown."""
    if isinstance(model, nn.Module):
        for t in itertools.chain(model.parameters(), model.buffers()):
            return t.device
    return None


def _move(t: Any, device: torch.device) -> Any:
    """``t`` on ``device`` if it is a tensor, else ``t`` itself."""
    return t.to(device) if isinstance(t, Tensor) else t


def on_model_device(attack: _Attack) -> _Attack:
    """Run ``attack(model, x, y, **settings)`` where the model lives, for callers anywhere.

    When ``model``'s parameters are on another device than ``x`` (a victim on a GPU, maybe
    wrapped in ``advlib.device.OnDevice`` so that it takes CPU tensors), ``x``, ``y`` and every
    tensor setting (per-sample budgets, ``true_labels``) are moved to the model's device once,
    every step of the attack runs there (the wrapper then copies nothing), and the result comes
    back to ``x``'s device once. On one device nothing is moved: the call is the attack itself.
    Generators stay where they are (random draws are made on the generator's device and
    moved, see :func:`rand`)."""

    @functools.wraps(attack)
    def run(model: Model, x: Tensor, y: Tensor, *args: Any, **settings: Any) -> Tensor:
        device = model_device_of(model)
        if device is None or not isinstance(x, Tensor) or x.device == device:
            return attack(model, x, y, *args, **settings)
        moved = {k: _move(v, device) for k, v in settings.items()}
        out = attack(model, _move(x, device), _move(y, device), *args, **moved)
        return _move(out, x.device)

    return run  # type: ignore[return-value]
