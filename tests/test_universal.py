"""Crafting (cached) and evaluating universal perturbations on a victim with a known answer."""

from types import SimpleNamespace

import pytest
import torch

from advlib.cache import Cache
from advlib.data.synthetic import make_synthetic
from advlib.run.universal import craft_uap, evaluate_uap, uap_space

pytestmark = pytest.mark.usefixtures("one_thread")


class MeanSign(torch.nn.Module):
    """Class 1 when the clip's mean exceeds a threshold: a DC offset fools every clip."""

    def forward(self, x):
        m = x.mean(dim=1) - 0.01
        never = torch.full((len(x), 8), -1e4, dtype=x.dtype)  # classes 2..9: never predicted
        return torch.cat([torch.stack([-m, m], dim=1) * 100, never], dim=1)


@pytest.fixture(scope="module")
def setup():
    data = make_synthetic(seed=0, clips_per_class=6, sample_rate=4000, duration=0.025)
    return data, SimpleNamespace(model=MeanSign(), cache_key="mean-sign")


def test_iterative_uap_is_cached_and_fools_held_out_clips(setup, tmp_path):
    data, victim = setup
    cache = Cache(tmp_path)
    settings = {"eps": 0.05, "inner_steps": 20, "max_passes": 5}
    v, rec, hit = craft_uap(cache, victim, data, "uap_iterative", settings, n=20)
    v2, rec2, hit2 = craft_uap(cache, victim, data, "uap_iterative", settings, n=20)
    assert (hit, hit2) == (False, True) and torch.equal(v, v2) and rec == rec2
    assert v.shape == (data.length,) and v.abs().max() <= 0.05 + 1e-6
    assert rec["forward_samples"] > 0 and len(rec["clips"]) == 20
    test = data.part("test")
    run = evaluate_uap(victim.model, test.x, test.y, v, space=uap_space("uap_iterative", {}))
    # every clean clip is class 0 (means near 0); v adds a positive offset to all of them
    assert run.table["attacked"].all(), "UAP success counts every clip (Eq. 3)"
    assert run.success.rate == 1.0
    assert (run.table["linf"] <= 0.05 + 1e-6).all()


def test_targeted_penalty_uap_leaves_out_the_target_class(setup, tmp_path):
    data, victim = setup
    cache = Cache(tmp_path)
    settings = {
        "steps": 100,
        "lr": 0.01,
        "c": 1.0,
        "confidence": 50.0,
        "variant": "code",
        "fooling_rate": 1.0,
    }
    v, rec, _ = craft_uap(cache, victim, data, "uap_penalty", settings, n=20, target=1)
    train = data.part("train")
    assert (train.y[rec["clips"]] != 1).all()
    test = data.part("test")
    run = evaluate_uap(victim.model, test.x, test.y, v, space=uap_space("uap_penalty", settings),
                       target=1)  # fmt: skip
    assert ((test.y == 1) == ~torch.tensor(run.table["attacked"].to_numpy())).all()
    assert run.success.rate > 0.9


def test_bad_requests_raise(setup, tmp_path):
    data, victim = setup
    cache = Cache(tmp_path)
    with pytest.raises(ValueError, match="not a universal attack"):
        craft_uap(cache, victim, data, "pgd", {"eps": 0.1})
    with pytest.raises(ValueError, match="no setting"):
        craft_uap(cache, victim, data, "uap_iterative", {"epz": 0.1})
    with pytest.raises(ValueError, match="target must be"):
        craft_uap(cache, victim, data, "uap_iterative", {"eps": 0.1}, target=99)
    with pytest.raises(ValueError, match="v has shape"):
        evaluate_uap(victim.model, data.x[:2], data.y[:2], torch.zeros(3))
