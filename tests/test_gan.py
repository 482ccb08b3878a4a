"""SpeechAdvGan: generator and discriminator shapes, the losses of Eqs. 5-10 on known values,
both variants, one-pass crafting, and seeded, cached training (Algorithm 1)."""

import math

import pytest
import torch
import torch.nn.functional as F

from advlib.attacks import gan as G
from advlib.attacks.registry import make_attack
from advlib.models.speechadvgan import D_CHANNELS, G_CHANNELS, Discriminator, Generator
from advlib.train.generator import GanConfig, fit_generator, train_generator


def test_generator_matches_the_paper_figure():
    g = Generator()
    x = torch.rand(2, 16384) * 2 - 1
    # footnote 1: the first layer turns 1 x 16384 into 16 x 8192
    assert g.enc[0](x.unsqueeze(1)).shape == (2, 16, 8192)
    assert [c.out_channels for c in g.enc] == list(G_CHANNELS)
    h = x.unsqueeze(1)
    for conv, act in zip(g.enc, g.enc_act, strict=True):
        h = act(conv(h))
    assert h.shape == (2, 256, 64)  # 16384 / 2**8
    out = g(x)
    assert out.shape == x.shape and out.abs().max() < 1  # tanh output
    assert [type(a).__name__ for a in g.enc_act] == ["PReLU"] * 8
    assert isinstance(g.dec_act[-1], torch.nn.Tanh)


@pytest.mark.parametrize("length", [1000, 8000, 16000])
def test_generator_pads_and_crops_any_length(length):
    g = Generator(width=0.25, depth=5)
    x = torch.rand(3, length) * 2 - 1
    assert g(x).shape == (3, length)


def test_generator_skip_connections_carry_the_encoder():
    g = Generator(width=0.25, depth=3)
    # decoder inputs: the bottleneck, then twice each skip level's channels
    assert g.dec[0].in_channels == g.enc[-1].out_channels
    assert g.dec[1].in_channels == 2 * g.enc[1].out_channels
    assert g.dec[2].in_channels == 2 * g.enc[0].out_channels and g.dec[2].out_channels == 1


def test_conditional_generator_depends_on_the_target():
    torch.manual_seed(0)
    g = Generator(width=0.25, depth=3, n_classes=4)
    x = torch.rand(2, 512) * 2 - 1
    a, b = g(x, torch.tensor([0, 0])), g(x, torch.tensor([3, 3]))
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="needs the target"):
        g(x)
    with pytest.raises(ValueError, match="takes no target"):
        Generator(width=0.25, depth=3)(x, torch.tensor([1, 1]))


def test_discriminator_matches_the_paper_figure():
    d = Discriminator(16384)
    convs = [m for m in d.features if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == list(D_CHANNELS)
    assert all(c.kernel_size == (31,) and c.stride == (2,) for c in convs)
    lrelu = [m for m in d.features if isinstance(m, torch.nn.LeakyReLU)]
    assert len(lrelu) == 11 and lrelu[0].negative_slope == 0.03
    assert d.head.in_features == 16384 // 2**11
    small = Discriminator(1000, width=0.25, depth=4)
    assert small(torch.zeros(5, 1000)).shape == (5,)
    with pytest.raises(ValueError, match="takes"):
        small(torch.zeros(5, 999))


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Generator(depth=9), "depth"),
        (lambda: Generator(kernel_size=31), "kernel_size"),
        (lambda: Generator(width=0), "width"),
        (lambda: Generator(n_classes=1), "n_classes"),
        (lambda: Discriminator(100, depth=12), "depth"),
        (lambda: Discriminator(100, kernel_size=30), "kernel_size"),
        (lambda: Discriminator(0), "input_length"),
    ],
)
def test_bad_sizes_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_losses_on_known_values():
    d = torch.tensor([0.0, math.log(3.0)])  # D = 1/2 and 3/4
    # Eq. 7: mean log(1 - D)
    assert G.fool_loss(d).item() == pytest.approx((math.log(0.5) + math.log(0.25)) / 2)
    # code: LSGAN (D - 1)^2
    assert G.fool_loss(d, "code").item() == pytest.approx((0.25 + 0.0625) / 2)
    # Eq. 10: (mean log(1 - D(x)) + mean log D(x_adv)) / 2
    real, adv = torch.tensor([math.log(3.0)]), torch.tensor([0.0])
    want = (math.log(0.25) + math.log(0.5)) / 2
    assert G.discriminator_loss(real, adv).item() == pytest.approx(want)
    assert G.discriminator_loss(real, adv, "code").item() == pytest.approx((0.0625 + 0.25) / 2)
    delta = torch.tensor([[3.0, 4.0], [0.0, 1.0]])  # norms 5 and 1
    assert G.hinge_loss(delta).item() == pytest.approx(3.0)
    assert G.hinge_loss(delta, c=2.0).item() == pytest.approx(1.5)  # max(0, 3) and max(0, -1)
    x = torch.zeros(2, 2)
    assert G.l2_loss(x + delta, x).item() == pytest.approx(3.0)
    assert G.l2_loss(x + delta, x, "code").item() == pytest.approx(8.0 / 4)  # mean |delta|
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    t = torch.tensor([0, 0])
    assert G.adv_loss(logits, t).item() == pytest.approx(F.cross_entropy(logits, t).item())


def test_generator_loss_is_eq5():
    torch.manual_seed(0)
    x = torch.rand(4, 8)
    delta = torch.rand(4, 8) * 0.1
    logits, d_adv, t = torch.randn(4, 3), torch.randn(4), torch.tensor([1, 1, 1, 1])
    terms = G.generator_loss(logits=logits, target=t, d_adv=d_adv, delta=delta, x_adv=x + delta,
                             x=x, alpha=0.5, beta=2.0, gamma=10.0)  # fmt: skip
    want = (G.adv_loss(logits, t) + 0.5 * G.fool_loss(d_adv) + 2.0 * G.hinge_loss(delta)
            + 10.0 * G.l2_loss(x + delta, x))  # fmt: skip
    assert terms["total"].item() == pytest.approx(want.item())
    warm = G.generator_loss(logits=None, target=t, d_adv=d_adv, delta=delta, x_adv=x + delta,
                            x=x, alpha=0.5, beta=2.0, gamma=10.0)  # fmt: skip
    assert warm["adv"].item() == 0 and warm["total"].item() == pytest.approx(
        (want - G.adv_loss(logits, t)).item()
    )
    with pytest.raises(ValueError, match="variant"):
        G.fool_loss(d_adv, "lsgan")


def test_gan_attack_is_one_generator_pass_inside_the_box():
    torch.manual_seed(0)
    g = Generator(width=0.25, depth=3)
    x = torch.rand(4, 256) * 1.8 - 0.9
    y = torch.full((4,), 2)
    calls = []
    model = lambda v: calls.append(1) or torch.zeros(len(v), 3)  # noqa: E731
    x_adv = G.gan_attack(model, x, y, net=g, net_target=2)
    assert not calls  # crafting never queries the victim
    assert x_adv.shape == x.shape and x_adv.abs().max() <= 1
    with torch.no_grad():
        assert torch.allclose(x_adv, (x + g(x)).clamp(-1, 1))
    code = G.gan_attack(model, x, y, net=g, variant="code")
    assert (code - x).abs().max() <= G.CODE_CLAMP + 1e-6
    with pytest.raises(ValueError, match="trained for target 2"):
        G.gan_attack(model, x, torch.tensor([2, 2, 1, 2]), net=g, net_target=2)
    with pytest.raises(ValueError, match="targeted"):
        G.gan_attack(model, x, y, targeted=False, net=g)
    bound = make_attack("gan", {"net": g, "net_target": 2}, seed=0)
    assert torch.equal(bound(model, x, y, targeted=True), x_adv)


def _victim_and_data():
    torch.manual_seed(0)
    victim = torch.nn.Sequential(torch.nn.Linear(512, 4))
    x = torch.rand(96, 512) * 0.5 - 0.25
    with torch.no_grad():
        y = victim(x).argmax(1)
    return victim, x, y


TINY = dict(width=0.25, depth=3, d_width=0.25, d_depth=3, batch_size=32, lr=1e-3, seed=3)


def test_training_is_seeded_and_leaves_the_victim_frozen():
    victim, x, y = _victim_and_data()
    before = [p.clone() for p in victim.parameters()]
    cfg = GanConfig(**TINY, epochs=3, warmup=1, gamma=0.0, beta=0.0)
    a = train_generator(victim, x, y, 2, cfg, n_classes=4, progress=False)
    b = train_generator(victim, x, y, 2, cfg, n_classes=4, progress=False)
    for k in a["generator"]:
        assert torch.equal(a["generator"][k], b["generator"][k]), k
    assert [r["total"] for r in a["history"]] == [r["total"] for r in b["history"]]
    assert all(torch.equal(p, q) for p, q in zip(before, victim.parameters(), strict=True))
    assert all(p.requires_grad for p in victim.parameters())
    # warm-up: the victim's loss is out of L_G for the first epoch only
    phases = {r["epoch"]: r["phase"] for r in a["history"]}
    assert phases == {1: "warmup", 2: "full", 3: "full"}
    assert all(r["adv"] == 0 for r in a["history"] if r["phase"] == "warmup")
    assert all(r["adv"] > 0 for r in a["history"] if r["phase"] == "full")
    # the target class's clips are left out: 96 - count(target) clips per epoch
    per_epoch = sum(1 for r in a["history"] if r["epoch"] == 1)
    assert per_epoch == math.ceil(int((y != 2).sum()) / 32)


def test_training_learns_the_target_without_the_distortion_terms():
    victim, x, y = _victim_and_data()
    cfg = GanConfig(**{**TINY, "depth": 4, "d_depth": 4}, epochs=12, warmup=1, gamma=0.0,
                    beta=0.0, patience=20)  # fmt: skip
    out = train_generator(victim, x, y, 2, cfg, n_classes=4, progress=False)
    assert out["history"][-1]["success"] > 0.9


def test_bad_gan_configs_raise():
    with pytest.raises(ValueError, match="variant"):
        GanConfig(variant="lsgan")
    with pytest.raises(ValueError, match="warmup"):
        GanConfig(epochs=3, warmup=3)
    with pytest.raises(ValueError, match="gamma"):
        GanConfig(gamma=-1)
    with pytest.raises(ValueError, match="unknown GAN setting"):
        GanConfig.from_dict({"gama": 1})
    victim, x, y = _victim_and_data()
    with pytest.raises(ValueError, match="target"):
        train_generator(victim, x, y, None, GanConfig(**TINY, epochs=2, warmup=1), n_classes=4)
    with pytest.raises(ValueError, match="out of range"):
        train_generator(victim, x, y, 7, GanConfig(**TINY, epochs=2, warmup=1), n_classes=4)


def test_conditional_training_runs_for_every_target():
    victim, x, y = _victim_and_data()
    cfg = GanConfig(**TINY, epochs=2, warmup=1, conditional=True)
    out = train_generator(victim, x, y, None, cfg, n_classes=4, progress=False)
    assert out["epochs"] == 2 and "embed.weight" in out["generator"]


def test_fit_generator_is_cached(tmp_path):
    from types import SimpleNamespace

    from advlib.cache import Cache
    from advlib.data import load_dataset

    data = load_dataset("synthetic", clips_per_class=6, sample_rate=8000, duration=0.064)
    victim = torch.nn.Sequential(torch.nn.Linear(data.length, data.n_classes))
    fit = SimpleNamespace(model=victim, cache_key="tiny-victim")
    cache = Cache(tmp_path)
    cfg = {**TINY, "epochs": 2, "warmup": 1}
    a = fit_generator(cache, fit, data, 1, cfg, progress=False)
    b = fit_generator(cache, fit, data, 1, cfg, progress=False)
    assert not a.cached and b.cached and a.cache_key == b.cache_key
    x = data.part("test").x
    with torch.no_grad():
        assert torch.equal(a.generator(x), b.generator(x))
    c = fit_generator(cache, fit, data, 2, cfg, progress=False)
    assert c.cache_key != a.cache_key


def test_max_steps_caps_the_iterations_of_an_epoch():
    """``max_steps`` (the smoke profile's knob): at most that many iterations per epoch, both
    phases still run; unset, it stays out of the recipe's mapping (cache keys unchanged)."""
    victim, x, y = _victim_and_data()
    cfg = GanConfig(**TINY, epochs=2, warmup=1, max_steps=1)
    out = train_generator(victim, x, y, 2, cfg, n_classes=4, progress=False)
    assert [(r["epoch"], r["phase"]) for r in out["history"]] == [(1, "warmup"), (2, "full")]
    assert "max_steps" not in GanConfig(**TINY).to_dict()
    assert GanConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="max_steps"):
        GanConfig(max_steps=0)
