"""Where things live: the repository, the real data sets, generated data and the cache.

Every location can be overridden by an environment variable, so a user can point the study at
their own copies of the real data sets without editing a profile.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["REPO_ROOT", "cache_dir", "data_dir", "data_root", "fixtures_dir", "resolve"]

#: The repository root (the folder holding ``pyproject.toml``).
REPO_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """``data/`` of the repository (``ADVLIB_DATA`` overrides): registry, downloads, cache."""
    return Path(os.environ.get("ADVLIB_DATA", REPO_ROOT / "data"))


def cache_dir() -> Path:
    """The result cache (``ADVLIB_CACHE`` overrides; default ``data/cache``)."""
    return Path(os.environ.get("ADVLIB_CACHE", data_dir() / "cache"))


def data_root() -> Path:
    """The folder holding the real data sets, one sub-folder per set (``fsdd/``, ``esc10/``):
    ``ADVLIB_DATA_ROOT``, default ``data/downloads`` (where ``python -m advlib fetch`` puts
    them)."""
    env = os.environ.get("ADVLIB_DATA_ROOT")
    return Path(env).expanduser() if env else data_dir() / "downloads"


def fixtures_dir() -> Path:
    """The folder holding the fixture data sets that advlib writes in the real sets' layouts
    (:mod:`advlib.data.fixtures`; the ``smoke`` profile reads them): ``ADVLIB_FIXTURES``,
    default ``data/generated/fixtures``."""
    env = os.environ.get("ADVLIB_FIXTURES")
    return Path(env).expanduser() if env else data_dir() / "generated" / "fixtures"


def resolve(path: str | Path) -> Path:
    """Expand ``{data_root}``, ``{data}``, ``{fixtures}`` and ``{repo}`` in a profile path;
    relative paths are taken from the repository root."""
    text = str(path).format(
        data_root=data_root(), data=data_dir(), fixtures=fixtures_dir(), repo=REPO_ROOT
    )
    p = Path(text).expanduser()
    return p if p.is_absolute() else REPO_ROOT / p
