"""Each page's papermill parameters, from a profile: the one source of truth that the pipeline
(``workflow/Snakefile``) and a reader's ``python -m advlib page`` share.

A page's parameters are plain JSON: the profile's name and seed, how to load the data sets the
page uses (``datasets``, see :class:`advlib.study.Study`) and the chapter's section of the
profile. A reader who wants another victim, budget or data set edits those values (``--set``)
and re-executes the page's text source; the pipeline does the same with the profile's values.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["GEN", "PAGES", "SOURCES", "apply_settings", "page_parameters", "run_page"]

GEN = "book/generated"
# page -> its text source
SOURCES = {
    p: f"notebooks/{p}.md"
    for p in (
        "victims",
        "frontends",
        "attacks",
        "uap",
        "at",
        "gan",
        "scorecard",
        "reproducibility",
    )
}
PAGES = tuple(SOURCES)


def dataset_parameters(cfg: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The parameters that name and load one data set of the profile (flat, per-data-set
    pages)."""
    ds = cfg["datasets"][name]
    return {
        "profile": cfg["profile"],
        "seed": cfg["seed"],
        "dataset": name,
        "loader": ds["loader"],
        "root": ds.get("root"),
        "loader_args": ds.get("args", {}),
        "licence": ds.get("licence", ""),
    }


def chapter_datasets(
    cfg: Mapping[str, Any], names: Sequence[str], victims: bool = True
) -> dict[str, Any]:
    """The ``datasets`` parameter of a chapter page: how to load each named data set of the
    profile (and, with ``victims``, the victims its data set's page trains)."""
    out = {}
    for name in names:
        ds = cfg["datasets"][name]
        p = dataset_parameters(cfg, name)
        out[name] = {
            "loader": p["loader"],
            "root": p["root"],
            "args": p["loader_args"],
            "licence": p["licence"],
            "title": ds.get("title", name),
            **({"victims": ds["victims"]} if victims else {}),
        }
    return out


def page_parameters(
    cfg: Mapping[str, Any], page: str, *, dataset: str | None = None, gen: str = GEN
) -> dict[str, Any]:
    """The parameters the pipeline hands page ``page`` at profile ``cfg`` (``dataset``: the
    victims page's data set)."""
    if page == "victims":
        if dataset is None or dataset not in cfg["datasets"]:
            what = "needs a data set" if dataset is None else f"has no data set {dataset!r}"
            raise ValueError(
                f"the victims page {what}: one of {', '.join(sorted(cfg['datasets']))} "
                f"(profile {cfg['profile']})"
            )
        return {
            "profile": cfg["profile"],
            "seed": cfg["seed"],
            "datasets": chapter_datasets(cfg, [dataset]),
            "dataset": dataset,
        }
    if page == "frontends":
        names = list(cfg["datasets"])
        name = "fsdd" if "fsdd" in names else names[0]
        return {
            "profile": cfg["profile"],
            "seed": cfg["seed"],
            "datasets": chapter_datasets(cfg, [name], victims=False),
            "dataset": name,
        }
    if page in ("attacks", "uap", "at", "gan") and not cfg.get(page):
        raise ValueError(f"profile {cfg['profile']!r} has no {page!r} section")
    if page == "attacks":
        att = cfg["attacks"]
        return {
            "profile": cfg["profile"],
            "seed": cfg["seed"],
            "datasets": chapter_datasets(cfg, [att["dataset"]]),
            "dataset": att["dataset"],
            "victim": att["victim"],
            "n": att.get("n", 64),
            "batch_size": att.get("batch_size", att.get("n", 64)),
            "runs": att["runs"],
            "universal": att.get("universal"),
            "eot": att.get("eot"),
            "bench_file": f"{gen}/bench_attacks.json",
        }
    if page in ("uap", "at", "gan"):
        section = cfg[page]
        if page == "at":  # its images come from each classifier's own front-end, no victims
            names, victims = list(section["datasets"]), False
        else:
            key = "tables" if page == "uap" else "victims"
            names, victims = sorted({t["dataset"] for t in section[key]}), True
        return {
            "profile": cfg["profile"],
            "seed": cfg["seed"],
            "datasets": chapter_datasets(cfg, names, victims=victims),
            page: section,
        }
    if page == "scorecard":
        return {"profile": cfg["profile"], "executed_dir": gen}
    if page == "reproducibility":
        return {"profile": cfg["profile"], "executed_dir": gen, "bench_file": f"{gen}/bench.json",
                "bill_file": f"{gen}/bill.json"}  # fmt: skip
    raise ValueError(f"unknown page {page!r}; pages: {', '.join(PAGES)}")


def page_json(cfg: Mapping[str, Any], page: str, **kw: Any) -> str:
    """:func:`page_parameters` as canonical JSON (the pipeline's job parameter)."""
    return json.dumps(page_parameters(cfg, page, **kw), sort_keys=True)


def apply_settings(params: Mapping[str, Any], settings: Sequence[str]) -> dict[str, Any]:
    """``params`` with each ``dotted.key=value`` of ``settings`` set (the value read as YAML:
    ``uap.n_eval=50``, ``seed=1``, ``uap.tables.0.victims=[cnn1d_rand]``). A key that does not
    exist is an error naming it, so a typo is never silently ignored; so is a value that is not
    YAML (or writes a key twice)."""
    from advlib.study.profile import load_yaml

    out = copy.deepcopy(dict(params))
    for item in settings:
        if "=" not in item:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE")
        key, raw = item.split("=", 1)
        value = load_yaml(raw, f"--set {key}")
        node: Any = out
        parts = key.split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ValueError(f"--set {key}: {part!r} is not an index of a {len(node)}-list")
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if part not in node:
                    known = ", ".join(sorted(map(str, node))) or "none"
                    raise ValueError(f"--set {key}: no key {part!r} here (keys: {known})")
                if last:
                    node[part] = value
                else:
                    node = node[part]
            else:
                raise ValueError(f"--set {key}: {'.'.join(parts[:i])} is not a mapping or list")
    return out


# the attacks page takes its profile section's keys as top-level parameters
_ATTACKS_KEYS = ("dataset", "victim", "n", "batch_size", "runs", "universal", "eot")


def _check_changed_profile(
    cfg: Mapping[str, Any], settings: Sequence[str], profile: str, page: str
) -> None:
    """Validate the profile as the ``--set`` settings change it (those that name a key of the
    profile; the others are page parameters), so ``--set uap.n_eval=-5`` fails here, in a
    second, with the profile's own message, and not inside the executed page."""
    from advlib.chapters import validate_profile

    changed = copy.deepcopy(dict(cfg))
    for item in settings:
        if page == "attacks" and item.split(".", 1)[0].split("=", 1)[0] in _ATTACKS_KEYS:
            item = f"attacks.{item}"
        try:
            changed = apply_settings(changed, [item])
        except ValueError:
            continue  # not a key of the profile: a page parameter, checked by the page
    validate_profile(changed, source=f"profile {profile} with --set")


def run_page(
    page: str,
    output: str | Path,
    *,
    profile: str = "demo",
    dataset: str | None = None,
    settings: Sequence[str] = (),
    root: str | Path | None = None,
) -> Path:
    """Execute ``page``'s text source with the profile's parameters, changed by ``settings``,
    into ``output`` (the reader's one command: ``python -m advlib page``)."""
    from advlib.chapters import load_profile
    from advlib.paths import REPO_ROOT
    from advlib.tools.nbtools import execute, parameter_defaults

    root = Path(root) if root is not None else REPO_ROOT
    cfg = load_profile(profile)
    pipeline = page_parameters(cfg, page, dataset=dataset)
    # every parameter the page has can be set: the source's defaults, the profile's values
    params = apply_settings({**parameter_defaults(root / SOURCES[page]), **pipeline}, settings)
    _check_changed_profile(cfg, settings, profile, page)
    title = None
    if page == "victims":
        ds = params["dataset"]
        title = "Victims on " + str((params["datasets"].get(ds) or {}).get("title") or ds)
    return execute(root / SOURCES[page], output, params, title=title, cwd=root)
