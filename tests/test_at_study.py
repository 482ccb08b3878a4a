"""The AT chapter's helpers (advlib.chapters.at): images, cached (adversarial) fits, the budget
sweep, the AUC / eps_r / significance tables and the profile helpers.

The tables are checked on hand-built results with known answers (the empirical CDF's integral,
McNemar's discordant counts); the fits and attacks on a tiny ResNet-56 (depth 8, width 0.25) on
16 x 16 images of the synthetic set.
"""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import wilcoxon

from advlib.cache import Cache
from advlib.chapters import at as ats
from advlib.chapters import load_profile
from advlib.data import load_dataset
from advlib.metrics import epsilon_at_auc, epsilon_r
from advlib.models.registry import build_victim
from advlib.stats import holm, mcnemar_exact, two_proportion_z
from advlib.study.paper_numbers import load_paper_numbers

pytestmark = pytest.mark.usefixtures("one_thread")

KNOBS = {"width": 0.25, "depth": 8, "image_size": [16, 16], "n_fft": 256, "hop_length": 64,
         "dwt_levels": 4, "tonnetz_rows": 4, "representation": "dwt_tonnetz"}  # fmt: skip
TRAIN = {"epochs": 10, "batch_size": 8, "lr": 1e-2}
BUDGETS = [0.05, 0.15, 0.3]
BIM = {"bim": {"attack": "bim", "targeted": True, "budgets": BUDGETS,
               "settings": {"steps": 5, "norm": 2, "variant": "b"}}}  # fmt: skip


@pytest.fixture(scope="module")
def data():
    d = load_dataset("synthetic", clips_per_class=8, sample_rate=8000, duration=0.5)
    return d.with_fold_split(5, 4)


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory):
    cache = Cache(tmp_path_factory.mktemp("at_cache"))
    return cache, ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN, progress=False)


# --------------------------------------------------------------------------------------------
# images
# --------------------------------------------------------------------------------------------


def test_representation_data_images_bounds_and_waves(data):
    torch.manual_seed(0)
    knobs = {k: v for k, v in KNOBS.items() if k not in ("width", "depth")}
    frontend = build_victim("resnet56", data.n_classes, data.length, **knobs, depth=8)[0].eval()
    rep = ats.representation_data(frontend, data)
    images = {}
    with torch.no_grad():
        for split in ("train", "valid", "test"):
            part = data.part(split)
            images[split] = frontend(part.x)
            got = getattr(rep, split)
            assert isinstance(got, ats.Images) and len(got) == len(part)
            torch.testing.assert_close(got.x, images[split], rtol=1e-5, atol=1e-5)
            assert torch.equal(got.y, part.y) and got.n_classes == data.n_classes
    lo = min(float(x.min()) for x in images.values())
    hi = max(float(x.max()) for x in images.values())
    assert rep.bounds == pytest.approx((lo, hi), abs=1e-5)
    assert rep.scale == pytest.approx(hi - lo) and rep.scale > 0
    # the extremes need not lie in the test part: bounds span every partition
    for split in ("train", "valid", "test"):
        x = getattr(rep, split).x
        assert float(x.min()) >= rep.bounds[0] and float(x.max()) <= rep.bounds[1]
    assert torch.equal(rep.waves, data.part("test").x)
    assert rep.classes == data.classes
    with pytest.raises(ValueError, match="valid partition is empty"):
        ats.representation_data(frontend, data.subset(data.split != "valid"))


# --------------------------------------------------------------------------------------------
# fits
# --------------------------------------------------------------------------------------------

FGSM = {"method": "fgsm", "eps": 0.05, "epochs": 2, "monitor": {"n": 6, "eps": 0.05, "steps": 2}}


def _params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _no_seconds(history):
    return [{k: v for k, v in h.items() if k != "seconds"} for h in history]


def test_fit_cell_is_deterministic_and_cached(data, fitted, tmp_path):
    _, original = fitted
    fits = []
    for name in ("a", "b"):
        cache = Cache(tmp_path / name)
        f = ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN, adversarial=FGSM,
                         progress=False)  # fmt: skip
        assert not f.cached and not f.original.cached
        assert [e.kind for e in cache.events] == ["at_classifier", "at_classifier"]
        fits.append(f)
    a, b = fits
    assert a.kind == "fgsm" and a.original.kind == "original" and a.cache_key == b.cache_key
    for (k, va), vb in zip(a.classifier.state_dict().items(),
                           b.classifier.state_dict().values(), strict=True):  # fmt: skip
        assert torch.equal(va, vb), k
    assert _no_seconds(a.history) == _no_seconds(b.history)
    assert len(a.history) == 2
    for row in a.history:  # the robust-accuracy monitor ran every epoch
        assert 0 <= row["valid_fgsm_acc"] <= 1 and 0 <= row["valid_pgd_acc"] <= 1
    assert a.adversarial == {"alpha": 0.0, "init": "original", **FGSM}
    # the original of the FGSM fit is the plain fit of the same cell (same key, same weights)
    assert a.original.cache_key == original.cache_key
    assert a.original.test_acc == original.test_acc
    # same call again: both entries are hits
    cache = Cache(tmp_path / "a")
    c = ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN, adversarial=FGSM,
                     progress=False)  # fmt: skip
    assert c.cached and c.original.cached and c.cache_key == a.cache_key
    assert [e.hit for e in cache.events] == [True, True]
    assert _no_seconds(c.history) == _no_seconds(a.history) and c.test_acc == a.test_acc
    # another seed is another entry
    d = ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN, adversarial=FGSM, seed=1,
                     progress=False)  # fmt: skip
    assert not d.cached and d.cache_key != a.cache_key


def test_a_cached_fit_computes_no_image_until_one_is_used(data, fitted):
    """A fit read from the cache brings its test accuracy and the images' bounds in its
    record: a page reading fits and attack results computes no image (at the paper's size
    70 GB per representation of UrbanSound8K); the images come when something needs them."""
    cache, original = fitted
    ats.forget_representations()
    again = ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN, progress=False)
    assert again.cached and not again.data.computed
    assert again.test_acc == original.test_acc and again.data.bounds == original.data.bounds
    assert again.data.scale == original.data.scale
    assert len(again.data.test) == len(data.part("test"))
    first = ats.attack_cell(cache, original, BIM, n=4, seed=0, progress=False)
    ats.forget_representations()
    again = ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN, progress=False)
    read = ats.attack_cell(cache, again, BIM, n=4, seed=0, progress=False)  # a cache hit
    assert not again.data.computed
    pd.testing.assert_frame_equal(read, first)
    torch.testing.assert_close(again.data.test.x, original.data.test.x)  # computed on use
    assert again.data.computed


def test_fgsm_fine_tuning_starts_from_the_original_weights(data, fitted):
    cache, original = fitted
    still = {"method": "fgsm", "eps": 0.05, "epochs": 1, "lr": 1e-9}
    tuned = ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN, adversarial=still,
                         progress=False)  # fmt: skip
    scratch = ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN,
                           adversarial={**still, "init": "scratch"}, progress=False)  # fmt: skip
    assert tuned.original.cached and tuned.original.cache_key == original.cache_key
    p_orig, p_tuned, p_scratch = (_params(f.classifier) for f in (original, tuned, scratch))
    # Adam moves each weight by about lr per step: fine-tuning stays at the original weights
    assert max(float((p_tuned[k] - v).abs().max()) for k, v in p_orig.items()) < 1e-6
    # from scratch it stays at the seeded initial weights, far from the trained ones
    assert max(float((p_scratch[k] - v).abs().max()) for k, v in p_orig.items()) > 1e-3
    torch.manual_seed(0)
    init = build_victim("resnet56", data.n_classes, data.length, **KNOBS)[1]
    assert max(float((p_scratch[k] - v).abs().max()) for k, v in _params(init).items()) < 1e-6
    assert scratch.cache_key != tuned.cache_key


@pytest.mark.parametrize(
    ("adversarial", "match"),
    [
        ({"method": "fgsm", "eps": 0}, "eps"),
        ({"method": "fgsm", "eps": 2}, "eps"),
        ({"method": "fgsm", "eps": 0.1, "epz": 1}, "unknown adversarial"),
        ({"method": "fgsm", "eps": 0.1, "init": "x"}, "init"),
        ({"method": "nope", "eps": 0.1}, "method"),
    ],
)
def test_fit_cell_refuses_bad_adversarial_settings(data, fitted, adversarial, match):
    cache, _ = fitted
    with pytest.raises(ValueError, match=match):
        ats.fit_cell(cache, data, "resnet56", knobs=KNOBS, train=TRAIN, adversarial=adversarial,
                     progress=False)  # fmt: skip


def test_fit_cell_refuses_other_victims(data, tmp_path):
    with pytest.raises(ValueError, match="not one of the AT paper"):
        ats.fit_cell(Cache(tmp_path), data, "cnn1d_rand", progress=False)
    with pytest.raises(ValueError, match="nope"):
        ats.fit_cell(Cache(tmp_path), data, "nope", progress=False)


def test_training_adversaries_work_in_paper_scale():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 3)).eval()
    x = torch.rand(5, 1, 3, 4)  # in [0, 1], well inside the box (-1, 3)
    y = torch.arange(5) % 3
    bounds, scale = (-1.0, 3.0), 4.0
    fgsm = ats._adversary({"method": "fgsm", "eps": 0.05}, scale, bounds, 0)
    d = (fgsm(model, x, y, targeted=False) - x).abs()
    torch.testing.assert_close(d, torch.full_like(d, 0.05 * scale))
    pgd = ats._adversary({"method": "pgd", "eps": 0.05, "steps": 3}, scale, bounds, 0)
    d = (pgd(model, x, y, targeted=False) - x).abs()
    assert float(d.max()) <= 0.05 * scale + 1e-6 and float(d.max()) > 0.05 * scale / 2
    assert pgd.keywords["step_size"] == pytest.approx(2.5 / 3 * 0.05 * scale)
    assert pgd.keywords["early_stop"] is False


def test_table_one_accuracy_and_drop():
    orig = SimpleNamespace(test_acc=0.8)
    fits = [
        SimpleNamespace(representation="stft", arch="resnet56", kind="fgsm", test_acc=0.7,
                        original=orig),
        SimpleNamespace(representation="stft", arch="resnet56", kind="original", test_acc=0.8,
                        original=None),
    ]  # fmt: skip
    t = ats.table_one(fits)
    assert len(t) == 1
    row = t.iloc[0]
    assert row["accuracy"] == pytest.approx(80.0) and row["trained accuracy"] == pytest.approx(70.0)
    assert row["drop"] == pytest.approx(10.0)


def test_robust_accuracy_is_cached_and_falls_with_the_budget(fitted):
    cache, fit = fitted
    n = len(fit.data.test)
    clean = ats._test_acc(fit.classifier, fit.data.test)
    tiny = ats.robust_accuracy(cache, fit, 1e-7, steps=2, progress=False)
    assert tiny == pytest.approx(clean)
    before = len(cache.events)
    big = ats.robust_accuracy(cache, fit, 0.5, steps=3, progress=False)
    again = ats.robust_accuracy(cache, fit, 0.5, steps=3, progress=False)
    assert big == again and big <= clean and (big * n) == pytest.approx(round(big * n))
    assert [e.hit for e in cache.events[before:]] == [False, True]


# --------------------------------------------------------------------------------------------
# attacks: the budget sweep
# --------------------------------------------------------------------------------------------


def test_targets_are_wrong_labels_and_seeded():
    y = torch.arange(200) % 7
    t = ats._targets(y, 7, seed=3)
    assert (t != y).all() and (t >= 0).all() and (t < 7).all()
    assert torch.equal(t, ats._targets(y, 7, seed=3))
    assert not torch.equal(t, ats._targets(y, 7, seed=4))
    assert len(set(((t - y) % 7).tolist())) == 6  # every wrong label is drawn


def test_budget_sweep_keeps_each_clips_first_success(fitted):
    cache, fit = fitted
    res = ats.attack_cell(cache, fit, BIM, progress=False)
    n = len(fit.data.test)
    assert len(res) == n and list(res["clip"]) == list(range(n))
    assert (res["attack"] == "bim").all() and res["attacked"].all()
    y = fit.data.test.y
    assert res["label"].tolist() == y.tolist()
    assert res["target"].tolist() == ats._targets(y, fit.data.test.n_classes, 0).tolist()
    ok = res["success"].to_numpy()
    assert 0 < ok.sum() < n, "the test needs both fooled and unfooled clips"
    won = res[ok]
    # (to 1e-12: the cache's JSON round trip moves floats by an ulp; see the test below)
    assert all(np.isclose(BUDGETS, b, rtol=1e-12).any() for b in won["budget"])
    assert won["budget"].round(12).nunique() >= 2
    # BIM projects on the L2 ball of the budget; sizes are in paper scale (image L2 / scale)
    assert (won["l2"] <= won["budget"] * (1 + 1e-4)).all()
    assert (won["linf"] <= won["l2"] + 1e-9).all()
    # variant b ends on the ball: a budget not rescaled to the images would show here
    assert (won["l2"] / won["budget"]).max() == pytest.approx(1.0, rel=1e-3)
    lost = res[~ok]
    assert lost["l2"].isna().all() and lost["linf"].isna().all() and lost["budget"].isna().all()
    # each budget alone: a clip's sweep budget is the first one that fools it, and its size is
    # that of the single-budget run
    single = {}
    for b in BUDGETS:
        cfg = {"bim": {**BIM["bim"], "budgets": [b]}}
        single[b] = ats.attack_cell(cache, fit, cfg, progress=False).set_index("clip")
    for clip, row in res.set_index("clip").iterrows():
        first = next((b for b in BUDGETS if single[b].loc[clip, "success"]), None)
        if first is None:
            assert not row["success"], clip
        else:
            assert row["success"] and row["budget"] == pytest.approx(first, rel=1e-12), clip
            assert row["l2"] == pytest.approx(single[first].loc[clip, "l2"], rel=1e-4), clip
    # a second call is served from the cache, with the same table
    before = len(cache.events)
    again = ats.attack_cell(cache, fit, BIM, progress=False)
    assert [e.hit for e in cache.events[before:]] == [True]
    pd.testing.assert_frame_equal(again, res)
    # n clips only, and a new entry
    few = ats.attack_cell(cache, fit, BIM, n=3, progress=False)
    assert len(few) == 3 and not cache.events[-1].hit
    with pytest.raises(ValueError, match="domain"):
        ats.attack_cell(cache, fit, BIM, domain="spectrum", progress=False)


def test_attack_tables_keep_budgets_exactly_through_the_cache(fitted):
    # A clip's budget is one of the configured budgets, bit for bit, so that tables can be
    # filtered on it (``res["budget"] == 0.3``). advlib/cache.py writes DataFrames with
    # ``to_json(double_precision=15)`` and reads them with ``read_json`` without
    # ``precise_float=True``: 0.3 comes back as 0.30000000000000004.
    cache, fit = fitted
    res = ats.attack_cell(cache, fit, BIM, progress=False)
    won = res[res["success"]]
    assert set(won["budget"]) <= set(BUDGETS)


def test_scaled_settings():
    s = ats._scaled_settings(
        {"settings": {"eps": 0.1, "step_size": 0.01, "sigma": 0.2, "theta": 0.5, "steps": 7}},
        4.0, (0.0, 4.0),
    )  # fmt: skip
    assert s.pop("bounds") == (0.0, 4.0) and s.pop("steps") == 7
    assert s == pytest.approx({"eps": 0.4, "step_size": 0.04, "sigma": 0.8, "theta": 2.0})
    assert set(ats.SCALED_SETTINGS) == {"eps", "step_size", "sigma", "theta"}


# --------------------------------------------------------------------------------------------
# tables on hand-built results
# --------------------------------------------------------------------------------------------


def _rows(attack, kind, l2, success=None, attacked=None, **keys):
    l2 = np.asarray(l2, dtype=float)
    success = ~np.isnan(l2) if success is None else np.asarray(success, dtype=bool)
    attacked = np.ones(len(l2), bool) if attacked is None else np.asarray(attacked, dtype=bool)
    return pd.DataFrame({**keys, "kind": kind, "attack": attack, "clip": np.arange(len(l2)),
                         "attacked": attacked, "success": success, "l2": l2})  # fmt: skip


CELL = {"representation": "dwt_tonnetz", "arch": "resnet56"}


def test_budget_grid():
    g = ats.budget_grid(3.0)
    assert len(g) == 31 and g[0] == 0 and g[-1] == 3.0 and np.allclose(np.diff(g), 0.1)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="cap"):
            ats.budget_grid(bad)


def test_auc_table_is_the_normalised_integral_of_the_success_cdf():
    cap, l2 = 3.0, [0.5, 1.0, 1.5, 2.0]
    nan = np.nan
    res = pd.concat([
        _rows("bim_a", "original", l2, **CELL),
        # 4 failures and a success beyond the cap count in the denominator; 2 unattacked don't
        _rows("deepfool", "original", l2 + [nan] * 4 + [4.0, nan, nan],
              attacked=[True] * 9 + [False] * 2, **CELL),
        _rows("bim_a", "fgsm", [0.25, 1.05, nan, 2.95], **CELL),
    ], ignore_index=True)  # fmt: skip
    t = ats.auc_table(res, cap)
    assert len(t) == 3 and list(t.columns[:4]) == ["representation", "arch", "kind", "attack"]
    assert "clip" not in t.columns
    t = t.set_index(["kind", "attack"])
    h = cap / 30  # the grid's step
    # exact: (1 / cap) * integral_0^cap F(e) de = (1 / (n cap)) * sum over successes (cap - l2)
    exact = np.mean([cap - v for v in l2]) / cap
    assert exact == pytest.approx(0.58333, abs=1e-5)
    clean = t.loc[("original", "bim_a")]
    # the trapezoid on a 0.1 grid is off by at most half a step per jump
    assert abs(clean["auc"] - exact) <= h / (2 * cap) + 1e-9
    assert clean["auc"] != pytest.approx(exact, abs=1e-4)  # (the bound is used, not an equality)
    assert clean["rate_at_cap"] == 1.0 and clean["n"] == 4
    assert clean["mean_l2"] == pytest.approx(1.25)
    df = t.loc[("original", "deepfool")]
    assert df["n"] == 9 and df["rate_at_cap"] == pytest.approx(4 / 9)
    assert df["auc"] == pytest.approx(clean["auc"] * 4 / 9)
    assert df["mean_l2"] == pytest.approx(np.mean([*l2, 4.0]))  # every success, even beyond
    ft = t.loc[("fgsm", "bim_a")]
    exact = sum(cap - v for v in (0.25, 1.05, 2.95)) / (4 * cap)
    assert abs(ft["auc"] - exact) <= h / (2 * cap) + 1e-9
    assert ft["rate_at_cap"] == 0.75 and ft["n"] == 4


def test_eps_r_table_known_ratio_and_auc_reach():
    n = 10
    res = pd.concat([_rows("bim_a", "original", [1.0] * n, **CELL),
                     _rows("bim_a", "fgsm", [2.0] * n, **CELL),
                     _rows("cw_l2", "original", [1.0] * n, **CELL),
                     _rows("cw_l2", "fgsm", [2.0] * 5 + [np.nan] * 5, **CELL),
                     _rows("jsma", "fgsm", [2.0] * n, **CELL)],  # no original: no row
                    ignore_index=True)  # fmt: skip
    t = ats.eps_r_table(res).set_index("attack")
    assert list(t.index) == ["bim_a", "cw_l2"] and (t["kind"] == "fgsm").all()
    full = t.loc["bim_a"]
    assert full["eps_o"] == 1.0 and full["eps_a"] == 2.0 and full["eps_r"] == 2.0
    assert full["eps_r"] == pytest.approx(epsilon_r([2.0] * n, [1.0] * n))
    # a step at e reaches AUC 0.9 on [0, cap] once (cap - e) / cap > 0.9: cap just below 10 e
    # (the trapezoid adds half a grid step of 40 / 800)
    assert 9.7 <= full["eps_auc_o"] <= 10.05 and 19.7 <= full["eps_auc_a"] <= 20.05
    grid = np.linspace(0, 40, 801)
    assert full["eps_auc_o"] == epsilon_at_auc(grid, (grid >= 1.0).astype(float))
    assert bool(full["both_auc"])
    half = t.loc["cw_l2"]  # half the clips never fooled: the AUC stays below 0.5
    assert half["eps_r"] == 2.0 and half["eps_auc_a"] == np.inf
    assert not bool(half["both_auc"])


def test_significance_table_paired_tests():
    cap, nan = 3.0, np.nan
    # clip 18: fooled on the original, but beyond the cap
    o_l2 = [0.1 * (i + 1) for i in range(10)] + [0.5] * 6 + [0.5, nan, 3.5, nan, nan]
    a_l2 = (
        [0.1 * (i + 1) * (1.5 + 0.1 * i) for i in range(10)] + [nan] * 6 + [4.0, 1.0, nan, nan, 1.0]
    )
    o_att = [True] * 20 + [False]  # clip 20 was not attacked on the original: not paired
    res = pd.concat([
        _rows("bim_a", "original", o_l2, attacked=o_att, **CELL),
        _rows("bim_a", "fgsm", a_l2, **CELL),
        _rows("deepfool", "original", [1.0] * 8, **CELL),
        _rows("deepfool", "fgsm", [1.0] * 8, **CELL),
    ], ignore_index=True)  # fmt: skip
    t = ats.significance_table(res, cap).set_index("attack")
    row = t.loc["bim_a"]
    so = np.array([1] * 17 + [0] * 3, bool)  # success within the cap, clips 0-19
    sa = np.array([1] * 10 + [0] * 7 + [1, 0, 0], bool)  # clip 16: fooled beyond the cap
    assert row["n"] == 20 and row["kind"] == "fgsm"
    assert row["rate original"] == pytest.approx(0.85)
    assert row["rate trained"] == pytest.approx(0.55)
    mc = mcnemar_exact(sa, so)
    assert (mc.b, mc.c) == (1, 7)
    assert row["p (McNemar)"] == pytest.approx(2 * 9 / 256) == pytest.approx(mc.p_value)
    try:
        from statsmodels.stats.contingency_tables import mcnemar
    except ImportError:
        pass
    else:
        table = [[int((sa & so).sum()), 1], [7, int((~sa & ~so).sum())]]
        assert row["p (McNemar)"] == pytest.approx(mcnemar(table, exact=True).pvalue)
    z = two_proportion_z(11, 17, 20)
    assert row["z"] == pytest.approx(z.z) and row["p (Z, one-sided)"] == pytest.approx(z.p_value)
    # sizes over the clips fooled on both (whatever the cap): 0-9 and 16
    both = [*range(10), 16]
    lo, la = np.array(o_l2)[both], np.array(a_l2)[both]
    assert row["both fooled"] == 11
    want = wilcoxon(la, lo, alternative="greater").pvalue
    assert row["p (Wilcoxon, larger l2)"] == pytest.approx(want)
    assert row["median l2 ratio"] == pytest.approx(np.median(la / lo))
    same = t.loc["deepfool"]
    assert same["p (McNemar)"] == 1.0 and np.isnan(same["p (Wilcoxon, larger l2)"])
    h = holm(t["p (McNemar)"].to_numpy())
    np.testing.assert_allclose(t["p Holm"], h.p_adjusted)
    assert list(t["reject"]) == list(h.reject)


# --------------------------------------------------------------------------------------------
# the profile's section and the paper's numbers
# --------------------------------------------------------------------------------------------


def test_cell_knobs_merge_frontend_arch_and_representation():
    at = {
        "frontend": {"image_size": [32, 32], "n_fft": 512},
        "archs": {"alexnet": {"width": 0.25, "image_size": [64, 64]}, "resnet56": None},
    }
    assert ats.cell_knobs(at, "alexnet", "stft") == {
        "image_size": [64, 64], "n_fft": 512, "width": 0.25, "representation": "stft"
    }  # fmt: skip
    assert ats.cell_knobs(at, "resnet56", "dwt") == {
        "image_size": [32, 32], "n_fft": 512, "representation": "dwt"
    }  # fmt: skip
    assert ats.cell_knobs({"archs": {"vgg16": {"width": 1}}}, "vgg16", "dwt") == {
        "width": 1, "representation": "dwt"
    }  # fmt: skip
    # the CWT knobs reach the CWT cells only (the other cells keep their knobs and cache keys)
    at["frontend"]["cwt_scales"] = 16
    assert ats.cell_knobs(at, "resnet56", "dwt") == {
        "image_size": [32, 32], "n_fft": 512, "representation": "dwt"
    }  # fmt: skip
    assert ats.cell_knobs(at, "resnet56", "cwt_tonnetz")["cwt_scales"] == 16


def test_table_cells_are_the_listed_cells_or_every_pair_in_table_order():
    at = {
        "representations": ["stft", "dwt_tonnetz"],
        "archs": {"resnet56": {}, "alexnet": {}},
        "datasets": {"a": {"folds": [[5, 4]]},
                     "b": {"folds": [[5, 4]], "cells": [["resnet56", "stft"],
                                                        ["alexnet", "dwt_tonnetz"],
                                                        ["alexnet", "stft"]]}},
    }  # fmt: skip
    # every arch (the paper's order: AlexNet before ResNet-56) on every representation
    assert ats.table_cells(at, "a") == [
        ("alexnet", "stft"), ("resnet56", "stft"),
        ("alexnet", "dwt_tonnetz"), ("resnet56", "dwt_tonnetz"),
    ]  # fmt: skip
    # the listed cells only, in the table's order
    assert ats.table_cells(at, "b") == [
        ("alexnet", "stft"), ("resnet56", "stft"), ("alexnet", "dwt_tonnetz"),
    ]  # fmt: skip


def test_units_fit_the_listed_cells_only():
    """With ``at.datasets.<set>.cells`` a data set's Table I trains those cells (and the cells
    the attack sections use), not every arch on every representation."""
    from advlib.chapters import load_profile
    from advlib.tools.units import page_units

    cfg = load_profile("smoke")
    fits = {u.id for u in page_units(cfg, "at") if u.id.endswith(("/original", "/fgsm"))}
    us8k = {tuple(i.split("/")[3:5]) for i in fits if i.startswith("at/urbansound8k_at/")}
    listed = {(r, a) for a, r in cfg["at"]["datasets"]["urbansound8k_at"]["cells"]}
    attacked = {(r, a) for a, r in cfg["at"]["attack_cells"]}
    assert us8k == listed | attacked
    assert len(us8k) < len(cfg["at"]["archs"]) * len(cfg["at"]["representations"])


def test_cwt_representations_are_titled_and_set_beside_the_papers_dwt():
    """The paper's "DWT" images are Morlet CWT images: our CWT rows get its DWT numbers."""
    assert ats.REP_TITLES["cwt"] == "CWT (Morlet)"
    assert ats.TITLE["cwt_tonnetz"] == "CWT (Morlet)+tonnetz"
    paper = load_paper_numbers("AT")
    ours = pd.DataFrame({"representation": ["cwt_tonnetz", "dwt_tonnetz", "cwt"],
                         "arch": ["resnet56", "resnet56", "alexnet"],
                         "accuracy": [50.0, 60.0, 40.0]})  # fmt: skip
    out = ats.beside_paper(ours, paper, artefact="Table I", metric="accuracy", column="accuracy")
    rows = out.set_index(["representation", "arch"])
    assert rows.loc[("cwt_tonnetz", "resnet56"), "paper esc50"] == 71.79
    assert rows.loc[("dwt_tonnetz", "resnet56"), "paper esc50"] == 71.79
    assert rows.loc[("cwt", "alexnet"), "paper esc50"] == 65.39


def test_training_pair_shares_the_pgd_budget():
    at = load_profile("demo")["at"]
    pair = ats.training_pair(at)
    fgsm, pgd = pair["fgsm"], pair["pgd"]
    assert fgsm["method"] == "fgsm" and pgd["method"] == "pgd"
    for k in ("eps", "epochs", "init", "monitor"):
        assert fgsm[k] == pgd[k] == at["pgd"][k], k
    assert "steps" not in fgsm and "step_size" not in fgsm and pgd["steps"] == at["pgd"]["steps"]
    for cfg in pair.values():
        assert "cell" not in cfg and "robust_steps" not in cfg
    pair = ats.training_pair({"pgd": {"cell": ["a", "b"], "eps": 0.1, "steps": 3,
                                      "step_size": 0.5}})  # fmt: skip
    assert pair["fgsm"] == {"eps": 0.1, "method": "fgsm"}
    assert pair["pgd"] == {"eps": 0.1, "steps": 3, "step_size": 0.5, "method": "pgd"}


def test_with_keys_puts_key_columns_first():
    t = pd.DataFrame({"auc": [0.1, 0.2], "n": [3, 4]})
    out = ats.with_keys(t, dataset="synthetic", fold="5", kind="fgsm")
    assert list(out.columns) == ["dataset", "fold", "kind", "auc", "n"]
    assert (out["kind"] == "fgsm").all() and out["auc"].tolist() == [0.1, 0.2]
    assert list(t.columns) == ["auc", "n"]  # the input is left alone


def test_beside_paper_table_one():
    paper = load_paper_numbers("AT")
    ours = pd.DataFrame({"representation": ["dwt_tonnetz", "dwt_tonnetz", "stft"],
                         "arch": ["resnet56", "resnet56", "alexnet"],
                         "accuracy": [50.0, 60.0, 40.0]})  # fmt: skip
    out = ats.beside_paper(ours, paper, artefact="Table I", metric="accuracy", column="accuracy")
    assert list(out.columns) == [
        "representation", "arch", "ours", "paper esc50", "paper urbansound8k"
    ]  # fmt: skip
    assert len(out) == 2  # the paper's other cells are left out
    row = out.set_index(["representation", "arch"]).loc[("dwt_tonnetz", "resnet56")]
    assert row["ours"] == 55.0
    assert row["paper esc50"] == 71.79 and row["paper urbansound8k"] == 91.36
    assert out.set_index("arch").loc["alexnet", "paper esc50"] == 64.32
    one = ats.beside_paper(ours, paper, artefact="Table I", metric="accuracy_drop",
                           column="accuracy", dataset="esc50")  # fmt: skip
    assert list(one.columns) == ["representation", "arch", "ours", "paper esc50"]
    assert one.set_index("arch").loc["resnet56", "paper esc50"] == 18.21


# ---------------------------------------------------------------------------------- the page


def _study(tmp_path):
    from advlib.study import Study

    ds = {"syn": {"loader": "synthetic", "args": {"clips_per_class": 4, "sample_rate": 8000,
                                                   "duration": 0.25}}}  # fmt: skip
    return Study("test", 0, ds, notebook="at", cache=Cache(tmp_path))


def test_eps_r_raises_is_scipys_wilcoxon():
    eps = np.array([1.4, 0.9, 2.1, 1.7, 1.2, 0.95])
    w = wilcoxon(np.log(eps), alternative="greater")
    stat, p, median = ats.eps_r_raises(eps)
    assert stat == pytest.approx(w.statistic) and p == pytest.approx(w.pvalue)
    assert median == pytest.approx(np.median(np.log(eps)))
    assert ats.eps_r_raises([1.3]) is None  # one pair: no test
    assert ats.eps_r_raises([1.0, 1.0, 1.0]) is None  # no effect at all


def test_record_eps_r_records_every_finite_ratio_and_the_test(tmp_path):
    study = _study(tmp_path)
    eps = pd.DataFrame({"dataset": ["syn"] * 4, "representation": ["stft"] * 4,
                        "arch": ["resnet56"] * 4, "attack": ["bim_a", "jsma", "cw_l2", "pia"],
                        "eps_r": [1.5, np.nan, 2.0, 0.8]})  # fmt: skip
    ats.record_eps_r(study, eps)
    recs = study.records.as_list()
    assert [r["key"] for r in recs] == ["at_eps_r"] * 3 + ["at_raises_eps_r"]
    assert recs[0]["label"] == "ResNet-56 / STFT, bim_a" and recs[0]["dataset"] == "synthetic"
    logs = np.log([1.5, 2.0, 0.8])
    w = wilcoxon(logs, alternative="greater")
    test = recs[-1]
    assert test["value"] == pytest.approx(w.statistic)
    assert test["p_value"] == pytest.approx(w.pvalue) and test["holds"] is True
    assert test["method"] == "Wilcoxon signed-rank, one-sided"
    assert test["label"] == "3 (cell, attack) pairs, median eps_r 1.50"


def test_start_puts_the_attacks_in_the_papers_order(tmp_path):
    at = {"archs": {"vgg16": {}, "alexnet": {}}, "representations": ["dwt", "stft"],
          "attacks": {"pia": {}, "bim_a": {}, "deepfool": {}}}  # fmt: skip
    c = ats.start(_study(tmp_path), at)
    assert list(c.at["attacks"]) == ["bim_a", "deepfool", "pia"]
    assert list(at["attacks"]) == ["pia", "bim_a", "deepfool"]  # the profile is left alone
    assert c.archs == [a for a in ats.ARCHITECTURES if a in at["archs"]]
    assert c.reps == ["dwt", "stft"]


def test_section_keeps_a_note_only_for_undefined_cells():
    s = ats.Section()
    s.table(pd.DataFrame({"a": [1.0, np.nan]}), "t", why="Here — marks x.")
    s.table(pd.DataFrame({"a": [1.0, 2.0]}), "u", why="Here — marks x.")
    assert s.tables[0]["notes"] == ["Here — marks x."] and "notes" not in s.tables[1]


def _clip_results():
    """Two cells' per-clip results (original and FGSM-trained), three clips each."""
    rows = []
    for arch in ("resnet56", "alexnet"):
        for kind, scale in (("original", 1.0), ("fgsm", 2.0)):
            for clip, (ok, l2) in enumerate([(True, 0.5), (True, 1.0), (kind == "original", 0.2)]):
                rows.append({"dataset": "syn", "fold": 5, "representation": "stft",
                             "arch": arch, "kind": kind, "domain": "image", "attack": "bim_a",
                             "clip": clip, "attacked": True, "success": ok,
                             "l2": l2 * scale if ok else np.nan})  # fmt: skip
    return pd.DataFrame(rows)


def test_clip_log_ratios_pair_the_clips_fooled_on_both_models():
    r = ats.clip_log_ratios(_clip_results())
    # clip 2 is fooled on the original model only: left out; two cells x two clips
    assert len(r) == 4 and r["log_ratio"].to_numpy() == pytest.approx(np.log(2.0))
    assert sorted(r["cluster"].unique()) == ["syn/5/0", "syn/5/1"]  # a clip recurs across cells


def test_record_eps_r_with_clips_tests_every_clip_clustered(tmp_path):
    from advlib.stats import clustered_mean

    study = _study(tmp_path)
    res = _clip_results()
    res.loc[(res["kind"] == "fgsm") & (res["clip"] == 1), "l2"] = [1.5, 3.0]  # vary the ratios
    eps = ats.eps_r_table(res)
    ats.record_eps_r(study, eps, res)
    test = study.records.as_list()[-1]
    ratios = ats.clip_log_ratios(res)
    c = clustered_mean(ratios["log_ratio"], ratios["cluster"])
    assert test["key"] == "at_raises_eps_r" and test["n"] == 2 == c.clusters
    assert test["p_value"] == pytest.approx(c.p_greater) and test["holds"] is True
    assert test["value"] == pytest.approx(np.exp(c.estimate))
    assert "clip-clustered" in test["method"] and "of 2 clips" in test["label"]
