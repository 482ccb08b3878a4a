"""Statistics for honest comparisons: intervals for proportions, tests between attacks.

Every proportion the book prints carries a 95 % Wilson score interval (study spec, section 2):
E. B. Wilson, "Probable inference, the law of succession, and statistical inference",
JASA 22 (1927). Unlike the normal ("Wald") interval it stays inside [0, 1] and keeps close to
its nominal coverage for small ``n`` and for proportions near 0 or 1, which is where attack
success rates and clean accuracies live.

Comparing two attacks (study spec, section 2): :func:`two_proportion_z` is the UAP paper's
App. C test, kept to reproduce its Table 5; :func:`mcnemar_exact` is the right test when both
methods attack the same samples (paired outcomes); :func:`holm` corrects a family of p-values.
"""

from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np
from scipy.stats import binom, norm
from scipy.stats import t as student_t

__all__ = [
    "HolmResult",
    "McNemarResult",
    "StratifiedMcNemarResult",
    "ZTestResult",
    "format_proportion",
    "holm",
    "mcnemar_exact",
    "stratified_mcnemar",
    "two_proportion_z",
    "wilson_interval",
]


def wilson_interval(
    successes: int | np.ndarray, n: int | np.ndarray, alpha: float = 0.05
) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Wilson score interval for ``successes`` out of ``n`` at level ``1 - alpha``.

    .. math::
        \\frac{\\hat p + z^2/2n \\pm z\\sqrt{\\hat p(1-\\hat p)/n + z^2/4n^2}}{1 + z^2/n}

    Works elementwise on arrays. ``n == 0`` gives ``(0, 1)``: nothing is known.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    if np.any(k < 0) or np.any(k > m) or np.any(m < 0):
        raise ValueError("need 0 <= successes <= n")
    z = norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(m > 0, k / m, 0.0)
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
        lo = np.where(m > 0, np.clip(centre - half, 0, 1), 0.0)
        hi = np.where(m > 0, np.clip(centre + half, 0, 1), 1.0)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def format_proportion(successes: int, n: int, *, percent: bool = True, digits: int = 1) -> str:
    """``"87.5 % [84.1, 90.3]"``: the proportion with its 95 % Wilson interval."""
    if n == 0:
        return "n/a (n = 0)"
    lo, hi = wilson_interval(successes, n)
    scale, unit = (100.0, " %") if percent else (1.0, "")
    p = successes / n
    f = f"{{:.{digits}f}}"
    return f"{f.format(p * scale)}{unit} [{f.format(lo * scale)}, {f.format(hi * scale)}]"


class ZTestResult(NamedTuple):
    """Result of :func:`two_proportion_z`; unpacks as ``z, p_value``."""

    z: float
    p_value: float


class McNemarResult(NamedTuple):
    """Result of :func:`mcnemar_exact`; unpacks as ``b, c, p_value``."""

    b: int
    c: int
    p_value: float


class HolmResult(NamedTuple):
    """Result of :func:`holm`; unpacks as ``p_adjusted, reject`` (both in input order)."""

    p_adjusted: np.ndarray
    reject: np.ndarray


def _count(value: int | np.integer, name: str) -> int:
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be an integer count, got {value!r}")
    try:
        return operator.index(value)
    except TypeError as e:
        raise ValueError(f"{name} must be an integer count, got {value!r}") from e


def two_proportion_z(x_l: int, x_h: int, m: int, alternative: str = "less") -> ZTestResult:
    """Two-proportion Z-test of the UAP paper, App. C (Abdoli et al., Table 5).

    .. math:: Z = \\frac{\\hat p_l - \\hat p_h}{\\sqrt{2 \\hat p (1 - \\hat p) / m}},
              \\qquad \\hat p = \\frac{X_l + X_h}{2m}

    with :math:`X_l, X_h` the successes of the method with the lower / higher ASR, each out of
    the same ``m`` test samples (the pooled-variance test for equal sample sizes). The paper
    tests :math:`H_0: p_l = p_h` against :math:`H_a: p_l < p_h` and rejects when
    :math:`Z < -z_\\alpha`; the matching one-sided p-value is the lower tail
    :math:`\\Phi(Z)`: it is small when Z is very negative. (Table 5: all Z below -1.58.)

    The test treats the two success counts as independent samples. When both methods attack
    the same samples, :func:`mcnemar_exact` is the correct (paired) test.

    Parameters
    ----------
    x_l, x_h : int
        Successful samples of the lower- and higher-ASR method, ``0 <= x <= m``.
    m : int
        Samples attacked by each method.
    alternative : {"less", "two-sided"}, default "less"
        ``"less"``: the paper's :math:`H_a: p_l < p_h`, p-value :math:`\\Phi(Z)`.
        ``"two-sided"``: :math:`2\\,\\Phi(-|Z|)`.

    Returns
    -------
    ZTestResult
        ``(z, p_value)``. When both methods succeed on none or on all samples the variance is
        zero and so is the difference: we return ``z = 0`` and the p-value of ``Z = 0``
        (0.5 one-sided, 1 two-sided) rather than NaN.
    """
    x_l, x_h, m = _count(x_l, "x_l"), _count(x_h, "x_h"), _count(m, "m")
    if m <= 0:
        raise ValueError(f"m must be positive, got {m}")
    if not (0 <= x_l <= m and 0 <= x_h <= m):
        raise ValueError(f"need 0 <= x_l, x_h <= m, got {x_l}, {x_h}, {m}")
    if alternative not in ("less", "two-sided"):
        raise ValueError(f"alternative must be 'less' or 'two-sided', got {alternative!r}")
    p = (x_l + x_h) / (2 * m)
    var = 2 * p * (1 - p) / m
    z = 0.0 if var == 0 else (x_l / m - x_h / m) / np.sqrt(var)
    pval = norm.cdf(z) if alternative == "less" else 2 * norm.sf(abs(z))
    return ZTestResult(float(z), float(pval))


def _booleans(a: object, name: str) -> np.ndarray:
    if hasattr(a, "detach"):  # torch.Tensor, without importing torch here
        a = a.detach().cpu().numpy()
    arr = np.asarray(a)
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    if arr.dtype.kind not in "biuf" or not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold booleans (or 0/1)")
    return arr.astype(bool).ravel()


def mcnemar_exact(a_success: object, b_success: object) -> McNemarResult:
    """McNemar's exact test for two attacks run on the same samples (paired outcomes).

    Only discordant pairs carry information: ``b`` = samples where A succeeds and B fails,
    ``c`` = B succeeds and A fails. Under :math:`H_0` (equal success probability)
    :math:`b \\sim \\mathrm{Bin}(b + c, 1/2)`; the two-sided exact p-value is
    :math:`\\min(1, 2\\,P[\\mathrm{Bin}(b+c, 1/2) \\le \\min(b, c)])` (McNemar 1947;
    the exact binomial form as in ``statsmodels``' ``mcnemar(exact=True)``). The study spec
    asks for it beside the UAP paper's unpaired Z-test (App. C).

    Parameters
    ----------
    a_success, b_success : bool tensor or array, shape (N,)
        Whether attack A / attack B fooled each sample, aligned sample by sample.

    Returns
    -------
    McNemarResult
        ``(b, c, p_value)``; ``p_value = 1`` when there are no discordant pairs.
    """
    a, b_ = _booleans(a_success, "a_success"), _booleans(b_success, "b_success")
    if a.shape != b_.shape:
        raise ValueError(f"shapes differ: a_success {a.shape} vs b_success {b_.shape}")
    b = int(np.count_nonzero(a & ~b_))
    c = int(np.count_nonzero(~a & b_))
    if b + c == 0:
        return McNemarResult(b, c, 1.0)
    pval = min(1.0, 2.0 * float(binom.cdf(min(b, c), b + c, 0.5)))
    return McNemarResult(b, c, pval)


class StratifiedMcNemarResult(NamedTuple):
    b: int  # pooled discordant pairs where A succeeds and B fails
    c: int  # pooled discordant pairs where B succeeds and A fails
    p_value: float  # one-sided: B succeeds more often than A
    strata: int


def stratified_mcnemar(b: object, c: object) -> StratifiedMcNemarResult:
    r"""One-sided exact McNemar test over clips pooled across strata (victims, scenarios).

    ``b[s]``, ``c[s]``: the discordant pairs of stratum ``s`` (A only, B only), as
    :func:`mcnemar_exact` counts them. Under :math:`H_0` (in every stratum, a discordant clip is
    as likely to favour A as B) the pooled :math:`C = \sum_s c_s` is
    :math:`\mathrm{Bin}(\sum_s (b_s + c_s), 1/2)`: the Mantel-Haenszel test for matched
    pairs, which reduces to McNemar's on the pooled discordant pairs (Mantel & Haenszel 1959;
    Agresti, *Categorical Data Analysis*, 3rd ed., Sec. 11.1). The p-value is
    :math:`P[\mathrm{Bin}(n, 1/2) \ge C]`, against "B is no better than A"; it uses every
    clip, where a sign test over strata uses one bit per stratum.
    """
    bb = np.asarray(b, dtype=np.int64).ravel()
    cc = np.asarray(c, dtype=np.int64).ravel()
    if bb.shape != cc.shape:
        raise ValueError(f"b and c need one count per stratum: {bb.shape} vs {cc.shape}")
    if (bb < 0).any() or (cc < 0).any():
        raise ValueError("discordant counts must be non-negative")
    B, C = int(bb.sum()), int(cc.sum())
    if B + C == 0:
        return StratifiedMcNemarResult(B, C, 1.0, len(bb))
    return StratifiedMcNemarResult(B, C, float(binom.sf(C - 1, B + C, 0.5)), len(bb))


class ClusteredMeanResult(NamedTuple):
    estimate: float  # the mean of the values
    se: float  # its cluster-robust standard error
    low: float  # two-sided 95 % interval (t with clusters - 1 degrees of freedom)
    high: float
    p_greater: float  # one-sided: the mean exceeds 0
    n: int  # values
    clusters: int


def clustered_mean(values: object, clusters: object) -> ClusteredMeanResult:
    r"""The mean of ``values`` and a one-sided test of "mean > 0" when values come in clusters.

    Observations of one cluster (one clip attacked in several cells and by several attacks) are
    not independent, so the standard error is the cluster-robust (sandwich) one of Liang &
    Zeger (Biometrika 73, 1986) with the usual small-sample factor (CR1, as ``statsmodels``'
    ``OLS(...).fit(cov_type="cluster")``):
    :math:`\mathrm{se}^2 = \frac{G}{G-1}\frac{1}{N^2}\sum_g \big(\sum_{i \in g}
    (v_i - \bar v)\big)^2`, with :math:`G` clusters of :math:`N` values; the test and the
    interval use Student's t with :math:`G - 1` degrees of freedom
    (Cameron & Miller, J. Human Resources 50, 2015, Sec. VI). With one value per cluster it is
    the one-sample t-test. Needs two clusters or more.
    """
    v = np.asarray(values, dtype=float).ravel()
    g = np.asarray(clusters).ravel()
    if v.shape != g.shape:
        raise ValueError(f"values and clusters differ in length: {v.size} vs {g.size}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values contain NaN or infinite values")
    _, codes = np.unique(g, return_inverse=True)
    G, N = int(codes.max()) + 1 if v.size else 0, v.size
    if G < 2:
        raise ValueError(f"need values from at least two clusters, got {G}")
    mean = float(v.mean())
    sums = np.bincount(codes, weights=v - mean, minlength=G)
    se = float(np.sqrt(G / (G - 1) * float(np.sum(sums**2))) / N)
    q = float(student_t.ppf(0.975, G - 1))
    if se == 0.0:
        p = 0.0 if mean > 0 else 1.0
    else:
        p = float(student_t.sf(mean / se, G - 1))
    return ClusteredMeanResult(mean, se, mean - q * se, mean + q * se, p, N, G)


def holm(pvalues: object, alpha: float = 0.05) -> HolmResult:
    """Holm's step-down correction for a family of tests (Holm, Scand. J. Stat. 6, 1979).

    With the ``m`` p-values sorted, :math:`p_{(1)} \\le \\dots \\le p_{(m)}`, the adjusted
    values are :math:`\\tilde p_{(i)} = \\max_{j \\le i} \\min(1, (m - j + 1)\\, p_{(j)})`;
    hypotheses are rejected in order while :math:`p_{(i)} \\le \\alpha / (m - i + 1)`. It
    controls the family-wise error rate at ``alpha`` under any dependence (study spec, §2: the
    family of iterative-vs-penalty comparisons of UAP Table 5).

    Parameters
    ----------
    pvalues : array-like, shape (m,)
        Raw p-values in [0, 1].
    alpha : float, default 0.05
        Family-wise error rate.

    Returns
    -------
    HolmResult
        ``(p_adjusted, reject)``, arrays in the input order.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"pvalues must be a non-empty 1-D array, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("pvalues contain NaN or infinite values")
    if np.any(p < 0) or np.any(p > 1):
        raise ValueError("pvalues must lie in [0, 1]")
    m = p.size
    order = np.argsort(p, kind="stable")
    ps = p[order]
    factors = np.arange(m, 0, -1)
    adj_sorted = np.minimum(1.0, np.maximum.accumulate(ps * factors))
    passes = ps <= alpha / factors
    stop = np.flatnonzero(~passes)
    rej_sorted = np.ones(m, dtype=bool)
    if stop.size:
        rej_sorted[stop[0] :] = False
    adjusted, reject = np.empty(m), np.empty(m, dtype=bool)
    adjusted[order], reject[order] = adj_sorted, rej_sorted
    return HolmResult(adjusted, reject)
