"""SampleCNN (Lee, Park, Kim & Nam 2017, "Sample-level deep convolutional neural networks for
music auto-tagging using raw waveforms"), the music victim of the GAN paper (Wang et al. 2020),
as the authors' code defines it (winterwindwang/SpeechAdvGan, ``models/sampleCNN.py``,
``SampleCNN01``) for 16,384-sample clips::

    conv128 k3 stride 2 -> BN -> ReLU
    -> 9 x [conv k3 (padding 1) -> BN -> ReLU -> maxpool(3, stride 2)]
       with 128, 128, 256, 256, 256, 256, 256, 256, 512 channels (dropout 0.5 after the 5th)
    -> conv512 k3 (padding 1) -> BN -> ReLU -> dropout 0.5 -> flatten -> FC(classes)

At 16,384 samples the last feature map is 512 x 15 (the code's ``nn.Linear(512 * 15, 10)``);
about 2.45M parameters. The dropout after the fifth block is in the authors' code, not in the
spec's summary. ``width`` scales every channel count; the FC input follows ``input_length``.
"""

from __future__ import annotations

from torch import nn

from advlib.models.layers import AddChannel, Victim, check_common, conv_out, scaled

__all__ = ["samplecnn"]

_BLOCKS = (128, 128, 256, 256, 256, 256, 256, 256, 512)


def samplecnn(n_classes: int, input_length: int, *, width: float = 1.0) -> Victim:
    """SampleCNN for ``input_length``-sample clips; see the module docstring."""
    length = check_common(n_classes, input_length, width)
    c = scaled(128, width)
    layers: list[nn.Module] = [nn.Conv1d(1, c, 3, stride=2), nn.BatchNorm1d(c), nn.ReLU()]
    t = conv_out(length, 3, 2)
    for i, ch in enumerate(_BLOCKS):
        ch = scaled(ch, width)
        layers += [nn.Conv1d(c, ch, 3, padding=1), nn.BatchNorm1d(ch), nn.ReLU()]
        layers.append(nn.MaxPool1d(3, stride=2))
        if i == 4:
            layers.append(nn.Dropout(0.5))
        c, t = ch, conv_out(t, 3, 2)
        if t < 1:
            raise ValueError(
                f"input_length {input_length} is too short for SampleCNN: block {i + 1} of 9 "
                "has no output left (it needs at least 2,047 samples)"
            )
    last = scaled(512, width)
    layers += [nn.Conv1d(c, last, 3, padding=1), nn.BatchNorm1d(last), nn.ReLU(), nn.Dropout(0.5)]
    layers += [nn.Flatten(), nn.Linear(last * t, n_classes)]
    return Victim(AddChannel(), nn.Sequential(*layers), input_length=length, n_classes=n_classes)
