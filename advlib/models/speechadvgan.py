"""The generator and discriminator of SpeechAdvGan (the GAN paper: Wang et al., "Targeted
Speech Adversarial Example Generation With Generative Adversarial Network", IEEE Access 8, 2020;
spec section 4, "GAN (SpeechAdvGan)").

Generator (paper Fig. 2, after SEGAN): an encoder of ``depth`` (8) strided convolutions, kernel
32, stride 2, PReLU, with 16, 32, 32, 64, 64, 128, 128, 256 filters, and a mirrored decoder of
transposed convolutions whose outputs are concatenated with the matching encoder outputs (skip
connections); the last layer maps to one channel through ``tanh``, so the perturbation
``delta = G(x)`` lies in (-1, 1). A 1 x 16384 clip becomes 16 x 8192 after the first layer, as
the paper's footnote says. Clips whose length is not a multiple of ``2**depth`` are zero-padded
on the right and the perturbation cropped back.

A *conditional* generator (an option beyond the paper, which trains one generator per target
class) adds the target's embedding as extra input channels, constant over time.

Discriminator (paper Fig. 3): 11 blocks of [conv kernel 31, stride 2, batch norm, LeakyReLU
0.03] with 32 to 2048 filters, a 1 x 1 convolution to one channel, and a linear layer to one
logit; ``D(x) = sigmoid(logit)`` is the probability that ``x`` is genuine.

``width`` multiplies every channel count and ``depth`` / ``d_depth`` set the number of encoder /
discriminator blocks, so the small profiles train in minutes; ``width=1, depth=8, d_depth=11``
is the paper's size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advlib.models.layers import scaled

__all__ = ["D_CHANNELS", "G_CHANNELS", "Discriminator", "Generator"]

#: Encoder filters of the paper's generator (Fig. 2).
G_CHANNELS = (16, 32, 32, 64, 64, 128, 128, 256)
#: Filters of the paper's discriminator blocks (Fig. 3).
D_CHANNELS = (32, 64, 64, 128, 128, 256, 256, 512, 512, 1024, 2048)


class Generator(nn.Module):
    """``G``: waveform ``(N, T)`` in [-1, 1] -> perturbation ``(N, T)`` in (-1, 1).

    Parameters
    ----------
    width : float
        Multiplies every channel count (1: the paper's).
    depth : int
        Encoder (and decoder) layers, 1 to 8 (8: the paper's).
    kernel_size : int
        Convolution length (32 in the paper); must be even for exact halving.
    n_classes : int or None
        With a number, the generator is conditional: ``forward(x, target)`` takes the target
        class per clip. ``None`` (the paper): one generator per target, ``forward(x)``.
    """

    def __init__(
        self,
        width: float = 1.0,
        depth: int = 8,
        kernel_size: int = 32,
        n_classes: int | None = None,
    ) -> None:
        super().__init__()
        if not 1 <= int(depth) <= len(G_CHANNELS) or int(depth) != depth:
            raise ValueError(f"depth must be an integer in [1, {len(G_CHANNELS)}], got {depth}")
        if kernel_size < 2 or kernel_size % 2:
            raise ValueError(f"kernel_size must be even and >= 2, got {kernel_size}")
        if not width > 0:
            raise ValueError(f"width must be positive, got {width}")
        self.depth = int(depth)
        self.n_classes = n_classes
        pad = kernel_size // 2 - 1
        chans = [scaled(c, width) for c in G_CHANNELS[: self.depth]]
        cond = 0
        if n_classes is not None:
            if int(n_classes) != n_classes or n_classes < 2:
                raise ValueError(f"n_classes must be an integer >= 2, got {n_classes}")
            cond = scaled(8, width)
            self.embed = nn.Embedding(int(n_classes), cond)
        self.enc = nn.ModuleList()
        self.enc_act = nn.ModuleList()
        c_in = 1 + cond
        for c in chans:
            self.enc.append(nn.Conv1d(c_in, c, kernel_size, stride=2, padding=pad))
            self.enc_act.append(nn.PReLU(c))
            c_in = c
        self.dec = nn.ModuleList()
        self.dec_act = nn.ModuleList()
        for k in range(self.depth - 1, -1, -1):
            c_out = chans[k - 1] if k > 0 else 1
            c_in = chans[k] if k == self.depth - 1 else 2 * chans[k]
            self.dec.append(nn.ConvTranspose1d(c_in, c_out, kernel_size, stride=2, padding=pad))
            self.dec_act.append(nn.PReLU(c_out) if k > 0 else nn.Tanh())
        for m in self.modules():  # Xavier initialisation (Algorithm 1, step 1)
            if isinstance(m, nn.Conv1d | nn.ConvTranspose1d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def multiple(self) -> int:
        """Input lengths are padded to a multiple of this (``2 ** depth``)."""
        return 2**self.depth

    def forward(self, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
        if x.ndim != 2:
            raise ValueError(f"the generator takes waveforms (N, T), got {tuple(x.shape)}")
        n, length = x.shape
        pad = (-length) % self.multiple
        h = F.pad(x, (0, pad)).unsqueeze(1)
        if self.n_classes is not None:
            if target is None:
                raise ValueError("a conditional generator needs the target class per clip")
            t = torch.as_tensor(target, dtype=torch.long, device=x.device).expand(n)
            h = torch.cat([h, self.embed(t)[:, :, None].expand(-1, -1, h.shape[-1])], dim=1)
        elif target is not None:
            raise ValueError("this generator is for one target class; it takes no target")
        skips = []
        for conv, act in zip(self.enc, self.enc_act, strict=True):
            h = act(conv(h))
            skips.append(h)
        skips.pop()  # the bottleneck is the decoder's input, not a skip
        for i, (deconv, act) in enumerate(zip(self.dec, self.dec_act, strict=True)):
            h = act(deconv(h))
            if i < self.depth - 1:
                h = torch.cat([h, skips.pop()], dim=1)
        return h[:, 0, :length]


class Discriminator(nn.Module):
    """``D``: waveform ``(N, T)`` -> one logit per clip (genuine when positive).

    Parameters
    ----------
    input_length : int
        Samples per clip (sizes the linear head).
    width : float
        Multiplies every channel count (1: the paper's 32 to 2048).
    depth : int
        Convolution blocks, 1 to 11 (11: the paper's).
    kernel_size : int
        Convolution length (31 in the paper), odd.
    """

    def __init__(
        self, input_length: int, width: float = 1.0, depth: int = 11, kernel_size: int = 31
    ) -> None:
        super().__init__()
        if not 1 <= int(depth) <= len(D_CHANNELS) or int(depth) != depth:
            raise ValueError(f"depth must be an integer in [1, {len(D_CHANNELS)}], got {depth}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        if int(input_length) != input_length or input_length < 1:
            raise ValueError(f"input_length must be a positive integer, got {input_length}")
        self.input_length = int(input_length)
        layers: list[nn.Module] = []
        c_in, length = 1, self.input_length
        for c in D_CHANNELS[: int(depth)]:
            c = scaled(c, width)
            layers += [
                nn.Conv1d(c_in, c, kernel_size, stride=2, padding=kernel_size // 2),
                nn.BatchNorm1d(c),
                nn.LeakyReLU(0.03),
            ]
            c_in, length = c, (length + 1) // 2
        self.features = nn.Sequential(*layers)
        self.squeeze = nn.Conv1d(c_in, 1, 1)
        self.head = nn.Linear(length, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.input_length:
            raise ValueError(
                f"the discriminator takes (N, {self.input_length}) waveforms, got {tuple(x.shape)}"
            )
        h = F.leaky_relu(self.squeeze(self.features(x.unsqueeze(1))), 0.03)
        return self.head(h.flatten(1)).squeeze(1)
