"""Where models train and run: the CPU by default, a GPU for the paper profile.

The device comes from the ``ADVLIB_DEVICE`` environment variable (``cpu``, ``cuda``,
``cuda:1``, ``mps``); ``make book DEVICE=cuda`` and ``python -m advlib ... --device cuda`` set it,
and the workflow passes it to every page (``snakemake --config device=cuda``). Training loops
(:func:`advlib.train.classifier.train_classifier`, :func:`advlib.train.generator.train_generator`)
run on the device of the model they are given; the ``fit_*`` functions move the freshly built
model there, cache the weights on the CPU (so a cache filled on a GPU loads anywhere) and hand
back the model wrapped in :class:`OnDevice`, which moves each input batch to the device and the
output back, so every attack and table keeps working on CPU tensors (gradients flow through
the copies).
On the CPU nothing is wrapped or moved: results are bitwise those of a CPU-only run.

Attacks do not pay for those copies at every step: each attack of :mod:`advlib.attacks` is
wrapped in :func:`on_model_device`, which finds the device of the model's parameters (through
:class:`OnDevice`), moves the batch there once, runs every step there (the wrapper then copies
nothing) and hands the result back on the caller's device once.
"""

from __future__ import annotations

import os
import re

import torch
from torch import nn

from advlib.attacks import on_model_device

__all__ = [
    "ENV",
    "OnDevice",
    "get_device",
    "model_device",
    "on_device",
    "on_model_device",
    "unwrap",
]

ENV = "ADVLIB_DEVICE"
_PATTERN = re.compile(r"^(cpu|cuda(:\d+)?|mps)$")


def get_device(name: str | None = None) -> torch.device:
    """The device named by ``name`` or, if ``None``, by ``$ADVLIB_DEVICE`` (default ``cpu``);
    a clear error when it is malformed or not available on this machine."""
    name = (name if name is not None else os.environ.get(ENV, "cpu")).strip() or "cpu"
    if not _PATTERN.match(name):
        raise ValueError(f"unknown device {name!r}: use cpu, cuda, cuda:N or mps ({ENV})")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"device {name!r} requested ({ENV}) but torch sees no CUDA GPU "
                f"(torch {torch.__version__}, CUDA build {torch.version.cuda}); use cpu"
            )
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise RuntimeError(f"device {name!r}: only {torch.cuda.device_count()} GPU(s)")
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise RuntimeError(f"device 'mps' requested ({ENV}) but it is not available")
    return torch.device(name)


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter or buffer (CPU for a parameterless one)."""
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return torch.device("cpu")


class OnDevice(nn.Module):
    """``module`` on ``device``, called with and returning tensors on the caller's device.

    ``OnDevice(m, cuda)(x_cpu)`` runs ``m(x_cpu.to(cuda))`` and returns the output on the CPU;
    autograd follows the copies, so gradient attacks work unchanged. Attribute access falls
    through to the wrapped module (``n_classes``, front-ends, ...).
    """

    def __init__(self, module: nn.Module, device: torch.device) -> None:
        super().__init__()
        self.module = module.to(device)
        self.device = torch.device(device)

    def forward(self, x: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        move = lambda a: a.to(self.device) if isinstance(a, torch.Tensor) else a  # noqa: E731
        out = self.module(move(x), *map(move, args), **{k: move(v) for k, v in kwargs.items()})
        return out.to(x.device) if isinstance(out, torch.Tensor) else out

    def __getattr__(self, name: str) -> object:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["module"], name)


def on_device(model: nn.Module, device: torch.device | str | None = None) -> nn.Module:
    """``model`` ready for CPU callers: itself on the CPU, else wrapped in :class:`OnDevice`."""
    device = get_device(device if isinstance(device, str) or device is None else str(device))
    if device.type == "cpu":
        return model.to(device)
    return OnDevice(model, device)


def unwrap(model: nn.Module) -> nn.Module:
    """The module inside an :class:`OnDevice` (training loops want the module itself)."""
    return model.module if isinstance(model, OnDevice) else model
