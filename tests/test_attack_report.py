"""Aggregation for the "Attack library" chapter, on hand-made attack runs."""

import numpy as np
import pandas as pd
import pytest
import torch

from advlib.attack_report import (
    bench_table,
    example,
    plot_bench,
    plot_success_and_snr,
    settings_table,
    summary_table,
)
from advlib.run import AttackRun


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
    assert row["attack"] == "pgd" and row["attacked"] == 3
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
