"""The victim registry: a name and a size to a model that maps waveforms to logits.

Every victim takes float32 waveforms ``(N, T)`` in [-1, 1] and returns ``(N, n_classes)``
logits, with any feature extraction inside ``forward``, so every attack gets exact gradients.
Each entry records its paper configuration (the published size) and the authors' training
recipe (study spec, section 3), which the ``paper`` profile uses as is and the small profiles
shorten. Every knob in ``paper_config`` other than the input format (``input_length``,
``sample_rate``) is a builder knob; victims whose front-end depends on the sample rate (gammatone,
sinc, MFCC, chroma/tonnetz) also take ``sample_rate`` as a knob, whose default is the paper's.

=================  ===============  =================================================
name               paper            module (architecture, choices, parameter count)
=================  ===============  =================================================
``cnn1d_rand``     UAP              :mod:`.cnn1d`
``cnn1d_gamma``    UAP              :mod:`.cnn1d` with a frozen ``GammatoneBank``
``envnet_v2``      UAP              :mod:`.envnet`
``sincnet``        UAP              :mod:`.sincnet`
``sincnet_vgg19``  UAP              :mod:`.sincnet`
``spchcmd``        UAP (speech)     :mod:`.spchcmd`
``googlenet``      AT               :mod:`.spectrogram` (knob ``representation``)
``alexnet``        AT               :mod:`.spectrogram`
``resnet18``       AT               :mod:`.spectrogram`
``resnet34``       AT               :mod:`.spectrogram`
``vgg16``          AT               :mod:`.spectrogram`
``resnet56``       AT               :mod:`.spectrogram` (CIFAR-style)
``wrn28_10``       GAN (speech)     :mod:`.wideresnet`
``samplecnn``      GAN (music)      :mod:`.samplecnn`
=================  ===============  =================================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from advlib.models.cnn1d import CNN1D
from advlib.models.envnet import envnet_v2
from advlib.models.frontends import GammatoneBank
from advlib.models.samplecnn import samplecnn
from advlib.models.sincnet import sincnet, sincnet_vgg19
from advlib.models.spchcmd import spchcmd
from advlib.models.spectrogram import spectrogram_victim
from advlib.models.wideresnet import wrn28_10

__all__ = [
    "AT_RECIPE",
    "SAMPLECNN_RECIPE",
    "SPCHCMD_RECIPE",
    "UAP_RECIPE",
    "VICTIMS",
    "WRN_RECIPE",
    "VictimSpec",
    "build_victim",
    "count_parameters",
    "victim_spec",
]


@dataclass(frozen=True)
class VictimSpec:
    """One victim architecture.

    Attributes
    ----------
    name:
        Registry key (``"cnn1d_rand"``).
    title:
        Name used in tables ("1D CNN Rand").
    paper:
        Which paper attacks it and where it is described.
    builder:
        ``builder(n_classes, input_length, **knobs) -> nn.Module``.
    paper_config:
        Knobs and input format of the published model (``input_length``, ``sample_rate``,
        ``width``, ...).
    recipe:
        The authors' training recipe (optimiser, learning rate, batch, epochs, schedule).
    paper_params:
        Published parameter count at ``paper_config`` with ``paper_classes`` classes, if known.
    """

    name: str
    title: str
    paper: str
    builder: Callable[..., nn.Module]
    paper_config: dict[str, Any]
    recipe: dict[str, Any]
    paper_params: int | None = None
    paper_classes: int = 10
    knobs: tuple[str, ...] = field(default=("width",))


def _cnn1d_rand(n_classes: int, input_length: int, *, width: float = 1.0, pools=(8, 8, 4)):
    return CNN1D(n_classes, input_length, width=width, pools=tuple(pools))


def _cnn1d_gamma(
    n_classes: int,
    input_length: int,
    *,
    width: float = 1.0,
    pools=(8, 8, 4),
    sample_rate: int = 16_000,
    n_filters: int = 64,
    kernel_size: int = 512,
):
    """1D CNN Rand with a frozen 4th-order gammatone bank as layer 1 (UAP paper App. E.2, Table
    13): ``n_filters`` ERB-spaced filters from 100 Hz to min(8 kHz, Nyquist), ``kernel_size``
    taps, stride 1, then BatchNorm. ``width`` scales the later layers, not the bank. About 666k
    parameters at 50,999 samples (Table 13's 11 x 256 features before the FC layers)."""
    if int(input_length) < kernel_size:
        raise ValueError(
            f"input_length {input_length} is shorter than the gammatone kernel ({kernel_size})"
        )
    bank = GammatoneBank(
        n_filters, kernel_size, sample_rate, f_low=100.0, f_high=min(8000.0, sample_rate / 2)
    )
    return CNN1D(n_classes, input_length, width=width, pools=tuple(pools), first_layer=bank)


def _image_builder(arch: str):
    def build(n_classes: int, input_length: int, **knobs: Any) -> nn.Module:
        return spectrogram_victim(arch, n_classes, input_length, **knobs)

    build.__name__ = f"_{arch}"
    build.__doc__ = f"{arch} on a spectrogram image (see advlib.models.spectrogram)."
    return build


UAP_RECIPE = {
    "optimizer": "adadelta",
    "lr": 1.0,
    "optimizer_kwargs": {"rho": 0.95},
    "batch_size": 20,
    "epochs": 100,
    "scheduler": None,
}

#: SpchCMD: RMSprop 1e-3 (study spec); the challenge code's batch 384 (UAP paper App. E.6),
#: Keras' RMSprop defaults (rho 0.9 = torch's alpha, epsilon 1e-7) and its
#: ReduceLROnPlateau(val. accuracy, factor 0.5, patience 4). Epochs are not published; the
#: winner's reference checkpoints are from epochs 62 and 85, so we allow 100.
SPCHCMD_RECIPE = {
    "optimizer": "rmsprop",
    "lr": 1e-3,
    "optimizer_kwargs": {"alpha": 0.9, "eps": 1e-7},
    "batch_size": 384,
    "epochs": 100,
    "scheduler": "plateau",
    "patience": 4,
}

#: WideResNet-28-10: the GAN authors' train_speech_commands.py (Adam 1e-4, weight decay 1e-2,
#: batch 16, 30 epochs, no schedule).
WRN_RECIPE = {
    "optimizer": "adam",
    "lr": 1e-4,
    "optimizer_kwargs": {"weight_decay": 1e-2},
    "batch_size": 16,
    "epochs": 30,
    "scheduler": None,
}

#: SampleCNN: the GAN authors' train_sampleCNN.py (Adam 8e-3, batch 64, 50 epochs,
#: ReduceLROnPlateau with patience 2; theirs multiplies by 0.2 on the validation loss, ours
#: halves on the validation accuracy).
SAMPLECNN_RECIPE = {
    "optimizer": "adam",
    "lr": 8e-3,
    "optimizer_kwargs": {},
    "batch_size": 64,
    "epochs": 50,
    "scheduler": "plateau",
    "patience": 2,
}

#: AT victims: the AT paper states only "early stopping" on a 70/30 split with five-fold cross-
#: validation (Sec. V). Our choice: Adam 1e-3, batch 32, up to 100 epochs, learning rate halved
#: after 5 epochs without validation gain, stop after 10 (on the synthetic demo set, 1e-3 beat
#: 3e-4 and 1e-4 for the BatchNorm-free AlexNet and VGG-16 too).
AT_RECIPE = {
    "optimizer": "adam",
    "lr": 1e-3,
    "optimizer_kwargs": {},
    "batch_size": 32,
    "epochs": 100,
    "scheduler": "plateau",
    "patience": 5,
    "early_stop": True,
}

_UAP = "UAP (Abdoli et al.), Sec. V-A and App. E"
_AT = "AT (Alfonso Sallo et al.), Secs. IV-V, Table I"
_GAN = "GAN (Wang et al. 2020), Sec. IV; authors' code winterwindwang/SpeechAdvGan"
_AT_CONFIG = {
    "input_length": 32_000,
    "sample_rate": 8_000,
    "width": 1.0,
    "representation": "dwt_tonnetz",
    "image_size": [768, 1568],
    "tonnetz_rows": 540,
    "n_fft": 2048,
    "hop_length": 512,
    "dwt_levels": 8,
    "cwt_scales": 128,
    "cwt_fmin": 50.0,
}
_AT_KNOBS = (
    "width",
    "representation",
    "sample_rate",
    "image_size",
    "tonnetz_rows",
    "n_fft",
    "hop_length",
    "dwt_levels",
    "cwt_scales",
    "cwt_fmin",
)
_AT_TITLES = {
    "googlenet": "GoogLeNet",
    "alexnet": "AlexNet",
    "resnet18": "ResNet-18",
    "resnet34": "ResNet-34",
    "vgg16": "VGG-16",
    "resnet56": "ResNet-56",
}


def _at_spec(arch: str) -> VictimSpec:
    deep = arch == "resnet56"
    return VictimSpec(
        name=arch,
        title=_AT_TITLES[arch],
        paper=_AT,
        builder=_image_builder(arch),
        paper_config={**_AT_CONFIG, **({"depth": 56} if deep else {})},
        recipe=AT_RECIPE,
        paper_params=850_000 if deep else None,
        knobs=_AT_KNOBS + (("depth",) if deep else ()),
    )


VICTIMS: dict[str, VictimSpec] = {
    "cnn1d_rand": VictimSpec(
        name="cnn1d_rand",
        title="1D CNN Rand",
        paper="UAP (Abdoli et al.), Sec. V-A; Abdoli, Cardinal & Koerich 2019",
        builder=_cnn1d_rand,
        paper_config={
            "input_length": 50_999,
            "sample_rate": 16_000,
            "width": 1.0,
            "pools": [8, 8, 4],
        },
        recipe=UAP_RECIPE,
        paper_params=421_000,
        knobs=("width", "pools"),
    ),
    "cnn1d_gamma": VictimSpec(
        name="cnn1d_gamma",
        title="1D CNN Gamma",
        paper=f"{_UAP}.2 (Table 13); Abdoli, Cardinal & Koerich 2019",
        builder=_cnn1d_gamma,
        paper_config={
            "input_length": 50_999,
            "sample_rate": 16_000,
            "width": 1.0,
            "pools": [8, 8, 4],
            "n_filters": 64,
            "kernel_size": 512,
        },
        recipe=UAP_RECIPE,
        knobs=("width", "pools", "sample_rate", "n_filters", "kernel_size"),
    ),
    "envnet_v2": VictimSpec(
        name="envnet_v2",
        title="ENVnet-V2",
        paper=f"{_UAP}.3 (Table 14); Tokozume, Ushiku & Harada 2018",
        builder=envnet_v2,
        paper_config={
            "input_length": 50_999,
            "sample_rate": 16_000,
            "width": 1.0,
            "pool": 64,
            "n_conv128": 1,
        },
        recipe=UAP_RECIPE,
        knobs=("width", "pool", "n_conv128"),
    ),
    "sincnet": VictimSpec(
        name="sincnet",
        title="SincNet",
        paper=f"{_UAP}.4 (Table 15); Ravanelli & Bengio 2018",
        builder=sincnet,
        paper_config={
            "input_length": 50_999,
            "sample_rate": 16_000,
            "width": 1.0,
            "fc": [128, 64],
            "pools": [3, 3, 1],
            "kernel_size": 251,
        },
        recipe=UAP_RECIPE,
        knobs=("width", "sample_rate", "fc", "pools", "kernel_size"),
    ),
    "sincnet_vgg19": VictimSpec(
        name="sincnet_vgg19",
        title="SincNet+VGG19",
        paper=f"{_UAP}.5 (Table 16); authors' code sajabdoli/UAP",
        builder=sincnet_vgg19,
        paper_config={
            "input_length": 50_999,
            "sample_rate": 16_000,
            "width": 1.0,
            "n_filters": 227,
            "pool": 218,
            "kernel_size": 251,
        },
        recipe=UAP_RECIPE,
        paper_params=123_000_000,
        knobs=("width", "sample_rate", "n_filters", "pool", "kernel_size"),
    ),
    "spchcmd": VictimSpec(
        name="spchcmd",
        title="SpchCMD",
        paper=f"{_UAP}.6 (Table 17); challenge winner see--/speech_recognition",
        builder=spchcmd,
        paper_config={
            "input_length": 16_000,
            "sample_rate": 16_000,
            "width": 1.0,
            "frame": 40,
            "hop": 20,
        },
        recipe=SPCHCMD_RECIPE,
        paper_params=1_080_000,
        paper_classes=32,
        knobs=("width", "frame", "hop"),
    ),
    **{arch: _at_spec(arch) for arch in _AT_TITLES},
    "wrn28_10": VictimSpec(
        name="wrn28_10",
        title="WideResNet-28-10",
        paper=f"{_GAN}; Zagoruyko & Komodakis 2016",
        builder=wrn28_10,
        paper_config={
            "input_length": 16_384,
            "sample_rate": 16_000,
            "width": 1.0,
            "depth": 28,
            "widen": 10,
            "frame_length": 512,
        },
        recipe=WRN_RECIPE,
        paper_params=36_500_000,
        knobs=("width", "depth", "widen", "sample_rate", "frame_length"),
    ),
    "samplecnn": VictimSpec(
        name="samplecnn",
        title="SampleCNN",
        paper=f"{_GAN}; Lee et al. 2017",
        builder=samplecnn,
        paper_config={"input_length": 16_384, "sample_rate": 16_000, "width": 1.0},
        recipe=SAMPLECNN_RECIPE,
        knobs=("width",),
    ),
}


def victim_spec(name: str) -> VictimSpec:
    """The registry entry of ``name``; unknown names raise a ValueError listing the known ones."""
    try:
        return VICTIMS[name]
    except KeyError:
        raise ValueError(f"unknown victim {name!r}; known victims: {sorted(VICTIMS)}") from None


def build_victim(name: str, n_classes: int, input_length: int, **knobs: Any) -> nn.Module:
    """Build victim ``name`` for ``n_classes`` classes and ``input_length``-sample clips.

    ``knobs`` are the victim's size knobs (``width``, ``pools``, ...); unknown knobs raise.
    """
    spec = victim_spec(name)
    unknown = set(knobs) - set(spec.knobs)
    if unknown:
        raise ValueError(f"victim {name!r} has no knob(s) {sorted(unknown)}; knobs: {spec.knobs}")
    return spec.builder(n_classes, input_length, **knobs)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
