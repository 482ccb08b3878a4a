import numpy as np
import pytest
import torch
from scipy.stats import binomtest
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint, proportions_ztest

from advlib.metrics import accuracy, confusion_matrix, per_class_accuracy
from advlib.stats import (
    format_proportion,
    holm,
    mcnemar_exact,
    two_proportion_z,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("k", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (87, 100), (299, 300), (3, 7)]
)
@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_wilson_matches_statsmodels(k, n, alpha):
    lo, hi = wilson_interval(k, n, alpha)
    ref = proportion_confint(k, n, alpha=alpha, method="wilson")
    assert lo == pytest.approx(ref[0], abs=1e-12)
    assert hi == pytest.approx(ref[1], abs=1e-12)


def test_wilson_vectorised_and_edge_cases():
    k, n = np.array([0, 5, 10]), np.array([10, 10, 10])
    lo, hi = wilson_interval(k, n)
    ref = proportion_confint(k, n, method="wilson")
    assert np.allclose(lo, ref[0]) and np.allclose(hi, ref[1])
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson_interval(11, 10)
    with pytest.raises(ValueError):
        wilson_interval(1, 10, alpha=0)


def test_format_proportion():
    assert format_proportion(87, 100) == "87.0 % [79.0, 92.2]"
    assert format_proportion(0, 0) == "n/a (n = 0)"


def test_confusion_and_accuracy():
    y = np.array([0, 0, 1, 2, 2, 2])
    p = np.array([0, 1, 1, 2, 0, 2])
    cm = confusion_matrix(y, p, 3)
    assert cm.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert accuracy(p, y) == pytest.approx(4 / 6)
    assert np.allclose(per_class_accuracy(cm), [0.5, 1.0, 2 / 3])
    with pytest.raises(ValueError):
        confusion_matrix(y, p, 2)


# --------------------------------------------------------------------------- UAP App. C Z-test


@pytest.mark.parametrize(
    ("x_l", "x_h", "m"), [(587, 746, 874), (3, 5, 10), (0, 1, 50), (40, 40, 100), (99, 100, 100)]
)
def test_two_proportion_z_matches_statsmodels(x_l, x_h, m):
    z, p = two_proportion_z(x_l, x_h, m)
    ref_z, ref_p = proportions_ztest([x_l, x_h], [m, m], alternative="smaller")
    assert z == pytest.approx(ref_z, abs=1e-12)
    assert p == pytest.approx(ref_p, rel=1e-9, abs=1e-300)
    z2, p2 = two_proportion_z(x_l, x_h, m, alternative="two-sided")
    ref_z2, ref_p2 = proportions_ztest([x_l, x_h], [m, m], alternative="two-sided")
    assert z2 == pytest.approx(ref_z2, abs=1e-12) and p2 == pytest.approx(ref_p2, rel=1e-9)


def test_two_proportion_z_closed_form_and_side():
    # p_l = 0.3, p_h = 0.5, pooled 0.4: Z = -0.2 / sqrt(2 * 0.24 / 100)
    z, p = two_proportion_z(30, 50, 100)
    assert z == pytest.approx(-0.2 / np.sqrt(0.0048))
    assert p < 0.01  # H_a: p_l < p_h, lower tail
    z_rev, p_rev = two_proportion_z(50, 30, 100)
    assert z_rev == pytest.approx(-z) and p_rev == pytest.approx(1 - p)


# Rows of UAP Table 5 (p_l, p_h, Z). The paper does not print m; the test set sizes that
# reproduce every row are m = 874 (the five UrbanSound8K victims) and 158,537 (SpchCMD, the
# test set size the paper gives in Sec. 4). Counts rounded from 3-decimal proportions.
TABLE5_US8K = [
    (0.672, 0.854, -8.946),
    (0.795, 0.888, -5.323),
    (0.767, 0.877, -6.011),
    (0.899, 0.971, -6.105),
    (0.872, 0.898, -1.703),
    (0.412, 0.876, -20.257),
    (0.737, 0.858, -6.294),
    (0.669, 0.831, -7.820),
    (0.886, 0.919, -2.325),
    (0.838, 0.865, -1.587),
]
TABLE5_SPCH = [(0.850, 0.855, -3.969), (0.834, 0.875, -32.737)]


@pytest.mark.parametrize(
    ("p_l", "p_h", "z_paper", "m"),
    [(*row, 874) for row in TABLE5_US8K] + [(*row, 158_537) for row in TABLE5_SPCH],
)
def test_two_proportion_z_reproduces_uap_table5(p_l, p_h, z_paper, m):
    z, p = two_proportion_z(round(p_l * m), round(p_h * m), m)
    # rounding the counts to integers moves p by up to 0.5 / m
    assert z == pytest.approx(z_paper, rel=0.03)
    assert z < -1.58 and p < 0.057  # the paper's conclusion


def test_two_proportion_z_degenerate_and_bad_input():
    assert two_proportion_z(0, 0, 10) == (0.0, 0.5)
    assert two_proportion_z(10, 10, 10, alternative="two-sided") == (0.0, 1.0)
    assert two_proportion_z(np.int64(3), torch.tensor(5), 10) == two_proportion_z(3, 5, 10)
    for bad in [(11, 5, 10), (-1, 5, 10), (1, 2, 0), (1.5, 2, 10), (True, 1, 10)]:
        with pytest.raises(ValueError):
            two_proportion_z(*bad)
    with pytest.raises(ValueError):
        two_proportion_z(1, 2, 10, alternative="greater")


# --------------------------------------------------------------------------- McNemar


def _table(a, b):
    return [[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]]


@pytest.mark.parametrize("seed", range(6))
def test_mcnemar_matches_statsmodels_and_scipy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    a = rng.random(n) < 0.7
    b = rng.random(n) < rng.uniform(0.3, 0.9)
    res = mcnemar_exact(a, b)
    ref = mcnemar(_table(a, b), exact=True)
    assert res.b == np.sum(a & ~b) and res.c == np.sum(~a & b)
    assert res.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    if res.b + res.c:
        assert res.p_value == pytest.approx(binomtest(res.b, res.b + res.c).pvalue, rel=1e-9)


def test_mcnemar_closed_form_and_edge_cases():
    # b = 5, c = 0: p = 2 / 2**5
    a = np.array([1] * 5 + [0] * 3 + [1] * 2, dtype=bool)
    b = np.array([0] * 5 + [0] * 3 + [1] * 2, dtype=bool)
    assert mcnemar_exact(a, b) == (5, 0, pytest.approx(2 / 32))
    assert mcnemar_exact(b, a) == (0, 5, pytest.approx(2 / 32))
    assert mcnemar_exact(a, a) == (0, 0, 1.0)
    assert mcnemar_exact(torch.tensor(a), torch.tensor(b)) == mcnemar_exact(a, b)
    assert mcnemar_exact(a.astype(int), b.astype(float)) == mcnemar_exact(a, b)
    for x, y in [
        (a, b[:-1]),
        ([], []),
        (np.array([0.5, 1.0]), np.array([1, 0])),
        (np.array([np.nan, 1.0]), np.array([1, 0])),
        (np.array([2, 1]), [1, 0]),
    ]:
        with pytest.raises(ValueError):
            mcnemar_exact(x, y)


# --------------------------------------------------------------------------- Holm

HOLM_CASES = [
    [0.01, 0.04, 0.03, 0.005],
    [0.2, 0.2, 0.01, 0.5, 0.001, 0.049],
    [0.0, 1.0, 0.5],
    [0.0125, 0.0167, 0.025, 0.05],  # near the step-down thresholds for m = 4
    [0.04],
    [1e-10, 1e-10, 0.9],
]


@pytest.mark.parametrize("pvals", HOLM_CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_holm_matches_statsmodels(pvals, alpha):
    adj, rej = holm(pvals, alpha)
    ref_rej, ref_adj, _, _ = multipletests(pvals, alpha=alpha, method="holm")
    assert np.allclose(adj, ref_adj, rtol=1e-12, atol=0)
    assert rej.tolist() == ref_rej.tolist()


def test_holm_closed_form():
    adj, rej = holm([0.01, 0.04, 0.03, 0.005])
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> cummax
    assert adj.tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert rej.tolist() == [True, False, False, True]


@pytest.mark.parametrize("bad", [[], [0.1, np.nan], [0.1, 1.5], [-0.1], [[0.1, 0.2]]])
def test_holm_bad_input(bad):
    with pytest.raises(ValueError):
        holm(bad)


def test_stratified_mcnemar_is_the_exact_binomial_on_pooled_discordant_pairs():
    from scipy.stats import binomtest

    from advlib.stats import stratified_mcnemar

    r = stratified_mcnemar([2, 0, 1], [5, 3, 4])
    assert (r.b, r.c, r.strata) == (3, 12, 3)
    assert r.p_value == pytest.approx(binomtest(12, 15, 0.5, alternative="greater").pvalue)
    # one stratum is McNemar's own one-sided exact test
    one = stratified_mcnemar([4], [9])
    assert one.p_value == pytest.approx(binomtest(9, 13, 0.5, alternative="greater").pvalue)
    assert stratified_mcnemar([0, 0], [0, 0]).p_value == 1.0
    with pytest.raises(ValueError, match="one count per stratum"):
        stratified_mcnemar([1, 2], [1])
    with pytest.raises(ValueError, match="non-negative"):
        stratified_mcnemar([-1], [1])


def test_pooling_clips_decides_where_a_sign_test_over_six_comparisons_cannot():
    """Six comparisons, each with the penalty method ahead on a few clips: a sign test over
    the comparisons cannot reach 0.05 (1/64 > 0.05 needs all six; here five of six), the
    pooled McNemar over clips can."""
    from scipy.stats import binomtest

    from advlib.stats import stratified_mcnemar

    b = [1, 0, 2, 1, 0, 3]
    c = [6, 5, 7, 4, 6, 2]
    sign = binomtest(5, 6, 0.5, alternative="greater").pvalue
    assert sign > 0.05
    assert stratified_mcnemar(b, c).p_value < 0.001


def test_clustered_mean_matches_statsmodels_cluster_robust_ols():
    import statsmodels.api as sm
    from scipy.stats import t as student_t

    from advlib.stats import clustered_mean

    rng = np.random.default_rng(3)
    clusters = np.repeat(np.arange(12), rng.integers(1, 6, size=12))
    values = 0.3 + rng.normal(size=12)[clusters] + 0.5 * rng.normal(size=clusters.size)
    r = clustered_mean(values, clusters)
    fit = sm.OLS(values, np.ones((values.size, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": clusters}
    )
    assert r.estimate == pytest.approx(fit.params[0])
    assert r.se == pytest.approx(fit.bse[0], rel=1e-10)
    assert (r.n, r.clusters) == (values.size, 12)
    assert r.p_greater == pytest.approx(student_t.sf(fit.params[0] / fit.bse[0], 11))
    assert r.low < r.estimate < r.high


def test_clustered_mean_with_one_value_per_cluster_is_the_one_sample_t_test():
    from scipy.stats import ttest_1samp

    from advlib.stats import clustered_mean

    v = np.array([0.4, -0.1, 0.9, 0.3, 0.2, 0.7])
    r = clustered_mean(v, np.arange(6))
    assert r.p_greater == pytest.approx(ttest_1samp(v, 0.0, alternative="greater").pvalue)


def test_clustered_mean_counts_a_repeated_clip_once():
    """Ten copies of three clips' values carry the information of three clips, not thirty."""
    from advlib.stats import clustered_mean

    v = np.array([0.5, 0.1, 0.3])
    once = clustered_mean(v, [0, 1, 2])
    copies = clustered_mean(np.tile(v, 10), np.tile([0, 1, 2], 10))
    naive = clustered_mean(np.tile(v, 10), np.arange(30))
    assert copies.p_greater == pytest.approx(once.p_greater)
    assert naive.p_greater < copies.p_greater / 100
    with pytest.raises(ValueError, match="two clusters"):
        clustered_mean([1.0, 2.0], [0, 0])
    with pytest.raises(ValueError, match="NaN"):
        clustered_mean([1.0, np.nan], [0, 1])
