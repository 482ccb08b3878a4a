"""ENVnet-V2 (Tokozume, Ushiku & Harada 2018, "Learning from between-class examples for deep
sound recognition"), a victim of the UAP paper (Abdoli et al., Sec. V-A and App. E.3).

Layers (study spec, section 3; every convolution is bias-free and followed by BatchNorm and
ReLU, as ``ConvBNReLU`` of the original code, mil-tokyo/bc_learning_sound)::

    conv32 (1x64, stride 2) -> conv64 (1x16, stride 2) -> maxpool (1 x pool)
    -> swap axes: the 64 channels become the image height (frequency), time the width
    -> conv32 8x8 -> conv32 8x8 -> maxpool (5, 3)
    -> conv64 1x4 -> conv64 1x4 -> maxpool (1, 2)
    -> conv128 1x2 (x n_conv128) -> maxpool (1, 2)
    -> conv256 1x2 -> conv256 1x2 -> maxpool (1, 2)
    -> FC4096 -> ReLU -> dropout 0.5 -> FC4096 -> ReLU -> dropout 0.5 -> FC(classes)

Choices: the spec's list (the UAP authors' code) has ONE conv128 where the original has two
(``n_conv128=2`` gives the original). The UAP paper's Table 14 stops after the conv128 and lists no
conv256 layers; we follow the spec. The published input is 66,650 samples at 44.1 kHz; the UAP
paper feeds 50,999 samples at 16 kHz (its "slightly modified" version), which is the paper
configuration here. ``width`` scales every channel count and the FC sizes except conv2's 64
channels, which become the image height that the 8x8 kernels and the (5, 3) pool need (50 rows
after two 8x8 convolutions, 10 after the pool). ``pool`` is the first max-pool's size (64 in the
paper); short clips need a smaller one (16 for 1 s at 8 kHz, 32 for 1 s at 16 kHz).
"""

from __future__ import annotations

from torch import nn

from advlib.models.layers import AddChannel, Victim, check_common, conv_out, scaled

__all__ = ["envnet_v2"]


def _conv_bn_relu(conv: nn.Module, channels: int, two_d: bool) -> list[nn.Module]:
    bn = nn.BatchNorm2d(channels) if two_d else nn.BatchNorm1d(channels)
    return [conv, bn, nn.ReLU()]


def envnet_v2(
    n_classes: int,
    input_length: int,
    *,
    width: float = 1.0,
    pool: int = 64,
    n_conv128: int = 1,
) -> Victim:
    """ENVnet-V2 for ``input_length``-sample clips; see the module docstring."""
    length = check_common(n_classes, input_length, width)
    if int(pool) != pool or pool < 1:
        raise ValueError(f"pool must be a positive integer, got {pool}")
    if n_conv128 not in (1, 2):
        raise ValueError(
            f"n_conv128 must be 1 (UAP authors' code) or 2 (original), got {n_conv128}"
        )

    def short(layer: str) -> ValueError:
        return ValueError(
            f"input_length {input_length} is too short for ENVnet-V2 ({layer}); lengthen the "
            f"input or lower pool (now {pool}; 16 suits 8,000 samples, 32 suits 16,000)"
        )

    c1, c3, c5, c7, c9 = (scaled(c, width) for c in (32, 32, 64, 128, 256))
    bands = 64  # conv2's channels: the image height after the axis swap (not scaled)
    layers: list[nn.Module] = []
    layers += _conv_bn_relu(nn.Conv1d(1, c1, 64, stride=2, bias=False), c1, False)
    layers += _conv_bn_relu(nn.Conv1d(c1, bands, 16, stride=2, bias=False), bands, False)
    layers += [nn.MaxPool1d(pool), AddChannel()]  # (N, 64, W) -> (N, 1, 64, W)
    t = conv_out(conv_out(conv_out(length, 64, 2), 16, 2), pool, pool)
    if t < 1:
        raise short(f"the {pool}-wide max-pool after conv2")
    h = bands
    spec = [(c3, (8, 8)), (c3, (8, 8)), "pool 5x3", (c5, (1, 4)), (c5, (1, 4)), "pool 1x2"]
    spec += [(c7, (1, 2))] * n_conv128 + ["pool 1x2", (c9, (1, 2)), (c9, (1, 2)), "pool 1x2"]
    in_ch = 1
    for item in spec:
        name = item if isinstance(item, str) else f"conv{item[0]} {item[1][0]}x{item[1][1]}"
        if item == "pool 5x3":
            layers.append(nn.MaxPool2d((5, 3)))
            h, t = h // 5, conv_out(t, 3, 3)
        elif item == "pool 1x2":
            layers.append(nn.MaxPool2d((1, 2)))
            t = conv_out(t, 2, 2)
        else:
            ch, (kh, kw) = item
            layers += _conv_bn_relu(nn.Conv2d(in_ch, ch, (kh, kw), bias=False), ch, True)
            h, t = h - kh + 1, t - kw + 1
            in_ch = ch
        if t < 1 or h < 1:
            raise short(name)
    hidden = scaled(4096, width)
    layers += [
        nn.Flatten(),
        nn.Linear(in_ch * h * t, hidden),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(hidden, n_classes),
    ]
    return Victim(AddChannel(), nn.Sequential(*layers), input_length=length, n_classes=n_classes)
