"""Notebook utilities for the pipeline (``python -m advlib.tools.nbtools ...``).

The notebook sources are text (jupytext MyST markdown, ``notebooks/*.md``): they diff, review
and lint like code. :func:`execute` reads a source, runs it under papermill with the page's
parameters and finishes the executed page (its title, alt text on every figure): the one
command every pipeline job and ``python -m advlib page`` use.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from advlib.cli import ArgumentParser, run

__all__ = [
    "add_alt_text",
    "execute",
    "has_parameters_cell",
    "main",
    "read_source",
    "set_title",
    "show_parameters_once",
]


def set_title(path: str | Path, title: str) -> None:
    """Replace the first level-1 heading of the notebook's first markdown cell with ``title``
    (an executed page is named by its parameters; the source keeps a generic heading)."""
    _edit(path, lambda nb: _set_title(nb, title, path))


def _edit(path: str | Path, change: Any) -> Any:
    """Read the notebook at ``path``, apply ``change(nb)``, write it back; ``change``'s value."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    out = change(nb)
    _write_atomic(nb, Path(path))
    return out


def _partial(path: Path) -> Path:
    """A hidden sibling of ``path`` to write into before renaming it into place."""
    import uuid

    return path.with_name(f".{path.stem}.partial-{uuid.uuid4().hex[:8]}{path.suffix}")


def _write_atomic(nb: Any, path: Path) -> None:
    """Write a notebook to a sibling and rename it into place: ``path`` is never half written."""
    import nbformat

    tmp = _partial(path)
    try:
        nbformat.write(nb, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _set_title(nb: Any, title: str, where: Any) -> None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text, n = re.subn(r"^# .*$", f"# {title}", cell.source, count=1, flags=re.M)
            if n == 0:
                raise ValueError(f"{where}: first markdown cell has no '# ' heading")
            cell.source = text
            return
    raise ValueError(f"{where}: no markdown cell")


_IMAGES = ("image/png", "image/jpeg", "image/svg+xml")


def add_alt_text(path: str | Path) -> int:
    """Give every image output of an executed notebook an alt text that MyST-NB renders
    (cell metadata ``mystnb.image.alt``): the texts its figures carried
    (:mod:`advlib.tools.alttext`), joined per cell, or else "Figure in section ..." from the nearest
    heading above. Returns the number of cells given an alt text."""
    return _edit(path, _add_alt_text)


def _add_alt_text(nb: Any) -> int:
    heading, changed = "", 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = re.findall(r"^#+\s+(.+)$", cell.source, flags=re.M)
            heading = found[-1].strip() if found else heading
            continue
        if cell.cell_type != "code":
            continue
        outs = [o for o in cell.get("outputs", []) if set(o.get("data", {})) & set(_IMAGES)]
        if not outs:
            continue
        texts = []
        for o in outs:
            md = o.get("metadata", {})
            for mime in _IMAGES:
                alt = (md.get(mime) or {}).get("alt") if isinstance(md.get(mime), dict) else None
                if alt and alt not in texts:
                    texts.append(alt)
        alt = " / ".join(texts) if texts else f"Figure in section: {heading or 'untitled'}"
        image = cell.metadata.setdefault("mystnb", {}).setdefault("image", {})
        if not image.get("alt"):
            image["alt"] = alt[:1000]
            changed += 1
    return changed


def read_source(path: str | Path) -> Any:
    """A notebook source as an ``nbformat`` notebook: a text source (``.md``, ``.py``) through
    jupytext, an ``.ipynb`` as it is. The kernel is the study's (``python3``)."""
    import jupytext
    import nbformat

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no notebook source {path}")
    if path.suffix == ".ipynb":
        return nbformat.read(path, as_version=4)
    nb = jupytext.read(path)
    nb.metadata.setdefault(
        "kernelspec", {"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    return nb


def execute(
    source: str | Path,
    output: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    title: str | None = None,
    cwd: str | Path | None = None,
    log_output: bool = False,
) -> Path:
    """Execute a notebook source with ``parameters`` (papermill) into ``output``, then set
    its page ``title`` (when given) and give every figure an alt text."""
    import papermill

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    running = _partial(output)  # papermill writes as it goes: never at the output's name
    try:
        nb = papermill.execute_notebook(
            read_source(source),
            str(running),
            parameters=dict(parameters or {}),
            kernel_name="python3",
            cwd=str(cwd) if cwd is not None else None,
            progress_bar=False,
            log_output=log_output,
        )
    finally:
        running.unlink(missing_ok=True)  # a failed run leaves no half-executed page behind
    _show_parameters_once(nb)  # the executed notebook, finished in memory and written once
    if title:
        _set_title(nb, title, output)
    _add_alt_text(nb)
    _write_atomic(nb, output)
    return output


def show_parameters_once(path: str | Path) -> None:
    """An executed page shows its parameters once: the values it ran with (papermill's
    ``injected-parameters`` cell, collapsed behind a toggle); the source's defaults are
    removed from the page. Without injected parameters the defaults are what ran: kept,
    collapsed."""
    _edit(path, _show_parameters_once)


def _show_parameters_once(nb: Any) -> None:
    code = [c for c in nb.cells if c.cell_type == "code"]
    injected = any("injected-parameters" in c.metadata.get("tags", []) for c in code)
    for c in code:
        tags = c.metadata.setdefault("tags", [])
        if "parameters" in tags:
            tags.append("remove-cell" if injected else "hide-input")
        elif "injected-parameters" in tags:
            tags.append("hide-input")


def parameter_defaults(path: str | Path) -> dict[str, Any]:
    """The defaults of a notebook's ``parameters`` cell (its literal assignments)."""
    import ast

    out: dict[str, Any] = {}
    for c in read_source(path).cells:
        if c.cell_type != "code" or "parameters" not in c.metadata.get("tags", []):
            continue
        for node in ast.parse(c.source).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        out[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return out


def has_parameters_cell(path: str | Path) -> bool:
    """Whether the notebook has a code cell tagged ``parameters`` (papermill's contract)."""
    nb = read_source(path)
    return any(
        c.cell_type == "code" and "parameters" in c.metadata.get("tags", []) for c in nb.cells
    )


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(prog="python -m advlib.tools.nbtools")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("set-title", help="set an executed notebook's page title")
    p.add_argument("notebook")
    p.add_argument("title")
    p = sub.add_parser("alt-text", help="give every figure of executed notebooks an alt text")
    p.add_argument("notebooks", nargs="+")
    p = sub.add_parser("execute", help="execute a notebook source with JSON parameters")
    p.add_argument("source")
    p.add_argument("output")
    p.add_argument("--parameters", default="{}", help="the page's parameters as JSON")
    p.add_argument("--title", default=None, help="the executed page's title")
    args = parser.parse_args(argv)
    if args.cmd == "execute":
        execute(args.source, args.output, json.loads(args.parameters), title=args.title)
    elif args.cmd == "set-title":
        set_title(args.notebook, args.title)
    elif args.cmd == "alt-text":
        for path in args.notebooks:
            add_alt_text(path)


if __name__ == "__main__":
    raise SystemExit(run(main))
