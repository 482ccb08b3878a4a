"""The study spec's experiment matrix (section 1): which page computes each artefact, and
whether a profile schedules it.

:data:`ARTEFACTS` maps each spec id (``UAP-T1``, ..., ``GAN-F8/9``) to the chapter page that
computes it and a check of the profile section that makes the page compute it at full extent
(every victim, both scenarios, both data sets, ...). :func:`scheduled` answers per profile;
the workflow test runs the ``paper`` profile as a Snakemake dry run and requires every artefact
there, with its page among the scheduled jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ARTEFACTS", "scheduled"]

Check = Callable[[Mapping[str, Any]], bool]


def _uap_table(artefact: str, *, all_targets: bool = False) -> Check:
    def check(cfg: Mapping[str, Any]) -> bool:
        uap = cfg.get("uap") or {}
        tabs = [t for t in uap.get("tables", []) if t.get("artefact") == artefact]
        methods = set(uap.get("methods", {}))
        ok = bool(tabs) and {"uap_iterative", "uap_penalty"} <= methods
        return ok and (not all_targets or all(t.get("targets") == "all" for t in tabs))

    return check


def _uap_key(key: str) -> Check:
    return lambda cfg: bool((cfg.get("uap") or {}).get(key))


def _at(check: Callable[[Mapping[str, Any]], bool]) -> Check:
    return lambda cfg: bool(cfg.get("at")) and check(cfg["at"])


def _gan(check: Callable[[Mapping[str, Any]], bool]) -> Check:
    return lambda cfg: bool(cfg.get("gan")) and check(cfg["gan"])


#: The AT paper's four representations (Table I); a profile may add others (the Morlet CWT).
_AT_PAPER_REPRESENTATIONS = {"stft", "dwt", "stft_tonnetz", "dwt_tonnetz"}


def _at_grid(at: Mapping[str, Any]) -> bool:
    return (
        len(at["archs"]) == 6
        and _AT_PAPER_REPRESENTATIONS <= set(at["representations"])
        and len(at["datasets"]) == 2
    )


def _at_attacked(at: Mapping[str, Any]) -> bool:
    cells = {tuple(c) for c in at.get("attack_cells", [])}
    every = {(a, r) for a in at["archs"] for r in _AT_PAPER_REPRESENTATIONS}
    return every <= cells and len(at.get("attacks", {})) == 6


def _gan_both(gan: Mapping[str, Any]) -> bool:
    return [v["victim"] for v in gan["victims"]] == ["wrn28_10", "samplecnn"]


def _gan_baselines(gan: Mapping[str, Any]) -> bool:
    return {"genetic", "pso"} <= set((gan.get("compare") or {}).get("baselines", {}))


#: spec id -> (page, check of the profile)
ARTEFACTS: dict[str, tuple[str, Check]] = {
    "UAP-T1": ("uap", _uap_table("Table 1")),
    "UAP-T2": ("uap", _uap_table("Table 2")),
    "UAP-F1": ("uap", _uap_key("confidence")),
    "UAP-F2": ("uap", _uap_key("n_craft_sweep")),
    "UAP-T3/F3": ("uap", _uap_key("single")),
    "UAP-T4": ("uap", _uap_key("transfer")),
    "UAP-T5": ("uap", _uap_table("Table 1")),  # both methods on the same clips
    "UAP-T6..11": ("uap", _uap_table("Table 1", all_targets=True)),
    "AT-T1": ("at", _at(_at_grid)),
    "AT-T2": ("at", _at(_at_attacked)),
    "AT-T3": ("at", _at(_at_attacked)),
    "AT-F1": ("at", _at(lambda at: bool(at.get("figure")) and len(at["attacks"]) == 6)),
    "GAN-F4/5": ("gan", _gan(_gan_both)),
    "GAN-T1": ("gan", _gan(_gan_baselines)),
    "GAN-T2": ("gan", _gan(lambda g: g.get("quality") is not None)),
    "GAN-F6": ("gan", _gan(_gan_both)),
    "GAN-F8/9": ("gan", _gan(lambda g: bool(g.get("ablation")))),
}


def scheduled(cfg: Mapping[str, Any]) -> dict[str, bool]:
    """For each spec artefact, whether the profile ``cfg`` computes it in full."""
    return {k: bool(check(cfg)) for k, (_, check) in ARTEFACTS.items()}
