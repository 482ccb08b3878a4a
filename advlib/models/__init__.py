"""Victim models: waveform in, logits out (front-ends inside ``forward``)."""

from advlib.models.cnn1d import CNN1D
from advlib.models.layers import Victim
from advlib.models.registry import VICTIMS, VictimSpec, build_victim, count_parameters, victim_spec

__all__ = [
    "CNN1D",
    "VICTIMS",
    "Victim",
    "VictimSpec",
    "build_victim",
    "count_parameters",
    "victim_spec",
]
