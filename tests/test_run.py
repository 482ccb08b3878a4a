import inspect
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from advlib.attacks import deepfool, fgsm, pgd
from advlib.run.runner import run_attack

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def toy():
    torch.manual_seed(0)
    model = torch.nn.Linear(20, 3).double()
    x = (torch.rand(12, 20, dtype=torch.float64) - 0.5) * 0.5
    y = model(x).argmax(1)
    y[:3] = (y[:3] + 1) % 3  # three samples the model gets wrong
    return model, x, y


def test_untargeted_skips_misclassified_and_counts_passes(toy):
    model, x, y = toy
    res = run_attack(model, x, y, partial(deepfool, steps=50), batch_size=4, progress=False)
    t = res.table
    assert (~t["attacked"][:3]).all() and t["attacked"][3:].all()
    assert torch.equal(res.x_adv[:3], x[:3]), "unattacked samples are returned unchanged"
    assert t["success"][3:].all() and res.success.rate == 1.0 and res.success.n == 9
    # DeepFool on a linear model: one step plus the check, per batch of the 9 attacked samples
    assert res.passes["forward_samples"] == 2 * 9
    assert res.passes["backward_calls"] >= 1
    delta = (res.x_adv - x).norm(dim=1).numpy()
    np.testing.assert_allclose(t["l2"], delta, rtol=1e-6)
    # unattacked: no perturbation, so the SNR is undefined (NaN), never an infinity
    assert np.isnan(t["snr_db"][:3]).all() and np.isfinite(t["snr_db"][3:]).all()


def test_success_is_measured_against_the_clean_prediction(toy):
    model, x, y = toy
    res = run_attack(model, x, y, partial(fgsm, eps=0.3), skip_misclassified=False, progress=False)
    t = res.table
    assert t["attacked"].all()
    assert (t["success"] == (t["adv_pred"] != t["clean_pred"])).all()
    assert (t["fooled_label"] == (t["adv_pred"] != t["label"])).all()
    assert (t["linf"] <= 0.3 + 1e-9).all()


def test_targeted_excludes_samples_of_the_target_class(toy):
    model, x, y = toy
    res = run_attack(
        model, x, y, partial(pgd, eps=1.0, steps=30, random_start=False), targets=2, progress=False
    )
    t = res.table
    assert ((t["label"] == 2) == ~t["attacked"]).all()
    assert (t["target"] == 2).all()
    assert (t["success"] == (t["attacked"] & (t["adv_pred"] == 2))).all()
    assert res.success.n == int((y != 2).sum())


def test_batch_size_does_not_change_results(toy):
    model, x, y = toy
    a = run_attack(model, x, y, partial(deepfool, steps=50), batch_size=1, progress=False)
    b = run_attack(model, x, y, partial(deepfool, steps=50), batch_size=12, progress=False)
    torch.testing.assert_close(a.x_adv, b.x_adv)
    assert a.summary()["success"] == b.summary()["success"]


def test_bad_inputs_raise(toy):
    model, x, y = toy
    with pytest.raises(ValueError, match="samples"):
        run_attack(model, x, y[:5], partial(fgsm, eps=0.1), progress=False)
    with pytest.raises(ValueError, match="targets"):
        run_attack(
            model,
            x,
            y,
            partial(fgsm, eps=0.1),
            targets=torch.zeros(3, dtype=torch.long),
            progress=False,
        )
    bad = x.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        run_attack(model, bad, y, partial(fgsm, eps=0.1), progress=False)
    with pytest.raises(ValueError, match="empty"):
        run_attack(model, x[:0], y[:0], partial(fgsm, eps=0.1), progress=False)


# --------------------------------------------------------------------------- by name, cached


def test_make_attack_checks_names_and_settings():
    from advlib.attacks.registry import ATTACKS, get_attack, make_attack

    with pytest.raises(ValueError, match="unknown attack 'pgdd'.*known attacks: fgsm"):
        make_attack("pgdd")
    with pytest.raises(ValueError, match="no setting.*'epss'.*accepted: eps"):
        make_attack("pgd", {"epss": 0.1})
    with pytest.raises(ValueError, match="no setting.*'targeted'"):
        make_attack("pgd", {"targeted": True})
    fn = make_attack("pgd", {"eps": 0.1, "bounds": [-1, 1]})
    assert fn.func is pgd and fn.keywords == {"eps": 0.1, "bounds": (-1, 1)}
    g1 = make_attack("pgd", {"eps": 0.1}, seed=3).keywords["generator"]
    g2 = make_attack("pgd", {"eps": 0.1}, seed=3).keywords["generator"]
    assert g1 is not g2 and torch.equal(torch.rand(4, generator=g1), torch.rand(4, generator=g2))
    for name in ATTACKS:  # every entry resolves to a function with the shared signature
        f = get_attack(name)
        assert list(inspect.signature(f).parameters)[:3] == ["model", "x", "y"], name


def test_pick_clips_is_class_balanced_and_seeded():
    from advlib.run.runner import pick_clips

    y = torch.tensor([0] * 10 + [1] * 3 + [2] * 7)
    idx = pick_clips(y, 9, seed=1)
    assert len(set(idx.tolist())) == 9
    assert torch.bincount(y[idx], minlength=3).tolist() == [3, 3, 3]
    assert torch.equal(idx, pick_clips(y, 9, seed=1))
    assert not torch.equal(idx, pick_clips(y, 9, seed=2))
    assert sorted(pick_clips(y, 50).tolist()) == list(range(20))
    with pytest.raises(ValueError, match="n must be"):
        pick_clips(y, 0)


def test_attack_clips_is_cached_and_keyed_by_settings(tmp_path):
    from advlib.cache import Cache
    from advlib.data.synthetic import make_synthetic
    from advlib.run.runner import attack_clips

    data = make_synthetic(seed=0, clips_per_class=6, sample_rate=4000, duration=0.025)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(data.length, 10)).eval()
    victim = SimpleNamespace(model=model, cache_key="toy-victim")
    cache = Cache(tmp_path)
    kw = {"part": "test", "n": 8, "seed": 0, "progress": False}
    run1, idx, hit1 = attack_clips(cache, victim, data, "pgd", {"eps": 0.05, "steps": 3}, **kw)
    run2, idx2, hit2 = attack_clips(cache, victim, data, "pgd", {"eps": 0.05, "steps": 3}, **kw)
    assert (hit1, hit2) == (False, True) and torch.equal(idx, idx2)
    assert torch.equal(run1.x_adv, run2.x_adv) and run1.passes == run2.passes
    assert run2.table["success"].dtype == bool and run1.table.equals(run2.table)
    assert (run2.table["linf"] <= 0.05 + 1e-6).all()
    _, _, hit3 = attack_clips(cache, victim, data, "pgd", {"eps": 0.04, "steps": 3}, **kw)
    assert hit3 is False
    with pytest.raises(ValueError, match="no setting"):
        attack_clips(cache, victim, data, "pgd", {"eps": 0.05, "stepz": 3}, **kw)
