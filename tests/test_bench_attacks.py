"""The attack benchmark's quick path on a tiny untrained model: schema and pass counts.

Speed itself is measured by ``python -m advlib.tools.bench_attacks``, never here.
"""

import json
import math

import pytest
import torch
from torch import nn

from advlib.tools import bench_attacks as ba

T, K, N = 32, 4, 8

ROW_FIELDS = {
    "attack", "library", "available", "targeted", "note", "seconds", "runs", "forward_calls",
    "forward_samples", "backward_calls", "backward_samples", "forward_per_clip",
    "backward_per_clip", "model_seconds", "overhead", "asr", "n_success", "median_l2",
    "median_linf", "median_l0", "max_l2", "max_linf",
}  # fmt: skip
SPEEDUP_FIELDS = {
    "fastest_peer", "ours_seconds", "fastest_peer_seconds", "speedup", "model_cost_ratio",
    "asr_diff", "norm", "norm_ratio", "not_worse", "fastest_matched_peer",
    "speedup_at_quality", "goal", "goal_met", "floor_seconds", "floor_ratio", "peer_over_floor",
}  # fmt: skip
TOP_FIELDS = {
    "benchmark", "complete", "quick", "n_clips", "input_shape", "box", "device",
    "torch_threads", "timing", "overhead_definition", "floor_definition", "success_definition",
    "goals", "norms", "batch_size", "batch_size_costs", "pass_cost", "settings", "results",
    "speedups", "curves", "curves_clips", "population",
}  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def doc():
    """The quick benchmark of every attack and library on 8 clips of a tiny untrained model,
    with PGD-Linf set to 5 steps without early stop."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(T, 16), nn.ReLU(), nn.Linear(16, K)).eval()
    model.requires_grad_(False)
    x = 0.8 * (2 * torch.rand(N, T) - 1)
    with torch.no_grad():
        y = model(x).argmax(1)
    return ba.run_benchmark(
        model, x, y, quick=True, settings={"pgd_linf": {"steps": 5, "early_stop": False}},
        repeats=1, warmup=2,
    )  # fmt: skip


def test_the_document_has_every_field_and_is_json(doc, tmp_path):
    assert TOP_FIELDS <= set(doc)
    assert doc["complete"] and doc["quick"] and doc["n_clips"] == N and doc["input_shape"] == [T]
    assert {"forward_s_per_clip", "backward_s_per_clip"} <= set(doc["pass_cost"])
    assert set(doc["settings"]) == set(ba.ATTACKS)
    pairs = {(r["attack"], r["library"]) for r in doc["results"]}
    assert pairs == {(a, lib) for a in ba.ATTACKS for lib in ba.LIBRARIES}
    for row in doc["results"]:
        assert "error" not in row, row
        if row["available"]:
            assert ROW_FIELDS <= set(row), (row["attack"], row["library"])
            assert 0.0 <= row["asr"] <= 1.0 and row["seconds"] > 0 and row["runs"] == 1
            assert row["model_seconds"] > 0 and math.isfinite(row["overhead"])
            assert row["targeted"] == (row["attack"] in ba.TARGETED)
            if row["n_success"]:
                assert row["median_l2"] > 0 and row["median_linf"] > 0
            assert ("floor_seconds" in row) == (row["library"] == "advlib")
        else:
            assert row["library"] != "advlib" and row["note"]
    assert set(doc["speedups"]) == set(ba.ATTACKS)
    for attack, s in doc["speedups"].items():
        peers = [r for r in doc["results"] if r["attack"] == attack and r["library"] != "advlib"]
        if any(r["available"] for r in peers):
            assert SPEEDUP_FIELDS <= set(s) and s["goal"] == "peer"
        else:  # JSMA: no comparable peer, judged against its floor
            assert s["speedup"] is None and s["goal"] == "floor" and s["floor_ratio"] > 0
    assert doc["speedups"]["jsma"]["goal"] == "floor" and doc["norms"]["jsma"] == "median_l0"
    assert set(doc["curves"]) == {"deepfool", "cw_l2", "ddn"}
    for attack, libs in doc["curves"].items():
        assert set(libs) == {lib for lib in ba.LIBRARIES if attack in ba.IMPLEMENTS[lib]}
        for points in libs.values():
            assert len(points) == len(ba.QUICK_CURVES[attack])
            assert all(p["seconds"] > 0 and 0 <= p["asr"] <= 1 for p in points), points
    for name in ("genetic", "pso"):
        res = doc["population"][name]
        assert "skipped" in res or {"batched_seconds", "loop_seconds", "speedup"} <= set(res)
        if "skipped" not in res:
            assert res["same_result"]
            assert res["loop_forward_calls"] > res["batched_forward_calls"]
    path = ba.write_json({**doc, "environment": {}}, tmp_path / "out" / "bench.json")
    assert json.loads(path.read_text())["n_clips"] == N
    assert [p.name for p in path.parent.iterdir()] == ["bench.json"]  # no temporary file left


def _row(doc, attack, library):
    return next(r for r in doc["results"] if (r["attack"], r["library"]) == (attack, library))


def test_our_passes_are_counted_exactly(doc):
    """FGSM: one forward and one backward per clip. PGD without early stop, 5 steps: one
    backward per step and clip, and one more forward to score the last iterate."""
    row = _row(doc, "fgsm", "advlib")
    assert (row["forward_samples"], row["backward_samples"]) == (N, N)
    assert (row["forward_calls"], row["backward_calls"]) == (1, 1)
    row = _row(doc, "pgd_linf", "advlib")
    assert row["backward_samples"] == 5 * N and row["backward_calls"] == 5
    assert row["forward_samples"] == 6 * N and row["forward_calls"] == 6
    assert row["backward_per_clip"] == 5.0
    assert row["max_linf"] <= doc["settings"]["pgd_linf"]["eps"] + 1e-6


def test_peers_passes_are_counted_through_the_unit_box(doc):
    """Peers call the victim through ``Unit`` around the same counter: torchattacks' FGSM and
    PGD make exactly one forward and one backward per clip and step."""
    row = _row(doc, "fgsm", "torchattacks")
    if not row["available"]:
        pytest.skip(row["note"])
    assert (row["forward_samples"], row["backward_samples"]) == (N, N)
    row = _row(doc, "pgd_linf", "torchattacks")
    assert (row["forward_samples"], row["backward_samples"]) == (5 * N, 5 * N)
    # the same budget on the peer's [0, 1] box: the perturbation maps back to eps on [-1, 1]
    assert row["max_linf"] == pytest.approx(doc["settings"]["pgd_linf"]["eps"], rel=1e-4)


def test_every_library_gets_the_clips_in_chunks_of_the_batch_size():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(T, K)).eval().requires_grad_(False)
    x = 0.8 * (2 * torch.rand(N, T) - 1)
    y = model(x).argmax(1)
    doc = ba.run_benchmark(
        model, x, y, quick=True, attacks=("fgsm",), libraries=("advlib",), batch_size=3,
        repeats=1, warmup=0, population=False,
    )  # fmt: skip
    assert doc["batch_size"] == 3 and doc["pass_cost"]["batch"] == 3
    row = _row(doc, "fgsm", "advlib")
    assert (row["forward_calls"], row["forward_samples"]) == (3, N)  # 3 + 3 + 2 clips


def test_skipped_peer_runs_say_so():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(T, K)).eval().requires_grad_(False)
    x = 0.8 * (2 * torch.rand(N, T) - 1)
    y = model(x).argmax(1)
    doc = ba.run_benchmark(
        model, x, y, quick=True, attacks=("fgsm",), libraries=("advlib", "foolbox"),
        skip=(("foolbox", "fgsm"),), repeats=1, warmup=0, population=False, curves=False,
    )  # fmt: skip
    row = _row(doc, "fgsm", "foolbox")
    assert not row["available"] and "--skip" in row["note"]
    assert doc["speedups"]["fgsm"]["goal"] == "floor"  # no peer ran
    with pytest.raises(ValueError, match="PEER:ATTACK"):
        ba.main(["--skip", "advlib:fgsm"])


def test_unit_is_the_same_function_on_the_unit_box():
    model = nn.Linear(T, K)
    x = 2 * torch.rand(3, T) - 1
    unit = ba.Unit(model, (T,))
    torch.testing.assert_close(unit(((x + 1) / 2).reshape(3, 1, 1, T)), model(x))


def test_unknown_attacks_are_refused():
    model = nn.Linear(T, K)
    x = torch.zeros(2, T)
    with pytest.raises(ValueError, match="unknown attacks"):
        ba.run_benchmark(model, x, torch.zeros(2, dtype=torch.long), attacks=("genetic",))


def test_the_floor_replays_the_logged_calls():
    """CallLog logs each call's clips and backward passes; replay_floor makes exactly those
    passes again (counted here by a PassCounter), tiling the clips when a call asks for more
    than there are."""
    from advlib.attacks import PassCounter

    model = nn.Sequential(nn.Linear(T, K)).eval().requires_grad_(False)
    log = ba.CallLog(model)
    x = torch.rand(4, T, requires_grad=True)
    out = log(x)
    torch.autograd.grad(out[:, 0].sum(), x, retain_graph=True)
    torch.autograd.grad(out[:, 1].sum(), x)
    with torch.no_grad():
        log(x[:2])
    assert log.calls == [[4, 2], [2, 0]]
    assert (log.backward_calls, log.backward_samples) == (2, 8)
    counter = PassCounter(model)
    seconds = ba.replay_floor(counter, x.detach(), [[4, 2], [2, 0], [9, 1]])
    assert seconds > 0
    assert (counter.forward_calls, counter.forward_samples) == (3, 15)
    assert (counter.backward_calls, counter.backward_samples) == (3, 4 + 4 + 9)


def test_targeted_attacks_are_judged_on_their_targets():
    """JSMA runs targeted at label + 1: success is reaching it, L0 counts changed samples."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(T, K)).eval().requires_grad_(False)
    x = 0.5 * (2 * torch.rand(N, T) - 1)
    y = model(x).argmax(1)
    doc = ba.run_benchmark(
        model, x, y, quick=True, attacks=("jsma",), libraries=("advlib",), repeats=1,
        warmup=0, population=False, curves=False,
        settings={"jsma": {"theta": 1.0, "gamma": 0.5, "steps": 8}},
    )  # fmt: skip
    row = _row(doc, "jsma", "advlib")
    x_adv = ba.jsma(model, x, (y + 1) % K, targeted=True, theta=1.0, gamma=0.5, steps=8)
    hit = model(x_adv).argmax(1) == (y + 1) % K
    assert row["targeted"] and row["asr"] == hit.float().mean().item() > 0
    changed = ((x_adv - x).abs() > 1e-6).sum(1).double()
    assert row["median_l0"] == changed[hit].median().item()
    assert doc["speedups"]["jsma"]["goal"] == "floor"


def test_goals_peer_and_floor():
    ours = {
        "attack": "a",
        "library": "advlib",
        "seconds": 1.0,
        "model_seconds": 0.9,
        "asr": 1.0,
        "median_l2": 0.5,
        "floor_seconds": 0.95,
        "floor_ratio": 1 / 0.95,
    }
    peer = {"attack": "a", "library": "foolbox", "seconds": 1.4, "model_seconds": 1.0,
            "asr": 1.0, "median_l2": 0.5}  # fmt: skip
    s = ba._speedups([ours, peer])["a"]
    assert s["goal"] == "peer" and s["goal_met"] and s["speedup"] == pytest.approx(1.4)
    assert s["peer_over_floor"] == pytest.approx(1.4 / 0.95)
    worse = {**ours, "median_l2": 0.6}  # faster but larger perturbations: not met
    assert not ba._speedups([worse, peer])["a"]["goal_met"]
    alone = ba._speedups([ours])["a"]
    assert alone["goal"] == "floor" and alone["goal_met"]  # 1.05 <= 1.10
    assert not ba._speedups([{**ours, "floor_ratio": 1.2}])["a"]["goal_met"]


def test_settings_come_from_the_profile_with_the_module_values_as_fallback():
    """One source of truth: the benchmark runs each attack with the profile's ``attacks.runs``
    settings (the chapter's), and :data:`SETTINGS` only fills in what the profile leaves out."""
    from advlib.chapters import load_profile

    runs = load_profile("demo")["attacks"]["runs"]
    got = ba.profile_settings(runs)
    assert set(got) == set(ba.ATTACKS)  # the demo profile runs every benchmark attack
    assert got["jsma"] == runs["jsma"]["settings"] and runs["jsma"]["targets"] == "next"
    assert got["bim"] == runs["bim_a"]["settings"]  # the first untargeted BIM run
    assert got["fgsm"] == {"eps": runs["fgsm"]["settings"]["eps"]}
    assert got["pgd_linf"]["eps"] == runs["pgd_linf"]["settings"]["eps"] == 0.005
    assert got["pgd_l2"]["eps"] == runs["pgd_l2"]["settings"]["eps"]
    assert got["cw_l2"]["c"] == runs["cw_l2"]["settings"]["c"]
    assert "norm" not in got["pgd_l2"]  # only the keys the benchmark uses
    merged = ba._merge(ba.SETTINGS, got)
    assert merged["pgd_linf"]["random_start"] is ba.SETTINGS["pgd_linf"]["random_start"]
    # quick keeps its short step counts and takes the profile's budgets
    quick = ba._merge(ba.QUICK_SETTINGS, ba.profile_settings(runs, quick=True))
    assert quick["pgd_linf"]["steps"] == ba.QUICK_SETTINGS["pgd_linf"]["steps"]
    assert quick["pgd_linf"]["eps"] == 0.005


def test_a_run_is_matched_by_attack_and_norm_and_unlisted_attacks_fall_back():
    runs = {
        "pgd_t": {"attack": "pgd", "settings": {"eps": 0.1, "steps": 3}, "targets": "next"},
        "l2": {"attack": "pgd", "settings": {"eps": 0.2, "steps": 4, "norm": 2}},
        "linf": {"attack": "pgd", "settings": {"eps": 0.01, "steps": 5}},
    }
    got = ba.profile_settings(runs)
    assert got["pgd_linf"] == {"eps": 0.01, "steps": 5}  # the targeted run is not the benchmark's
    assert got["pgd_l2"] == {"eps": 0.2, "steps": 4}
    assert set(got) == {"pgd_linf", "pgd_l2"}  # the others: SETTINGS


def test_the_victim_is_the_study_victim(tmp_cache, monkeypatch):
    """The benchmark's victim is the profile's, through Study.victim: the same cache key as
    the victims page's, and the entry that page trained is read, not trained again."""
    import advlib.chapters
    from advlib.study import Study
    from advlib.tools.pages import chapter_datasets

    cfg = {
        "profile": "tiny",
        "seed": 0,
        "datasets": {
            "synthetic": {
                "loader": "synthetic",
                "args": {"seed": 0, "clips_per_class": 5, "sample_rate": 8000, "duration": 1.0},
                "victims": {
                    "cnn1d_rand": {
                        "knobs": {"width": 0.25, "pools": [8, 4, 1]},
                        "train": {"epochs": 1},
                    }
                },
            }
        },
    }
    monkeypatch.setattr(advlib.chapters, "load_profile", lambda name: cfg)
    study = Study("tiny", 0, chapter_datasets(cfg, ["synthetic"]))
    key = study.victim_key("synthetic", "cnn1d_rand")
    model, data, info = ba.load_victim("tiny", "cnn1d_rand")
    assert info["cache_key"] == key and not info["was_cached"] and info["dataset"] == "synthetic"
    assert not model.training and len(data) == 50
    assert ba.load_victim("tiny", "cnn1d_rand")[2]["was_cached"]


def test_select_clips_takes_the_right_ones_first_and_fills_only_when_asked():
    from advlib.tools.bench_attacks import select_clips

    model = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))  # predicts the larger coordinate
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([1, 1, 1, 0])  # right: clip 1 only
    xs, ys = select_clips(model, x, y, 1)
    assert torch.equal(xs, x[1:2]) and ys.tolist() == [1]
    with pytest.raises(ValueError, match="only 1 clips are classified correctly"):
        select_clips(model, x, y, 3)
    xs, ys = select_clips(model, x, y, 3, fill=True)  # the right one, then the first wrong ones
    assert torch.equal(xs, x[[1, 0, 2]]) and ys.tolist() == [1, 1, 1]
