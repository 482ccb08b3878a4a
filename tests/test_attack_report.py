"""Aggregation for the "Attack library" chapter, on hand-made attack runs."""

import numpy as np
import pandas as pd
import pytest
import torch

from advlib.chapters.attacks import (
    bench_table,
    example,
    plot_bench,
    plot_success_and_snr,
    settings_table,
    summary_table,
)
from advlib.run.runner import AttackRun


def _run(success, snr, attacked=None):
    n = len(success)
    attacked = [True] * n if attacked is None else attacked
    table = pd.DataFrame(
        {
            "attacked": attacked,
            "success": success,
            "l2": np.arange(1.0, n + 1),
            "linf": np.full(n, 0.01),
            "snr_db": snr,
        }
    )
    passes = {"forward_calls": 2, "forward_samples": 3 * n, "backward_calls": 2,
              "backward_samples": 2 * n}  # fmt: skip
    return AttackRun(x_adv=torch.zeros(n, 4), table=table, seconds=0.5, passes=passes)


def test_summary_counts_only_attacked_and_successful_clips():
    runs = {"a": _run([True, True, False, False], [10.0, 30.0, 5.0, 99.0], [True] * 3 + [False])}
    s = summary_table(runs, {"a": {"attack": "pgd"}})
    row = s.loc["a"]
    assert row["attack"] == "pgd" and row["attacked"] == 3 and row["successes"] == 2
    assert row["success"] == pytest.approx(2 / 3, abs=1e-3)
    assert row["median L2"] == 1.5 and row["median SNR (dB)"] == 20.0
    assert row["forward / clip"] == pytest.approx(4.0) and row["ms / clip"] == pytest.approx(166.7)
    assert row["95 % CI"] == "[21, 94] %"


def test_example_is_the_median_snr_success_or_none():
    assert example(_run([True, True, True, False], [30.0, 10.0, 20.0, 1.0])) == 2
    assert example(_run([False, False], [1.0, 2.0])) is None


def test_settings_table_names_the_attack_and_refuses_unknown_ones():
    t = settings_table({"bim_a": {"attack": "bim", "settings": {"eps": 0.1}, "targets": "next"}})
    assert t.loc["bim_a", "attack"] == "bim" and t.loc["bim_a", "targets"] == "label + 1"
    assert "Kurakin" in t.loc["bim_a", "reference"] and t.loc["bim_a", "settings"] == "eps=0.1"
    with pytest.raises(ValueError, match="unknown attack"):
        settings_table({"x": {"attack": "nope"}})


def test_plots_draw_one_bar_per_run_and_library():
    s = summary_table({"a": _run([True], [10.0]), "b": _run([False], [1.0])})
    fig = plot_success_and_snr(s)
    assert len(fig.axes[0].patches) == 2
    bench = {"results": [
        {"attack": "pgd", "library": "advlib", "seconds": 1.0},
        {"attack": "pgd", "library": "torchattacks", "seconds": 2.0},
        {"attack": "fgsm", "library": "advlib", "seconds": 0.1},
    ]}  # fmt: skip
    assert len(plot_bench(bench).axes[0].patches) == 4  # 2 attacks x 2 libraries (one NaN)
    assert bench_table(bench).loc[("pgd", "torchattacks"), "seconds"] == 2.0
    assert bench_table({}).empty


def test_bench_shows_floors_and_success_curves(tmp_path):
    """The chapter's view of the benchmark: the speed-up table with the floor columns (an
    attack without a peer appears by its floor ratio) and the success-against-time figure, a
    curve per library (failed points left out)."""
    import json

    from advlib.chapters.attacks import bench
    from advlib.plots import plot_success_curves

    point = lambda s, asr, l2: {"seconds": s, "asr": asr, "median_l2": l2}  # noqa: E731
    curves = {
        "deepfool": {"advlib": [point(0.1, 0.5, 0.2), point(0.3, 1.0, 0.3)],
                     "foolbox": [point(0.2, 0.4, 0.2), {"error": "boom"}]},
        "ddn": {"advlib": [point(0.5, 1.0, 0.4)]},
    }  # fmt: skip
    doc = {
        "results": [{"attack": "deepfool", "library": "advlib", "seconds": 0.3}],
        "speedups": {
            "deepfool": {"fastest_peer": "foolbox", "speedup": 2.0, "floor_ratio": 1.05,
                         "goal": "peer", "goal_met": True},
            "jsma": {"fastest_peer": None, "speedup": None, "floor_ratio": 1.04,
                     "goal": "floor", "goal_met": True},
        },
        "curves": curves,
    }  # fmt: skip
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(doc))
    b = bench(path)
    assert list(b.speedups.index) == ["deepfool", "jsma"]
    assert b.speedups.loc["jsma", "floor_ratio"] == 1.04 and b.speedups.loc["jsma", "goal_met"]
    assert len(b.curves.axes) == 4  # 2 attacks x (success, median L2)
    fig = plot_success_curves(curves)
    top = fig.axes[0]
    assert [line.get_label() for line in top.get_lines()] == ["advlib", "foolbox"]
    assert list(top.get_lines()[1].get_ydata()) == [0.4]  # the failed point is left out
    assert bench(tmp_path / "missing.json") is None


def test_playback_success_counts_clip_plays():
    from advlib.run.playback import playback_success

    class Loud(torch.nn.Module):  # class 1 when the clip's RMS exceeds 0.1
        def forward(self, x):
            r = x.pow(2).mean(1).sqrt() - 0.1
            return torch.stack([-r, r], dim=1)

    x_adv = torch.cat([torch.full((3, 400), 0.5), torch.full((2, 400), 0.11)])
    clean = torch.zeros(5, dtype=torch.long)
    attacked = torch.tensor([True, True, True, True, False])
    p = playback_success(Loud(), x_adv, clean, attacked, draws=4, transforms=("gain",))
    # the loud clips stay loud under +-6 dB; clip 3 (0.11) drops below 0.1 whenever the gain
    # is below -0.83 dB, so it fails in some plays; clip 4 is not attacked
    assert p.n == 16 and 12 <= p.successes < 16
    with pytest.raises(ValueError, match="draws"):
        playback_success(Loud(), x_adv, clean, attacked, draws=0)


def test_universal_table_reports_success_and_loudness():
    from advlib.chapters.attacks import universal_table

    run = _run([True, False], [20.0, 30.0])
    run.table["fooled_label"] = [True, True]
    x = torch.ones(2, 4)
    run.x_adv = x + 0.1
    rec = {"seconds": 2.0, "forward_samples": 5, "backward_samples": 5}
    t = universal_table({"u": (run, rec)}, x)
    row = t.loc["u"]
    assert row["success (held out)"] == 0.5 and row["differs from label"] == 1.0
    assert row["median l_dB_x"] == pytest.approx(-20.0) and row["craft passes"] == 10
    assert row["max |v| (waveform)"] == pytest.approx(0.1)


def test_playback_table_judges_runs_on_the_given_model():
    from advlib.chapters.attacks import playback_table

    class Sign(torch.nn.Module):  # class 1 when the clip's mean is positive
        def forward(self, x):
            m = x.mean(1)
            return torch.stack([-m, m], dim=1)

    x_adv = torch.tensor([[0.5] * 8, [-0.5] * 8, [0.5] * 8])
    run = _run([True, False, True], [10.0, 30.0, 20.0], [True, True, False])
    run.x_adv = x_adv
    clean = torch.zeros(3, dtype=torch.long)
    t = playback_table(Sign(), {"r": run}, clean, draws=2)
    # attacked: clips 0, 1; clip 0 flips to class 1 (also under gain, shift, noise: mean
    # stays positive; the band-pass removes DC and may not), clip 1 does not
    assert t.loc["r", "success, played directly"].startswith("50.0 %")
    assert t.loc["r", "median SNR (dB)"] == 15.0
