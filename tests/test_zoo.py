"""The victim zoo: every registered victim at its paper size (on the meta device) and at a tiny
size (real forward and backward passes on short clips), plus known answers from the papers'
architecture tables and torchvision."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from advlib.models import VICTIMS, Victim, build_victim, count_parameters, victim_spec
from advlib.models.spectrogram import REPRESENTATIONS, image_classifier
from advlib.train.classifier import TrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")


_AT_TINY = dict(
    width=0.125,
    sample_rate=8000,
    image_size=[32, 32],
    tonnetz_rows=8,
    n_fft=256,
    hop_length=64,
    dwt_levels=4,
)

#: a tiny, valid configuration of every victim: (input_length, knobs)
TINY: dict[str, tuple[int, dict]] = {
    "cnn1d_rand": (8000, dict(width=0.25, pools=[8, 4, 1])),
    "cnn1d_gamma": (
        4000,
        dict(width=0.25, pools=[8, 4, 1], sample_rate=8000, n_filters=16, kernel_size=128),
    ),
    "envnet_v2": (8000, dict(width=0.125, pool=16)),
    "sincnet": (4000, dict(width=0.125, sample_rate=8000, fc=[16, 8])),
    "sincnet_vgg19": (8000, dict(width=0.0625, sample_rate=8000, n_filters=32)),
    "spchcmd": (8000, dict(width=0.125)),
    "googlenet": (4000, dict(_AT_TINY)),
    "alexnet": (4000, {**_AT_TINY, "image_size": [64, 64]}),
    "resnet18": (4000, dict(_AT_TINY)),
    "resnet34": (4000, dict(_AT_TINY)),
    "vgg16": (4000, dict(_AT_TINY)),
    "resnet56": (4000, {**_AT_TINY, "depth": 8}),
    "wrn28_10": (4000, dict(width=0.1, depth=10, widen=2, sample_rate=8000, frame_length=256)),
    "samplecnn": (4096, dict(width=0.0625)),
}

#: an input too short for each victim (wrn28_10 accepts any length: its MFCC pads the last
#: frame and its convolutions are padded)
TOO_SHORT: dict[str, tuple[int, dict]] = {
    "cnn1d_rand": (8000, dict(pools=[8, 8, 4])),
    "cnn1d_gamma": (300, dict(sample_rate=8000)),
    "envnet_v2": (8000, dict(pool=64)),
    "sincnet": (300, dict(sample_rate=8000)),
    "sincnet_vgg19": (4000, dict(sample_rate=8000)),
    "spchcmd": (4000, {}),
    **{a: (100, dict(sample_rate=8000)) for a in ("googlenet", "alexnet", "resnet18")},
    **{a: (100, dict(sample_rate=8000)) for a in ("resnet34", "vgg16", "resnet56")},
    "samplecnn": (2000, {}),
}

PARAMS_AT_PAPER_SIZE: dict[str, int] = {}


def _paper_build(name: str) -> torch.nn.Module:
    spec = victim_spec(name)
    cfg = dict(spec.paper_config)
    length = cfg.pop("input_length")
    knobs = {k: v for k, v in cfg.items() if k in spec.knobs}
    with torch.device("meta"):
        return build_victim(name, spec.paper_classes, length, **knobs)


def test_tables_cover_every_victim():
    assert set(TINY) == set(VICTIMS)
    assert set(TOO_SHORT) == set(VICTIMS) - {"wrn28_10"}


@pytest.mark.parametrize("name", sorted(VICTIMS))
def test_paper_size_parameter_count(name):
    spec = victim_spec(name)
    # everything in paper_config but the input format is a knob (report.py relies on this)
    assert set(spec.paper_config) - {"input_length", "sample_rate"} <= set(spec.knobs)
    n = count_parameters(_paper_build(name))
    PARAMS_AT_PAPER_SIZE[name] = n
    print(f"{name}: {n:,} parameters at paper size (spec: {spec.paper_params})")
    if spec.paper_params is not None:
        assert abs(n - spec.paper_params) / spec.paper_params < 0.05, n


@pytest.mark.parametrize("name", sorted(VICTIMS))
def test_tiny_victim_shapes_batches_and_gradients(name):
    length, knobs = TINY[name]
    torch.manual_seed(0)
    model = build_victim(name, 3, length, **knobs).eval()
    x = (torch.rand(3, length) * 2 - 1).requires_grad_(True)
    out = model(x)
    assert out.shape == (3, 3)
    assert torch.isfinite(out).all()
    single = torch.cat([model(x[i : i + 1]) for i in range(3)])
    assert torch.allclose(out, single, rtol=1e-4, atol=1e-5)
    out[:, 0].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert (x.grad.abs().sum(dim=1) > 0).all()
    with pytest.raises(ValueError, match=rf"shape \(N, {length}\)"):
        model(torch.zeros(2, length - 1))


@pytest.mark.parametrize("name", sorted(TOO_SHORT))
def test_too_short_input_raises_at_construction(name):
    length, knobs = TOO_SHORT[name]
    with pytest.raises(ValueError, match="too short|shorter|too small|too deep"):
        build_victim(name, 10, length, **knobs)


def test_unknown_victims_knobs_and_settings_raise():
    with pytest.raises(ValueError, match="unknown victim 'nope'"):
        build_victim("nope", 10, 8000)
    with pytest.raises(ValueError, match="no knob"):
        build_victim("sincnet", 10, 8000, depth=3)
    with pytest.raises(ValueError, match="no knob"):
        build_victim("resnet18", 10, 8000, depth=3)  # depth is ResNet-56's knob only
    with pytest.raises(ValueError, match="unknown representation"):
        build_victim("resnet56", 10, 8000, representation="mel")
    with pytest.raises(ValueError, match="n_conv128"):
        build_victim("envnet_v2", 10, 16000, pool=32, n_conv128=3)
    with pytest.raises(ValueError, match="width"):
        build_victim("samplecnn", 10, 16384, width=0.0)
    with pytest.raises(ValueError, match="n_classes"):
        build_victim("spchcmd", 1, 16000)


@pytest.mark.parametrize("name", sorted(VICTIMS))
def test_recipe_is_a_valid_train_config(name):
    spec = victim_spec(name)
    config = TrainConfig.from_dict(spec.recipe)
    assert config.lr > 0 and config.batch_size >= 1


def test_victims_are_frontend_then_classifier():
    for name in VICTIMS:
        if name.startswith("cnn1d"):
            continue  # the 1-D CNNs are CNN1D (conv layers, then FC layers)
        length, knobs = TINY[name]
        model = build_victim(name, 3, length, **knobs)
        assert isinstance(model, Victim) and list(dict(model.named_children())) == [
            "frontend",
            "classifier",
        ]


@pytest.mark.parametrize("representation", REPRESENTATIONS)
def test_representations(representation):
    knobs = {**TINY["resnet56"][1], "representation": representation}
    model = build_victim("resnet56", 4, 4000, **knobs).eval()
    x = (torch.rand(2, 4000) * 2 - 1).requires_grad_(True)
    image = model.frontend(x)
    rows = 32 + (8 if representation.endswith("tonnetz") else 0)
    assert image.shape == (2, 1, rows, 32)
    # each part is standardised per clip
    assert torch.allclose(image[:, :, :32].mean(dim=(-2, -1)), torch.zeros(2, 1), atol=1e-4)
    model(x)[:, 1].sum().backward()
    assert x.grad.abs().sum() > 0


# --------------------------------------------------------------------------------------------
# known answers: the papers' architecture tables, the authors' code, torchvision
# --------------------------------------------------------------------------------------------


def test_exact_parameter_counts_of_the_authors_models():
    # SincNet+VGG19 as the authors' Keras model: sinc 2 x 227, LayerNorm 2 x 227, VGG19 convs on
    # one channel 20,023,232, Dense 4096 on 7 x 7 x 512, Dense 10
    assert count_parameters(_paper_build("sincnet_vgg19")) == 454 + 454 + 20_023_232 + (
        25_088 * 4096 + 4096
    ) + (4096 * 10 + 10)
    # ResNet-56, option A shortcuts, 1 input channel, 10 classes
    assert count_parameters(_paper_build("resnet56")) == 852_730
    # WRN-28-10 (36,479,194 with 3 input channels) on the 1-channel MFCC image
    assert count_parameters(_paper_build("wrn28_10")) == 36_479_194 - 2 * 16 * 9


def test_flatten_sizes_match_the_papers_tables():
    def first_linear(model):
        return next(m for m in model.modules() if isinstance(m, torch.nn.Linear)).in_features

    assert first_linear(_paper_build("cnn1d_gamma")) == 11 * 256  # UAP Table 13
    assert first_linear(_paper_build("sincnet")) == 5633 * 60  # UAP Table 15
    assert first_linear(_paper_build("samplecnn")) == 512 * 15  # authors' nn.Linear(512 * 15, 10)


def _shapes(model, kinds, x):
    seen = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, o: seen.append(tuple(o.shape[1:])))
        for m in model.modules()
        if isinstance(m, kinds)
    ]
    with torch.no_grad():
        model.eval()(x)
    for h in hooks:
        h.remove()
    return seen


def test_envnet_v2_shapes_match_uap_table_14():
    model = build_victim("envnet_v2", 10, 50_999, width=1 / 32)
    kinds = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.MaxPool1d, torch.nn.MaxPool2d)
    shapes = _shapes(model, kinds, torch.zeros(1, 50_999))
    lengths = [s[-1] for s in shapes[:3]]
    images = [s[-2:] for s in shapes[3:10]]
    assert lengths == [25_468, 12_727, 198]
    assert images == [(57, 191), (50, 184), (10, 61), (10, 58), (10, 55), (10, 27), (10, 26)]


def test_spchcmd_shapes_match_uap_table_17():
    model = build_victim("spchcmd", 32, 16_000, width=0.125)
    seen = _shapes(model, (torch.nn.BatchNorm1d,), torch.zeros(1, 16_000))
    assert model.frontend(torch.zeros(1, 16_000)).shape == (1, 40, 800)
    lengths = [s[-1] for s in seen]
    assert lengths == [399, 397, 199, 197, 99, 97, 49, 47, 24, 22, 11, 9]


def test_wideresnet_sees_a_32_by_32_mfcc_image():
    model = build_victim("wrn28_10", 10, 16_384, width=0.05, depth=10)
    assert model.frontend(torch.rand(2, 16_384) - 0.5).shape == (2, 1, 32, 32)


_TV_FIRST_CONV = {
    "googlenet": "conv1.conv.weight",
    "alexnet": "features.0.weight",
    "resnet18": "conv1.weight",
    "resnet34": "conv1.weight",
    "vgg16": "features.0.weight",
}


@pytest.mark.parametrize("arch", sorted(_TV_FIRST_CONV))
def test_width_one_is_torchvision_with_one_input_channel(arch):
    kwargs = {"aux_logits": False, "init_weights": True} if arch == "googlenet" else {}
    with torch.device("meta"):
        ours = image_classifier(arch, 10)
        theirs = getattr(torchvision.models, arch)(num_classes=10, **kwargs)
    ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
    assert list(ours_sd) == list(theirs_sd)
    for key, value in theirs_sd.items():
        shape = list(value.shape)
        if key == _TV_FIRST_CONV[arch]:
            shape[1] = 1
        assert list(ours_sd[key].shape) == shape, key
    assert type(ours) is type(theirs)


@pytest.mark.parametrize(("arch", "side"), [("alexnet", 63), ("vgg16", 32), ("googlenet", 15)])
def test_smallest_image_each_classifier_accepts(arch, side):
    model = image_classifier(arch, 3, width=0.0625).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, side, side + 1)).shape == (1, 3)
    knobs = {**_AT_TINY, "image_size": [side - 1, 64], "tonnetz_rows": 1, "representation": "dwt"}
    with pytest.raises(ValueError, match=f"at least {side}"):
        build_victim(arch, 3, 4000, **knobs)


@pytest.fixture(scope="module")
def tiny_sets():
    from advlib.data import make_synthetic

    return {
        length: make_synthetic(seed=2, clips_per_class=5, sample_rate=8000, duration=length / 8000)
        for length in {length for length, _ in TINY.values()}
    }


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_victim_trains_through_fit_victim(name, tiny_sets, tmp_path):
    """Each victim trains one epoch at tiny width on a tiny synthetic set, is cached, and its
    cached copy predicts exactly as the trained one."""
    from advlib.cache import Cache
    from advlib.chapters.victims import evaluate
    from advlib.train.classifier import fit_victim

    length, knobs = TINY[name]
    data = tiny_sets[length]
    knobs = {k: v for k, v in knobs.items() if k != "sample_rate"}  # filled from the data
    cache = Cache(tmp_path)
    train = {"epochs": 1, "batch_size": 10}
    fit = fit_victim(cache, data, name, knobs=knobs, train=train, progress=False)
    assert not fit.cached and len(fit.history) == 1
    assert np.isfinite(fit.history[0]["train_loss"])
    again = fit_victim(cache, data, name, knobs=knobs, train=train, progress=False)
    assert again.cached
    np.testing.assert_array_equal(evaluate(fit, data).pred, evaluate(again, data).pred)
