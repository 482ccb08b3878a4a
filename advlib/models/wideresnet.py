"""WideResNet-28-10 (Zagoruyko & Komodakis 2016) on MFCC images, the speech victim of the GAN
paper (Wang et al. 2020), as the authors' code defines it (winterwindwang/SpeechAdvGan,
``models/wideresnet.py`` and ``train_speech_commands.py``).

Front-end: the python_speech_features-style :class:`~advlib.models.frontends.MFCC` (512-sample
rectangular frames every 512 samples, n_fft 2048, 32 mel bands, 32 coefficients, pre-emphasis
0.97, lifter 22, c0 replaced by the log energy), giving a 1 x 32 x 32 image for 16,384 samples.
The authors' MFCC layer is built with ``samplerate=16384`` for 16 kHz audio (a mel bank stretched
by 2.4 %); we use the true sample rate.

Classifier: pre-activation wide residual network, depth 28 = 6 n + 4 (n = 4 blocks per stage),
channels 16, 16k, 32k, 64k (k = 10), stride 2 at stages 2 and 3, no dropout, final BN-ReLU,
global average pool, FC. About 36.5M parameters. Initialisation as the authors' code (He normal
convolutions, unit BatchNorm, zero FC bias). ``width`` scales every channel count (16 included);
``depth`` and ``widen`` set the net; ``frame_length`` sets the MFCC frame and hop (512 in the
paper; 256 gives 32 frames for 1 s at 8 kHz).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F
from torch import nn

from advlib.models.frontends import MFCC
from advlib.models.layers import Victim, check_common, scaled

__all__ = ["WideResNet", "wrn28_10"]


class _Block(nn.Module):
    """Pre-activation basic block of the WRN code (BN-ReLU-conv3x3-BN-ReLU-conv3x3)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.shortcut = (
            None if c_in == c_out and stride == 1 else nn.Conv2d(c_in, c_out, 1, stride, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = F.relu(self.bn1(x))
        # as the reference: the projection shortcut starts from the activated input
        skip = x if self.shortcut is None else self.shortcut(o)
        o = self.conv2(F.relu(self.bn2(self.conv1(o))))
        return o + skip


class WideResNet(nn.Module):
    """WRN-``depth``-``widen`` for ``in_channels``-channel images of any size."""

    def __init__(
        self, depth: int, widen: int, n_classes: int, in_channels: int = 1, width: float = 1.0
    ) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"depth must be 6 n + 4 with n >= 1, got {depth}")
        if int(widen) != widen or widen < 1:
            raise ValueError(f"widen must be a positive integer, got {widen}")
        n = (depth - 4) // 6
        chans = [scaled(c, width) for c in (16, 16 * widen, 32 * widen, 64 * widen)]
        self.conv1 = nn.Conv2d(in_channels, chans[0], 3, padding=1, bias=False)
        stages = []
        for s, (c_in, c_out) in enumerate(itertools.pairwise(chans)):
            blocks = [_Block(c_in, c_out, (1, 2, 2)[s])]
            blocks += [_Block(c_out, c_out, 1) for _ in range(1, n)]
            stages.append(nn.Sequential(*blocks))
        self.block1, self.block2, self.block3 = stages
        self.bn = nn.BatchNorm2d(chans[-1])
        self.fc = nn.Linear(chans[-1], n_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                k = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / k))
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = self.block3(self.block2(self.block1(self.conv1(x))))
        o = F.relu(self.bn(o))
        return self.fc(F.adaptive_avg_pool2d(o, 1).flatten(1))


class _MFCCImage(nn.Module):
    """``(N, T)`` -> ``(N, 1, n_mfcc, frames)``."""

    def __init__(self, mfcc: MFCC) -> None:
        super().__init__()
        self.mfcc = mfcc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mfcc(x).unsqueeze(1)


def wrn28_10(
    n_classes: int,
    input_length: int,
    *,
    width: float = 1.0,
    depth: int = 28,
    widen: int = 10,
    sample_rate: int = 16_000,
    frame_length: int = 512,
) -> Victim:
    """WideResNet on the MFCC image of ``input_length``-sample clips; see the module docstring."""
    length = check_common(n_classes, input_length, width)
    mfcc = MFCC(sample_rate=sample_rate, frame_length=frame_length, hop_length=frame_length)
    frontend = _MFCCImage(mfcc)
    classifier = WideResNet(depth, widen, n_classes, in_channels=1, width=width)
    return Victim(frontend, classifier, input_length=length, n_classes=n_classes)
