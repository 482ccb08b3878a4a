"""SpchCMD: the speech-command victim of the UAP paper (Abdoli et al., App. E.6, Table 17), the
raw-waveform network of the TensorFlow Speech Recognition Challenge winner (see--/
speech_recognition, ``model.py``), with its 32 outputs (30 words, silence, unknown).

Layers (study spec, section 3; shapes of Table 17 for 16,000 samples)::

    frames of 40 samples every 20 ("same" padding: 800 frames of 40)     -> (N, 40, 800)
    conv64 k3 stride 2 (valid) -> BN -> ReLU6                            -> (N, 64, 399)
    separable block 128 (k3, valid)                                       -> (N, 128, 397)
    5 x [separable block c, k3 stride 2 ("same"); separable block c, k3 (valid)]
        for c = 192, 256, 320, 384, 448                                   -> (N, 448, 9)
    attention over time (multiplied in) -> global average pool -> dropout 0.4 -> FC(classes)

A separable block is the challenge code's ``_depthwise_conv_block``: depthwise conv k3
(bias-free) -> pointwise 1x1 conv (bias-free) -> BN -> ReLU6. The eleven depthwise layers are the
paper's "eleven depth-wise one-dimensional convolution layers". About 1.05M parameters at 32
classes (the study spec quotes about 1.08M; Keras also counts BatchNorm's moving statistics).

Choices: "same" padding follows TensorFlow (output ``ceil(T / stride)``, odd padding on the
right). The attention is our reading of "dense softmax over time, multiplied in": a dense layer
scores each time step from its 448 features, a softmax over time makes the weights, and the
features are multiplied by them (:class:`~advlib.models.layers.TimeAttention`; 449 parameters,
independent of the input length). The challenge code's ``relu6`` is ``K.relu(x, max_value=None)``
in some revisions (a plain ReLU); we use ReLU6 as the spec says. ``width`` scales every channel
count; ``frame`` and ``hop`` set the framing (40 and 20 in the paper).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from advlib.models.layers import SamePad1d, TimeAttention, Victim, check_common, conv_out, scaled

__all__ = ["Framing", "spchcmd"]


class Framing(nn.Module):
    """Overlapping frames as channels, TensorFlow ``extract_image_patches(..., "SAME")``:
    ``(N, T)`` -> ``(N, frame, ceil(T / hop))``, zero padding split evenly (odd sample right)."""

    def __init__(self, frame: int = 40, hop: int = 20) -> None:
        super().__init__()
        if int(frame) != frame or frame < 1 or int(hop) != hop or hop < 1:
            raise ValueError(f"frame and hop must be positive integers, got {frame}, {hop}")
        self.frame, self.hop = int(frame), int(hop)

    def n_frames(self, length: int) -> int:
        return -(-length // self.hop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, SamePad1d.amounts(x.shape[-1], self.frame, self.hop))
        return x.unfold(-1, self.frame, self.hop).transpose(1, 2)

    def extra_repr(self) -> str:
        return f"frame={self.frame}, hop={self.hop}"


def _separable(c_in: int, c_out: int, stride: int) -> list[nn.Module]:
    pad = [SamePad1d(3, stride)] if stride > 1 else []
    return [
        *pad,
        nn.Conv1d(c_in, c_in, 3, stride=stride, groups=c_in, bias=False),
        nn.Conv1d(c_in, c_out, 1, bias=False),
        nn.BatchNorm1d(c_out),
        nn.ReLU6(),
    ]


def spchcmd(
    n_classes: int,
    input_length: int,
    *,
    width: float = 1.0,
    frame: int = 40,
    hop: int = 20,
) -> Victim:
    """SpchCMD for ``input_length``-sample clips; see the module docstring."""
    length = check_common(n_classes, input_length, width)
    frontend = Framing(frame, hop)
    t = conv_out(frontend.n_frames(length), 3, 2)
    c = scaled(64, width)
    layers: list[nn.Module] = [nn.Conv1d(frame, c, 3, stride=2, bias=False), nn.BatchNorm1d(c)]
    layers.append(nn.ReLU6())
    plan = [(128, 1)] + [(ch, s) for ch in (192, 256, 320, 384, 448) for s in (2, 1)]
    for ch, stride in plan:
        ch = scaled(ch, width)
        layers += _separable(c, ch, stride)
        t = -(-t // 2) if stride == 2 else t - 2
        c = ch
        if t < 1:
            raise ValueError(
                f"input_length {input_length} is too short for SpchCMD (block {ch}): it needs "
                f"255 frames, i.e. more than {254 * hop} samples with hop {hop}"
            )
    layers += [TimeAttention(c), _GlobalAvgPool1d(), nn.Dropout(0.4), nn.Linear(c, n_classes)]
    return Victim(frontend, nn.Sequential(*layers), input_length=length, n_classes=n_classes)


class _GlobalAvgPool1d(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=-1)
