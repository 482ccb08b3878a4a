"""Expectation over Transformation (Athalye, Engstrom, Ilyas and Kwok, ICML 2018) for waveforms.

EOT makes an attack robust to a distribution ``T`` of input transformations by ascending
``E_{t ~ T}[L(model(t(x')))]`` instead of ``L(model(x'))`` (Athalye et al. 2018, Eq. 3), the
expectation estimated by Monte Carlo. Here it is a model wrapper, :class:`EOTModel`, whose
forward averages the victim's logits over ``samples`` random transforms of each input, so any
gradient attack becomes an EOT attack by receiving the wrapped model; :func:`eot` binds it.
:func:`random_playback` applies one random draw of the same transforms, to evaluate how well
an adversarial waveform survives a (simulated) playback.

The transforms act on waveforms ``(B, T)``, are differentiable with respect to the input,
keep the shape, and draw their random parameters per row from ``generator``:

* ``"gain"``: multiply by ``10^(g / 20)``, ``g ~ U(gain_db)`` dB (no clipping afterwards: the
  model sees what a microphone would, which may leave ``bounds``);
* ``"shift"``: circular time shift by ``s ~ U{-max_shift, ..., max_shift}`` samples (the
  clip wraps around: no content is lost and no silence is inserted);
* ``"noise"``: add white Gaussian noise at ``SNR ~ U(noise_snr_db)`` dB relative to the row's
  RMS (``noise = randn * rms(x) * 10^(-SNR / 20)``, the RMS taken on the transformed row and
  differentiated through);
* ``"bandpass"``: an ideal band-pass in the FFT domain (``rfft``, a 0/1 mask, ``irfft``) keeping
  the normalised frequencies ``f / f_Nyquist`` in ``[f_lo, f_hi]``, ``f_lo ~ U(band[0])``,
  ``f_hi ~ U(band[1])``; the defaults keep, at 16 kHz, from 0-100 Hz up to 4-8 kHz, a small
  loudspeaker and microphone. A brick-wall mask is linear, so exactly differentiable, but rings.

They are applied in the order given in ``transforms``; the default order, gain, shift, noise,
band-pass, follows a playback chain (loudspeaker level, delay, room noise, microphone response).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from advlib.attacks._utils import Model, check_steps

__all__ = ["EOTModel", "eot", "random_playback"]

TRANSFORMS = ("gain", "shift", "noise", "bandpass")
_RMS_FLOOR = 1e-12


def _range(value: Sequence[float], name: str, low: float = -math.inf, high: float = math.inf):
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {value!r}") from e
    if not (math.isfinite(a) and math.isfinite(b)) or a > b or a < low or b > high:
        raise ValueError(
            f"{name} must be finite with {low} <= low <= high <= {high}, got {value!r}"
        )
    return a, b


@dataclass(frozen=True)
class _Playback:
    """Validated transform settings; :meth:`__call__` applies one random draw per row."""

    transforms: tuple[str, ...]
    gain_db: tuple[float, float]
    max_shift: int
    noise_snr_db: tuple[float, float]
    band: tuple[tuple[float, float], tuple[float, float]]

    @classmethod
    def make(
        cls,
        transforms: Sequence[str],
        gain_db: Sequence[float],
        max_shift: int,
        noise_snr_db: Sequence[float],
        band: Sequence[Sequence[float]],
    ) -> _Playback:
        if isinstance(transforms, str):
            transforms = (transforms,)
        names = tuple(str(t).lower().strip() for t in transforms)
        unknown = [t for t in names if t not in TRANSFORMS]
        if unknown:
            raise ValueError(f"unknown transforms {unknown}: expected some of {TRANSFORMS}")
        if len(set(names)) != len(names):
            raise ValueError(f"transforms repeat a name: {names}")
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift must be an integer >= 0, got {max_shift!r}")
        try:
            low_cut, high_cut = band
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"band must be ((lo_min, lo_max), (hi_min, hi_max)), got {band!r}"
            ) from e
        low_cut = _range(low_cut, "band[0]", 0.0, 1.0)
        high_cut = _range(high_cut, "band[1]", 0.0, 1.0)
        if low_cut[1] >= high_cut[0]:
            raise ValueError(f"band: every low cut-off must lie below every high one, got {band!r}")
        return cls(
            names,
            _range(gain_db, "gain_db"),
            max_shift,
            _range(noise_snr_db, "noise_snr_db"),
            (low_cut, high_cut),
        )

    def __call__(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        _check_waveforms(x)
        n, t = x.shape
        dev = generator.device if generator is not None else x.device

        def uniform(lo: float, hi: float) -> Tensor:
            u = torch.rand(n, generator=generator, device=dev, dtype=x.dtype).to(x.device)
            return lo + (hi - lo) * u

        for name in self.transforms:
            if name == "gain":
                x = x * (10 ** (uniform(*self.gain_db) / 20))[:, None]
            elif name == "shift":
                s = torch.randint(
                    -self.max_shift, self.max_shift + 1, (n,), generator=generator, device=dev
                ).to(x.device)
                idx = (torch.arange(t, device=x.device)[None, :] - s[:, None]) % t
                x = x.gather(1, idx)
            elif name == "noise":
                snr = uniform(*self.noise_snr_db)
                noise = torch.randn(x.shape, generator=generator, device=dev, dtype=x.dtype)
                rms = x.pow(2).mean(1).clamp_min(_RMS_FLOOR**2).sqrt()
                x = x + noise.to(x.device) * (rms * 10 ** (-snr / 20))[:, None]
            else:  # bandpass
                f_lo, f_hi = uniform(*self.band[0]), uniform(*self.band[1])
                spec = torch.fft.rfft(x, dim=1)
                freq = torch.arange(spec.shape[1], device=x.device, dtype=x.dtype) * (2 / t)
                mask = (freq[None, :] >= f_lo[:, None]) & (freq[None, :] <= f_hi[:, None])
                x = torch.fft.irfft(spec * mask.to(x.dtype), n=t, dim=1)
        return x


def _check_waveforms(x: Tensor) -> None:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise ValueError("x must be a floating-point tensor of waveforms (B, T)")
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(
            f"the playback transforms act on waveforms (B, T); got shape {tuple(x.shape)}"
            " (rank > 2 inputs such as spectrograms are not supported)"
        )


def random_playback(
    x: Tensor,
    transforms: Sequence[str] = TRANSFORMS,
    *,
    gain_db: Sequence[float] = (-6.0, 6.0),
    max_shift: int = 160,
    noise_snr_db: Sequence[float] = (30.0, 50.0),
    band: Sequence[Sequence[float]] = ((0.0, 0.0125), (0.5, 1.0)),
    generator: torch.Generator | None = None,
) -> Tensor:
    """One random draw of the playback transforms per waveform (see the module docstring).

    For evaluation: how many adversarial (or universally perturbed) waveforms still fool the
    victim after a simulated playback. Differentiable with respect to ``x``.

    Args:
        x: waveforms ``(B, T)``; other ranks raise ``ValueError``.
        transforms: names among ``"gain"``, ``"shift"``, ``"noise"``, ``"bandpass"``, applied
            in this order.
        gain_db: range of the gain in dB.
        max_shift: largest circular shift in samples, ``>= 0`` (160 = 10 ms at 16 kHz).
        noise_snr_db: range of the SNR of the added white noise in dB.
        band: ``((lo_min, lo_max), (hi_min, hi_max))``, ranges of the low and high cut-offs as
            fractions of the Nyquist frequency, ``lo_max < hi_min``.
        generator: ``torch.Generator`` for every random draw.

    Returns:
        The transformed waveforms, shape, dtype and device of ``x``.
    """
    spec = _Playback.make(transforms, gain_db, max_shift, noise_snr_db, band)
    return spec(x, generator)


class EOTModel(nn.Module):
    """A victim averaged over random playback transforms (Athalye et al. 2018, Eq. 3).

    ``forward(x)`` repeats each waveform ``samples`` times, applies an independent random
    draw of the transforms to each copy (:func:`random_playback`) and returns the average of
    the victim's outputs over the copies, so ``grad`` of any loss of the output is the Monte
    Carlo EOT gradient:

    * ``average="logits"`` (default): the mean of the logits. For a loss that is linear in the
      logits (the CW / UAP-penalty margins between two fixed classes) its gradient is exactly
      the mean of the per-transform gradients, ``E_t[grad L(t(x))]``.
    * ``average="probs"``: ``log(mean_t softmax(model(t(x))))``, valid logits whose softmax is
      the expected class probability; cross-entropy on them is ``-log E_t[p_y(t(x))]``.

    Each forward draws new transforms from ``generator`` (a stateful Monte Carlo estimate, as
    in the paper), at a cost of ``samples`` times the victim's forward and backward.

    Args:
        model: the victim, callable ``(B, T) -> (B, K)`` logits.
        transforms: as in :func:`random_playback`.
        samples: transforms per input and forward, ``>= 1``.
        average: ``"logits"`` or ``"probs"``.
        gain_db, max_shift, noise_snr_db, band: as in :func:`random_playback`.
        generator: ``torch.Generator`` for the transforms.
    """

    def __init__(
        self,
        model: Model,
        transforms: Sequence[str] = TRANSFORMS,
        samples: int = 8,
        *,
        average: str = "logits",
        gain_db: Sequence[float] = (-6.0, 6.0),
        max_shift: int = 160,
        noise_snr_db: Sequence[float] = (30.0, 50.0),
        band: Sequence[Sequence[float]] = ((0.0, 0.0125), (0.5, 1.0)),
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if not callable(model):
            raise ValueError("model must be callable: (B, T) -> (B, K) logits")
        self.model = model
        self.playback = _Playback.make(transforms, gain_db, max_shift, noise_snr_db, band)
        self.samples = check_steps(samples, "samples")
        average = str(average).lower().strip()
        if average not in ("logits", "probs"):
            raise ValueError(f"unknown average {average!r}: expected 'logits' or 'probs'")
        self.average = average
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        _check_waveforms(x)
        n = x.shape[0]
        copies = self.playback(x.repeat(self.samples, 1), self.generator)
        out = self.model(copies)
        out = out.view(self.samples, n, *out.shape[1:])
        if self.average == "logits":
            return out.mean(0)
        return torch.logsumexp(out.log_softmax(-1), dim=0) - math.log(self.samples)

    def extra_repr(self) -> str:
        p = self.playback
        return (
            f"transforms={p.transforms}, samples={self.samples}, average={self.average!r}, "
            f"gain_db={p.gain_db}, max_shift={p.max_shift}, noise_snr_db={p.noise_snr_db}, "
            f"band={p.band}"
        )


def eot(
    attack: Callable[..., Tensor],
    *,
    transforms: Sequence[str] = TRANSFORMS,
    samples: int = 8,
    average: str = "logits",
    gain_db: Sequence[float] = (-6.0, 6.0),
    max_shift: int = 160,
    noise_snr_db: Sequence[float] = (30.0, 50.0),
    band: Sequence[Sequence[float]] = ((0.0, 0.0125), (0.5, 1.0)),
    generator: torch.Generator | None = None,
) -> Callable[..., Tensor]:
    """Turn a gradient attack into its Expectation-over-Transformation version.

    ``eot(pgd, samples=8)(model, x, y, eps=0.01)`` is ``pgd(EOTModel(model, ...), x, y,
    eps=0.01)``: the attack sees the victim averaged over ``samples`` random playback
    transforms per forward (see :class:`EOTModel`), so its gradients are Monte Carlo estimates
    of the expected gradient. Works with any attack taking ``(model, x, y, **kwargs)``
    (``pgd``, ``bim``, ``cw_l2``, ``ddn``, ``uap_penalty``, ...) on waveforms ``(B, T)``. The
    attack's own stopping and "best iterate" decisions then also use the averaged output.

    Args:
        attack: callable ``attack(model, x, y, **kwargs) -> Tensor``.
        transforms, samples, average, gain_db, max_shift, noise_snr_db, band, generator: as
            in :class:`EOTModel` (``generator`` draws the transforms, independently of the
            attack's own ``generator`` keyword).

    Returns:
        A callable with the attack's signature ``(model, x, y, **kwargs)``, returning what the
        attack returns (``x_adv`` of shape ``(B, ...)`` = ``(B, T)`` for per-sample attacks).
    """
    if not callable(attack):
        raise ValueError("attack must be callable: attack(model, x, y, **kwargs)")
    settings = dict(
        transforms=transforms, samples=samples, average=average, gain_db=gain_db,
        max_shift=max_shift, noise_snr_db=noise_snr_db, band=band, generator=generator,
    )  # fmt: skip
    EOTModel(lambda z: z, **settings)  # validate now, not at the first call

    @functools.wraps(attack)
    def eot_attack(model: Model, x: Tensor, y: Tensor, **kwargs) -> Tensor:
        return attack(EOTModel(model, **settings), x, y, **kwargs)

    name = getattr(attack, "__name__", "attack")
    eot_attack.__name__ = eot_attack.__qualname__ = f"eot_{name}"
    eot_attack.__doc__ = (
        f"``{name}`` on the victim averaged over random playback transforms (EOT, see"
        f" ``advlib.attacks.eot``); same arguments and return.\n\n{attack.__doc__ or ''}"
    )
    return eot_attack
