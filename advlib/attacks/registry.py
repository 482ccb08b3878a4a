"""Attacks by name: what each one is, where it comes from, and a checked way to configure it.

Notebooks and profiles name attacks as strings (``"pgd"``, ``"cw_l2"``); :func:`make_attack`
turns a name and its settings into a ready batch attack (a :func:`functools.partial`) after
checking that the name exists and that every setting is one of the attack's parameters, so a
typo in a profile fails at once with the list of what is accepted instead of deep in a run.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

__all__ = [
    "ATTACKS",
    "AttackSpec",
    "attack_names",
    "attack_spec",
    "code_revision",
    "get_attack",
    "make_attack",
]


@dataclass(frozen=True)
class AttackSpec:
    """One attack of the library.

    ``module``/``function``: where it lives in :mod:`advlib.attacks`. ``kind``: ``"bounded"``
    (stays in an ``eps`` ball), ``"minimal"`` (searches the smallest perturbation),
    ``"black-box"`` (outputs only), ``"universal"`` (one perturbation for all inputs; returns
    the perturbation, not a batch), ``"generative"`` (a trained generator crafts in one forward
    pass). ``norm``: the distance it controls. ``reference``: the
    paper and the equation or algorithm implemented. ``study``: where the study uses it.
    """

    name: str
    module: str
    function: str
    kind: str
    norm: str
    reference: str
    study: str


ATTACKS: dict[str, AttackSpec] = {
    s.name: s
    for s in (
        AttackSpec("fgsm", "fgsm", "fgsm", "bounded", "Linf / L2",
                   "Goodfellow et al., ICLR 2015, Eq. 6", "AT: adversarial training (Eq. 14)"),
        AttackSpec("bim", "bim", "bim", "bounded", "Linf",
                   "Kurakin et al., ICLR-W 2017, Eq. 1; variants a/b of Tramer et al.",
                   "AT: BIM-a and BIM-b (Table II)"),
        AttackSpec("pgd", "pgd", "pgd", "bounded", "Linf / L2",
                   "Madry et al., ICLR 2018, Eq. 2", "AT beyond the paper: PGD training"),
        AttackSpec("deepfool", "deepfool", "deepfool", "minimal", "L2",
                   "Moosavi-Dezfooli et al., CVPR 2016, Alg. 2", "AT: DeepFool (Table II)"),
        AttackSpec("cw_l2", "cw", "cw_l2", "minimal", "L2",
                   "Carlini and Wagner, IEEE S&P 2017, Eq. 7 (tanh box)", "AT: CW (Table II)"),
        AttackSpec("ddn", "ddn", "ddn", "minimal", "L2",
                   "Rony et al., CVPR 2019, Alg. 1", "UAP: inner step of the iterative UAP"),
        AttackSpec("jsma", "jsma", "jsma", "minimal", "L0",
                   "Papernot et al., EuroS&P 2016, Eq. 8, Alg. 2-3", "AT: JSMA (Table II)"),
        AttackSpec("nes", "nes", "nes", "black-box", "Linf",
                   "Ilyas et al., ICML 2018, Alg. 1", "AT: black-box PIA (Table II)"),
        AttackSpec("genetic", "genetic", "genetic", "black-box", "Linf",
                   "Alzantot et al., 2018, Alg. 1", "GAN: genetic baseline (Table 1)"),
        AttackSpec("pso", "pso", "pso", "black-box", "Linf",
                   "Du et al., ICASSP 2020 (SirenAttack), Alg. 1", "GAN: PSO baseline (Table 1)"),
        AttackSpec("gan", "gan", "gan_attack", "generative", "any (learned)",
                   "Wang et al., IEEE Access 2020 (SpeechAdvGan), Eqs. 4-10, Alg. 1",
                   "GAN: SpeechAdvGan (Figs. 4-9, Tables 1-2)"),
        AttackSpec("uap_iterative", "uap", "uap_iterative", "universal", "Linf / L2",
                   "Abdoli et al., 2019, Alg. 1", "UAP: iterative method (Tables 1-5)"),
        AttackSpec("uap_penalty", "uap", "uap_penalty", "universal", "SPL + hinge",
                   "Abdoli et al., 2019, Eqs. 7-11", "UAP: penalty method (Tables 1-5)"),
    )
}  # fmt: skip


def attack_names() -> list[str]:
    """Every attack name, in the order of :data:`ATTACKS`."""
    return list(ATTACKS)


def attack_spec(name: str) -> AttackSpec:
    """The :class:`AttackSpec` of ``name``; an unknown name raises ``ValueError`` listing all."""
    if not isinstance(name, str) or name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}; known attacks: {', '.join(ATTACKS)}")
    return ATTACKS[name]


def get_attack(name: str) -> Callable[..., Any]:
    """The attack function called ``name`` (imported on first use)."""
    spec = attack_spec(name)
    module = importlib.import_module(f"advlib.attacks.{spec.module}")
    return getattr(module, spec.function)


class _Checked(Exception):
    """Raised by the stand-in model: the attack got past its checks of its settings."""


class _StandIn(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise _Checked


# values for required settings a caller may bind later (the AT chapter binds eps per budget)
@functools.cache
def code_revision(name: str) -> str:
    """A digest of attack ``name``'s code: its module's source and the shared helpers'
    (``_utils``, and ``eot`` for the UAPs' playback). Every cache key of an attack's results
    holds it, so changing an attack's code re-runs what it computed instead of reusing results
    of the old code (settings alone do not say which code produced a result)."""

    here = Path(__file__).parent
    h = hashlib.sha256()
    for mod in sorted({attack_spec(name).module, "_utils", "eot"}):
        h.update((here / f"{mod}.py").read_bytes())
    return h.hexdigest()[:12]


_STAND_IN_VALUES = {"eps": 0.01}


def _dry_run(name: str, fn: Callable[..., Any], settings: Mapping[str, Any]) -> None:
    """Call ``fn`` with ``settings`` on a stand-in model and a small batch, so the attack's own
    checks of its settings run; re-raise their ``ValueError`` naming the attack."""
    if any(isinstance(v, torch.Tensor | torch.nn.Module) for v in settings.values()):
        return  # per-sample budgets and networks are checked when the attack runs
    params = inspect.signature(fn).parameters
    kwargs = dict(settings)
    for p, v in params.items():
        if v.kind is inspect.Parameter.KEYWORD_ONLY and v.default is inspect.Parameter.empty:
            if p not in kwargs:
                if p not in _STAND_IN_VALUES:
                    return  # e.g. the GAN's generator network: nothing to stand in for it
                kwargs[p] = _STAND_IN_VALUES[p]
    bounds = kwargs.get("bounds", params["bounds"].default if "bounds" in params else (-1, 1))
    try:
        mid = (float(bounds[0]) + float(bounds[1])) / 2
    except (TypeError, ValueError, IndexError):
        mid = 0.0  # the attack's own bounds check names the problem
    x = torch.full((2, 1024), mid if mid == mid else 0.0)
    with torch.random.fork_rng(devices=[]):
        try:
            fn(_StandIn(), x, torch.tensor([0, 1]), targeted=False, **kwargs)
        except _Checked:
            pass
        except ValueError as exc:
            raise ValueError(f"attack {name!r}: {exc}") from None


def make_attack(
    name: str, settings: Mapping[str, Any] | None = None, *, seed: int | None = None
) -> Callable[..., Any]:
    """``functools.partial(get_attack(name), **settings)`` after checking the settings.

    Settings that are not keyword parameters of the attack, or that set ``model``, ``x``,
    ``y`` or ``targeted`` (those are given per call), raise ``ValueError`` naming the accepted
    ones. The values are checked too, by the attack's own checks (a negative ``eps``, ``steps``
    of 0, an unknown ``norm`` or ``variant`` raise ``ValueError`` naming the attack): the attack
    is called once on a stand-in model that stops it at its first forward pass, so nothing is
    computed and no random state is used. Lists become tuples (profiles are YAML; ``bounds`` and
    the like are pairs). With
    ``seed``, a ``torch.Generator`` seeded with it is bound as ``generator`` (every attack
    takes one; the deterministic ones ignore it), so a run repeats exactly.
    """
    fn = get_attack(name)
    if not isinstance(settings or {}, Mapping):
        raise ValueError(f"attack {name!r}: settings must be a mapping, got {settings!r}")
    settings = dict(settings or {})
    params = inspect.signature(fn).parameters
    accepted = [p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY]
    accepted = [p for p in accepted if p != "targeted"]
    bad = sorted(set(settings) - set(accepted))
    if bad:
        raise ValueError(
            f"attack {name!r} has no setting(s) {bad}; accepted: {', '.join(accepted)}"
        )
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    _dry_run(name, fn, settings)
    if seed is not None:
        settings["generator"] = torch.Generator().manual_seed(seed)
    return functools.partial(fn, **settings)
