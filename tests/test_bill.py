"""The paper profile's bill (advlib.tools.bill): work counts, scaling, DAG timing."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pytest

from advlib.study.profile import load_profile
from advlib.tools import bill
from advlib.tools.units import _peak_rss_mb, _reset_peak_rss, profile_units

SIZES = {"us": {"train": 80, "valid": 10, "test": 10, "n_classes": 10}}
DATA = {"name": "us", "loader": "urbansound8k"}


def fit_spec(epochs: int | None = None, adversarial=None, batch: int = 4) -> dict:
    train = {"batch_size": batch} | ({"epochs": epochs} if epochs else {})
    return {"data": DATA, "fold": [1, 10], "arch": "alexnet", "knobs": {}, "train": train,
            "adversarial": adversarial}  # fmt: skip


def attack_spec(steps: int, budgets: list, n=None) -> dict:
    attack = {"attack": "bim", "budgets": budgets, "settings": {"steps": steps}}
    return {"fit": fit_spec(2), "domain": "representation", "n": n, "batch_size": 2,
            "attack": attack}  # fmt: skip


def test_rule_of_names_every_kind_of_job():
    assert bill.rule_of("victims/fsdd/cnn1d_rand") == "victims"
    assert bill.rule_of("at/esc50_at/f1v5/stft/vgg16/fgsm") == "at fit"
    assert bill.rule_of("at/esc50_at/f1v5/stft/vgg16/fgsm/cw_l2") == "at attack"
    assert bill.rule_of("uap/t0/sincnet/uap_penalty/targeted") == "uap"
    assert bill.rule_of("uap/variants/0/sincnet/targeted") == "uap"
    assert bill.rule_of("uap/kappa") == "uap section"
    assert bill.rule_of("gan/v0-wrn28_10/gen/all") == "gan generator"
    assert bill.rule_of("gan/v0-wrn28_10/compare/genetic/all") == "gan baseline"
    assert bill.rule_of("attacks/run/cw_l2") == "attacks"


def test_training_work_is_epochs_times_clips_and_fgsm_doubles_it():
    uid = "at/us/f1v10/stft/alexnet/original"
    w1 = bill.work(uid, fit_spec(1), SIZES)
    assert w1 == 1 * (80 + 10)
    assert bill.work(uid, fit_spec(3), SIZES) == 3 * w1
    fgsm = bill.work(uid.replace("original", "fgsm"), fit_spec(3, {"method": "fgsm"}), SIZES)
    assert fgsm == 6 * w1
    # no epochs in the spec: the AT recipe's (100)
    assert bill.work(uid, fit_spec(None), SIZES) == 100 * w1


def test_attack_work_counts_clips_budgets_and_steps():
    uid = "at/us/f1v10/stft/alexnet/original/bim_a"
    assert bill.work(uid, attack_spec(10, [0.1, 0.2, 0.3]), SIZES) == 10 * 3 * 10  # test part
    assert bill.work(uid, attack_spec(10, [0.1], n=4), SIZES) == 4 * 10
    cw = attack_spec(100, [None])
    cw["attack"]["settings"]["binary_search_steps"] = 5
    assert bill.work(uid, cw, SIZES) == 10 * 100 * 5


def test_uap_work_per_method_and_scenario():
    settings = {"inner_steps": 50, "max_passes": 10, "batch_size": 1}
    spec = {"data": DATA, "n_craft": 20, "n_eval": None, "method": "uap_iterative",
            "settings": settings, "scenario": "untargeted"}  # fmt: skip
    uid = "uap/t0/v/uap_iterative/untargeted"
    assert bill.work(uid, spec, SIZES) == 20 * 50 * 10 + 10
    targeted = {**spec, "scenario": "targeted", "target": "*"}  # every target in one unit
    assert bill.work(uid, targeted, SIZES) == 10 * bill.work(uid, spec, SIZES)
    one = {**spec, "scenario": "targeted", "target": 3}
    assert bill.work(uid, one, SIZES) == bill.work(uid, spec, SIZES)
    pen = {**spec, "method": "uap_penalty", "settings": {"steps": 100, "batch_size": 8}}
    assert bill.work("uap/t0/v/uap_penalty/untargeted", pen, SIZES) == 100 * 8 + 10


def test_critical_path_is_the_longest_chain():
    d = {"a": 1.0, "b": 2.0, "c": 5.0, "d": 3.0}
    needs = {"b": ["a"], "d": ["b"]}
    length, path = bill.critical_path(d, needs)
    assert length == 6.0 and path == ["a", "b", "d"]
    with pytest.raises(ValueError, match="cycle"):
        bill.critical_path({"a": 1.0, "b": 1.0}, {"a": ["b"], "b": ["a"]})


def test_schedule_bounds():
    d = {"a": 3.0, "b": 3.0, "c": 2.0, "d": 2.0}
    assert bill.schedule(d, {}, 1) == 10.0
    assert bill.schedule(d, {}, 2) == 5.0
    assert bill.schedule(d, {}, 100) == 3.0
    chain = {"d": ["c"], "c": ["b"]}
    assert bill.schedule(d, chain, 100) == bill.critical_path(d, chain)[0] == 7.0
    with pytest.raises(ValueError):
        bill.schedule(d, {}, 0)


def _units(specs: dict, needs: dict | None = None) -> dict:
    needs = needs or {}
    return {k: SimpleNamespace(spec=v, needs=tuple(needs.get(k, ()))) for k, v in specs.items()}


def test_estimate_scales_the_measured_twin_and_borrows_for_the_rest():
    fit = "at/us/f1v10/stft/alexnet/original"
    other = "at/us/f1v10/dwt/alexnet/original"
    attack = f"{fit}/bim_a"
    smoke = {"profile": "smoke", "measured": "now", "commit": None, "machine": {},
             "units": [{"id": fit, "seconds": 10.0, "peak_rss_mb": 600.0, "batch": 2,
                        "work": bill.work(fit, fit_spec(1, batch=2), SIZES)}]}  # fmt: skip
    paper = _units({fit: fit_spec(4, batch=8), other: fit_spec(2, batch=8),
                    attack: attack_spec(10, [1])}, {attack: [fit]})  # fmt: skip
    out = bill.estimate(smoke, paper, SIZES, workers=(1, 2))
    jobs = {j["id"]: j for j in out["jobs"]}
    assert jobs[fit]["seconds"] == pytest.approx(40.0) and jobs[fit]["basis"] == "same unit"
    assert jobs[other]["seconds"] == pytest.approx(20.0)
    assert jobs[other]["basis"] == "same kind and model"
    assert math.isnan(jobs[attack]["seconds"]) and out["not_measured"] == [attack]
    # memory: the only measured unit is the base, so nothing scales
    assert jobs[fit]["mem_mb"] == pytest.approx(600.0)
    assert out["wall"] == {"1": pytest.approx(60.0), "2": pytest.approx(40.0)}
    assert out["critical_path"]["seconds"] == pytest.approx(40.0)


def test_collect_reads_sentinels(tmp_path):
    folder = tmp_path / "data" / "units" / "smoke" / "at" / "us"
    folder.mkdir(parents=True)
    uid = "at/us/f1v10/stft/alexnet/original"
    rec = {"id": uid, "seconds": 3.0, "peak_rss_mb": 900.0, "computed": 1,
           "spec": {"profile": "smoke", "seed": 0, "spec": fit_spec(1, batch=2)}}  # fmt: skip
    (tmp_path / "data/units/smoke" / f"{uid}.json").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "data/units/smoke" / f"{uid}.json").write_text(json.dumps(rec))
    out = bill.collect("smoke", tmp_path, sizes=SIZES)
    assert out["units"] == [{"id": uid, "seconds": 3.0, "peak_rss_mb": 900.0, "batch": 2.0,
                             "work": 90.0, "computed": 1}]  # fmt: skip
    with pytest.raises(FileNotFoundError, match="no unit sentinels"):
        bill.collect("nothing", tmp_path, sizes=SIZES)


def test_paper_sizes_cover_every_paper_data_set_and_every_paper_unit_has_work():
    sizes = bill.load_paper_sizes()
    cfg = load_profile("paper")
    assert set(cfg["datasets"]) <= set(sizes)
    units = profile_units(cfg)
    works = {uid: bill.work(uid, u.spec, sizes) for uid, u in units.items()}
    assert all(w > 1 for w in works.values()), [k for k, w in works.items() if w <= 1]


def test_cli_without_a_measurement_says_so(tmp_path):
    out = tmp_path / "bill.json"
    code = bill.main(["estimate", "--measured", str(tmp_path / "none.json"), "--out", str(out)])
    assert code == 0 and json.loads(out.read_text())["measured"] is None


def test_peak_memory_is_per_unit():
    import numpy as np

    big = np.ones(50_000_000)  # 400 MB
    del big
    before = _peak_rss_mb()
    assert _reset_peak_rss()
    assert _peak_rss_mb() < before - 300


def test_kind_separates_attacks():
    assert bill.kind_of("at/us/f1v10/stft/alexnet/fgsm/cw_l2") == "at attack cw_l2"
    assert bill.kind_of("gan/v0-wrn28_10/compare/genetic/all") == "gan baseline genetic"
    assert bill.kind_of("at/us/f1v10/stft/alexnet/fgsm") == "at fit"
