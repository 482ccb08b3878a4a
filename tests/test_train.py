import pytest
import torch

from advlib.cache import Cache
from advlib.chapters.victims import evaluate
from advlib.data import make_synthetic
from advlib.train.classifier import TrainConfig, fit_victim, train_classifier

KNOBS = {"width": 0.25, "pools": [8, 4, 1]}


@pytest.fixture(scope="module")
def tiny():
    return make_synthetic(seed=1, clips_per_class=10, sample_rate=8000, duration=1.0)


def test_training_learns_something(tiny):
    # a linearly separable toy problem: the loop must drive training accuracy up
    torch.manual_seed(0)
    x = torch.randn(64, 20)
    y = (x[:, 0] > 0).long()
    import numpy as np

    from advlib.data import AudioSet

    ds = AudioSet("toy", (x / 4).clamp(-1, 1), y, 8000, ("neg", "pos"), np.array(["train"] * 64))
    model = torch.nn.Sequential(torch.nn.Linear(20, 2))
    res = train_classifier(
        model,
        ds,
        ds,
        TrainConfig(optimizer="adam", lr=0.1, optimizer_kwargs={}, batch_size=16, epochs=15),
        progress=False,
    )
    assert res.best_valid_acc >= 0.9
    assert len(res.history) == 15 and res.history[-1]["train_loss"] < res.history[0]["train_loss"]


def test_fit_victim_is_deterministic_and_cached(tiny, tmp_path):
    train = {"epochs": 2, "batch_size": 20}
    a = fit_victim(
        Cache(tmp_path / "a"), tiny, "cnn1d_rand", knobs=KNOBS, train=train, progress=False
    )
    b = fit_victim(
        Cache(tmp_path / "b"), tiny, "cnn1d_rand", knobs=KNOBS, train=train, progress=False
    )
    assert not a.cached and not b.cached
    for (k, va), vb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(va, vb), k
    assert a.history == b.history or all(
        ha["train_loss"] == hb["train_loss"] for ha, hb in zip(a.history, b.history)
    )
    cache = Cache(tmp_path / "a")
    c = fit_victim(cache, tiny, "cnn1d_rand", knobs=KNOBS, train=train, progress=False)
    assert c.cached and c.cache_key == a.cache_key
    assert evaluate(c, tiny).pred.tolist() == evaluate(a, tiny).pred.tolist()
    d = fit_victim(cache, tiny, "cnn1d_rand", knobs=KNOBS, train=train, seed=1, progress=False)
    assert not d.cached and d.cache_key != a.cache_key


def test_best_validation_epoch_is_kept(tiny, tmp_path):
    fit = fit_victim(
        Cache(tmp_path),
        tiny,
        "cnn1d_rand",
        knobs=KNOBS,
        train={"epochs": 3, "batch_size": 20},
        progress=False,
    )
    accs = [h["valid_acc"] for h in fit.history]
    assert fit.best_valid_acc == max(accs)
    assert fit.best_epoch == accs.index(max(accs)) + 1
    # the returned model holds the selected weights
    ev = evaluate(fit, tiny, "valid")
    assert ev.accuracy == pytest.approx(fit.best_valid_acc)


def test_bad_training_settings():
    with pytest.raises(ValueError, match="unknown optimizer"):
        TrainConfig(optimizer="adagrad2")
    with pytest.raises(ValueError, match="unknown training setting"):
        TrainConfig.from_dict({"epochz": 3})
    with pytest.raises(ValueError):
        TrainConfig(lr=-1)


# --------------------------------------------------------------------------------------------
# adversarial training (AT paper, Eq. 14), monitors and epoch selection
# --------------------------------------------------------------------------------------------


def _images(n=12, shape=(2, 3), k=3, seed=0):
    from advlib.chapters.at import Images

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, *shape, generator=g)
    y = torch.arange(n) % k
    return Images(x, y, k)


def _linear(d=6, k=3, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(d, k))


SGD_ONE_STEP = TrainConfig(optimizer="sgd", lr=0.1, optimizer_kwargs={}, batch_size=12, epochs=1)


def _shift(m, x, y):
    return x + 0.5


def _hand_step(model, x, x_adv, y, alpha, lr=0.1):
    """One SGD step on alpha * CE(model(x)) + (1 - alpha) * CE(model(x_adv)), by hand."""
    ce = torch.nn.functional.cross_entropy
    params = list(model.parameters())
    loss = alpha * ce(model(x), y) + (1 - alpha) * ce(model(x_adv), y)
    grads = torch.autograd.grad(loss, params)
    return [(p - lr * g).detach() for p, g in zip(params, grads, strict=True)]


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_adversarial_loss_mixes_clean_and_adversarial_as_eq14(alpha):
    data = _images()
    expected = _hand_step(_linear(), data.x, data.x + 0.5, data.y, alpha)
    model = _linear()
    train_classifier(
        model, data, data, SGD_ONE_STEP, adversary=_shift, alpha=alpha, select="last",
        progress=False,
    )  # fmt: skip
    for got, want in zip(model.parameters(), expected, strict=True):
        torch.testing.assert_close(got.detach(), want, rtol=1e-6, atol=1e-7)
    # the three mixtures really differ (the test would not notice a swapped alpha otherwise)
    others = [a for a in (0.0, 0.3, 1.0) if a != alpha]
    for a in others:
        other = _hand_step(_linear(), data.x, data.x + 0.5, data.y, a)
        assert not torch.allclose(other[0], expected[0], atol=1e-5), (alpha, a)


def test_alpha_zero_is_training_on_adversarial_examples_alone():
    from advlib.chapters.at import Images

    data = _images()
    shifted = Images(data.x + 0.5, data.y, data.n_classes)
    cfg = TrainConfig(optimizer="sgd", lr=0.1, optimizer_kwargs={}, batch_size=12, epochs=2)
    adv, on_shifted, clean = _linear(), _linear(), _linear()
    kw = {"select": "last", "progress": False}
    train_classifier(adv, data, data, cfg, adversary=_shift, alpha=0.0, **kw)
    train_classifier(on_shifted, shifted, data, cfg, **kw)
    train_classifier(clean, data, data, cfg, **kw)
    for a, s, c in zip(adv.parameters(), on_shifted.parameters(), clean.parameters(), strict=True):
        torch.testing.assert_close(a, s, rtol=1e-6, atol=1e-7)
        assert (a - c).abs().max() > 1e-3


class ModeSpy(torch.nn.Module):
    """A linear classifier with dropout that logs ``self.training`` at every forward pass."""

    def __init__(self, d=6, k=3):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(d, k)
        )
        self.log = []

    def forward(self, x):
        self.log.append(("forward", self.training))
        return self.net(x)


def test_adversary_crafts_in_eval_mode_and_steps_run_in_train_mode():
    data = _images()
    torch.manual_seed(0)
    model = ModeSpy()

    def adversary(m, x, y):
        m.log.append(("adversary", m.training))
        x = x.clone().requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(m(x), y)
        (g,) = torch.autograd.grad(loss, x)
        return x + 0.1 * g.sign()

    def monitor(m):
        m.eval()  # as the robust-accuracy monitor does; training must switch back
        m.log.append(("monitor", m.training))
        return {"score": 0.0}

    cfg = TrainConfig(optimizer="sgd", lr=0.1, optimizer_kwargs={}, batch_size=4, epochs=2)
    res = train_classifier(
        model, data, data, cfg, adversary=adversary, alpha=0.5, monitor=monitor, progress=False
    )
    log = model.log
    crafted = [i for i, (what, _) in enumerate(log) if what == "adversary"]
    assert len(crafted) == 2 * 3  # 2 epochs x 3 batches of 4
    for i in crafted:
        assert log[i] == ("adversary", False), "the adversary must see an eval-mode model"
        assert log[i + 1] == ("forward", False), "crafting forwards in eval mode"
        # the loss then forwards x' and x in training mode (dropout on)
        assert log[i + 2] == ("forward", True) and log[i + 3] == ("forward", True)
    assert sum(1 for what, training in log if what == "forward" and training) == 2 * 3 * 2
    assert not model.training and len(res.history) == 2


def test_monitor_values_join_history_and_select_picks_their_best_epoch():
    data = _images()
    script = iter([0.2, 0.9, 0.5, 0.1])
    snapshots = []

    def monitor(m):
        snapshots.append({k: v.clone() for k, v in m.state_dict().items()})
        return {"valid_fgsm_acc": next(script), "valid_pgd_acc": 0.25}

    cfg = TrainConfig(optimizer="sgd", lr=0.5, optimizer_kwargs={}, batch_size=4, epochs=4)
    model = _linear()
    res = train_classifier(
        model, data, data, cfg, adversary=_shift, monitor=monitor, select="valid_fgsm_acc",
        progress=False,
    )  # fmt: skip
    assert [h["valid_fgsm_acc"] for h in res.history] == [0.2, 0.9, 0.5, 0.1]
    assert all(h["valid_pgd_acc"] == 0.25 for h in res.history)
    assert res.best_epoch == 2
    # best_valid_acc is the clean validation accuracy of the kept epoch, not the monitored score
    assert res.best_valid_acc == res.history[1]["valid_acc"]
    for k, v in res.state_dict.items():
        assert torch.equal(v, snapshots[1][k]), k
        assert torch.equal(model.state_dict()[k], snapshots[1][k]), k
    assert not torch.equal(snapshots[1]["1.weight"], snapshots[3]["1.weight"])

    model = _linear()
    res = train_classifier(model, data, data, cfg, select="last", progress=False)
    assert res.best_epoch == 4
    trained = {k: v.clone() for k, v in model.state_dict().items()}
    for k, v in res.state_dict.items():
        assert torch.equal(v, trained[k])


def test_bad_adversarial_training_arguments():
    data = _images()
    cfg = TrainConfig(optimizer="sgd", lr=0.1, optimizer_kwargs={}, batch_size=4, epochs=1)
    with pytest.raises(ValueError, match="select"):
        train_classifier(_linear(), data, data, cfg, select="valid_fgsm_acc", progress=False)
    for alpha in (-0.1, 1.5):
        with pytest.raises(ValueError, match="alpha"):
            train_classifier(_linear(), data, data, cfg, adversary=_shift, alpha=alpha,
                             progress=False)  # fmt: skip
    with pytest.raises(ValueError, match="adversary"):
        train_classifier(_linear(), data, data, cfg, alpha=0.5, progress=False)


def test_max_steps_caps_the_batches_of_an_epoch():
    """``max_steps`` (the smoke profile's knob): the first ``max_steps`` mini-batches of each
    epoch's shuffled order, the loss averaged over the clips seen; unset, the whole set and no
    new key in the recipe's mapping (cache keys unchanged)."""
    import numpy as np

    from advlib.data import AudioSet

    torch.manual_seed(0)
    x = torch.randn(40, 8) / 4
    y = (x[:, 0] > 0).long()
    ds = AudioSet("toy", x, y, 8000, ("neg", "pos"), np.array(["train"] * 40))
    seen = []

    class Count(torch.nn.Linear):
        def forward(self, v):
            if self.training:
                seen.append(len(v))
            return super().forward(v)

    base = dict(optimizer="sgd", lr=0.1, optimizer_kwargs={}, batch_size=8, epochs=2)
    res = train_classifier(Count(8, 2), ds, ds, TrainConfig(**base, max_steps=2), progress=False)
    assert seen == [8, 8, 8, 8] and len(res.history) == 2
    seen.clear()
    train_classifier(Count(8, 2), ds, ds, TrainConfig(**base), progress=False)
    assert seen == [8] * 10
    assert "max_steps" not in TrainConfig(**base).to_dict()
    assert TrainConfig.from_dict(TrainConfig(**base, max_steps=3).to_dict()).max_steps == 3
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="max_steps"):
            TrainConfig(max_steps=bad)


def test_micro_batches_take_the_mini_batch_gradient():
    """``micro_batch``: each mini-batch in chunks, the gradient accumulated, one step: without
    batch norm the same step as the whole mini-batch at once (Eq. 14's mix included)."""
    import numpy as np

    from advlib.data import AudioSet

    torch.manual_seed(0)
    x = torch.randn(20, 6) / 4
    y = torch.arange(20) % 3
    ds = AudioSet("toy", x, y, 8000, ("a", "b", "c"), np.array(["train"] * 20))
    base = dict(optimizer="sgd", lr=0.5, optimizer_kwargs={}, batch_size=8, epochs=2)

    def fit(**kw):
        torch.manual_seed(1)
        model = torch.nn.Linear(6, 3)
        res = train_classifier(model, ds, ds, TrainConfig(**base, **kw), progress=False,
                               adversary=lambda m, a, b: a + 0.1, alpha=0.3)  # fmt: skip
        return model, res

    whole, rw = fit()
    chunked, rc = fit(micro_batch=3)
    for a, b in zip(whole.parameters(), chunked.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert rw.history[0]["train_loss"] == pytest.approx(rc.history[0]["train_loss"], rel=1e-5)
    assert "micro_batch" not in TrainConfig(**base).to_dict()
    with pytest.raises(ValueError, match="micro_batch"):
        TrainConfig(micro_batch=0)
