"""Differentiable audio front-ends: waveform in, filter-bank output or time-frequency image out.

Every victim that consumes a representation computes it inside ``forward`` with these modules, so
waveform attacks get exact gradients (study spec, section 3). Conventions (docs/style.md,
"Differentiable front-ends"):

* thin ``nn.Module`` s; every constant (filters, windows, filter banks, DCT matrix) is a
  ``register_buffer`` so it follows ``.to(device)`` / ``.double()`` and is never trained (the
  SincNet cut-offs are the only parameters, and the gammatone weights when ``trainable=True``);
* waveforms are float tensors in [-1, 1]; spectral front-ends map ``(..., time)`` to
  ``(..., freq, frames)``; the two filter banks (conv layers) map ``(N, T)`` or ``(N, 1, T)`` to
  ``(N, channels, T')`` (and ``(T,)`` to ``(channels, T')``);
* bad settings raise ``ValueError`` in ``__init__``; an input too short for the settings raises
  ``ValueError`` in ``forward``;
* buffers are built in ``torch.get_default_dtype()``; ``.double()`` casts float32-rounded
  constants, so build a module under ``torch.set_default_dtype(torch.float64)`` when float64
  results must be exact to rounding (as the float64 reference tests do);
* every floor that can change a gradient is stated in the class docstring. None of the modules
  clamps its output (no ``top_db``); the logs use an *additive* floor, ``log(v + eps)``, which keeps
  gradients finite and non-zero. The one place where gradients vanish is exact digital silence:
  a power spectrum ``|X|^2`` has zero derivative at ``X = 0`` (and ``|X|`` uses the subgradient 0
  there), so an all-zero frame passes no first-order gradient through any spectral module.

Modules and what they reproduce (tolerances are those the tests in ``tests/test_frontends.py``
check):

=====================  ======================================================================
``GammatoneBank``      4th-order gammatone bank (Patterson et al. 1992; ERB of Glasberg & Moore
                       1990), frozen conv layer of "1D CNN Gamma" (UAP paper). Filter peaks within
                       2 % of their centre frequency (0.2 % for 150 Hz - 7 kHz).
``SincConv``           SincNet's band-pass layer (Ravanelli & Bengio 2018); matches the reference
                       code's filters to 1e-10 in float64 (``window="reference"``).
``STFTLogMagnitude``   log |STFT| (AT paper, Eq. 10); matches ``librosa.stft`` to 1e-5 x max|S|.
``DWTScalogram``       multi-level orthogonal DWT (Mallat 1989) as strided convolutions; matches
                       ``pywt.wavedec(mode="periodization")`` to 1e-5 (float32), 1e-12 (float64).
``MorletCWT``          continuous wavelet transform with complex Morlet wavelets (the AT paper's
                       "DWT" images); equals the direct sum of its definition to 1e-10 x
                       max|W| (float64), ``pywt.cwt(.., "cmor1.5-1.0")`` in magnitude to
                       2e-2 x max|W| (scales >= 13 samples); a tone peaks at its own scale.
``Chroma``             ``librosa.feature.chroma_stft`` (tuning fixed to 0) to 1e-5.
``Tonnetz``            ``librosa.feature.tonnetz`` (Harte, Sandler & Gasser 2006) on that chroma,
                       to 1e-5.
``MFCC``               python_speech_features-style MFCC of the GAN paper's WideResNet victim
                       (Davis & Mermelstein 1980; Wang et al. 2020); matches a numpy
                       re-implementation to 1e-9 in float64 (negligible floor) and 1e-4 in
                       float32 (default floor) on a non-silent signal.
=====================  ======================================================================
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "MFCC",
    "Chroma",
    "DWTScalogram",
    "GammatoneBank",
    "MorletCWT",
    "STFTLogMagnitude",
    "SincConv",
    "Tonnetz",
    "erb_space",
    "erb_width",
]


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def _check_waveform(x: torch.Tensor) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("expected a floating-point waveform tensor")
    if x.ndim < 1:
        raise ValueError("expected a waveform with a time axis, got a 0-d tensor")


def _flatten_leading(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``(..., T)`` -> ``(B, T)`` plus the leading shape to restore."""
    _check_waveform(x)
    lead = tuple(x.shape[:-1])
    return x.reshape(-1, x.shape[-1]), lead


def _conv_input(x: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """``(T,)``, ``(N, T)`` or ``(N, 1, T)`` -> ``(N, 1, T)``; flag: input was 1-D."""
    _check_waveform(x)
    if x.ndim == 1:
        return x[None, None], True
    if x.ndim == 2:
        return x[:, None], False
    if x.ndim == 3 and x.shape[1] == 1:
        return x, False
    raise ValueError(
        f"expected a waveform of shape (T,), (N, T) or (N, 1, T), got {tuple(x.shape)}"
    )


def _window(name: str, length: int, *, periodic: bool) -> torch.Tensor:
    """Analysis window by name (float64). ``periodic`` as scipy's ``fftbins``."""
    if name in ("rect", "boxcar", "ones"):
        return torch.ones(length, dtype=torch.float64)
    if name in ("hann", "hanning"):
        return torch.hann_window(length, periodic=periodic, dtype=torch.float64)
    if name == "hamming":
        return torch.hamming_window(length, periodic=periodic, dtype=torch.float64)
    raise ValueError(f"unknown window {name!r}; use 'hann', 'hamming' or 'rect'")


def _positive_int(name: str, value: int) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _normalize_frames(s: torch.Tensor, norm: float | None, dim: int = -2) -> torch.Tensor:
    """``librosa.util.normalize(S, norm, axis=dim)`` for non-negative ``s`` (``fill=None``).

    Frames whose norm is below the smallest normal float of the dtype are left unnormalised
    (divided by 1), as librosa does: exact silence gives zeros, not NaN.
    """
    if norm is None:
        return s
    if norm == math.inf:
        length = s.amax(dim=dim, keepdim=True)
    else:
        length = (s**norm).sum(dim=dim, keepdim=True) ** (1.0 / norm)
    tiny = torch.finfo(s.dtype).tiny
    length = torch.where(length < tiny, torch.ones_like(length), length)
    return s / length


# --------------------------------------------------------------------------------------------
# gammatone
# --------------------------------------------------------------------------------------------


def erb_width(f_hz: np.ndarray | float) -> np.ndarray:
    """Equivalent rectangular bandwidth in Hz, ``24.7 (4.37 f / 1000 + 1)``.

    Glasberg & Moore (1990), "Derivation of auditory filter shapes from notched-noise data"."""
    return 24.7 * (4.37 * np.asarray(f_hz, dtype=np.float64) / 1000.0 + 1.0)


def _erb_rate(f_hz: np.ndarray | float) -> np.ndarray:
    """ERB-rate (number of ERBs below ``f``), ``21.4 log10(4.37 f / 1000 + 1)``."""
    return 21.4 * np.log10(4.37 * np.asarray(f_hz, dtype=np.float64) / 1000.0 + 1.0)


def erb_space(f_low: float, f_high: float, n: int) -> np.ndarray:
    """``n`` centre frequencies from ``f_low`` to ``f_high`` (both included), equally spaced on
    the ERB-rate scale of Glasberg & Moore (1990); increasing."""
    e = np.linspace(_erb_rate(f_low), _erb_rate(f_high), n)
    return (10.0 ** (e / 21.4) - 1.0) * 1000.0 / 4.37


class GammatoneBank(nn.Module):
    """Fixed gammatone filter bank as a stride-1 ``Conv1d`` ("1D CNN Gamma", UAP paper).

    Impulse response of channel ``i`` (Patterson et al. 1992, "Complex sounds and auditory
    images"), sampled at ``t = k / sample_rate``, ``k = 0 .. kernel_size - 1``::

        g_i(t) = t^(order-1) exp(-2 pi b ERB(fc_i) t) cos(2 pi fc_i t),  b = 1.019,
        ERB(f) = 24.7 (4.37 f / 1000 + 1)                   (Glasberg & Moore 1990),

    with ``fc_i`` equally spaced on the ERB-rate scale from ``f_low`` to ``f_high`` (both ends
    included). ``norm="fc_gain"`` (default) scales each filter to unit gain at its own ``fc``,
    ``|sum_k g_i[k] exp(-2 pi j fc_i k / sr)| = 1``; ``norm="l2"`` to unit energy. The peak of
    ``|G_i(f)|`` lies within 2 % of ``fc_i`` for the default bank (within 0.2 % for fc in
    150 Hz - 7 kHz; the only larger offsets are the few filters whose mirror image across
    Nyquist overlaps them, and the 100 Hz filter, which the 512-tap kernel truncates at 20 % of
    its envelope peak). With ``fc_gain`` the peak gain is 1 within 0.02 % for fc in
    150 Hz - 7 kHz and at most 1.07 near Nyquist.

    ``forward`` computes the true convolution (causal filtering, "valid" part):
    ``y_i[n] = sum_k g_i[k] x[n + K - 1 - k]``, i.e. ``weight`` holds the *time-reversed* impulse
    responses (``impulse_responses()`` gives them forwards). Shapes: ``(N, T)`` or ``(N, 1, T)``
    -> ``(N, n_filters, T - kernel_size + 1)``; ``(T,)`` -> ``(n_filters, T - kernel_size + 1)``.

    ``weight`` (shape ``(n_filters, 1, kernel_size)``) is a buffer unless ``trainable=True``,
    in which case it is an ``nn.Parameter`` initialised with the gammatones. The map is linear,
    so the gradient w.r.t. the waveform is exact everywhere.
    """

    def __init__(
        self,
        n_filters: int = 64,
        kernel_size: int = 512,
        sample_rate: int = 16000,
        f_low: float = 100.0,
        f_high: float = 8000.0,
        order: int = 4,
        trainable: bool = False,
        norm: str = "fc_gain",
        bandwidth_factor: float = 1.019,
    ) -> None:
        super().__init__()
        n_filters = _positive_int("n_filters", n_filters)
        kernel_size = _positive_int("kernel_size", kernel_size)
        order = _positive_int("order", order)
        if kernel_size < 2:
            raise ValueError(f"kernel_size must be at least 2, got {kernel_size}")
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        nyquist = sample_rate / 2.0
        if not 0.0 < f_low < f_high:
            raise ValueError(f"need 0 < f_low < f_high, got f_low={f_low}, f_high={f_high}")
        if f_high > nyquist:
            raise ValueError(f"f_high={f_high} Hz is above the Nyquist frequency {nyquist} Hz")
        if norm not in ("fc_gain", "l2"):
            raise ValueError(f"norm must be 'fc_gain' or 'l2', got {norm!r}")
        if bandwidth_factor <= 0:
            raise ValueError(f"bandwidth_factor must be positive, got {bandwidth_factor}")
        self.n_filters = n_filters
        self.kernel_size = kernel_size
        self.sample_rate = sample_rate
        self.f_low, self.f_high = float(f_low), float(f_high)
        self.order = order
        self.norm = norm

        fc = erb_space(f_low, f_high, n_filters)
        t = np.arange(kernel_size) / sample_rate
        rate = 2.0 * np.pi * bandwidth_factor * erb_width(fc)[:, None]
        ir = t ** (order - 1) * np.exp(-rate * t) * np.cos(2.0 * np.pi * fc[:, None] * t)
        if norm == "fc_gain":
            phase = np.exp(-2j * np.pi * fc[:, None] * t)
            scale = np.abs((ir * phase).sum(axis=1, keepdims=True))
        else:
            scale = np.sqrt((ir**2).sum(axis=1, keepdims=True))
        if np.any(scale <= 0) or not np.all(np.isfinite(scale)):
            raise ValueError("degenerate gammatone filter; check kernel_size and frequencies")
        ir = ir / scale
        weight = torch.tensor(ir[:, None, ::-1].copy(), dtype=torch.get_default_dtype())
        if trainable:
            self.weight = nn.Parameter(weight)
        else:
            self.register_buffer("weight", weight)
        self.register_buffer("center_freqs", torch.tensor(fc, dtype=torch.get_default_dtype()))

    def impulse_responses(self) -> torch.Tensor:
        """The gammatone impulse responses ``g_i[k]``, shape ``(n_filters, kernel_size)``."""
        return self.weight[:, 0].flip(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x3, squeeze = _conv_input(x)
        if x3.shape[-1] < self.kernel_size:
            raise ValueError(f"input of {x3.shape[-1]} samples is shorter than the kernel")
        y = F.conv1d(x3, self.weight)
        return y[0] if squeeze else y

    def extra_repr(self) -> str:
        return (
            f"n_filters={self.n_filters}, kernel_size={self.kernel_size}, "
            f"sample_rate={self.sample_rate}, f_low={self.f_low}, f_high={self.f_high}, "
            f"order={self.order}, norm={self.norm!r}"
        )


# --------------------------------------------------------------------------------------------
# SincNet
# --------------------------------------------------------------------------------------------


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


class SincConv(nn.Module):
    """SincNet band-pass convolution (Ravanelli & Bengio 2018, "Speaker recognition from raw
    waveform with SincNet"), as ``SincConv_fast`` of the reference code (mravanelli/SincNet).

    Each filter is a windowed difference of two sinc low-passes, with only its low cut-off and
    band width learnt (``low_hz_``, ``band_hz_``, shape ``(out_channels, 1)``)::

        f1 = min_low_hz + |low_hz_|,  f2 = clamp(f1 + min_band_hz + |band_hz_|, min_low_hz, sr/2)
        h[n] = (sin(2 pi f2 n / sr) - sin(2 pi f1 n / sr)) / (pi n / sr) * w[n] / (2 (f2 - f1)),

    ``n = -(K-1)/2 .. (K-1)/2`` (centre tap 1). Initialisation as the reference: ``out_channels +
    1`` points equally spaced on the mel scale from 30 Hz to ``sr/2 - (min_low_hz + min_band_hz)``
    give the low cut-offs and the band widths. The clamp of ``f2`` at Nyquist zeroes the gradient
    w.r.t. the cut-offs of a filter pushed past Nyquist (not the gradient w.r.t. the waveform,
    which is linear and exact).

    ``window="hamming"`` (default) is the symmetric Hamming window of the paper,
    ``0.54 - 0.46 cos(2 pi m / (K - 1))``; ``window="reference"`` reproduces the reference code's
    half window ``0.54 - 0.46 cos(2 pi linspace(0, K/2 - 1, K // 2) / K)`` mirrored (it differs
    from the symmetric window by < 3e-5 for K = 251). Both are buffers.

    The kernel must be odd (the reference silently adds one tap to an even size; we raise).
    Shapes: ``(N, T)`` or ``(N, 1, T)`` -> ``(N, out_channels, (T + 2 padding - K) // stride + 1)``.
    """

    def __init__(
        self,
        out_channels: int = 80,
        kernel_size: int = 251,
        sample_rate: int = 16000,
        min_low_hz: float = 50.0,
        min_band_hz: float = 50.0,
        stride: int = 1,
        padding: int = 0,
        window: str = "hamming",
    ) -> None:
        super().__init__()
        out_channels = _positive_int("out_channels", out_channels)
        kernel_size = _positive_int("kernel_size", kernel_size)
        stride = _positive_int("stride", stride)
        if kernel_size % 2 == 0 or kernel_size < 3:
            raise ValueError(f"kernel_size must be odd and >= 3, got {kernel_size}")
        if padding < 0:
            raise ValueError(f"padding must be non-negative, got {padding}")
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if min_low_hz < 0 or min_band_hz < 0:
            raise ValueError("min_low_hz and min_band_hz must be non-negative")
        high_hz = sample_rate / 2.0 - (min_low_hz + min_band_hz)
        if high_hz <= 30.0:
            raise ValueError(
                f"min_low_hz + min_band_hz = {min_low_hz + min_band_hz} Hz leaves no band "
                f"below the Nyquist frequency {sample_rate / 2} Hz"
            )
        if window not in ("hamming", "reference"):
            raise ValueError(f"window must be 'hamming' or 'reference', got {window!r}")
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.sample_rate = sample_rate
        self.min_low_hz = float(min_low_hz)
        self.min_band_hz = float(min_band_hz)
        self.stride = stride
        self.padding = int(padding)
        self.window = window

        hz = _mel_to_hz(np.linspace(_hz_to_mel(30.0), _hz_to_mel(high_hz), out_channels + 1))
        dtype = torch.get_default_dtype()
        self.low_hz_ = nn.Parameter(torch.tensor(hz[:-1], dtype=dtype).view(-1, 1))
        self.band_hz_ = nn.Parameter(torch.tensor(np.diff(hz), dtype=dtype).view(-1, 1))

        half = kernel_size // 2
        if window == "hamming":
            w_left = np.hamming(kernel_size)[:half]
        else:
            n_lin = np.linspace(0.0, kernel_size / 2 - 1, half)
            w_left = 0.54 - 0.46 * np.cos(2.0 * np.pi * n_lin / kernel_size)
        self.register_buffer("window_", torch.tensor(w_left, dtype=dtype).view(1, -1))
        n = (kernel_size - 1) / 2.0
        n_ = 2.0 * np.pi * np.arange(-n, 0.0) / sample_rate
        self.register_buffer("n_", torch.tensor(n_, dtype=dtype).view(1, -1))

    def cutoffs_hz(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Current ``(low, high)`` cut-offs in Hz, each of shape ``(out_channels,)``."""
        low = self.min_low_hz + self.low_hz_.abs()
        high = torch.clamp(
            low + self.min_band_hz + self.band_hz_.abs(), self.min_low_hz, self.sample_rate / 2
        )
        return low[:, 0], high[:, 0]

    def filters(self) -> torch.Tensor:
        """The band-pass kernels, shape ``(out_channels, 1, kernel_size)`` (differentiable)."""
        low, high = self.cutoffs_hz()
        low, high = low[:, None], high[:, None]
        band = high - low
        left = (torch.sin(high * self.n_) - torch.sin(low * self.n_)) / (self.n_ / 2) * self.window_
        centre = 2 * band
        bp = torch.cat([left, centre, left.flip(-1)], dim=1) / (2 * band)
        return bp.view(self.out_channels, 1, self.kernel_size)

    @torch.no_grad()
    def band_responses(self) -> torch.Tensor:
        """Detached copy of the filters for plotting, shape ``(out_channels, kernel_size)``."""
        return self.filters()[:, 0].detach().clone()

    @torch.no_grad()
    def frequency_responses(self, n_fft: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
        """``(freqs_hz (n_fft//2+1,), |H| (out_channels, n_fft//2+1))`` for plotting."""
        n_fft = _positive_int("n_fft", n_fft)
        mag = torch.fft.rfft(self.band_responses(), n=max(n_fft, self.kernel_size)).abs()
        freqs = torch.fft.rfftfreq(max(n_fft, self.kernel_size), d=1.0 / self.sample_rate)
        return freqs, mag

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x3, squeeze = _conv_input(x)
        if x3.shape[-1] + 2 * self.padding < self.kernel_size:
            raise ValueError(f"input of {x3.shape[-1]} samples is shorter than the kernel")
        y = F.conv1d(x3, self.filters(), stride=self.stride, padding=self.padding)
        return y[0] if squeeze else y

    def extra_repr(self) -> str:
        return (
            f"out_channels={self.out_channels}, kernel_size={self.kernel_size}, "
            f"sample_rate={self.sample_rate}, min_low_hz={self.min_low_hz}, "
            f"min_band_hz={self.min_band_hz}, stride={self.stride}, window={self.window!r}"
        )


# --------------------------------------------------------------------------------------------
# STFT
# --------------------------------------------------------------------------------------------


class _STFT(nn.Module):
    """Complex STFT as ``librosa.stft`` computes it (window buffer, centred frames)."""

    def __init__(
        self,
        n_fft: int,
        hop_length: int | None,
        win_length: int | None,
        window: str,
        center: bool,
        pad_mode: str,
    ) -> None:
        super().__init__()
        n_fft = _positive_int("n_fft", n_fft)
        hop_length = n_fft // 4 if hop_length is None else hop_length
        hop_length = _positive_int("hop_length", hop_length)
        win_length = n_fft if win_length is None else _positive_int("win_length", win_length)
        if win_length > n_fft:
            raise ValueError(f"win_length={win_length} exceeds n_fft={n_fft}")
        if pad_mode not in ("constant", "reflect"):
            raise ValueError(f"pad_mode must be 'constant' or 'reflect', got {pad_mode!r}")
        self.n_fft, self.hop_length, self.win_length = n_fft, hop_length, win_length
        self.center, self.pad_mode = bool(center), pad_mode
        # librosa / scipy ``get_window(..., fftbins=True)``: periodic windows.
        win = _window(window, win_length, periodic=True).to(torch.get_default_dtype())
        self.register_buffer("window", win)

    def stft(self, x: torch.Tensor) -> torch.Tensor:
        """``(..., T)`` -> complex ``(..., n_fft // 2 + 1, frames)``."""
        x2, lead = _flatten_leading(x)
        if self.center and self.pad_mode == "reflect" and x2.shape[-1] <= self.n_fft // 2:
            raise ValueError("reflect padding needs more than n_fft // 2 samples")
        if not self.center and x2.shape[-1] < self.n_fft:
            raise ValueError(f"input of {x2.shape[-1]} samples is shorter than n_fft")
        s = torch.stft(
            x2,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=self.center,
            pad_mode=self.pad_mode,
            normalized=False,
            onesided=True,
            return_complex=True,
        )
        return s.reshape(*lead, *s.shape[-2:])

    def power(self, x: torch.Tensor) -> torch.Tensor:
        """``|STFT|^2`` as ``re^2 + im^2`` (smooth everywhere)."""
        s = self.stft(x)
        return s.real**2 + s.imag**2


class STFTLogMagnitude(nn.Module):
    """Log-magnitude STFT spectrogram (AT paper, Sec. III, Eq. 10; librosa's ``stft``).

    ``log(|S|^power + eps)`` (``scale="log"``, natural log) or the decibel value of the magnitude,
    ``(20 / power) log10(|S|^power + eps)`` (``scale="db"``), with ``S = librosa.stft(x, n_fft,
    hop_length, win_length, window, center, pad_mode)``: periodic window zero-padded to ``n_fft``
    in the middle, frames centred with ``n_fft // 2`` samples of padding (``pad_mode="constant"``,
    librosa's default since 0.10; torch's default is ``"reflect"``). The AT paper uses n_fft 2048,
    hop 512 and ``power=2``.

    ``eps`` is an additive floor *inside* the log, so the output is bounded below by
    ``log(eps)`` and its gradient ``1 / (|S|^power + eps)`` stays finite; nothing is clamped.
    With ``power=1`` the magnitude ``|S|`` has gradient 0 (its subgradient) at a bin that is
    exactly 0; with ``power=2`` it is smooth. Matches ``librosa.stft`` to 1e-5 x max|S| in
    float32. Shape: ``(..., T)`` -> ``(..., n_fft // 2 + 1, 1 + T // hop_length)`` when centred.
    """

    def __init__(
        self,
        n_fft: int = 512,
        hop_length: int = 128,
        win_length: int | None = None,
        window: str = "hann",
        eps: float = 1e-6,
        center: bool = True,
        pad_mode: str = "constant",
        power: float = 1.0,
        scale: str = "log",
    ) -> None:
        super().__init__()
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}")
        if power not in (1.0, 2.0):
            raise ValueError(f"power must be 1 or 2, got {power}")
        if scale not in ("log", "db"):
            raise ValueError(f"scale must be 'log' or 'db', got {scale!r}")
        self.core = _STFT(n_fft, hop_length, win_length, window, center, pad_mode)
        self.eps, self.power, self.scale = float(eps), float(power), scale

    @property
    def n_fft(self) -> int:
        return self.core.n_fft

    @property
    def hop_length(self) -> int:
        return self.core.hop_length

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.power == 2.0:
            mag = self.core.power(x)
        else:
            mag = self.core.stft(x).abs()
        if self.scale == "log":
            return torch.log(mag + self.eps)
        return (20.0 / self.power) * torch.log10(mag + self.eps)

    def extra_repr(self) -> str:
        c = self.core
        return (
            f"n_fft={c.n_fft}, hop_length={c.hop_length}, win_length={c.win_length}, "
            f"eps={self.eps}, power={self.power}, scale={self.scale!r}"
        )


# --------------------------------------------------------------------------------------------
# DWT
# --------------------------------------------------------------------------------------------


class DWTScalogram(nn.Module):
    """Multi-level discrete wavelet transform and a 2-D "DWT scalogram" (Mallat 1989).

    The analysis step is Mallat's algorithm as a strided convolution with the wavelet's
    decomposition filters (``pywt.Wavelet(wavelet).dec_lo`` / ``dec_hi``, buffers), in the
    ``"periodization"`` mode of PyWavelets: the signal is extended circularly (an odd-length
    signal first gets its last sample repeated, as pywt does), so level ``j`` has
    ``ceil(n_{j-1} / 2)`` coefficients and ``coefficients(x)`` equals
    ``pywt.wavedec(x, wavelet, mode="periodization", level=levels)`` (1e-5 in float32, 1e-12
    in float64). ``levels`` may not exceed ``pywt.dwt_max_level(T, filter_length)``: deeper
    levels raise ``ValueError`` (pywt only warns).

    ``forward`` returns the scalogram ``(..., levels + 1, frames)``: rows
    ``[cA_L, cD_L, cD_{L-1}, ..., cD_1]`` (pywt order: low to high frequency), each row the
    mean of ``|c|`` over ``frames`` equal bins (``F.adaptive_avg_pool1d``; a level shorter than
    ``frames`` is repeated). ``frames=None`` uses the length of the coarsest level, so for
    ``T`` divisible by ``2^levels`` the bins are exact, non-overlapping blocks of ``2^(L-j)``
    coefficients. ``log=True`` returns ``log(mean|c| + eps)`` instead (additive floor, no clamp).
    ``|c|`` has gradient 0 where a coefficient is exactly 0.

    Wavelet choice: the AT paper's "DWT" images come from the *wavelet sound explorer* with a
    complex Morlet mother function, i.e. a continuous wavelet transform; Morlet has no
    orthogonal filter pair and cannot drive a DWT. We therefore default to Daubechies-4
    (``"db4"``); any discrete pywt wavelet name works.
    """

    def __init__(
        self,
        wavelet: str = "db4",
        levels: int = 5,
        frames: int | None = None,
        mode: str = "periodization",
        log: bool = False,
        eps: float = 1e-6,
        input_length: int | None = None,
    ) -> None:
        super().__init__()
        import pywt

        levels = _positive_int("levels", levels)
        if frames is not None:
            frames = _positive_int("frames", frames)
        if mode != "periodization":
            raise ValueError(f"only mode='periodization' is implemented, got {mode!r}")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps}")
        try:
            w = pywt.Wavelet(wavelet)
        except ValueError as err:  # continuous wavelets (e.g. "cmor", "morl") are refused here
            raise ValueError(f"{wavelet!r} is not a discrete wavelet: {err}") from err
        self.wavelet, self.levels, self.frames, self.mode = wavelet, levels, frames, mode
        self.log, self.eps = bool(log), float(eps)
        self.filter_length = w.dec_len
        dtype = torch.get_default_dtype()
        # conv1d is a correlation: flip the filters so that it computes the convolution.
        bank = np.stack([np.asarray(w.dec_lo)[::-1], np.asarray(w.dec_hi)[::-1]])
        self.register_buffer("filters", torch.tensor(bank.copy(), dtype=dtype)[:, None])
        if input_length is not None:
            self.check_length(_positive_int("input_length", input_length))

    def max_level(self, length: int) -> int:
        """Deepest level with at least one full filter length of coefficients (pywt's rule)."""
        import pywt

        return pywt.dwt_max_level(length, self.filter_length)

    def check_length(self, length: int) -> None:
        if self.levels > self.max_level(length):
            raise ValueError(
                f"levels={self.levels} is too deep for {length} samples with {self.wavelet!r} "
                f"(at most {self.max_level(length)})"
            )

    def _step(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One analysis step on ``(B, 1, n)``: periodised low-pass and high-pass halves."""
        n = x.shape[-1]
        if n % 2:
            x = torch.cat([x, x[..., -1:]], dim=-1)
            n += 1
        length = self.filter_length
        left = length // 2 - 1
        idx = torch.arange(-left, n + length - 1 - left, device=x.device) % n
        y = F.conv1d(x[..., idx], self.filters, stride=2)
        return y[:, :1], y[:, 1:]

    def coefficients(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``[cA_L, cD_L, ..., cD_1]`` as ``pywt.wavedec``, each of shape ``(..., n_j)``."""
        x2, lead = _flatten_leading(x)
        self.check_length(x2.shape[-1])
        a = x2[:, None]
        details = []
        for _ in range(self.levels):
            a, d = self._step(a)
            details.append(d)
        out = [a, *details[::-1]]
        return [c.reshape(*lead, c.shape[-1]) for c in out]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coeffs = self.coefficients(x)
        frames = self.frames or coeffs[0].shape[-1]
        rows = []
        for c in coeffs:
            c2 = c.reshape(-1, 1, c.shape[-1]).abs()
            rows.append(F.adaptive_avg_pool1d(c2, frames)[:, 0])
        img = torch.stack(rows, dim=-2)
        if self.log:
            img = torch.log(img + self.eps)
        return img.reshape(*x.shape[:-1], self.levels + 1, frames)

    def extra_repr(self) -> str:
        return (
            f"wavelet={self.wavelet!r}, levels={self.levels}, frames={self.frames}, "
            f"mode={self.mode!r}, log={self.log}"
        )


# --------------------------------------------------------------------------------------------
# continuous wavelet transform (complex Morlet)
# --------------------------------------------------------------------------------------------


def _fast_length(n: int) -> int:
    """Smallest 5-smooth integer ``>= n`` (a fast FFT size)."""
    best = 1 << max(0, int(n) - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


class MorletCWT(nn.Module):
    """Continuous wavelet transform with complex Morlet wavelets and its (log-)magnitude image.

    This is the transform behind the AT paper's "DWT" images (Sec. III, Eqs. 11-13: the
    *wavelet sound explorer* with a complex Morlet mother function, a continuous transform
    despite the name). The wavelet is PyWavelets' ``"cmorB-C"`` (``bandwidth`` B, ``center``
    C)::

        psi(t) = (pi B)^(-1/2) exp(-t^2 / B) exp(2 pi j C t),

    whose Fourier transform is ``exp(-pi^2 B (f - C)^2)`` (unit gain at ``f = C``). Scale ``s``
    has centre frequency ``C sample_rate / s``; the ``n_scales`` centre frequencies
    (``frequencies``, a buffer) are geometrically spaced from ``f_min`` to ``f_max`` (default
    ``0.45 sample_rate``, below Nyquist), rows ordered low to high frequency as the other
    spectral front-ends. The coefficients (``coefficients(x)``, complex, ``(..., n_scales, T)``)
    are

        W[s, n] = s^(-1/2) sum_k x[k] conj(psi((k - n) / s))          (norm="l2", pywt's)

    or with ``s^(-1)`` (``norm="l1"``: a tone of amplitude A at a scale's centre frequency gives
    ``|W| = A / 2`` at every scale). The sampled wavelets, truncated at ``|t| <= truncate
    sqrt(B)`` (envelope ``exp(-truncate^2)``, 1e-7 by default), are the buffer ``kernels``
    ``(n_scales, 2, 2 M + 1)`` (real and imaginary part); ``forward`` convolves by FFT with zero
    padding (no wrap-around), so ``W`` is the "same"-length output and equals the untruncated sum
    up to the truncation (1e-10 x max|W| in float64 with ``truncate=6``). It matches
    ``pywt.cwt(x, scales, "cmorB-C", precision=18)`` in magnitude to 2e-2 x max|W| at scales of
    13 samples or more; at smaller scales pywt's own discretisation (differences of the
    integrated wavelet, a half-sample box filter) attenuates by up to ``sinc(C / s)``.

    ``forward`` returns the image ``(..., n_scales, T // hop_length + 1)``: ``|W|`` averaged over
    windows of ``2 hop_length`` samples every ``hop_length`` (50 % overlap, the paper's ratio;
    centred, the padding not counted), and with ``log=True`` ``log(mean|W| + eps)`` (additive
    floor, no clamp). ``|W|`` has gradient 0 where a coefficient is exactly 0 (digital silence).
    Scales are processed in chunks so that no intermediate exceeds about ``chunk_elements``
    complex values per chunk.
    """

    def __init__(
        self,
        sample_rate: int = 8000,
        n_scales: int = 64,
        f_min: float = 50.0,
        f_max: float | None = None,
        bandwidth: float = 1.5,
        center: float = 1.0,
        hop_length: int = 64,
        log: bool = True,
        eps: float = 1e-6,
        norm: str = "l2",
        truncate: float = 4.0,
        chunk_elements: int = 1 << 24,
    ) -> None:
        super().__init__()
        if not sample_rate > 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        n_scales = _positive_int("n_scales", n_scales)
        hop_length = _positive_int("hop_length", hop_length)
        nyquist = sample_rate / 2.0
        f_max = 0.45 * sample_rate if f_max is None else float(f_max)
        if not 0.0 < f_min < f_max:
            raise ValueError(f"need 0 < f_min < f_max, got f_min={f_min}, f_max={f_max}")
        if f_max > nyquist:
            raise ValueError(f"f_max={f_max} Hz is above the Nyquist frequency {nyquist} Hz")
        for name, value in (("bandwidth", bandwidth), ("center", center), ("eps", eps),
                            ("truncate", truncate)):  # fmt: skip
            if not value > 0:
                raise ValueError(f"{name} must be positive, got {value}")
        if norm not in ("l1", "l2"):
            raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
        self.sample_rate, self.n_scales, self.hop_length = sample_rate, n_scales, hop_length
        self.f_min, self.f_max = float(f_min), f_max
        self.bandwidth, self.center, self.norm = float(bandwidth), float(center), norm
        self.log, self.eps = bool(log), float(eps)
        self.chunk_elements = _positive_int("chunk_elements", chunk_elements)

        freqs = np.geomspace(self.f_min, self.f_max, n_scales)
        scales = self.center * sample_rate / freqs
        half = math.ceil(truncate * math.sqrt(self.bandwidth) * scales.max())
        u = np.arange(-half, half + 1) / scales[:, None]
        env = np.exp(-(u**2) / self.bandwidth) / math.sqrt(math.pi * self.bandwidth)
        env = env / (np.sqrt(scales) if norm == "l2" else scales)[:, None]
        env = np.where(np.abs(u) <= truncate * math.sqrt(self.bandwidth), env, 0.0)
        phase = 2.0 * math.pi * self.center * u
        bank = np.stack([env * np.cos(phase), env * np.sin(phase)], axis=1)
        dtype = torch.get_default_dtype()
        self.half = half
        self.register_buffer("kernels", torch.tensor(bank, dtype=dtype))
        self.register_buffer("frequencies", torch.tensor(freqs, dtype=dtype))
        self.register_buffer("scales", torch.tensor(scales, dtype=dtype))

    def n_frames(self, length: int) -> int:
        return length // self.hop_length + 1

    def _chunks(self, x2: torch.Tensor):
        """``(B, T)`` -> ``W`` of each chunk of scales, ``(B, chunk, T)`` complex."""
        length = x2.shape[-1]
        if length < 2:
            raise ValueError(f"input of {length} samples is too short for the CWT")
        n = _fast_length(max(length + self.half, 2 * self.half + 1))
        spec = torch.fft.fft(x2, n=n)[:, None]  # (B, 1, n)
        chunk = max(1, self.chunk_elements // max(1, x2.shape[0] * n))
        # W = x (*) psi (convolution, since conj(psi(-t)) = psi(t)); kernel centre at index 0
        for lo in range(0, self.n_scales, chunk):
            k = self.kernels[lo : lo + chunk]
            kern = torch.complex(k[:, 0], k[:, 1])
            gap = kern.new_zeros(kern.shape[0], n - kern.shape[-1])
            kern = torch.cat([kern[:, self.half :], gap, kern[:, : self.half]], dim=-1)
            yield torch.fft.ifft(spec * torch.fft.fft(kern), dim=-1)[..., :length]

    def coefficients(self, x: torch.Tensor) -> torch.Tensor:
        """The complex coefficients ``W``, shape ``(..., n_scales, T)``."""
        x2, lead = _flatten_leading(x)
        w = torch.cat(list(self._chunks(x2)), dim=1)
        return w.reshape(*lead, self.n_scales, x2.shape[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2, lead = _flatten_leading(x)
        hop = self.hop_length
        rows = [
            F.avg_pool1d(w.abs(), 2 * hop, hop, padding=hop, count_include_pad=False)
            for w in self._chunks(x2)
        ]
        img = torch.cat(rows, dim=1)
        if self.log:
            img = torch.log(img + self.eps)
        return img.reshape(*lead, self.n_scales, img.shape[-1])

    def extra_repr(self) -> str:
        return (
            f"sample_rate={self.sample_rate}, n_scales={self.n_scales}, f_min={self.f_min}, "
            f"f_max={self.f_max}, bandwidth={self.bandwidth}, center={self.center}, "
            f"hop_length={self.hop_length}, log={self.log}, norm={self.norm!r}"
        )


# --------------------------------------------------------------------------------------------
# chroma and tonnetz
# --------------------------------------------------------------------------------------------


class Chroma(nn.Module):
    """STFT chromagram, ``librosa.feature.chroma_stft`` in torch.

    ``C = normalize(F_chroma @ |STFT|^2, norm)`` with ``F_chroma = librosa.filters.chroma(sr,
    n_fft, n_chroma, tuning)`` (a buffer) and the STFT of ``librosa.stft`` (Hann window, centred,
    zero padding). ``norm=inf`` (librosa's default) divides each frame by its maximum; frames
    whose norm is below the smallest normal float are left as they are (librosa's ``fill=None``
    rule), so silence gives zeros, not NaN. The max-norm is piecewise smooth: its gradient flows
    through the frame's arg-max bin (split evenly on exact ties).

    ``tuning`` is fixed (default 0): librosa's ``tuning=None`` estimates it from the signal with
    ``piptrack``, which is not differentiable; pass ``tuning=0.0`` to librosa to compare. The AT
    paper uses librosa's defaults at 22.05 kHz (n_fft 2048, hop 512). Matches librosa to 1e-5
    (float32). Shape: ``(..., T)`` -> ``(..., n_chroma, 1 + T // hop_length)``.
    """

    def __init__(
        self,
        sample_rate: int,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_chroma: int = 12,
        win_length: int | None = None,
        window: str = "hann",
        center: bool = True,
        pad_mode: str = "constant",
        tuning: float = 0.0,
        norm: float | None = math.inf,
    ) -> None:
        super().__init__()
        import librosa

        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        n_chroma = _positive_int("n_chroma", n_chroma)
        if not -0.5 <= tuning < 0.5:
            raise ValueError(f"tuning must be in [-0.5, 0.5) bins, got {tuning}")
        if norm is not None and not norm > 0:
            raise ValueError(f"norm must be positive, inf or None, got {norm}")
        self.core = _STFT(n_fft, hop_length, win_length, window, center, pad_mode)
        self.sample_rate, self.n_chroma = sample_rate, n_chroma
        self.tuning, self.norm = tuning, norm
        fb = librosa.filters.chroma(
            sr=sample_rate, n_fft=self.core.n_fft, n_chroma=n_chroma, tuning=tuning
        )
        self.register_buffer("chroma_fb", torch.tensor(fb, dtype=torch.get_default_dtype()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = torch.matmul(self.chroma_fb, self.core.power(x))
        return _normalize_frames(raw, self.norm)

    def extra_repr(self) -> str:
        return (
            f"sample_rate={self.sample_rate}, n_fft={self.core.n_fft}, "
            f"hop_length={self.core.hop_length}, n_chroma={self.n_chroma}, "
            f"tuning={self.tuning}, norm={self.norm}"
        )


class Tonnetz(nn.Module):
    """Tonal centroid features (Harte, Sandler & Gasser 2006), ``librosa.feature.tonnetz``.

    The L1-normalised chroma of each frame is projected on the 6-D tonal space (fifths,
    minor thirds, major thirds; radii 1, 1, 0.5) with librosa's matrix ``phi`` (a buffer):
    ``T = phi @ (C / sum(C))``. Frames with an L1 norm below the smallest normal float are left
    unnormalised (librosa's rule).

    Input chroma: librosa's ``tonnetz`` uses ``chroma_cqt`` by default; a CQT is not part of
    this module set, so we use our STFT ``Chroma`` (``chroma_stft`` with fixed tuning). The result
    equals ``librosa.feature.tonnetz(chroma=librosa.feature.chroma_stft(y, tuning=0, ...))``
    to 1e-5. ``project(chroma)`` applies the projection to any chroma tensor.
    Shape: ``(..., T)`` -> ``(..., 6, 1 + T // hop_length)``.
    """

    def __init__(
        self,
        sample_rate: int,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_chroma: int = 12,
        **chroma_kwargs,
    ) -> None:
        super().__init__()
        self.chroma = Chroma(sample_rate, n_fft, hop_length, n_chroma, **chroma_kwargs)
        dim_map = np.linspace(0, 12, num=n_chroma, endpoint=False)
        scale = np.asarray([7.0 / 6, 7.0 / 6, 3.0 / 2, 3.0 / 2, 2.0 / 3, 2.0 / 3])
        v = np.multiply.outer(scale, dim_map)
        v[::2] -= 0.5  # even rows compute sin()
        radii = np.array([1, 1, 1, 1, 0.5, 0.5])
        phi = radii[:, None] * np.cos(np.pi * v)
        self.register_buffer("phi", torch.tensor(phi, dtype=torch.get_default_dtype()))

    def project(self, chroma: torch.Tensor) -> torch.Tensor:
        """``(..., n_chroma, frames)`` chroma -> ``(..., 6, frames)`` tonnetz."""
        return torch.matmul(self.phi, _normalize_frames(chroma, 1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(self.chroma(x))


# --------------------------------------------------------------------------------------------
# MFCC (python_speech_features style)
# --------------------------------------------------------------------------------------------


def psf_mel_filterbank(
    n_mels: int, n_fft: int, sample_rate: int, f_min: float = 0.0, f_max: float | None = None
) -> np.ndarray:
    """python_speech_features' ``get_filterbanks``, shape ``(n_mels, n_fft // 2 + 1)``.

    Triangles between the FFT bins ``floor((n_fft + 1) mel2hz(m) / sr)`` of ``n_mels + 2``
    points equally spaced in mel (``2595 log10(1 + f / 700)``) from ``f_min`` to ``f_max``."""
    f_max = sample_rate / 2 if f_max is None else f_max
    mel = np.linspace(_hz_to_mel(f_min), _hz_to_mel(f_max), n_mels + 2)
    bins = np.floor((n_fft + 1) * _mel_to_hz(mel) / sample_rate)
    fb = np.zeros((n_mels, n_fft // 2 + 1))
    for j in range(n_mels):
        lo, mid, hi = int(bins[j]), int(bins[j + 1]), int(bins[j + 2])
        for i in range(lo, mid):
            fb[j, i] = (i - bins[j]) / (bins[j + 1] - bins[j])
        for i in range(mid, hi):
            fb[j, i] = (bins[j + 2] - i) / (bins[j + 2] - bins[j + 1])
    return fb


def _dct_ii_ortho(n_out: int, n_in: int) -> np.ndarray:
    """First ``n_out`` rows of the orthonormal DCT-II matrix of size ``n_in`` (scipy's
    ``dct(type=2, norm="ortho")``)."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    d = np.sqrt(2.0 / n_in) * np.cos(np.pi * k * (2 * n + 1) / (2 * n_in))
    d[0] /= np.sqrt(2.0)
    return d


class MFCC(nn.Module):
    """MFCC of the GAN paper's WideResNet victim (Wang et al. 2020; study spec, section 3), as
    python_speech_features computes it (Davis & Mermelstein 1980):

    1. pre-emphasis ``y[0] = x[0], y[n] = x[n] - preemph x[n-1]`` over the whole clip;
    2. frames of ``frame_length`` every ``hop_length`` samples, the last one zero-padded:
       ``1 + ceil((T - frame_length) / hop_length)`` frames (1 if ``T <= frame_length``),
       multiplied by ``window`` (``"rect"``; ``"hamming"`` / ``"hann"`` are numpy's symmetric);
    3. power spectrum ``|rfft(frame, n_fft)|^2 / n_fft`` (frames zero-padded to ``n_fft``);
    4. ``n_mels`` triangular filters on mel-spaced FFT bins (``psf_mel_filterbank``);
    5. ``log(fbank + log_floor)``, DCT-II (orthonormal), first ``n_mfcc`` coefficients;
    6. lifter ``c_k *= 1 + (lifter / 2) sin(pi k / lifter)`` (``lifter=0`` disables);
    7. ``c_0 = log(energy + log_floor)`` when ``replace_c0_with_log_energy``, where the energy is
       python_speech_features' ``sum_k |X_k|^2 / n_fft`` over the ``n_fft // 2 + 1`` bins.

    Floors: python_speech_features replaces exact zeros by machine epsilon before the log; we
    add ``log_floor`` instead, which keeps the gradient finite (bounded by
    ``1 / sqrt(log_floor n_fft)`` per unit spectrum) and changes a log value by at most
    ``log_floor / value``. A frame of exact digital silence has zero gradient (the power spectrum
    is quadratic). ``log_floor=1e-10`` is librosa's ``amin`` and lies just below the
    quantisation noise of 16-bit audio; on very quiet bands it moves the output away from
    python_speech_features (by up to 0.06 on the top bands of an 8 kHz FSDD recording).

    Defaults give ``(N, 32, 32)`` for 16,384 samples, the 1x32x32 input of the WideResNet.
    Matches a numpy transcription of python_speech_features to 1e-9 in float64 with a negligible
    floor, and to 1e-4 in float32 with the default floor on a non-silent signal.
    Shape: ``(..., T)`` -> ``(..., n_mfcc, frames)``.
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        frame_length: int = 512,
        hop_length: int = 512,
        n_fft: int = 2048,
        n_mels: int = 32,
        n_mfcc: int = 32,
        preemph: float = 0.97,
        lifter: int = 22,
        replace_c0_with_log_energy: bool = True,
        window: str = "rect",
        f_min: float = 0.0,
        f_max: float | None = None,
        log_floor: float = 1e-10,
    ) -> None:
        super().__init__()
        if sample_rate <= 0:
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        frame_length = _positive_int("frame_length", frame_length)
        hop_length = _positive_int("hop_length", hop_length)
        n_fft = _positive_int("n_fft", n_fft)
        n_mels = _positive_int("n_mels", n_mels)
        n_mfcc = _positive_int("n_mfcc", n_mfcc)
        if frame_length > n_fft:
            raise ValueError(f"frame_length={frame_length} exceeds n_fft={n_fft}")
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} exceeds n_mels={n_mels}")
        if not 0.0 <= preemph < 1.0:
            raise ValueError(f"preemph must be in [0, 1), got {preemph}")
        if lifter < 0:
            raise ValueError(f"lifter must be non-negative, got {lifter}")
        f_max = sample_rate / 2 if f_max is None else float(f_max)
        if not 0.0 <= f_min < f_max:
            raise ValueError(f"need 0 <= f_min < f_max, got f_min={f_min}, f_max={f_max}")
        if f_max > sample_rate / 2:
            raise ValueError(f"f_max={f_max} Hz is above the Nyquist frequency")
        if not log_floor > 0:
            raise ValueError(f"log_floor must be positive, got {log_floor}")
        self.sample_rate, self.frame_length, self.hop_length = sample_rate, frame_length, hop_length
        self.n_fft, self.n_mels, self.n_mfcc = n_fft, n_mels, n_mfcc
        self.preemph, self.lifter = float(preemph), int(lifter)
        self.replace_c0_with_log_energy = bool(replace_c0_with_log_energy)
        self.f_min, self.f_max, self.log_floor = float(f_min), f_max, float(log_floor)

        dtype = torch.get_default_dtype()
        win = _window(window, frame_length, periodic=False).to(dtype)
        self.register_buffer("window", win)
        fb = psf_mel_filterbank(n_mels, n_fft, sample_rate, f_min, f_max)
        self.register_buffer("mel_fb", torch.tensor(fb, dtype=dtype))
        self.register_buffer("dct", torch.tensor(_dct_ii_ortho(n_mfcc, n_mels), dtype=dtype))
        k = np.arange(n_mfcc)
        lift = 1.0 + (lifter / 2.0) * np.sin(np.pi * k / lifter) if lifter > 0 else np.ones(n_mfcc)
        self.register_buffer("lift", torch.tensor(lift, dtype=dtype))

    def n_frames(self, length: int) -> int:
        """Number of frames python_speech_features' ``framesig`` makes of ``length`` samples."""
        if length <= self.frame_length:
            return 1
        return 1 + math.ceil((length - self.frame_length) / self.hop_length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x2, lead = _flatten_leading(x)
        if self.preemph:
            x2 = torch.cat([x2[:, :1], x2[:, 1:] - self.preemph * x2[:, :-1]], dim=1)
        n = self.n_frames(x2.shape[-1])
        pad = (n - 1) * self.hop_length + self.frame_length - x2.shape[-1]
        x2 = F.pad(x2, (0, pad))
        frames = x2.unfold(-1, self.frame_length, self.hop_length) * self.window  # (B, n, L)
        spec = torch.fft.rfft(frames, n=self.n_fft)
        pspec = (spec.real**2 + spec.imag**2) / self.n_fft  # (B, n, F)
        feat = torch.matmul(pspec, self.mel_fb.T)  # (B, n, n_mels)
        cep = torch.matmul(torch.log(feat + self.log_floor), self.dct.T) * self.lift
        if self.replace_c0_with_log_energy:
            energy = pspec.sum(dim=-1, keepdim=True)
            cep = torch.cat([torch.log(energy + self.log_floor), cep[..., 1:]], dim=-1)
        out = cep.transpose(-1, -2)
        return out.reshape(*lead, self.n_mfcc, n)

    def extra_repr(self) -> str:
        return (
            f"sample_rate={self.sample_rate}, frame_length={self.frame_length}, "
            f"hop_length={self.hop_length}, n_fft={self.n_fft}, n_mels={self.n_mels}, "
            f"n_mfcc={self.n_mfcc}, preemph={self.preemph}, lifter={self.lifter}"
        )
