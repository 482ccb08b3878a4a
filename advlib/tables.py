"""Tables a reader can read: numbered captions, units in the headers, one format per quantity.

The book's rule for every table (the chapters build DataFrames; this module renders them):

* a numbered caption (``Table 3. ...``), no index column, no truncated text;
* one number format per quantity: a success rate as a percentage with its 95 % interval
  (:func:`percent`), decibels to one decimal (:func:`decibels`), counts as integers;
* "—" where a number is undefined or has no counterpart, with a footnote that says which.

:func:`render` returns an HTML display object (``text/html``), so the executed notebook and the
built book show the same table. Plain functions, no state: the :class:`advlib.study.Study` of a
page numbers its tables and figures.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["UNDEFINED", "caption", "decibels", "number", "percent", "render"]

UNDEFINED = "—"
# the footnote a table gets when one of its cells is undefined
UNDEFINED_NOTE = (
    f"{UNDEFINED}: undefined (e.g. the SNR of a zero perturbation, a rate over no clips) or "
    "no counterpart in the paper."
)


def _missing(x: Any) -> bool:
    """None, NaN, an infinity, ``pandas.NA`` or ``NaT``: a number that is not there."""
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    try:
        return not math.isfinite(float(x))
    except (TypeError, ValueError, OverflowError):
        return False


def number(x: Any, digits: int = 2) -> str:
    """``x`` to ``digits`` decimals; "—" when missing, NaN or infinite."""
    return UNDEFINED if _missing(x) else f"{float(x):.{digits}f}"


def decibels(x: Any) -> str:
    """A level or SNR in dB, to one decimal ("—" when undefined)."""
    return number(x, 1)


def percent(p: Any, low: Any = None, high: Any = None, *, scale: float = 100.0) -> str:
    """A rate as a percentage to one decimal, with its interval when given:
    ``percent(0.74, 0.604, 0.841)`` -> ``"74.0 [60.4, 84.1]"`` (the header says "%").
    ``scale=1`` for numbers already in percent."""
    if _missing(p):
        return UNDEFINED
    out = f"{scale * float(p):.1f}"
    if not _missing(low) and not _missing(high):
        out += f" [{scale * float(low):.1f}, {scale * float(high):.1f}]"
    return out


def caption(kind: str, n: int | None, text: str) -> str:
    """``"Table 3. text"`` (``n=None``: no number)."""
    head = f"{kind} {n}." if n is not None else f"{kind}."
    return f"{head} {text}".strip()


def render(
    df: pd.DataFrame,
    title: str,
    *,
    n: int | None = None,
    formats: Mapping[str, str | Callable[[Any], str]] | None = None,
    notes: Sequence[str] = (),
    index: bool = False,
    row_colours: Sequence[str] | None = None,
) -> Any:
    """``df`` as an HTML table with the caption ``Table n. title``.

    ``formats`` maps a column to a format string (``"{:.1f}"``) or a function; other float
    columns get two decimals. Missing numbers (NaN, inf, None) print as "—" and add
    :data:`UNDEFINED_NOTE` to ``notes``. ``index=True`` keeps a meaningful index (its names
    become headers); the default drops it. Multi-level columns are flattened to "a, b".
    ``row_colours``: a CSS background colour per row (e.g. a verdict's colour).
    """
    from IPython.display import HTML

    t = df.copy()
    if index:
        t = t.reset_index()
    if isinstance(t.columns, pd.MultiIndex):
        t.columns = [", ".join(str(c) for c in col if str(c)) for col in t.columns]
    formats = dict(formats or {})
    undefined = False
    cols: dict[str, list[str]] = {}
    for c in t.columns:
        f = formats.get(str(c))
        out = []
        for v in t[c].tolist():
            if isinstance(v, str):
                out.append(v)
                continue
            if _missing(v) and not isinstance(v, bool):
                undefined = True
                out.append(UNDEFINED)
                continue
            if f is None:
                if isinstance(v, bool):
                    out.append("yes" if v else "no")
                elif isinstance(v, float):
                    out.append(f"{v:.2f}")
                else:
                    out.append(str(v))
            elif callable(f):
                s = f(v)
                undefined |= s == UNDEFINED
                out.append(s)
            else:
                out.append(f.format(v))
        cols[str(c)] = out
    notes = list(notes)
    if undefined and UNDEFINED_NOTE not in notes:
        notes.append(UNDEFINED_NOTE)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    if row_colours is not None and len(row_colours) != len(t):
        raise ValueError(f"row_colours has {len(row_colours)} colours for {len(t)} rows")
    style = [
        f" style='background-color: {html.escape(c)}'" if c else ""
        for c in (row_colours or [""] * len(t))
    ]
    rows = "".join(
        f"<tr{style[i]}>" + "".join(f"<td>{html.escape(cols[c][i])}</td>" for c in cols) + "</tr>"
        for i in range(len(t))
    )
    cap = html.escape(caption("Table", n, title))
    foot = "".join(f"<p class='advlib-note'><small>{html.escape(s)}</small></p>" for s in notes)
    text = (
        f"<table class='advlib-table'><caption>{cap}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table>{foot}"
    )
    return HTML(text)
