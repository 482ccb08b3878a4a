"""End-to-end (slow): the demo victim's clean accuracy lands in the band the design asks for.

The synthetic set must be learnable but not trivial: 80 % to 97 % test accuracy for the demo
victim at the demo profile's settings. The trained weights go to the study's cache, so the
book build that follows in CI reuses them.
"""

import pytest

from advlib.cache import Cache
from advlib.chapters import load_profile
from advlib.chapters.victims import evaluate
from advlib.data import load_dataset
from advlib.paths import cache_dir
from advlib.train.classifier import fit_victim


@pytest.mark.slow
def test_demo_victim_accuracy_in_band():
    cfg = load_profile("demo")
    ds_cfg = cfg["datasets"]["synthetic"]
    data = load_dataset("synthetic", **ds_cfg["args"])
    for name, v in ds_cfg["victims"].items():
        fit = fit_victim(
            Cache(cache_dir()),
            data,
            name,
            knobs=v.get("knobs"),
            train=v.get("train"),
            seed=cfg["seed"],
            progress=False,
        )
        acc = evaluate(fit, data, "test").accuracy
        assert 0.80 <= acc <= 0.97, f"{name}: demo test accuracy {acc:.3f} outside [0.80, 0.97]"
