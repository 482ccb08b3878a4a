"""The spectrogram victims of the AT paper (Alfonso Sallo et al., "Adversarially training for
audio classifiers"): GoogLeNet, AlexNet, ResNet-18, ResNet-34, VGG-16 and ResNet-56, each on one
of four 2-D representations (six with our continuous-wavelet ones) computed inside ``forward``
from the waveform.

Front-end (:class:`SpectrogramImage`), one 1-channel image per clip:

* ``"stft"``: ``log(|STFT|^2 + 1e-10)`` (AT paper Eq. 10; librosa's STFT, n_fft 2048, hop 512);
* ``"dwt"``: log DWT scalogram (:class:`~advlib.models.frontends.DWTScalogram`, db4,
  ``dwt_levels`` levels, mean ``|c|`` in ``image_size[1]`` time bins). The paper's "DWT" images
  are continuous Morlet wavelet visualisations; a Morlet wavelet has no discrete filter pair,
  so this is our discrete stand-in (see the front-end's docstring);
* ``"cwt"``: the paper's own kind of wavelet image, a log continuous wavelet transform with
  complex Morlet wavelets (:class:`~advlib.models.frontends.MorletCWT`, PyWavelets' ``cmor1.5-1.0``,
  ``cwt_scales`` scales geometrically spaced from ``cwt_fmin`` to 0.45 ``sample_rate``, mean
  ``|W|`` over windows of ``2 hop_length`` samples every ``hop_length``, the paper's 50 %
  overlap). The paper gives neither its number of scales nor its frequency range;
* ``"stft_tonnetz"`` / ``"dwt_tonnetz"`` / ``"cwt_tonnetz"``: the same with the tonnetz
  (:class:`~advlib.models.frontends.Tonnetz`, 6 x frames) appended below it.

Each part is resized with antialiased bilinear interpolation to its rows x ``image_size[1]``
frames (``image_size[0]`` rows for STFT/DWT/CWT, ``tonnetz_rows`` for the tonnetz), standardised per
clip (zero mean, unit variance: ``(p - mean) / sqrt(var + 1e-5)``, a smooth stand-in for the
per-image scaling of the paper's PNG spectrograms), and the parts are concatenated along the
frequency axis. This follows the paper's "append": it reports 1568 x 768 STFT/DWT images and
1568 x 540 chromagrams, so ``image_size=(768, 1568)`` and ``tonnetz_rows=540`` are the paper
configuration (a 1308 x 1568 image with tonnetz). Everything is differentiable; the one gradient
floor is exact digital silence (see :mod:`advlib.models.frontends`).

Classifiers: torchvision's GoogLeNet (no auxiliary heads, no input transform), AlexNet, ResNet-18,
ResNet-34 and VGG-16 (no BatchNorm), with a 1-channel first convolution, ``num_classes`` outputs
and no downloaded weights (the AT paper fine-tuned ImageNet models; none are downloaded here),
and a CIFAR-style ResNet-56 (He et al. 2016: 3 x 9 basic blocks at 16/32/64 channels, parameter-
free "option A" shortcuts; about 0.85M parameters). torchvision has no width argument for these
nets, so ``width`` multiplies every channel count and hidden FC size while keeping torchvision's
layer structure, module names and initialisation; ``width=1`` gives exactly torchvision's
architecture (1-channel input). Minimum image side: AlexNet 63, VGG-16 32, GoogLeNet 15;
smaller images raise ``ValueError`` at construction.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from advlib.models.frontends import DWTScalogram, MorletCWT, STFTLogMagnitude, Tonnetz
from advlib.models.layers import Victim, check_common, scaled, trace_2d
from advlib.models.sincnet import vgg_features

# the modules, not the same-named builder functions that ``torchvision.models`` exports
tv_alexnet = importlib.import_module("torchvision.models.alexnet")
tv_googlenet = importlib.import_module("torchvision.models.googlenet")
tv_resnet = importlib.import_module("torchvision.models.resnet")
tv_vgg = importlib.import_module("torchvision.models.vgg")

__all__ = [
    "ARCHITECTURES",
    "REPRESENTATIONS",
    "ResNetCifar",
    "SpectrogramImage",
    "image_classifier",
    "spectrogram_victim",
]

REPRESENTATIONS = ("stft", "dwt", "stft_tonnetz", "dwt_tonnetz", "cwt", "cwt_tonnetz")
ARCHITECTURES = ("googlenet", "alexnet", "resnet18", "resnet34", "vgg16", "resnet56")
#: smallest image side each classifier accepts (found by tracing its layers)
_MIN_SIDE = {"alexnet": 63, "vgg16": 32, "googlenet": 15}


# --------------------------------------------------------------------------------------------
# front-end
# --------------------------------------------------------------------------------------------


def _standardise(p: torch.Tensor) -> torch.Tensor:
    mean = p.mean(dim=(-2, -1), keepdim=True)
    var = p.var(dim=(-2, -1), keepdim=True, unbiased=False)
    return (p - mean) * torch.rsqrt(var + 1e-5)


def _resize(p: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, F, T)`` -> ``(N, 1, rows, frames)`` by antialiased bilinear interpolation."""
    return F.interpolate(
        p.unsqueeze(1), size=size, mode="bilinear", align_corners=False, antialias=True
    )


class SpectrogramImage(nn.Module):
    """Waveform ``(N, T)`` -> 1-channel image ``(N, 1, rows, image_size[1])`` for the AT
    victims; ``rows = image_size[0] (+ tonnetz_rows)``. See the module docstring."""

    def __init__(
        self,
        representation: str,
        sample_rate: int,
        input_length: int,
        image_size: Sequence[int] = (768, 1568),
        tonnetz_rows: int = 540,
        n_fft: int = 2048,
        hop_length: int = 512,
        dwt_levels: int = 8,
        wavelet: str = "db4",
        cwt_scales: int = 128,
        cwt_fmin: float = 50.0,
    ) -> None:
        super().__init__()
        if representation not in REPRESENTATIONS:
            raise ValueError(
                f"unknown representation {representation!r}; choose from {REPRESENTATIONS}"
            )
        if len(image_size) != 2 or min(image_size) < 1:
            raise ValueError(f"image_size must be two positive sizes, got {image_size}")
        self.representation = representation
        self.image_size = (int(image_size[0]), int(image_size[1]))
        base, _, tonnetz = representation.partition("_")
        if base == "stft":
            self.base = STFTLogMagnitude(n_fft, hop_length, power=2.0, eps=1e-10)
        elif base == "cwt":
            self.base = MorletCWT(
                sample_rate, cwt_scales, f_min=cwt_fmin, hop_length=hop_length, log=True
            )
        else:
            try:
                self.base = DWTScalogram(
                    wavelet,
                    dwt_levels,
                    frames=self.image_size[1],
                    log=True,
                    input_length=input_length,
                )
            except ValueError as err:
                if "too deep" not in str(err):
                    raise
                raise ValueError(
                    f"input_length {input_length} is too short for the DWT representation: "
                    f"{err}; lower dwt_levels"
                ) from None
        self.tonnetz = Tonnetz(sample_rate, n_fft, hop_length) if tonnetz else None
        if tonnetz and (int(tonnetz_rows) != tonnetz_rows or tonnetz_rows < 1):
            raise ValueError(f"tonnetz_rows must be a positive integer, got {tonnetz_rows}")
        self.tonnetz_rows = int(tonnetz_rows) if tonnetz else 0

    @property
    def output_size(self) -> tuple[int, int]:
        return self.image_size[0] + self.tonnetz_rows, self.image_size[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        frames = self.image_size[1]
        parts = [_standardise(_resize(self.base(x), self.image_size))]
        if self.tonnetz is not None:
            t = _resize(self.tonnetz(x), (self.tonnetz_rows, frames))
            parts.append(_standardise(t))
        return torch.cat(parts, dim=-2)

    def extra_repr(self) -> str:
        return (
            f"representation={self.representation!r}, image_size={self.image_size}, "
            f"tonnetz_rows={self.tonnetz_rows}"
        )


# --------------------------------------------------------------------------------------------
# classifiers
# --------------------------------------------------------------------------------------------


class _BasicBlockA(nn.Module):
    """CIFAR ResNet basic block with the parameter-free "option A" shortcut (stride-2
    subsampling and zero channels)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.stride, self.extra = stride, c_out - c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = F.relu(self.bn1(self.conv1(x)))
        o = self.bn2(self.conv2(o))
        skip = x[:, :, :: self.stride, :: self.stride] if self.stride > 1 else x
        if self.extra:
            skip = F.pad(skip, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
        return F.relu(o + skip)


class ResNetCifar(nn.Module):
    """CIFAR-style ResNet-``depth`` (He et al. 2016, Sec. 4.2): conv3x3 16, three stages of
    ``(depth - 2) / 6`` basic blocks at 16/32/64 channels (times ``width``), global average
    pool, FC. ResNet-56 at 10 classes has 852,730 parameters with one input channel."""

    def __init__(self, depth: int, n_classes: int, in_channels: int = 1, width: float = 1.0):
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6 n + 2 with n >= 1, got {depth}")
        n = (depth - 2) // 6
        chans = [scaled(c, width) for c in (16, 32, 64)]
        self.conv1 = nn.Conv2d(in_channels, chans[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(chans[0])
        c_in, stages = chans[0], []
        for s, c in enumerate(chans):
            blocks = [
                _BasicBlockA(c_in if i == 0 else c, c, 2 if s and i == 0 else 1) for i in range(n)
            ]
            stages.append(nn.Sequential(*blocks))
            c_in = c
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(chans[-1], n_classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = F.relu(self.bn1(self.conv1(x)))
        o = self.layer3(self.layer2(self.layer1(o)))
        return self.fc(F.adaptive_avg_pool2d(o, 1).flatten(1))


def _meta_skeleton(factory):
    """Build a torchvision model on the meta device (no memory, no initialisation cost); every
    module with parameters is then replaced by a real one, built in the caller's context."""
    with torch.device("meta"):
        return factory()


def _check_replaced(model: nn.Module, outer_meta: bool) -> None:
    if not outer_meta and any(p.is_meta for p in model.parameters()):
        raise RuntimeError("internal error: a meta parameter was left in the model")


def _is_meta_context() -> bool:
    return torch.empty(0).is_meta


def _torchvision_resnet(blocks: Sequence[int], n_classes: int, width: float) -> nn.Module:
    model = _meta_skeleton(lambda: tv_resnet.ResNet(tv_resnet.BasicBlock, list(blocks)))
    planes = [scaled(c, width) for c in (64, 128, 256, 512)]
    model.conv1 = nn.Conv2d(1, planes[0], 7, stride=2, padding=3, bias=False)
    model.bn1 = nn.BatchNorm2d(planes[0])
    model.inplanes = planes[0]
    for i, (p, b) in enumerate(zip(planes, blocks, strict=True)):
        layer = model._make_layer(tv_resnet.BasicBlock, p, b, stride=1 if i == 0 else 2)
        setattr(model, f"layer{i + 1}", layer)
    model.fc = nn.Linear(planes[-1], n_classes)
    for m in model.modules():  # torchvision's initialisation (the FC keeps torch's default)
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def _alexnet(n_classes: int, width: float) -> nn.Module:
    model = _meta_skeleton(lambda: tv_alexnet.AlexNet(num_classes=n_classes))
    layers, c = [], 1
    for m in model.features:
        if isinstance(m, nn.Conv2d):
            out = scaled(m.out_channels, width)
            m = nn.Conv2d(c, out, m.kernel_size, stride=m.stride, padding=m.padding)
            c = out
        layers.append(m)
    model.features = nn.Sequential(*layers)
    hidden = scaled(4096, width)
    model.classifier = nn.Sequential(
        nn.Dropout(0.5),
        nn.Linear(c * 6 * 6, hidden),
        nn.ReLU(inplace=True),
        nn.Dropout(0.5),
        nn.Linear(hidden, hidden),
        nn.ReLU(inplace=True),
        nn.Linear(hidden, n_classes),
    )
    return model


def _vgg16(n_classes: int, width: float) -> nn.Module:
    model = _meta_skeleton(lambda: tv_vgg.VGG(nn.Sequential(), num_classes=n_classes))
    model.features, c = vgg_features("D", width)
    hidden = scaled(4096, width)
    model.classifier = nn.Sequential(
        nn.Linear(c * 7 * 7, hidden),
        nn.ReLU(True),
        nn.Dropout(0.5),
        nn.Linear(hidden, hidden),
        nn.ReLU(True),
        nn.Dropout(0.5),
        nn.Linear(hidden, n_classes),
    )
    for m in model.classifier:  # torchvision's VGG initialisation
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    return model


class _GoogLeNetScaler:
    """``blocks`` for torchvision's GoogLeNet that scale every channel count by ``width``,
    tracking the channels actually produced so the (rounded) sums stay consistent."""

    def __init__(self, width: float, in_channels: int = 1) -> None:
        self.width, self.channels = width, in_channels

    def conv(self, _in: int, out: int, **kwargs) -> nn.Module:
        block = tv_googlenet.BasicConv2d(self.channels, scaled(out, self.width), **kwargs)
        self.channels = scaled(out, self.width)
        return block

    def inception(self, _in: int, *chs: int, **kwargs) -> nn.Module:
        c = [scaled(v, self.width) for v in chs]
        block = tv_googlenet.Inception(self.channels, *c, **kwargs)
        self.channels = c[0] + c[2] + c[4] + c[5]
        return block


def _googlenet(n_classes: int, width: float) -> nn.Module:
    s = _GoogLeNetScaler(width)
    model = tv_googlenet.GoogLeNet(
        num_classes=n_classes,
        aux_logits=False,
        transform_input=False,
        init_weights=True,
        blocks=[s.conv, s.inception, tv_googlenet.InceptionAux],
    )
    model.fc = nn.Linear(s.channels, n_classes)
    nn.init.trunc_normal_(model.fc.weight, mean=0.0, std=0.01, a=-2, b=2)
    return model


def image_classifier(arch: str, n_classes: int, width: float = 1.0, depth: int = 56) -> nn.Module:
    """The 1-channel image classifier ``arch`` (one of ``ARCHITECTURES``); ``depth`` is used by
    ``resnet56`` only."""
    outer_meta = _is_meta_context()
    if arch == "googlenet":
        model = _googlenet(n_classes, width)
    elif arch == "alexnet":
        model = _alexnet(n_classes, width)
    elif arch == "resnet18":
        model = _torchvision_resnet((2, 2, 2, 2), n_classes, width)
    elif arch == "resnet34":
        model = _torchvision_resnet((3, 4, 6, 3), n_classes, width)
    elif arch == "vgg16":
        model = _vgg16(n_classes, width)
    elif arch == "resnet56":
        model = ResNetCifar(depth, n_classes, in_channels=1, width=width)
    else:
        raise ValueError(f"unknown architecture {arch!r}; choose from {ARCHITECTURES}")
    _check_replaced(model, outer_meta)
    return model


def spectrogram_victim(
    arch: str,
    n_classes: int,
    input_length: int,
    *,
    width: float = 1.0,
    representation: str = "dwt_tonnetz",
    sample_rate: int = 8_000,
    image_size: Sequence[int] = (768, 1568),
    tonnetz_rows: int = 540,
    n_fft: int = 2048,
    hop_length: int = 512,
    dwt_levels: int = 8,
    cwt_scales: int = 128,
    cwt_fmin: float = 50.0,
    depth: int = 56,
) -> Victim:
    """AT-paper victim ``arch`` on ``representation`` images of ``input_length``-sample clips."""
    length = check_common(n_classes, input_length, width)
    frontend = SpectrogramImage(
        representation,
        sample_rate,
        length,
        image_size=image_size,
        tonnetz_rows=tonnetz_rows,
        n_fft=n_fft,
        hop_length=hop_length,
        dwt_levels=dwt_levels,
        cwt_scales=cwt_scales,
        cwt_fmin=cwt_fmin,
    )
    rows, cols = frontend.output_size
    need = _MIN_SIDE.get(arch, 1)
    if min(rows, cols) < need:
        raise ValueError(
            f"{arch} needs images of at least {need} x {need}; image_size {tuple(image_size)} "
            f"gives {rows} x {cols} (tonnetz rows included)"
        )
    classifier = image_classifier(arch, n_classes, width, depth)
    if arch in ("alexnet", "vgg16"):
        trace_2d(classifier.features, (rows, cols), arch)
    return Victim(frontend, classifier, input_length=length, n_classes=n_classes)
