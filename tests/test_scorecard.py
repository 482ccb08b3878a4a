"""The scorecard: claims as validated data, intervals checked against statsmodels/scipy, verdicts
on hand-made records, and records travelling through a page's provenance block."""

import csv
import json
import math

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from advlib.chapters import load_profile
from advlib.study import scorecard as sc
from advlib.study.records import Records


@pytest.fixture
def rec():
    return Records()


def _claim(kind, low=None, high=None, **kw):
    base = {"id": "X-1", "paper": "X", "artefact": "Table 1", "table_row": "row", "claim": "c",
            "key": "k", "kind": kind, "paper_low": low, "paper_high": high, "unit": "%",
            "margin": "", "margin_reason": "", "paper_data": "d", "data_bound": False,
            "known_differences": "small"}  # fmt: skip
    return {**base, **kw}


def test_shipped_headlines_validate_and_cover_spec_section_1():
    h = sc.load_headlines()
    assert set(h["paper"]) == {"UAP", "AT", "GAN"}
    assert h["id"].is_unique and not h.duplicated(["key", "paper_data"]).any()
    # the spec's headline numbers are all there
    values = set(h["paper_low"].dropna()) | set(h["paper_high"].dropna())
    for v in (0.83, 0.97, 0.41, 0.90, 0.698, 0.602, 91.36, 71.79, 1.37, 2.89, 92.33, 20.27,
              3.087, 84.96, 89.25):  # fmt: skip
        assert v in values, v
    # the three direction claims of the issue have a test each
    assert {"uap_penalty_beats_iterative", "at_raises_eps_r", "gan_faster_than_genetic",
            "gan_faster_than_pso"} <= set(h.loc[h["kind"] == "direction", "key"])  # fmt: skip


def test_headlines_values_match_the_paper_numbers_files():
    """A claim's number is the number stored, with its source, in the per-paper data."""
    from advlib.study.paper_numbers import load_paper_numbers

    gan = load_paper_numbers("GAN")
    t1 = gan[(gan["artefact"] == "Table 1") & (gan["dataset"] == "speech_commands")]
    h = sc.load_headlines().set_index("key")
    for key, method in (("gan_success_speech", "gan"), ("gan_genetic_success", "genetic"),
                        ("gan_pso_success", "pso")):  # fmt: skip
        v = t1[(t1["method"] == method) & (t1["metric"] == "success_rate")]["value"].item()
        assert h.loc[key, "paper_low"] == v
    for method in ("gan", "genetic", "pso"):  # Table 1's SNR and time per example
        rows = t1[t1["method"] == method].set_index("metric")["value"]
        assert h.loc[f"gan_seconds_{method}", "paper_low"] == rows["seconds"]
        if method != "gan":
            assert h.loc[f"gan_{method}_snr", "paper_low"] == rows["snr_db"]
    at = load_paper_numbers("AT")
    best = at[(at["artefact"] == "Table I") & (at["victim"] == "resnet56")
              & (at["representation"] == "dwt_tonnetz") & (at["metric"] == "accuracy")]  # fmt: skip
    assert sorted(best["value"]) == sorted(h.loc["at_best_acc", "paper_low"])


def _shipped_rows():
    with open(sc.HEADLINES_CSV, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _refused(tmp_path, rows, match):
    """Write ``rows`` as a headlines file: loading it must fail with ``match``."""
    path = tmp_path / "h.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with pytest.raises(ValueError, match=match):
        sc.load_headlines(path)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda r: r.update(kind="vibe"), "kind"),
        (lambda r: r.update(paper_low="3", paper_high="1"), "bad paper range"),
        (lambda r: r.update(kind="value", paper_low="1", paper_high="2"), "bad paper range"),
        (lambda r: r.update(table_row=""), "needs its paper"),
        (lambda r: r.update(data_bound="maybe"), "data_bound"),
    ],
)
def test_bad_headlines_are_named(tmp_path, edit, match):
    rows = _shipped_rows()
    edit(rows[0])
    _refused(tmp_path, rows, match)


def test_duplicate_claims_are_refused(tmp_path):
    rows = _shipped_rows()
    _refused(tmp_path, [rows[0], rows[0]], "duplicate")


def test_proportion_interval_is_wilson(rec):
    from statsmodels.stats.proportion import proportion_confint

    r = rec.record_proportion("k", 37, 50, scale=100)
    lo, hi = proportion_confint(37, 50, alpha=0.05, method="wilson")
    assert r["value"] == pytest.approx(74.0)
    assert (r["low"], r["high"]) == pytest.approx((100 * lo, 100 * hi))


def test_mean_interval_is_student_t(rec):
    from scipy import stats

    x = np.array([1.0, 2.5, 3.0, 4.5, 7.0, np.nan])
    r = rec.record_mean("k", x)
    f = x[np.isfinite(x)]
    lo, hi = stats.t.interval(0.95, len(f) - 1, loc=f.mean(), scale=stats.sem(f))
    assert r["n"] == 5 and (r["low"], r["high"]) == pytest.approx((lo, hi))
    one = rec.record_mean("k", [2.0])
    assert one["low"] is None and one["value"] == 2.0
    with pytest.raises(ValueError, match="no finite"):
        rec.record_mean("k", [np.nan])


def test_difference_interval_is_newcombe(rec):
    """Newcombe's (1998) worked example 10 (method 10): 56/70 - 48/80 = 0.2,
    95 % interval 0.0524 to 0.3339."""
    r = rec.record_difference("k", 56, 70, 48, 80)
    assert r["value"] == pytest.approx(0.2)
    assert r["low"] == pytest.approx(0.0524, abs=5e-4)
    assert r["high"] == pytest.approx(0.3339, abs=5e-4)


def test_bad_records_are_refused(rec):
    with pytest.raises(ValueError, match="finite"):
        rec.record("k", float("nan"))
    with pytest.raises(ValueError, match="reversed"):
        rec.record("k", 1.0, low=2.0, high=0.5)
    with pytest.raises(ValueError, match="p_value"):
        rec.record_test("k", 1.0, 1.5, holds=True, method="t")
    with pytest.raises(ValueError, match="key"):
        rec.record("", 1.0)
    with pytest.raises(ValueError, match="n >= 1"):
        rec.record_proportion("k", 0, 0)
    assert rec.as_list() == []  # nothing half-recorded


def _rec(value, low=None, high=None, **kw):
    base = {"key": "k", "value": value, "low": low, "high": high, "dataset": "d"}
    return {**base, "profile": "paper", **kw}


def test_value_verdicts_with_a_margin():
    c = _claim("value", 92.33, 92.33, margin="5")  # equivalence region 87.33-97.33
    assert sc.verdict(c, [_rec(90.0, 88.0, 94.0)]) == ("reproduced", "")
    v, why = sc.verdict(c, [_rec(60.0, 50.0, 70.0, label="WRN")])
    assert v == "contradicted" and "below" in why and "WRN 60.00 [50.00, 70.00]" in why
    v, why = sc.verdict(c, [_rec(99.0, 98.0, 99.5)])
    assert v == "contradicted" and "above" in why
    assert sc.verdict(c, [])[0] == "not run at this profile"


def test_an_interval_too_wide_to_tell_is_inconclusive_with_its_decisive_n():
    """An interval that covers the paper's value but also its opposite (far outside the
    margin) never reads as reproduced; the n that would decide scales with its width."""
    c = _claim("value", 92.33, 92.33, margin="5")
    j = sc.judge(c, [_rec(90.0, 70.0, 99.0, n=30)])
    assert j["verdict"] == "inconclusive" and j["evidence"] == "inconclusive"
    # half-width 14.5 must shrink to the margin 5: n = 30 * (14.5 / 5)^2 = 252.3 -> 253
    assert j["decisive_n"] == 253 and "n = 253" in j["reason"]
    # the old rule ("the interval touches the value") would have said reproduced
    c_range = _claim("range", 0.41, 0.90, unit="share", margin="0.05")
    j = sc.judge(c_range, [_rec(0.3, 0.11, 0.60, n=10)])
    assert j["verdict"] == "inconclusive"


def test_exact_margin_boundaries():
    c = _claim("value", 10.0, 10.0, margin="1")
    assert sc.verdict(c, [_rec(10.0, 9.0, 11.0)])[0] == "reproduced"  # exactly the region
    assert sc.verdict(c, [_rec(8.0, 7.0, 8.999)])[0] == "contradicted"
    assert sc.verdict(c, [_rec(9.0, 8.9, 9.5)])[0] == "inconclusive"
    f = _claim("range", 1.37, 2.89, unit="ratio", margin="x2")  # 0.685 to 5.78
    assert sc.verdict(f, [_rec(5.7)])[0] == "reproduced"
    assert sc.verdict(f, [_rec(6.0)])[0] == "contradicted"


def test_range_verdicts_judge_every_interval():
    c = _claim("range", 0.83, 0.97, unit="share", margin="0.05")  # 0.78 to 1.02
    inside = [_rec(0.9, 0.85, 0.95), _rec(0.8, 0.79, 0.84)]
    assert sc.verdict(c, inside)[0] == "reproduced"
    v, why = sc.verdict(c, [*inside, _rec(0.5, 0.4, 0.6, label="cnn")])
    assert v == "contradicted" and why.startswith("1 of 3 of ours below") and "cnn" in why
    assert sc.verdict(c, [_rec(0.9)])[0] == "reproduced"  # a number without an interval
    assert sc.verdict(c, [_rec(0.7)])[0] == "contradicted"


def test_stand_ins_are_never_an_unqualified_reproduction():
    c = _claim("value", 92.33, 92.33, margin="5")
    for rec in (_rec(91.0, 89.0, 93.0, profile="ci"), _rec(91.0, 89.0, 93.0, dataset="fsdd")):
        j = sc.judge(c, [rec])
        assert j["verdict"] == "not comparable" and j["evidence"] == "consistent"
        assert "consistent on a stand-in" in j["reason"]
    j = sc.judge(c, [_rec(50.0, 45.0, 55.0, profile="ci")])
    assert j["verdict"] == "not comparable" and "contradicted on a stand-in" in j["reason"]


def test_direction_and_identity_verdicts():
    d = _claim("direction")
    ok = _rec(10.0, p_value=0.01, holds=True, method="sign")
    assert sc.verdict(d, [ok]) == ("reproduced", "")
    j = sc.judge(d, [_rec(3.0, p_value=0.2, holds=True, method="sign", label="a", n=6)])
    assert j["verdict"] == "inconclusive" and "p = 0.2" in j["reason"]
    # z = 0.8416 at p = 0.2: n = 6 * (1.645 / 0.8416)^2 = 22.9 -> 23
    assert j["decisive_n"] == 23
    v, why = sc.verdict(d, [_rec(3.0, p_value=0.001, holds=False, method="sign")])
    assert v == "contradicted" and "opposite" in why
    assert sc.verdict(d, [_rec(3.0, p_value=0.99, holds=False, method="sign")])[0] == (
        "contradicted"
    )
    i = _claim("identity", table_row="ResNet-56 / DWT+tonnetz (best on both)")
    assert sc.verdict(i, [_rec("ResNet-56 / DWT+tonnetz")])[0] == "reproduced"
    v, why = sc.verdict(i, [_rec("AlexNet / STFT")])
    assert v == "contradicted" and "AlexNet / STFT" in why


def test_data_bound_claims_judge_only_their_data_set():
    c = _claim("value", 71.79, 71.79, paper_data="esc50", data_bound=True, margin="3")
    v, why = sc.verdict(c, [_rec(60.0, 50.0, 70.0, dataset="esc10")])
    assert v == "not comparable" and "esc10" in why and "esc50" in why
    assert sc.verdict(c, [_rec(72.0, 70.0, 74.0, dataset="esc50")])[0] == "reproduced"
    # a record on another set beside one on the claim's set: only the claim's set counts
    both = [_rec(10.0, 5.0, 15.0, dataset="urbansound8k"), _rec(72.0, 70.0, 74.0, dataset="esc50")]
    assert sc.verdict(c, both)[0] == "reproduced"


def test_margins_are_validated(tmp_path):
    rows = _shipped_rows()
    for bad, match in (("", "needs a margin"), ("-1", "positive"), ("x0.5", "exceed 1")):
        rows[0]["margin"] = bad
        _refused(tmp_path, rows, match)


def test_scorecard_table_has_every_claim_and_explains_differences():
    h = sc.load_headlines()
    recs = [
        {"key": "gan_success_speech", "value": 50.0, "low": 45.0, "high": 55.0,
         "dataset": "fsdd", "profile": "ci"},
        {"key": "gan_faster_than_pso", "value": 0.0, "p_value": 1e-9, "holds": True,
         "method": "U", "dataset": "speech_commands", "profile": "paper"},
    ]  # fmt: skip
    t = sc.scorecard_table(recs, h)
    assert list(t["id"]) == list(h["id"])
    row = t.set_index("id")
    assert row.loc["GAN-1", "verdict"] == "not comparable"
    assert row.loc["GAN-1", "evidence"] == "contradicted"
    assert "Known differences" in row.loc["GAN-1", "reason"]
    assert row.loc["GAN-1", "ours"] == "50.00 [45.00, 55.00]" and row.loc["GAN-1", "data"] == "fsdd"
    assert row.loc["GAN-1", "margin"] == "± 5 %"
    assert row.loc["GAN-7", "verdict"] == "reproduced" and row.loc["GAN-7", "reason"] == ""
    assert (t["verdict"] == "not run at this profile").sum() == len(h) - 2
    fig = sc.plot_scorecard(t, h)
    assert len(fig.axes) == 1
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_records_travel_through_the_provenance_block(tmp_path, rec):
    """A page records numbers, its provenance block carries them, collect_records finds them."""
    from advlib.study.provenance import provenance_block

    rec.record_proportion("gan_success_speech", 9, 10, scale=100, dataset="fsdd")
    block = provenance_block(notebook="gan", profile="ci", seed=0, results=rec.as_list())
    meta = block.metadata["advlib_provenance"]
    assert meta["results"][0]["key"] == "gan_success_speech" and meta["wall_s"] >= 0
    assert "gan_success_speech" in block.data
    nb = new_notebook(cells=[new_code_cell("x", outputs=[new_output(
        "display_data", data={"text/html": block.data}, metadata=json.loads(json.dumps(
            {"advlib_provenance": meta})))])])  # fmt: skip
    nbformat.write(nb, tmp_path / "gan.ipynb")
    got = sc.collect_records(tmp_path)
    assert len(got) == 1 and got[0]["notebook"] == "gan" and got[0]["profile"] == "ci"
    assert math.isclose(got[0]["value"], 90.0)


@pytest.mark.parametrize("name", ["demo", "ci", "paper", "smoke"])
def test_every_profile_records_for_the_scorecard(name):
    """The chapters that record the claims run at every profile."""
    cfg = load_profile(name)
    assert {"uap", "at", "gan"} <= set(cfg)


def test_headline_keys_are_recorded_by_the_chapters():
    """Each claim's key is recorded by a chapter (its module or its page's source, directly or
    through an f-string pattern), so no claim is silently never measured."""
    import re

    from advlib.paths import REPO_ROOT
    from advlib.tools.nbtools import read_source

    text = ""
    for name in ("uap", "at", "gan"):
        text += (REPO_ROOT / "advlib" / "chapters" / f"{name}.py").read_text()
        nb = read_source(REPO_ROOT / "notebooks" / f"{name}.md")
        text += "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    patterns = re.findall(r"\.record\w*\(\s*(f?)\"([^\"]+)\"", text)
    regexes = [
        re.compile("^" + re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(p)) + "$") if f else None
        for f, p in patterns
    ]
    literal = {p for f, p in patterns if not f}
    for key in sc.load_headlines()["key"]:
        assert key in literal or any(r and r.match(key) for r in regexes), key
