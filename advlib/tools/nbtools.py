"""Small notebook utilities for the pipeline (``python -m advlib.tools.nbtools ...``)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

__all__ = ["add_alt_text", "has_parameters_cell", "main", "set_title"]


def set_title(path: str | Path, title: str) -> None:
    """Replace the first level-1 heading of the notebook's first markdown cell with ``title``
    (an executed page is named by its parameters; the source keeps a generic heading)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text, n = re.subn(r"^# .*$", f"# {title}", cell.source, count=1, flags=re.M)
            if n == 0:
                raise ValueError(f"{path}: first markdown cell has no '# ' heading")
            cell.source = text
            break
    else:
        raise ValueError(f"{path}: no markdown cell")
    nbformat.write(nb, path)


_IMAGES = ("image/png", "image/jpeg", "image/svg+xml")


def add_alt_text(path: str | Path) -> int:
    """Give every image output of an executed notebook an alt text that MyST-NB renders
    (cell metadata ``mystnb.image.alt``): the texts its figures carried
    (:mod:`advlib.tools.alttext`), joined per cell, or else "Figure in section ..." from the nearest
    heading above. Returns the number of cells given an alt text."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
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
    nbformat.write(nb, path)
    return changed


def has_parameters_cell(path: str | Path) -> bool:
    """Whether the notebook has a code cell tagged ``parameters`` (papermill's contract)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return any(
        c.cell_type == "code" and "parameters" in c.metadata.get("tags", []) for c in nb.cells
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m advlib.tools.nbtools")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("set-title", help="set an executed notebook's page title")
    p.add_argument("notebook")
    p.add_argument("title")
    p = sub.add_parser("alt-text", help="give every figure of executed notebooks an alt text")
    p.add_argument("notebooks", nargs="+")
    args = parser.parse_args(argv)
    if args.cmd == "set-title":
        set_title(args.notebook, args.title)
    elif args.cmd == "alt-text":
        for path in args.notebooks:
            add_alt_text(path)


if __name__ == "__main__":
    main()
