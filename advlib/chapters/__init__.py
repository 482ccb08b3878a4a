"""The book's chapters: what each page computes, as functions a job or a notebook calls.

One module per chapter (``victims``, ``attacks``, ``uap``, ``at``, ``gan``, ``scorecard``); each
owns its profile section's schema (``validate_section``), its computations, its tables and
figures and the claims it records for the scorecard. Chapters never import each other: a piece
two chapters share lives a floor down (``advlib.run``, ``advlib.train``, ``advlib.study``).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from advlib.study.profile import SectionCheck
from advlib.study.profile import load_profile as _load

__all__ = ["SECTIONS", "load_profile", "section_checks", "validate_profile"]

# profile section -> the chapter module that checks it (imported when a profile is loaded)
SECTIONS: Mapping[str, str] = {
    "attacks": "advlib.chapters.attacks",
    "uap": "advlib.chapters.uap",
    "at": "advlib.chapters.at",
    "gan": "advlib.chapters.gan",
}


def section_checks() -> dict[str, SectionCheck]:
    """Each chapter section's check, ``validate_section(section, datasets, source)``."""
    return {k: importlib.import_module(m).validate_section for k, m in SECTIONS.items()}


def load_profile(name_or_path: str | Path) -> dict[str, Any]:
    """Read a profile (``"demo"``, ``"ci"``, ``"paper"`` or a YAML path) and check all of it:
    the top level, data sets and victims (:mod:`advlib.study.profile`) and every chapter's
    section; a mistake raises :class:`advlib.study.profile.ProfileError` naming the key."""
    return _load(name_or_path, sections=section_checks())


def validate_profile(cfg: Any, source: str = "profile") -> None:
    """Check a profile mapping as :func:`load_profile` does (every chapter's section too)."""
    from advlib.study.profile import validate_profile as _validate

    _validate(cfg, source, sections=section_checks())
