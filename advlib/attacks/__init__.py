"""Adversarial attacks as functions: ``attack(model, x, y, *, targeted=False, ..., bounds,
generator) -> x_adv``.

One module per attack; every attack works per sample on inputs of any rank, keeps the dtype
and device of ``x``, returns a tensor inside ``bounds``, and never prints, saves or loads.
Victims are seen only as callables from inputs to logits. ``y`` holds the labels, or the
targets when ``targeted=True``. Bind settings with ``functools.partial``.
"""

from advlib.attacks._utils import PassCounter, on_model_device
from advlib.attacks.bim import bim
from advlib.attacks.cw import cw_l2
from advlib.attacks.ddn import ddn
from advlib.attacks.deepfool import deepfool
from advlib.attacks.eot import EOTModel, eot, random_playback
from advlib.attacks.fgsm import fgsm
from advlib.attacks.genetic import genetic
from advlib.attacks.jsma import jsma
from advlib.attacks.nes import nes
from advlib.attacks.pgd import pgd
from advlib.attacks.pso import pso
from advlib.attacks.uap import apply_uap, uap_iterative, uap_penalty

__all__ = [
    "EOTModel",
    "PassCounter",
    "apply_uap",
    "bim",
    "cw_l2",
    "ddn",
    "deepfool",
    "eot",
    "fgsm",
    "genetic",
    "jsma",
    "nes",
    "on_model_device",
    "pgd",
    "pso",
    "random_playback",
    "uap_iterative",
    "uap_penalty",
]
