"""The UAP chapter's helpers (advlib.chapters.uap): tables, tests, sweeps, transfer, paper numbers.

Victims with a known answer: ``MeanSign`` predicts class 1 when a clip's mean exceeds 0.01, so a
positive offset fools every clip of class 0 and a UAP's success is known in advance.
"""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from advlib.cache import Cache
from advlib.chapters import load_profile, validate_profile
from advlib.chapters import uap as us
from advlib.data.synthetic import make_synthetic
from advlib.metrics import Proportion
from advlib.run.runner import AttackRun, eval_clips
from advlib.run.universal import craft_uap
from advlib.stats import holm, mcnemar_exact, two_proportion_z
from advlib.study.paper_numbers import load_paper_numbers
from advlib.study.profile import ProfileError

pytestmark = pytest.mark.usefixtures("one_thread")

METHODS = {
    "uap_iterative": {"inner_steps": 20, "max_passes": 3, "fooling_rate": 1.0,
                      "untargeted": {"eps": 0.05},
                      "targeted": {"eps": 0.05}},
    "uap_penalty": {"steps": 60, "lr": 0.01, "variant": "code", "fooling_rate": 1.0,
                    "untargeted": {"c": 1.0, "confidence": 50.0},
                    "targeted": {"c": 1.0, "confidence": 50.0}},
}  # fmt: skip


class MeanSign(torch.nn.Module):
    def __init__(self, sign: float = 1.0):
        super().__init__()
        self.sign = sign

    def forward(self, x):
        m = self.sign * (x.mean(dim=1) - 0.01)
        # classes 2..9 of the 10-class data set are never predicted (a label must index the
        # logits: the runner refuses one that does not)
        never = torch.full((len(x), 8), -1e4, dtype=x.dtype)
        return torch.cat([torch.stack([-m, m], dim=1) * 100, never], dim=1)


@pytest.fixture(scope="module")
def setup():
    data = make_synthetic(seed=0, clips_per_class=6, sample_rate=4000, duration=0.025)
    fit = SimpleNamespace(model=MeanSign(), cache_key="mean-sign", name="mean_sign")
    return data, fit


@pytest.fixture(scope="module")
def results(setup, tmp_path_factory):
    data, fit = setup
    cache = Cache(tmp_path_factory.mktemp("cache"))
    x, y = eval_clips(data, None)
    res = us.scenario_results(cache, fit, data, METHODS, x, y, n_craft=20, targets=[1])
    return res, x, y


def test_settings_merge_and_targets():
    st = us.uap_settings(METHODS, "uap_iterative", "targeted", max_passes=9)
    assert st == {"inner_steps": 20, "max_passes": 9, "fooling_rate": 1.0, "eps": 0.05}
    with pytest.raises(ValueError, match="no settings"):
        us.uap_settings(METHODS, "pgd", "targeted")
    with pytest.raises(ValueError, match="scenario"):
        us.uap_settings(METHODS, "uap_penalty", "both")
    classes = ("dog", "rain", "gun_shot")
    assert us.resolve_targets("all", classes) == [0, 1, 2]
    assert us.resolve_targets(["gun_shot", 0], classes) == [2, 0]
    for bad in (["cat"], [3], [], "some", [-1]):
        with pytest.raises(ValueError):
            us.resolve_targets(bad, classes)


def test_scenario_results_and_main_table(results):
    res, x, y = results
    assert [(r.method, r.target) for r in res] == [
        ("uap_iterative", None), ("uap_iterative", 1), ("uap_penalty", None), ("uap_penalty", 1)
    ]  # fmt: skip
    m = res[0].metrics(x, y)
    # the victim's answer is known: a clip is fooled exactly when the perturbed clip's mean
    # crosses 0.01 away from its clean side; Eq. 3 counts every clip
    t0 = res[0].test.table
    assert m["asr_test"].n == len(x)
    moved = (res[0].test.x_adv.mean(1) > 0.01) != (x.mean(1) > 0.01)
    assert (t0["success"].to_numpy() == moved.numpy()).all() and moved.float().mean() >= 0.8
    delta = (res[0].test.x_adv - x).numpy()
    x01, d01 = (x.numpy() + 1) / 2, delta / 2
    snr01 = 20 * np.log10(np.sqrt((x01**2).mean(1)) / np.sqrt((d01**2).mean(1)))
    assert m["snr_db_01"] == pytest.approx(snr01.mean(), rel=1e-5)
    snr = 20 * np.log10(np.sqrt((x.numpy() ** 2).mean(1)) / np.sqrt((delta**2).mean(1)))
    assert m["snr_db"] == pytest.approx(snr.mean(), rel=1e-5)
    assert m["snr_db_01"] > m["snr_db"], "the [0, 1] offset counts as signal"
    t = us.main_table(res, x, y, model_accuracy=True)
    assert list(t.index) == [("iterative", "mean_sign"), ("penalty", "mean_sign")]
    assert t.columns.get_level_values(0)[0] == "targeted"
    assert ("untargeted", "model acc.") in t.columns and ("targeted", "model acc.") not in t.columns
    rate = moved.float().mean().item()
    assert t.loc[("iterative", "mean_sign"), ("untargeted", "ASR test")].startswith(f"{rate:.3f} [")
    # targeted: clips of class 1 are excluded from the rate
    assert res[1].test.success.n == int((y != 1).sum())


def test_empty_results_are_refused(results):
    _, x, y = results
    for fn in (us.scenario_summary, us.main_table):
        with pytest.raises(ValueError, match="no UAP results"):
            fn([], x, y)


def test_per_target_table(results, setup):
    res, x, y = results
    data, _ = setup
    per = us.per_target_table(res, x, y, data.classes)
    assert len(per) == 2 and set(per["target"]) == {data.classes[1]}


def fake(victim, method, target, success, attacked=None):
    n = len(success)
    attacked = np.ones(n, bool) if attacked is None else np.asarray(attacked)
    table = pd.DataFrame({"success": np.asarray(success, bool), "attacked": attacked})
    run = AttackRun(torch.zeros(n, 4), table, 0.0, {})
    rec = {"seconds": 0.0, "forward_samples": 0, "backward_samples": 0}
    return us.UapResult(victim, method, target, torch.zeros(4), "wave", rec, run, run)


def test_significance_table_pairs_outcomes_and_corrects():
    rng = np.random.default_rng(0)
    a = rng.random(200) < 0.6
    b = a | (rng.random(200) < 0.3)
    c = rng.random(200) < 0.5
    res = [
        fake("v1", "uap_iterative", None, a),
        fake("v1", "uap_penalty", None, b),
        fake("v2", "uap_iterative", 0, c[:100]),
        fake("v2", "uap_iterative", 1, c[100:]),
        fake("v2", "uap_penalty", 1, c[100:]),
        fake("v2", "uap_penalty", 0, c[:100]),
    ]
    t = us.significance_table(res).set_index("victim")
    z = two_proportion_z(int(a.sum()), int(b.sum()), 200)
    assert t.loc["v1", "Z"] == pytest.approx(z.z, abs=1e-3)
    assert t.loc["v1", "higher"] == "penalty"
    mc = mcnemar_exact(a, b)
    assert (t.loc["v1", "iter. only"], t.loc["v1", "pen. only"]) == (mc.b, mc.c) == (0, mc.c)
    # v2: identical outcomes once paired by target, whatever the order of the results
    assert t.loc["v2", "p (McNemar)"] == 1.0 and t.loc["v2", "Z"] == 0.0
    assert t.loc["v2", "m"] == 200
    ph = holm(t["p (McNemar)"].to_numpy()).p_adjusted
    assert np.allclose(t["p Holm (McNemar)"], ph)
    s = us.significance_sentence(t.reset_index())
    assert "Of 2 comparisons" in s and "penalty method higher in 1" in s
    # one victim name on two data sets is two victims: never pooled into one test
    two = [fake("v1", m, None, a) for m in ("uap_iterative", "uap_penalty")]
    two += [fake("v1", m, None, c) for m in ("uap_iterative", "uap_penalty")]
    for r in two[2:]:
        r.dataset = "other"
    t2 = us.significance_table(two)
    assert list(t2["m"]) == [200, 200] and set(t2["data set"]) == {"", "other"}
    with pytest.raises(ValueError, match="different clips"):
        us.significance_table([fake("v", "uap_iterative", None, a),
                               fake("v", "uap_penalty", None, a[:10])])  # fmt: skip


def test_sweep_table_and_plots(results, setup):
    res, x, y = results
    data, _ = setup
    sw = us.sweep_table({10: res, 20: res}, x, y, name="n")
    assert len(sw) == 8 and set(sw["n"]) == {10, 20}
    assert ((sw["ci_low"] <= sw["ASR"] + 1e-9) & (sw["ASR"] <= sw["ci_high"] + 1e-9)).all()
    fig = us.plot_sweep(sw, "n", logx=True, title="t")
    assert len(fig.axes) == 3
    per = sw.assign(**{"class": data.classes[0]}).drop_duplicates("scenario")
    fig = us.plot_per_class(per, data.classes)
    assert len(fig.axes) == 3
    fig = us.plot_perturbation(np.zeros(400), 4000, title="v")
    assert len(fig.axes) >= 2


def test_transfer_pools_targets(results):
    res, x, y = results
    models = {"mean_sign": MeanSign(), "flipped": MeanSign(-1.0)}
    uaps = {"mean_sign": [r for r in res if r.method == "uap_iterative" and r.target is not None]}
    t = us.uap_transfer(models, x, y, uaps).set_index("victim")
    assert t.loc["mean_sign", "diagonal"] and not t.loc["flipped", "diagonal"]
    # targeted to class 1: the flipped victim (class 1 for negative means) is not fooled
    assert t.loc["mean_sign", "rate"] == 1.0 and t.loc["flipped", "rate"] < 0.5
    assert t.loc["mean_sign", "n"] == int((y != 1).sum())
    with pytest.raises(ValueError, match="no UAPs"):
        us.uap_transfer(models, x, y, {})


def test_playback_rows(results):
    res, x, _ = results
    t = us.playback_rows(MeanSign(), {"u": res[0]}, x, draws=2)
    assert list(t.index) == ["none (clean clips played)", "u"] and "random playback" in t.columns
    assert t.loc["u", "passes"] > 0


def test_beside_paper_matches_the_published_cells():
    cols = pd.MultiIndex.from_tuples(
        [
            ("targeted", "ASR test"),
            ("targeted", "SNR [0,1]"),
            ("untargeted", "model acc."),
            ("targeted", "craft s"),
        ]
    )
    ours = pd.DataFrame([["0.900 [0.8, 0.9]", 21.0, 0.5, 3.0], ["0.5", 20.0, 0.4, 1.0]],
                        index=pd.MultiIndex.from_tuples([("penalty", "cnn1d_rand"),
                                                         ("penalty", "spchcmd")]),
                        columns=cols)  # fmt: skip
    paper = load_paper_numbers("UAP")
    side = us.beside_paper(ours, paper, artefact="Table 1").set_index(["victim", "quantity"])
    assert side.loc[("cnn1d_rand", "ASR test"), "paper"] == 0.854
    assert side.loc[("cnn1d_rand", "SNR [0,1]"), "paper"] == 23.468
    assert "Table 1" in side.loc[("cnn1d_rand", "ASR test"), "source"]
    assert pd.isna(side.loc[("spchcmd", "ASR test"), "paper"]), "SpchCMD is in Table 2"
    assert ("cnn1d_rand", "craft s") not in side.index
    side2 = us.beside_paper(ours, paper, artefact="Table 2").set_index(["victim", "quantity"])
    assert side2.loc[("spchcmd", "model acc."), "paper"] == 0.191


def test_craft_from_one_class(setup, tmp_path):
    data, fit = setup
    cache = Cache(tmp_path)
    st = {"steps": 3, "variant": "code"}
    _, rec, _ = craft_uap(cache, fit, data, "uap_penalty", st, n=1, classes=[3])
    train = data.part("train")
    assert len(rec["clips"]) == 1 and int(train.y[rec["clips"][0]]) == 3
    _, rec2, hit = craft_uap(cache, fit, data, "uap_penalty", st, n=1, classes=[4])
    assert not hit and int(train.y[rec2["clips"][0]]) == 4
    with pytest.raises(ValueError, match="classes"):
        craft_uap(cache, fit, data, "uap_penalty", st, n=1, classes=[99])


def test_pooled_proportion():
    p = us._pool([Proportion(3, 4), Proportion(1, 6)])
    assert (p.successes, p.n) == (4, 10)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda u: u.pop("methods"), "missing"),
        (lambda u: u.update(n_craft=0), "n_craft"),
        (lambda u: u.update(bogus=1), "unknown"),
        (lambda u: u["methods"]["uap_penalty"].update(epz=1), "uap_penalty"),
        (lambda u: u["tables"][0].update(dataset="nope"), "not a data set"),
        (lambda u: u["tables"][0].update(victims=["alexnet"]), "not trained"),
        (lambda u: u["tables"][0].update(targets="some"), "targets"),
        (lambda u: u["confidence"].update(table=7), "not an index"),
        (lambda u: u["single"].update(victim="resnet56"), "not a victim"),
        (lambda u: u["single"].update(settings={"cc": 1}), "single.settings"),
        (lambda u: u["playback"].pop("victims"), "playback"),
    ],
)
def test_bad_uap_sections_are_refused(edit, match):
    import copy

    cfg = copy.deepcopy(load_profile("demo"))
    edit(cfg["uap"])
    with pytest.raises(ProfileError, match=match):
        validate_profile(cfg, "demo")


def test_profiles_validate_with_their_uap_sections():
    for name in ("demo", "ci", "paper", "smoke"):
        cfg = load_profile(name)
        assert "uap" in cfg, f"{name} has no UAP chapter"


def test_means_leave_out_zero_perturbations():
    # a UAP that stayed at v = 0 has SNR inf and l_dB_x -inf: left out, not averaged in
    assert us._mean([np.inf, 3.0, 5.0]) == 4.0
    assert us._mean([-np.inf, -2.0]) == -2.0
    assert np.isnan(us._mean([np.inf, np.nan]))


def test_sign_test_matches_scipy():
    from scipy import stats

    for k, n in ((0, 1), (3, 5), (7, 10), (10, 10)):
        want = stats.binomtest(k, n, 0.5, alternative="greater").pvalue
        assert us.sign_test(k, n) == pytest.approx(want)


def test_significance_records_mcnemar_over_every_clip():
    """The page's Table 5 section records whether the penalty method beats the iterative one:
    McNemar's exact test over the clips of every comparison (pooled discordant pairs), with the
    paper's criterion and the sign test over comparisons in its label."""
    from scipy.stats import binomtest

    from advlib.study.records import Records

    rng = np.random.default_rng(1)
    a = rng.random(100) < 0.4
    b = a | (rng.random(100) < 0.3)  # penalty higher on v1
    c = rng.random(100) < 0.5
    tables = [
        SimpleNamespace(results=[
            fake("v1", "uap_iterative", None, a), fake("v1", "uap_penalty", None, b),
            fake("v2", "uap_iterative", None, c), fake("v2", "uap_penalty", None, c),
        ])
    ]  # fmt: skip
    study = SimpleNamespace(records=Records(), loader=lambda d: f"loader-{d}")
    sig = us.significance(study, tables).data
    assert len(sig.table) == 2 and "Of 2 comparisons" in sig.sentence
    (rec,) = study.records.as_list()
    pen_only = int((b & ~a).sum())  # v2 has no discordant clip; v1's are all penalty's
    assert rec["key"] == "uap_penalty_beats_iterative" and rec["value"] == pen_only
    assert rec["n"] == pen_only and rec["holds"] is True
    want = binomtest(pen_only, pen_only, 0.5, alternative="greater").pvalue
    assert rec["p_value"] == pytest.approx(want) and rec["p_value"] < 1e-4
    assert rec["dataset"] == "loader-" and "McNemar over clips" in rec["method"]
    assert "penalty higher in 1 of 1" in rec["label"] and "Z < -1.58" in rec["label"]
    assert len(sig.paper) > 0


# --------------------------------------------------------------------------- the two gradients


def test_variant_settings_keep_the_main_tables_cache_entry():
    # METHODS sets variant "code": that variant is returned unchanged, the other added
    st = us.variant_settings(METHODS, "untargeted", "code")
    assert st == us.uap_settings(METHODS, "uap_penalty", "untargeted")
    assert us.variant_settings(METHODS, "untargeted", "paper")["variant"] == "paper"
    plain = {"uap_penalty": {"steps": 5}, "uap_iterative": {}}
    assert "variant" not in us.variant_settings(plain, "targeted", "paper"), "the default"
    assert us.variant_settings(plain, "targeted", "code")["variant"] == "code"
    with pytest.raises(ValueError, match="variant"):
        us.variant_settings(plain, "targeted", "exact")
    uap = {"methods": plain, "tables": [{"artefact": "Table 1"}, {"artefact": "Table 2"}]}
    assert us.main_variant(uap) == "paper"
    uap["tables"][1]["overrides"] = {"uap_penalty": {"variant": "code"}}
    assert us.main_variant(uap) == (
        "paper (Table 1, untargeted); paper (Table 1, targeted); "
        "code (Table 2, untargeted); code (Table 2, targeted)"
    )


def test_adam_steps_from_the_record():
    rec = {"clips": list(range(20)), "backward_samples": 3 * 20 + 7}
    assert us.adam_steps(rec, {"batch_size": 8}) == 3 * 3 + 1
    assert us.adam_steps(rec, {"batch_size": 100}) == 4, "a batch is at most the crafting set"
    assert us.adam_steps({"clips": [0, 1], "backward_samples": 0}, {}) == 0


def test_variants_table_on_a_tiny_victim(setup, tmp_path):
    data, fit = setup
    cache = Cache(tmp_path)
    x, y = eval_clips(data, None)
    got = us.variant_results(cache, fit, data, METHODS, x, y, n_craft=20, targets=[1])
    assert [(r.target, r.settings["variant"]) for v in us.VARIANTS for r in got[v]] == [
        (None, "paper"), (1, "paper"), (None, "code"), (1, "code")
    ]  # fmt: skip
    # the variant of the main tables (METHODS: code) is their cache entry, not a new UAP
    st = us.uap_settings(METHODS, "uap_penalty", "untargeted")
    v, _, hit = craft_uap(cache, fit, data, "uap_penalty", st, n=20)
    assert hit and torch.equal(v, got["code"][0].v)
    t = us.variants_table([(got, x, y)])
    assert list(t["variant"]) == ["paper", "code", "paper", "code"]
    assert list(t["scenario"]) == ["targeted", "targeted", "untargeted", "untargeted"]
    for col in ("ASR test (%)", "SNR [0,1] (dB)", "SNR (dB)", "l_dB_x (dB)", "Adam steps",
                "passes", "p (McNemar)", "p Holm (McNemar)"):  # fmt: skip
        assert col in t.columns
    # McNemar on the same clips, paper against code, on the first row of each pair
    u = t[t["scenario"] == "untargeted"].reset_index(drop=True)
    a = got["paper"][0].test.table["success"].to_numpy()
    b = got["code"][0].test.table["success"].to_numpy()
    mc = mcnemar_exact(a, b)
    assert (u.loc[0, "paper only"], u.loc[0, "code only"]) == (str(mc.b), str(mc.c))
    assert u.loc[0, "p (McNemar)"] == f"{mc.p_value:.3g}" and u.loc[1, "p (McNemar)"] == ""
    assert u.loc[1, "ASR test (%)"].startswith(f"{100 * b.mean():.1f} [")
    assert np.allclose(
        [float(p) for p in t["p Holm (McNemar)"] if p],
        [float(f"{p:.3g}") for p in holm(t["_p"].to_numpy()[::2]).p_adjusted],
    )
    assert 0 < t.loc[3, "Adam steps"] <= METHODS["uap_penalty"]["steps"]
    s = us.variants_sentence(t)
    assert s.startswith("Over 2 comparisons") and "percentage points" in s
    with pytest.raises(ValueError, match="variant"):
        us.variants_table([({"paper": got["paper"]}, x, y)])
    with pytest.raises(ValueError, match="different victims or scenarios"):
        us.variants_table([({"paper": got["paper"], "code": got["code"][:1]}, x, y)])
    with pytest.raises(ValueError, match="different clips"):
        us.variants_table([({"paper": [fake("v", "uap_penalty", None, a)],
                             "code": [fake("v", "uap_penalty", None, a[:3])]}, x, y)])  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda u: u.update(variants={"table": 0}), r"variants.*missing"),
        (lambda u: u["variants"].update(bogus=1), r"variants.*unknown"),
        (lambda u: u["variants"].update(table=9), r"variants.table.*not an index"),
        (lambda u: u["variants"].update(victims="cnn1d_rand"), r"variants.victims.*list"),
        (lambda u: u["variants"].update(victims=["spchcmd"]), r"variants.victims.*not a victim"),
        (lambda u: u["variants"].update(scenarios=["both"]), r"variants.scenarios"),
        (lambda u: u["variants"].update(scenarios=[]), r"variants.scenarios"),
        (lambda u: u.update(variants=[]), r"uap.variants"),
        (lambda u: u.update(variants=[u["variants"], u["variants"]]), r"variants\[1\].*twice"),
    ],
)
def test_bad_variants_parts_are_refused(edit, match):
    import copy

    cfg = copy.deepcopy(load_profile("demo"))
    edit(cfg["uap"])
    with pytest.raises(ProfileError, match=match):
        validate_profile(cfg, "demo")


def test_every_profile_compares_the_variants():
    for name, tables in (("demo", {0}), ("ci", {0}), ("paper", {0, 1}), ("smoke", {0, 1})):
        uap = load_profile(name)["uap"]
        parts = us.variant_parts(uap)
        assert {p["table"] for p in parts} == tables, name
        if name in ("paper", "smoke"):  # every victim of both tables
            for p in parts:
                assert p["victims"] == uap["tables"][p["table"]]["victims"]
