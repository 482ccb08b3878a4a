"""Metrics with one definition each (study spec, section 2). Pure functions over tensors/arrays.

Conventions shared by every function here:

* Inputs may be ``torch.Tensor`` (any device, any float dtype; gradients are detached) or
  anything ``numpy.asarray`` accepts. Results are NumPy: these are *metrics*, not losses; an
  attack that needs a differentiable loudness term computes its own.
* Waveforms are batch-first: a ``(T,)`` array is one clip and gives a ``float``; an
  ``(N, T)`` (or ``(N, ...)``) array is a batch and gives an ``(N,)`` array, one value per clip
  (every axis after the first is reduced). So ``f(batch)[i] == f(batch[i])``.
* NaN or infinite input, empty input and mismatched shapes raise ``ValueError``.
* A value that is undefined is NaN, never an infinity, and a :class:`UndefinedMetricWarning`
  states why and for which clips: the decibels of silence (``ldb``, ``spl_db`` of an all-zero
  clip), an SNR or relative level with a silent clip or a zero perturbation (``snr_db``,
  ``ldb_x``). Tables render NaN as "—" with a footnote saying it is undefined.

Sources. **UAP**: Abdoli et al., "Universal Adversarial Audio Perturbations" (Eqs. 3, 5, 6,
14, 15). **AT**: Sallo, Esmaeilpour and Cardinal, "Adversarially Training for Audio Classifiers"
(fooling-rate AUC, Eq. 15). **GAN**: Wang et al., IEEE Access 2020 (SNR Eq. 15, PESQ).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from advlib.stats import format_proportion, wilson_interval

__all__ = [
    "Proportion",
    "UndefinedMetricWarning",
    "accuracy",
    "asr_targeted",
    "asr_untargeted",
    "asr_untargeted_vs_label",
    "confusion_matrix",
    "epsilon_at_auc",
    "epsilon_r",
    "fooling_auc",
    "ldb",
    "ldb_x",
    "lp_norm",
    "per_class_accuracy",
    "pesq_score",
    "rms",
    "snr_db",
    "spl_db",
    "stoi_score",
    "success_rate_curve",
]

ArrayLike = torch.Tensor | np.ndarray | Sequence[float] | float
Scalar = float | np.ndarray  # float for one clip, (N,) array for a batch


class UndefinedMetricWarning(RuntimeWarning):
    """A metric is undefined for some clips (the message says which and why); their value is
    NaN."""


def _undefined(values: np.ndarray, mask: np.ndarray, metric: str, reason: str) -> np.ndarray:
    """``values`` with NaN where ``mask``, and a warning naming the metric, clips and reason."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return values
    out = np.where(mask, np.nan, values)
    if mask.ndim == 0:
        which = "the clip"
    else:
        idx = np.flatnonzero(mask)
        more = f" and {idx.size - 5} more" if idx.size > 5 else ""
        which = f"clip(s) {idx[:5].tolist()}{more}"
    warnings.warn(f"{metric} is undefined for {which}: {reason}; NaN", UndefinedMetricWarning, 3)
    return out


def accuracy(pred: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray) -> float:
    """Share of predictions equal to the labels."""
    pred, y = np.asarray(pred), np.asarray(y)
    if pred.shape != y.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {y.shape}")
    if pred.size == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float((pred == y).mean())


def confusion_matrix(
    y: torch.Tensor | np.ndarray, pred: torch.Tensor | np.ndarray, n_classes: int
) -> np.ndarray:
    """``C[i, j]`` = number of clips of true class ``i`` predicted as ``j``."""
    y, pred = np.asarray(y, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    if y.shape != pred.shape:
        raise ValueError(f"shapes differ: {y.shape} vs {pred.shape}")
    if y.size and (min(y.min(), pred.min()) < 0 or max(y.max(), pred.max()) >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes})")
    return np.bincount(y * n_classes + pred, minlength=n_classes**2).reshape(n_classes, n_classes)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """Recall of each class from a confusion matrix (NaN for classes with no clips)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.diag(cm) / cm.sum(axis=1)


# --------------------------------------------------------------------------- input checking


def _float_array(a: ArrayLike, name: str) -> np.ndarray:
    """``a`` as a float64 array; raises on empty, NaN or infinite input."""
    if isinstance(a, torch.Tensor):
        a = a.detach().to(device="cpu", dtype=torch.float64).numpy()
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} is not a numeric array: {e}") from e
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _waveform(a: ArrayLike, name: str) -> np.ndarray:
    arr = _float_array(a, name)
    if arr.ndim == 0:
        raise ValueError(f"{name} must be a waveform (T,) or a batch (N, T), got a scalar")
    return arr


def _pair(x: np.ndarray, v: np.ndarray, xname: str, vname: str) -> np.ndarray:
    """``v`` matched to ``x``: same shape, or one (universal) perturbation for a whole batch."""
    if v.shape == x.shape:
        return v
    if x.ndim == v.ndim + 1 and x.shape[1:] == v.shape:
        return np.broadcast_to(v, x.shape)
    raise ValueError(
        f"shapes differ: {xname} {x.shape} vs {vname} {v.shape} (a single {vname} of shape "
        f"{x.shape[1:]} is also accepted for a batch {xname})"
    )


def _axes(arr: np.ndarray) -> tuple[int, ...] | None:
    return None if arr.ndim == 1 else tuple(range(1, arr.ndim))


def _out(values: np.ndarray) -> Scalar:
    return float(values) if np.ndim(values) == 0 else np.asarray(values, dtype=np.float64)


def _db(amplitude: np.ndarray) -> np.ndarray:
    """``20 log10(a)`` with ``a = 0 -> -inf`` and no warning."""
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(amplitude)


# --------------------------------------------------------------------------- loudness / size


def rms(x: ArrayLike) -> Scalar:
    """Root mean square per clip, the UAP paper's "power" :math:`P(x)` (UAP Eq. 6).

    .. math:: P(\\mathbf{x}) = \\sqrt{\\tfrac1N \\textstyle\\sum_n x_n^2}

    Parameters
    ----------
    x : tensor or array, shape (T,) or (N, T)
        Waveform(s).

    Returns
    -------
    float or ndarray of shape (N,)
    """
    arr = _waveform(x, "x")
    return _out(np.sqrt(np.mean(arr**2, axis=_axes(arr))))


def snr_db(x: ArrayLike, v: ArrayLike) -> Scalar:
    """Signal-to-noise ratio of clip ``x`` to perturbation ``v`` in dB (UAP Eq. 14).

    .. math:: \\mathrm{SNR}(\\mathbf{x}, \\mathbf{v}) = 20 \\log_{10} \\frac{P(\\mathbf{x})}
              {P(\\mathbf{v})}

    with :math:`P` the RMS of UAP Eq. 6. The GAN paper's Eq. 15,
    :math:`10 \\log_{10}(E_x / E_\\delta)` with energies, is the same number.

    Parameters
    ----------
    x : tensor or array, shape (T,) or (N, T)
        Clean clip(s).
    v : tensor or array, shape like ``x``, or (T,) for one universal perturbation on a batch
        The perturbation (``x_adv - x``), not the adversarial clip.

    Returns
    -------
    float or ndarray of shape (N,)
        Scale-invariant. NaN (undefined, with an :class:`UndefinedMetricWarning`) where ``x``
        is silent (all zeros: there is no signal to compare with) or ``v`` is all zeros
        (nothing was added: no noise to compare with).
    """
    xa, va = _waveform(x, "x"), _waveform(v, "v")
    va = _pair(xa, va, "x", "v")
    ax = _axes(xa)
    px, pv = np.sqrt(np.mean(xa**2, axis=ax)), np.sqrt(np.mean(va**2, axis=ax))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = _db(px) - _db(pv)
    out = _undefined(out, px == 0, "SNR", "the clip is silent (all zeros)")
    out = _undefined(out, (pv == 0) & (px > 0), "SNR", "the perturbation is zero")
    return _out(out)


def ldb(x: ArrayLike) -> Scalar:
    """Peak loudness in dB, :math:`l_{dB}(\\mathbf{x}) = 20 \\log_{10} \\max_n |x_n|` (UAP Eq. 15).

    The paper prints :math:`\\max_n 20 \\log_{10}(x_n)`; the logarithm of a negative sample is
    undefined, so we take the magnitude, as Carlini & Wagner (2018), whose measure the UAP
    paper adopts, do. The value depends on the amplitude scale: use waveforms in [-1, 1].

    Parameters
    ----------
    x : tensor or array, shape (T,) or (N, T)

    Returns
    -------
    float or ndarray of shape (N,)
        A clip with peak 0.5 gives -6.0206 dB. NaN (undefined, with an
        :class:`UndefinedMetricWarning`) for an all-zero clip.
    """
    arr = _waveform(x, "x")
    peak = np.max(np.abs(arr), axis=_axes(arr))
    return _out(_undefined(_db(peak), peak == 0, "l_dB", "the clip is silent (all zeros)"))


def ldb_x(v: ArrayLike, x: ArrayLike) -> Scalar:
    """Loudness of perturbation ``v`` relative to clip ``x`` in dB (UAP Eq. 15).

    .. math:: l_{dB_x}(\\mathbf{v}) = l_{dB}(\\mathbf{v}) - l_{dB}(\\mathbf{x})

    Parameters
    ----------
    v : tensor or array, shape like ``x``, or (T,) for one universal perturbation on a batch
        The perturbation.
    x : tensor or array, shape (T,) or (N, T)
        The clean clip(s).

    Returns
    -------
    float or ndarray of shape (N,)
        More negative is quieter. Scale-invariant. NaN (undefined, with an
        :class:`UndefinedMetricWarning`) where ``v`` is all zeros or ``x`` is silent.
    """
    xa, va = _waveform(x, "x"), _waveform(v, "v")
    va = _pair(xa, va, "x", "v")
    ax = _axes(xa)
    peak_v, peak_x = np.max(np.abs(va), axis=ax), np.max(np.abs(xa), axis=ax)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = _db(peak_v) - _db(peak_x)
    out = _undefined(out, peak_x == 0, "l_dB_x", "the clip is silent (all zeros)")
    out = _undefined(out, (peak_v == 0) & (peak_x > 0), "l_dB_x", "the perturbation is zero")
    return _out(out)


def spl_db(v: ArrayLike) -> Scalar:
    """Sound pressure level of ``v`` in dB, :math:`20 \\log_{10} P(\\mathbf{v})` (UAP Eq. 5).

    The loudness term the UAP penalty method minimises, with :math:`P` the RMS (UAP Eq. 6).
    Depends on the amplitude scale: use waveforms in [-1, 1].

    Parameters
    ----------
    v : tensor or array, shape (T,) or (N, T)

    Returns
    -------
    float or ndarray of shape (N,)
        NaN (undefined, with an :class:`UndefinedMetricWarning`) for an all-zero ``v``.
    """
    arr = _waveform(v, "v")
    p = np.sqrt(np.mean(arr**2, axis=_axes(arr)))
    return _out(_undefined(_db(p), p == 0, "SPL", "the signal is all zeros"))


def lp_norm(v: ArrayLike, p: float | str) -> Scalar:
    """:math:`\\ell_p` size of a perturbation per clip, ``p`` in {0, 1, 2, inf}.

    ``p = 0`` counts the nonzero samples (the JSMA budget), ``1`` and ``2`` are the usual
    norms (the AT paper measures :math:`\\|\\epsilon\\|_2`), ``inf`` the largest magnitude (the
    UAP iterative method's ball, UAP Eq. 2).

    Parameters
    ----------
    v : tensor or array, shape (T,) or (N, ...)
    p : {0, 1, 2, inf, "inf"}

    Returns
    -------
    float or ndarray of shape (N,)

    Raises
    ------
    ValueError
        For any other ``p``.
    """
    if isinstance(p, bool) or p not in (0, 1, 2, math.inf, "inf"):
        raise ValueError(f"p must be one of 0, 1, 2, inf; got {p!r}")
    arr = _waveform(v, "v")
    ax = _axes(arr)
    if p == 0:
        out = np.count_nonzero(arr, axis=ax).astype(np.float64)
    elif p == 1:
        out = np.sum(np.abs(arr), axis=ax)
    elif p == 2:
        out = np.sqrt(np.sum(arr**2, axis=ax))
    else:
        out = np.max(np.abs(arr), axis=ax)
    return _out(out)


# --------------------------------------------------------------------------- success rates


@dataclass(frozen=True)
class Proportion:
    """``successes`` out of ``n``: an attack success rate ready for a Wilson interval.

    ``float(p)`` and ``p.rate`` give the share (NaN when ``n == 0``), ``p.interval()`` the
    95 % Wilson interval, ``str(p)`` the book's ``"87.5 % [84.1, 90.3]"`` form, and
    ``wilson_interval(*p)`` works too.
    """

    successes: int
    n: int

    def __post_init__(self) -> None:
        if not 0 <= self.successes <= self.n:
            raise ValueError(f"need 0 <= successes <= n, got {self.successes} / {self.n}")

    @property
    def rate(self) -> float:
        return self.successes / self.n if self.n else math.nan

    def interval(self, alpha: float = 0.05) -> tuple[float, float]:
        """Wilson score interval at level ``1 - alpha`` (``(0, 1)`` when ``n == 0``)."""
        lo, hi = wilson_interval(self.successes, self.n, alpha)
        return float(lo), float(hi)

    def __float__(self) -> float:
        return self.rate

    def __iter__(self):
        return iter((self.successes, self.n))

    def __str__(self) -> str:
        return format_proportion(self.successes, self.n)


def _labels(a: torch.Tensor | np.ndarray | Sequence[int], name: str) -> np.ndarray:
    """Class labels as a flat int64 array; raises on empty, NaN/inf or non-integer values."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
        if not np.all(arr == np.round(arr)):
            raise ValueError(f"{name} must hold integer class labels")
    elif arr.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    return arr.astype(np.int64).ravel()


def _same_shape(a: np.ndarray, b: np.ndarray, an: str, bn: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {an} {a.shape} vs {bn} {b.shape}")


def asr_untargeted(clean_pred: ArrayLike, adv_pred: ArrayLike) -> Proportion:
    """Untargeted attack success rate: share whose prediction changed (UAP Eq. 3).

    .. math:: \\mathrm{ASR} = \\tfrac1m \\textstyle\\sum_i
              \\mathbf 1\\{\\hat k(\\mathbf x_i + \\mathbf v) \\ne \\hat k(\\mathbf x_i)\\}

    Parameters
    ----------
    clean_pred, adv_pred : int tensor or array, shape (N,)
        Predicted classes on the clean and on the attacked clips.

    Returns
    -------
    Proportion
        ``successes`` = changed predictions, ``n`` = N.
    """
    c, a = _labels(clean_pred, "clean_pred"), _labels(adv_pred, "adv_pred")
    _same_shape(c, a, "clean_pred", "adv_pred")
    return Proportion(int(np.count_nonzero(c != a)), int(c.size))


def asr_untargeted_vs_label(y: ArrayLike, adv_pred: ArrayLike) -> Proportion:
    """Share of attacked clips predicted as anything but their true label (study spec, §2).

    The companion of :func:`asr_untargeted` that the spec asks to report as well; unlike UAP
    Eq. 3 it also counts clips the model already got wrong before the attack.

    Parameters
    ----------
    y : int tensor or array, shape (N,)
        True classes.
    adv_pred : int tensor or array, shape (N,)
        Predicted classes on the attacked clips.

    Returns
    -------
    Proportion
    """
    t, a = _labels(y, "y"), _labels(adv_pred, "adv_pred")
    _same_shape(t, a, "y", "adv_pred")
    return Proportion(int(np.count_nonzero(t != a)), int(t.size))


def asr_targeted(adv_pred: ArrayLike, target: int | ArrayLike, y: ArrayLike) -> Proportion:
    """Targeted attack success rate: share predicted as the target (UAP Eq. 3, targeted form).

    UAP Eq. 3 with :math:`\\hat k(\\mathbf x_i + \\mathbf v) = y_t`. Following the study spec,
    clips whose true class already is the target are excluded from both counts.

    Parameters
    ----------
    adv_pred : int tensor or array, shape (N,)
        Predicted classes on the attacked clips.
    target : int, or int tensor/array of shape (N,)
        The target class, one for all clips or one per clip.
    y : int tensor or array, shape (N,)
        True classes.

    Returns
    -------
    Proportion
        ``n`` = clips with ``y != target``; ``n == 0`` (rate NaN) when every clip was of the
        target class.
    """
    a, t = _labels(adv_pred, "adv_pred"), _labels(y, "y")
    _same_shape(a, t, "adv_pred", "y")
    tg = _labels(target, "target")
    if tg.size == 1:
        tg = np.full_like(a, tg[0])
    _same_shape(a, tg, "adv_pred", "target")
    keep = t != tg
    return Proportion(int(np.count_nonzero(a[keep] == tg[keep])), int(np.count_nonzero(keep)))


# --------------------------------------------------------------------------- AT paper: AUC, ε_r


def _curve(budgets: ArrayLike, rates: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    b, r = _float_array(budgets, "budgets"), _float_array(rates, "rates")
    if b.ndim != 1 or r.ndim != 1:
        raise ValueError(f"budgets and rates must be 1-D, got {b.shape} and {r.shape}")
    _same_shape(b, r, "budgets", "rates")
    if b.size < 2:
        raise ValueError("a curve needs at least two budgets")
    if not np.all(np.diff(b) > 0):
        raise ValueError("budgets must be sorted in strictly increasing order")
    if np.any(r < 0) or np.any(r > 1):
        raise ValueError("rates must lie in [0, 1]")
    return b, r


def success_rate_curve(
    norms: ArrayLike, budgets: ArrayLike, success: ArrayLike | None = None
) -> np.ndarray:
    """Share of clips fooled within each budget, from per-clip minimal perturbation sizes.

    For a minimal-perturbation attack (DeepFool, DDN, CW) run once without a budget, the
    success rate at budget :math:`\\epsilon` is the share of clips whose adversarial
    perturbation has :math:`\\|\\delta_i\\| \\le \\epsilon` *and* that the attack fooled at
    all: the empirical CDF of the norms. Its output feeds :func:`fooling_auc`.

    Parameters
    ----------
    norms : tensor or array, shape (N,)
        Size of each clip's perturbation (e.g. ``lp_norm(delta, 2)``), finite.
    budgets : tensor or array, shape (B,)
        Budgets, strictly increasing.
    success : bool tensor or array, shape (N,), optional
        Whether the attack fooled each clip; failures never count. Default: all succeeded.

    Returns
    -------
    ndarray, shape (B,)
    """
    nv, b = _float_array(norms, "norms"), _float_array(budgets, "budgets")
    if nv.ndim != 1 or b.ndim != 1:
        raise ValueError(f"norms and budgets must be 1-D, got {nv.shape} and {b.shape}")
    if np.any(nv < 0):
        raise ValueError("norms must be non-negative")
    if b.size > 1 and not np.all(np.diff(b) > 0):
        raise ValueError("budgets must be sorted in strictly increasing order")
    ok = np.ones(nv.shape, dtype=bool) if success is None else _labels(success, "success") != 0
    _same_shape(nv, ok, "norms", "success")
    return np.mean(ok[None, :] & (nv[None, :] <= b[:, None]), axis=1)


def fooling_auc(budgets: ArrayLike, rates: ArrayLike) -> float:
    """Fooling-rate AUC: area under the success-rate vs budget curve, normalised to [0, 1].

    The AT paper (Sec. VI and Tables I-III) ranks attacks and victims by "the area under curve
    of the attack success" and calls an attack effective at "AUC > 0.9", without a formula.
    We read it as the trapezoidal area under the curve of success rate against perturbation
    budget (:math:`\\|\\epsilon\\|_2` in that paper), divided by the budget range so that a
    curve stuck at rate ``r`` has AUC ``r``:

    .. math:: \\mathrm{AUC} = \\frac{1}{\\epsilon_B - \\epsilon_1}
              \\int_{\\epsilon_1}^{\\epsilon_B} \\mathrm{rate}(\\epsilon)\\, d\\epsilon

    The number depends on the budget range: integrate from 0 (include budget 0) to the cap,
    e.g. ``[0, ..., 3]`` for the AT paper's Table II (:math:`\\|\\epsilon\\|_2 \\le 3`).

    Parameters
    ----------
    budgets : tensor or array, shape (B,), B >= 2
        Strictly increasing budgets.
    rates : tensor or array, shape (B,)
        Success rate at each budget, in [0, 1].

    Returns
    -------
    float in [0, 1]
    """
    b, r = _curve(budgets, rates)
    area = float(np.sum(np.diff(b) * (r[1:] + r[:-1]) / 2.0))
    return min(1.0, max(0.0, area / float(b[-1] - b[0])))


def epsilon_at_auc(budgets: ArrayLike, rates: ArrayLike, threshold: float = 0.9) -> float:
    """Smallest budget on the grid at which the fooling-rate AUC exceeds ``threshold``.

    The AT paper "allocate[s] as much budget as needed for reaching the AUC > 0.9". We read
    that as: grow the budget cap :math:`\\epsilon_k` along the grid and stop at the first
    :math:`k` with ``fooling_auc(budgets[:k+1], rates[:k+1]) > threshold``. For a
    non-decreasing rate curve this AUC never decreases as the cap grows, so the first crossing
    is the only one.

    Parameters
    ----------
    budgets, rates : tensor or array, shape (B,)
        As for :func:`fooling_auc`.
    threshold : float, default 0.9
        The AT paper's 0.9; strict inequality, as in the paper.

    Returns
    -------
    float
        The budget, or ``inf`` when the threshold is not passed on the grid (more budget is
        needed than was tried).
    """
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")
    b, r = _curve(budgets, rates)
    for k in range(1, b.size):
        if fooling_auc(b[: k + 1], r[: k + 1]) > threshold:
            return float(b[k])
    return math.inf


def epsilon_r(eps_trained: ArrayLike, eps_original: ArrayLike) -> float:
    """Perturbation ratio :math:`\\epsilon_r = |\\epsilon_a / \\epsilon_o|` (AT Eq. 15).

    :math:`\\epsilon_a` and :math:`\\epsilon_o` are the average adversarial perturbation
    (:math:`\\|\\delta\\|_2` per the study spec) needed to attack the adversarially trained and
    the original model successfully, both at fooling AUC > 0.9. ``eps_r > 1`` means
    adversarial training made the model harder to fool. Pass either the two means or the two
    arrays of per-clip norms of the *successful* adversarial examples (each is averaged).

    Parameters
    ----------
    eps_trained : float, or tensor/array of shape (N_a,)
        Perturbation size(s) on the adversarially trained model.
    eps_original : float, or tensor/array of shape (N_o,)
        Perturbation size(s) on the original model.

    Returns
    -------
    float
    """
    a = _float_array(eps_trained, "eps_trained")
    o = _float_array(eps_original, "eps_original")
    if np.any(a < 0) or np.any(o < 0):
        raise ValueError("perturbation sizes must be non-negative")
    mean_o = float(np.mean(o))
    if mean_o == 0:
        raise ValueError("eps_original averages to 0: the ratio is undefined")
    return abs(float(np.mean(a)) / mean_o)


# --------------------------------------------------------------------------- perceptual


def _ref_deg(ref: ArrayLike, deg: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r, d = _waveform(ref, "ref"), _waveform(deg, "deg")
    _same_shape(r, d, "ref", "deg")
    if r.ndim > 2:
        raise ValueError(f"ref and deg must be (T,) or (N, T), got {r.shape}")
    return r, d


def pesq_score(ref: ArrayLike, deg: ArrayLike, sample_rate: int, mode: str | None = None) -> Scalar:
    """PESQ (ITU-T P.862 MOS-LQO) of degraded against reference speech, per clip.

    The GAN paper's quality measure (its Table 2, PESQ 3.087 on the speech victim). Computed by
    the ``pesq`` PyPI package: narrow band (P.862.1) at 8 kHz, wide band (P.862.2) at 16 kHz.

    Parameters
    ----------
    ref : tensor or array, shape (T,) or (N, T)
        Clean clip(s).
    deg : tensor or array, shape like ``ref``
        Adversarial clip(s) (``ref + delta``), not the perturbation.
    sample_rate : {8000, 16000}
    mode : {"nb", "wb"}, optional
        Default ``"nb"`` at 8 kHz and ``"wb"`` at 16 kHz; ``"nb"`` at 16 kHz is allowed.

    Returns
    -------
    float or ndarray of shape (N,)
        NaN for a clip where PESQ is undefined: its voice-activity detector finds no utterance
        (silence, many non-speech sounds) or the clip is too short.

    Raises
    ------
    ValueError
        For other sample rates or modes (and bad input, as everywhere).
    ImportError
        When ``pesq`` is not installed.
    """
    default = {8000: "nb", 16000: "wb"}
    if sample_rate not in default:
        raise ValueError(f"PESQ needs sample_rate 8000 (nb) or 16000 (wb), got {sample_rate}")
    mode = default[sample_rate] if mode is None else mode
    if mode not in ("nb", "wb") or (sample_rate == 8000 and mode == "wb"):
        raise ValueError(f"mode {mode!r} is not available at {sample_rate} Hz")
    sample_rate = int(sample_rate)
    r, d = _ref_deg(ref, deg)
    try:
        from pesq import pesq
    except ImportError as e:
        raise ImportError(
            "pesq_score needs the 'pesq' package: pip install pesq (it compiles C code)"
        ) from e
    from pesq import BufferTooShortError, NoUtterancesError

    def one(ri: np.ndarray, di: np.ndarray) -> float:
        try:
            return float(pesq(sample_rate, ri, di, mode))
        except (NoUtterancesError, BufferTooShortError) as exc:
            why = "no speech found" if isinstance(exc, NoUtterancesError) else "clip too short"
            warnings.warn(f"PESQ is undefined: {why}; NaN", UndefinedMetricWarning, 3)
            return float("nan")

    if r.ndim == 1:
        return one(r, d)
    return np.array([one(ri, di) for ri, di in zip(r, d)], dtype=np.float64)


def stoi_score(ref: ArrayLike, deg: ArrayLike, sample_rate: int, extended: bool = False) -> Scalar:
    """STOI intelligibility of degraded against reference speech, per clip, in [0, 1].

    Short-Time Objective Intelligibility (Taal et al., IEEE TASLP 2011), or extended STOI
    (Jensen & Taal 2016) with ``extended=True``, computed by the ``pystoi`` package (which
    resamples to 10 kHz internally, so any rate works). Clips shorter than about 0.4 s give a
    meaningless value (pystoi warns).

    Parameters
    ----------
    ref : tensor or array, shape (T,) or (N, T)
        Clean clip(s).
    deg : tensor or array, shape like ``ref``
        Adversarial clip(s).
    sample_rate : int
    extended : bool, default False

    Returns
    -------
    float or ndarray of shape (N,)

    Raises
    ------
    ImportError
        When ``pystoi`` is not installed.
    """
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int, got {sample_rate!r}")
    r, d = _ref_deg(ref, deg)
    try:
        from pystoi import stoi
    except ImportError as e:
        raise ImportError("stoi_score needs the 'pystoi' package: pip install pystoi") from e
    if r.ndim == 1:
        return float(stoi(r, d, sample_rate, extended=extended))
    return np.array(
        [stoi(ri, di, sample_rate, extended=extended) for ri, di in zip(r, d)], dtype=np.float64
    )
