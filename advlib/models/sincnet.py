"""SincNet and SincNet+VGG19, victims of the UAP paper (Abdoli et al., App. E.4-E.5), built on
the :class:`~advlib.models.frontends.SincConv` band-pass layer (Ravanelli & Bengio 2018).

SincNet (UAP paper Table 15; study spec, section 3)::

    SincConv 80 x 251 -> maxpool 3 -> LayerNorm -> LeakyReLU(0.2)
    -> conv60 k5 -> maxpool 3 -> LayerNorm -> LeakyReLU
    -> conv60 k5 -> [maxpool pools[2]] -> LayerNorm -> LeakyReLU
    -> [FC h -> BatchNorm -> LeakyReLU -> dropout 0.5] for h in fc -> FC(classes)

Choices, checked against the paper and the code the UAP authors build on (grausof/keras-sincnet,
which their repository sajabdoli/UAP uses):

* FC sizes: the UAP paper's Table 15 lists FC 128 and FC 64 before the 10-way output, and its
  text "two FC layers followed by a softmax layer"; SincNet's reference configuration uses three
  FC 2048. We take the paper's (128, 64); ``fc=(2048, 2048, 2048)`` gives the reference. With
  50,999 samples the flattened features have 60 x 5,633 = 337,980 entries, so FC 2048 alone
  would be 692M parameters, while (128, 64) gives about 43M.
* Pools: Table 15 pools by 3 after the sinc and first conv layers and not after the last conv
  (the reference pools by 3 there too): ``pools=(3, 3, 1)``.
* LayerNorm normalises over channels at each time step with a per-channel scale and bias
  (keras-sincnet's ``LayerNorm``, :class:`ChannelLayerNorm`), not over time as SincNet's own
  PyTorch code does; it is per example, so batch and single-clip outputs agree.
* FC layers carry BatchNorm, LeakyReLU(0.2) and dropout 0.5 (paper text).
* No ``abs()`` after the sinc layer (keras-sincnet has none; SincNet's PyTorch code has one).
* The sinc filters are initialised as in SincNet's PyTorch ``SincConv_fast`` (mel-spaced from
  30 Hz); only their low cut-offs and band widths are learnt.

SincNet+VGG19 (UAP paper Table 16; the authors' ``Sincnet_supp_files/model.py``)::

    SincConv 227 x 251 -> maxpool 218 -> LayerNorm -> (N, 1, frames, 227) image
    -> VGG19 convolutional part (torchvision ``cfgs["E"]``, 1 input channel, no weights)
    -> flatten -> FC4096 -> ReLU -> FC(classes)

About 123M parameters at 50,999 samples. The paper's text says the 218-wide max-pool has
stride 1, but its Table 16 lists 232 frames and the authors' Keras code uses ``MaxPooling1D(218)``
(stride = pool size), which is what we do (stride 1 would give 50,532 frames). The image has the
frames as rows and the filters as columns (the authors' ``Reshape((232, 227, 1))``); both sides
must be at least 32 for VGG's five 2x2 pools. The flattened VGG output (512 x 7 x 7 at paper
size) feeds the FC layer directly, as in the authors' code (no adaptive pooling, no dropout).
``width`` scales VGG's channels and the FC4096; ``n_filters`` and ``pool`` set the image size.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import torch
from torch import nn

from advlib.models.frontends import SincConv
from advlib.models.layers import ChannelLayerNorm, Victim, check_common, conv_out, scaled, trace_2d

tv_vgg = importlib.import_module("torchvision.models.vgg")

__all__ = ["sincnet", "sincnet_vgg19", "vgg_features"]


def vgg_features(cfg_name: str, width: float, in_channels: int = 1) -> tuple[nn.Sequential, int]:
    """torchvision's VGG convolutional part for configuration ``cfg_name`` (``"D"`` = VGG16,
    ``"E"`` = VGG19) with channels scaled by ``width`` and ``in_channels`` input channels;
    returns the layers and the number of output channels. Initialised as torchvision's VGG."""
    cfg = [v if v == "M" else scaled(int(v), width) for v in tv_vgg.cfgs[cfg_name]]
    features = tv_vgg.make_layers(cfg)
    first = features[0]
    features[0] = nn.Conv2d(in_channels, first.out_channels, 3, padding=1)
    for m in features.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            nn.init.constant_(m.bias, 0)
    return features, [v for v in cfg if v != "M"][-1]


def sincnet(
    n_classes: int,
    input_length: int,
    *,
    width: float = 1.0,
    sample_rate: int = 16_000,
    fc: Sequence[int] = (128, 64),
    pools: Sequence[int] = (3, 3, 1),
    kernel_size: int = 251,
) -> Victim:
    """SincNet for ``input_length``-sample clips at ``sample_rate``; see the module docstring.
    ``width`` scales the sinc filters (80), the conv channels (60) and the FC sizes."""
    length = check_common(n_classes, input_length, width)
    if len(pools) != 3 or min(pools) < 1:
        raise ValueError(f"pools must be three sizes >= 1, got {pools}")
    if len(fc) < 1 or min(fc) < 1:
        raise ValueError(f"fc must list at least one positive hidden size, got {fc}")
    n_sinc, n_conv = scaled(80, width), scaled(60, width)
    frontend = SincConv(n_sinc, kernel_size, sample_rate)
    t = conv_out(length, kernel_size)
    if t < 1:
        raise ValueError(
            f"input_length {input_length} is shorter than the sinc kernel ({kernel_size})"
        )
    layers: list[nn.Module] = []
    in_ch = n_sinc
    for i, (k, p) in enumerate(zip((None, 5, 5), pools, strict=True)):
        if k is not None:
            layers.append(nn.Conv1d(in_ch, n_conv, k))
            in_ch, t = n_conv, conv_out(t, k)
        if p > 1:
            layers.append(nn.MaxPool1d(p))
            t = conv_out(t, p, p)
        if t < 1:
            raise ValueError(
                f"input_length {input_length} is too short for SincNet (layer {i + 1}); "
                "lengthen the input or shrink pools"
            )
        layers += [ChannelLayerNorm(in_ch), nn.LeakyReLU(0.2)]
    layers.append(nn.Flatten())
    features = in_ch * t
    for h in fc:
        h = scaled(int(h), width)
        layers += [nn.Linear(features, h), nn.BatchNorm1d(h), nn.LeakyReLU(0.2), nn.Dropout(0.5)]
        features = h
    layers.append(nn.Linear(features, n_classes))
    return Victim(frontend, nn.Sequential(*layers), input_length=length, n_classes=n_classes)


class _ToImage(nn.Module):
    """``(N, C, T)`` filter-bank output -> ``(N, 1, T, C)`` image (frames as rows)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2).unsqueeze(1)


def sincnet_vgg19(
    n_classes: int,
    input_length: int,
    *,
    width: float = 1.0,
    sample_rate: int = 16_000,
    n_filters: int = 227,
    pool: int = 218,
    kernel_size: int = 251,
) -> Victim:
    """SincNet+VGG19 for ``input_length``-sample clips; see the module docstring."""
    length = check_common(n_classes, input_length, width)
    if int(pool) != pool or pool < 1:
        raise ValueError(f"pool must be a positive integer, got {pool}")
    frames = conv_out(conv_out(length, kernel_size), pool, pool)
    if frames < 1:
        raise ValueError(
            f"input_length {input_length} is too short for the sinc layer ({kernel_size} taps) "
            f"and the {pool}-wide max-pool"
        )
    frontend = nn.Sequential(
        SincConv(n_filters, kernel_size, sample_rate),
        nn.MaxPool1d(pool),
        ChannelLayerNorm(n_filters),
        _ToImage(),
    )
    features, channels = vgg_features("E", width)
    if min(frames, n_filters) < 32:
        raise ValueError(
            f"input_length {input_length} is too short for SincNet+VGG19: with pool {pool} and "
            f"n_filters {n_filters} the image is {frames} x {n_filters}, and VGG19's five 2x2 "
            "pools need at least 32 x 32 (lower pool or lengthen the input)"
        )
    h, w = trace_2d(features, (frames, n_filters), "VGG19")
    hidden = scaled(4096, width)
    head = [
        nn.Flatten(),
        nn.Linear(channels * h * w, hidden),
        nn.ReLU(),
        nn.Linear(hidden, n_classes),
    ]
    classifier = nn.Sequential(features, *head)
    return Victim(frontend, classifier, input_length=length, n_classes=n_classes)
