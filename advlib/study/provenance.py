"""Provenance: what produced a page (profile, seeds, commit, versions, cache keys, wall time)."""

from __future__ import annotations

import html
import json
import platform
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from advlib.paths import REPO_ROOT

__all__ = ["PACKAGES", "collect_executed", "environment_info", "git_commit", "provenance_block"]

#: When advlib was first imported in this process: a notebook's first cell imports it, so the
#: provenance block's wall time is the page's execution time up to that block.
_T0 = time.time()

#: Packages whose versions every provenance record lists.
PACKAGES = (
    "advlib",
    "torch",
    "torchaudio",
    "numpy",
    "scipy",
    "pandas",
    "librosa",
    "soundfile",
    "statsmodels",
    "matplotlib",
    "papermill",
    "snakemake",
    "jupyter-book",
)


def git_commit(repo: Path = REPO_ROOT) -> str:
    """``HEAD``'s hash, with ``+dirty`` when tracked files differ; ``"unknown"`` outside git."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def environment_info(packages: Iterable[str] = PACKAGES) -> dict[str, Any]:
    """Python, platform, threads, git commit and package versions."""
    import torch

    versions = {}
    for p in packages:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = "not installed"
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "git_commit": git_commit(),
        "packages": versions,
    }


def provenance_block(
    *,
    notebook: str,
    profile: str,
    seed: int,
    parameters: Mapping[str, Any] | None = None,
    cache_events: Iterable[Any] = (),
    results: Iterable[Mapping[str, Any]] = (),
) -> Any:
    """An HTML provenance block for the end of an executed page.

    The same record travels as display metadata (key ``advlib_provenance``), which the
    reproducibility appendix collects from every executed notebook, with the page's wall time
    (since advlib's first import in the kernel) and the numbers it recorded for the scorecard
    (``results``: :meth:`advlib.study.records.Records.as_list`).
    """
    from IPython.display import HTML

    env = environment_info()
    wall = time.time() - _T0
    results = [dict(r) for r in results]
    events = [
        {"kind": e.kind, "key": e.key, "hit": e.hit, "seconds": round(e.seconds, 3)}
        for e in cache_events
    ]
    record = {
        "notebook": notebook,
        "profile": profile,
        "seed": seed,
        "parameters": dict(parameters or {}),
        "cache": events,
        "wall_s": round(wall, 1),
        "results": results,
        **env,
    }
    pkgs = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    keys = "<br>".join(
        f"<code>{html.escape(e['kind'])}/{e['key'][:16]}</code> "
        f"({'cached' if e['hit'] else 'computed'}, {e['seconds']:.1f} s)"
        for e in events
    )
    rows = [
        ("profile", html.escape(profile)),
        ("seed", str(seed)),
        ("git commit", f"<code>{html.escape(env['git_commit'])}</code>"),
        ("python / platform", html.escape(f"{env['python']} / {env['platform']}")),
        ("packages", html.escape(pkgs)),
        ("cache entries", keys or "none"),
        ("wall time", f"{wall:.0f} s (kernel time up to this block)"),
        (
            "scorecard numbers",
            html.escape(", ".join(sorted({r["key"] for r in results}))) or "none",
        ),
    ]
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    text = (
        "<details class='advlib-provenance'><summary>Provenance of this page</summary>"
        f"<table>{body}</table></details>"
    )
    return HTML(text, metadata={"advlib_provenance": json.loads(json.dumps(record, default=str))})


def collect_executed(folder: str | Path) -> list[dict[str, Any]]:
    """One record per executed notebook under ``folder``: papermill's parameters and timing
    and the page's provenance metadata (if it has a provenance block)."""
    import nbformat

    out = []
    for path in sorted(Path(folder).rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        pm = nb.metadata.get("papermill", {})
        prov: dict[str, Any] = {}
        for cell in nb.cells:
            for o in cell.get("outputs", []):
                md = o.get("metadata", {})
                # IPython nests display metadata under the mime type
                for m in (md, *[v for v in md.values() if isinstance(v, dict)]):
                    if "advlib_provenance" in m:
                        prov = m["advlib_provenance"]
        out.append(
            {
                "notebook": str(path.relative_to(folder)),
                "input": pm.get("input_path"),
                "parameters": pm.get("parameters", {}),
                "start": pm.get("start_time"),
                "duration_s": pm.get("duration"),
                "exception": pm.get("exception"),
                "provenance": prov,
            }
        )
    return out
