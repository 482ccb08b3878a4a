"""The scorecard: every headline result of the three papers beside ours, with a computed verdict.

The headline results (study spec, section 1) are data: ``data/papers/headlines.csv``, one claim
per row with the paper, table and row it is printed in, the paper's value or range, the kind of
claim and the known differences of the small profiles. The chapters *record* the numbers that
answer each claim while they run (:class:`advlib.study.records.Records`: ``record``,
``record_proportion``, ``record_mean``, ``record_test``); the records travel in each page's
provenance block
(:func:`advlib.study.provenance.provenance_block`), and :func:`scorecard_table` reads them from the
executed notebooks and computes a verdict per claim:

* ``range`` (the paper gives a range over victims or cells): *reproduced* when every one of our
  values' 95 % intervals meets the paper's range;
* ``value``: *reproduced* when the paper's value lies in our 95 % interval;
* ``identity`` (which architecture wins): *reproduced* when ours is the paper's;
* ``direction`` (one method beats another): *reproduced* when our one-sided test rejects at
  0.05 in the paper's direction;
* *not run at this profile* when no executed page recorded the claim (or, for a claim bound to
  the paper's data sets, when ours ran on others).

Where a claim is not reproduced the table says why: how ours differs (computed) and what the
profile does differently from the paper (``known_differences``).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from advlib.paths import REPO_ROOT
from advlib.study.provenance import collect_executed

__all__ = [
    "HEADLINES_CSV",
    "KINDS",
    "VERDICTS",
    "collect_records",
    "load_headlines",
    "plot_scorecard",
    "scorecard_table",
    "verdict",
]

HEADLINES_CSV = REPO_ROOT / "data" / "papers" / "headlines.csv"
KINDS = ("range", "value", "identity", "direction")
VERDICTS = ("reproduced", "differs", "not run at this profile")
_COLUMNS = (
    "id", "paper", "artefact", "table_row", "claim", "key", "kind", "paper_low", "paper_high",
    "unit", "paper_data", "data_bound", "known_differences",
)  # fmt: skip


def collect_records(folder: str | Path) -> list[dict[str, Any]]:
    """Every record of every executed notebook under ``folder`` (from the provenance blocks),
    each with its page's ``notebook`` and ``profile``."""
    out = []
    for page in collect_executed(folder):
        prov = page.get("provenance") or {}
        for r in prov.get("results") or []:
            out.append({**r, "notebook": prov.get("notebook", ""), "profile": prov.get("profile")})
    return out


# --------------------------------------------------------------------------- claims


def load_headlines(path: str | Path = HEADLINES_CSV) -> pd.DataFrame:
    """The headline claims, validated: known kinds, ordered ranges, a source for every row."""
    path = Path(path)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or tuple(rows[0]) != _COLUMNS:
        raise ValueError(f"{path}: expected the columns {list(_COLUMNS)}")
    seen: set[object] = set()
    for i, r in enumerate(rows, start=2):
        where = f"{path}:{i}"
        if r["id"] in seen or ("key", r["key"]) in seen:
            raise ValueError(f"{where}: duplicate id or key {r['id']!r} / {r['key']!r}")
        seen.update((r["id"], ("key", r["key"])))
        if r["kind"] not in KINDS:
            raise ValueError(f"{where}: kind must be one of {KINDS}, got {r['kind']!r}")
        if not (r["paper"] and r["artefact"] and r["table_row"] and r["claim"]):
            raise ValueError(f"{where}: every claim needs its paper, artefact, row and text")
        if r["kind"] in ("range", "value"):
            lo, hi = float(r["paper_low"]), float(r["paper_high"])
            if lo > hi or (r["kind"] == "value" and lo != hi):
                raise ValueError(f"{where}: bad paper range [{lo}, {hi}] for a {r['kind']}")
        if r["data_bound"] not in ("true", "false"):
            raise ValueError(f"{where}: data_bound must be true or false")
    df = pd.DataFrame(rows)
    for c in ("paper_low", "paper_high"):
        df[c] = pd.to_numeric(df[c].replace("", np.nan))
    df["data_bound"] = df["data_bound"] == "true"
    return df


def _fmt(v: float | None, unit: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "?"
    digits = 3 if unit in ("share", "ratio", "PESQ") else 2 if unit in ("%", "points") else 1
    return f"{v:.{digits}f}"


def _interval(r: Mapping[str, Any]) -> tuple[float, float]:
    lo = r["low"] if r.get("low") is not None else r["value"]
    hi = r["high"] if r.get("high") is not None else r["value"]
    return float(lo), float(hi)


def verdict(claim: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """``(verdict, reason)`` for one claim given the records of its key (see the module
    docstring); the reason is empty when the claim is reproduced."""
    unit = claim.get("unit") or ""
    if not records:
        return VERDICTS[2], "no executed page of this profile measured it"
    if claim.get("data_bound"):
        paper_data = set(str(claim.get("paper_data", "")).split())
        ours = {r.get("dataset", "") for r in records}
        if not ours & paper_data:
            return VERDICTS[2], (
                f"the paper's number is for {', '.join(sorted(paper_data))}; this profile ran "
                f"{', '.join(sorted(ours))}"
            )
    kind = claim["kind"]
    if kind == "identity":
        want = str(claim["table_row"]).split(" (")[0].strip()
        got = [str(r["value"]) for r in records]
        if all(g == want for g in got):
            return VERDICTS[0], ""
        return VERDICTS[1], f"ours: {', '.join(got)} (the paper's: {want})"
    if kind == "direction":
        bad = []
        for r in records:
            ok = r.get("holds") and r.get("p_value") is not None and r["p_value"] < 0.05
            if not ok:
                way = "the paper's direction" if r.get("holds") else "the opposite direction"
                bad.append(f"{r.get('label') or r['key']}: {way}, p = {r.get('p_value', 1):.3g} "
                           f"({r.get('method', 'test')})")  # fmt: skip
        if not bad:
            return VERDICTS[0], ""
        return VERDICTS[1], "not significant at 0.05 one-sided: " + "; ".join(bad)
    lo, hi = float(claim["paper_low"]), float(claim["paper_high"])
    misses = []
    for r in records:
        a, b = _interval(r)
        if kind == "range" and (b < lo or a > hi):
            misses.append(r)
        if kind == "value" and not a <= lo <= b:
            misses.append(r)
    if not misses:
        return VERDICTS[0], ""
    below = sum(_interval(r)[1] < lo for r in misses)
    parts = []
    for r in misses[:4]:
        a, b = _interval(r)
        name = r.get("label") or r.get("dataset") or r["key"]
        ci = "" if a == b else f" [{_fmt(a, unit)}, {_fmt(b, unit)}]"
        parts.append(f"{name} {_fmt(r['value'], unit)}{ci}")
    more = f" and {len(misses) - 4} more" if len(misses) > 4 else ""
    side = "below" if below == len(misses) else "above" if below == 0 else "outside"
    what = "the paper's range" if kind == "range" else "the paper's value"
    return VERDICTS[1], (
        f"{len(misses)} of {len(records)} of ours {side} {what} "
        f"({_fmt(lo, unit)}{'' if lo == hi else '-' + _fmt(hi, unit)}): {'; '.join(parts)}{more}"
    )


def _ours_text(claim: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> str:
    unit = claim.get("unit") or ""
    if not records:
        return ""
    if claim["kind"] == "identity":
        return ", ".join(f"{r['value']} ({r.get('dataset', '')})" for r in records)
    if claim["kind"] == "direction":
        return "; ".join(
            f"{r.get('label') or r['key']}: {r.get('method', '')} p = {r['p_value']:.3g}"
            f"{'' if r.get('holds') else ' (opposite)'}"
            for r in records
        )
    if len(records) == 1:
        r = records[0]
        a, b = _interval(r)
        ci = "" if a == b else f" [{_fmt(a, unit)}, {_fmt(b, unit)}]"
        return f"{_fmt(r['value'], unit)}{ci}"
    vals = [r["value"] for r in records]
    lows = [_interval(r)[0] for r in records]
    highs = [_interval(r)[1] for r in records]
    return (
        f"{_fmt(min(vals), unit)}-{_fmt(max(vals), unit)} over {len(records)} "
        f"(95 % intervals from {_fmt(min(lows), unit)} to {_fmt(max(highs), unit)})"
    )


def _paper_text(claim: Mapping[str, Any]) -> str:
    if claim["kind"] in ("identity", "direction"):
        return str(claim["table_row"])
    lo, hi, unit = claim["paper_low"], claim["paper_high"], claim.get("unit") or ""
    return _fmt(lo, unit) if lo == hi else f"{_fmt(lo, unit)}-{_fmt(hi, unit)}"


def scorecard_table(
    records: Iterable[Mapping[str, Any]],
    headlines: pd.DataFrame | None = None,
    *,
    profile: str = "",
) -> pd.DataFrame:
    """One row per headline claim: the paper's number and source, ours with its interval, the
    profile and data ours came from, the verdict and, where it differs, why."""
    headlines = load_headlines() if headlines is None else headlines
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        by_key.setdefault(r["key"], []).append(r)
    rows = []
    for _, c in headlines.iterrows():
        recs = by_key.get(c["key"], [])
        v, reason = verdict(c, recs)
        if v != VERDICTS[0] and recs:
            reason = f"{reason}. Known differences: {c['known_differences']}"
        rows.append(
            {
                "id": c["id"],
                "paper": c["paper"],
                "claim": c["claim"],
                "source": f"{c['artefact']}: {c['table_row']}",
                "paper value": _paper_text(c),
                "ours": _ours_text(c, recs),
                "unit": c["unit"],
                "profile": profile or ", ".join(sorted({str(r.get("profile")) for r in recs})),
                "data": ", ".join(sorted({r.get("dataset", "") for r in recs} - {""})),
                "verdict": v,
                "reason": reason,
                "_records": recs,
            }
        )
    return pd.DataFrame(rows)


def plot_scorecard(table: pd.DataFrame, headlines: pd.DataFrame | None = None) -> Any:
    """The summary figure: one line per claim. Numeric claims show ours (dots with 95 %
    intervals) divided by the paper's value (the upper end of its range), so the paper sits at
    1 on every line (its range is the grey band); direction and identity claims show their
    verdict in words. Colour is the verdict; values beyond the axis are drawn at its edge."""
    import matplotlib.pyplot as plt

    headlines = load_headlines() if headlines is None else headlines
    colours = {VERDICTS[0]: "#1a9850", VERDICTS[1]: "#d73027", VERDICTS[2]: "#999999"}
    lim = (-0.25, 2.25)
    n = len(table)
    fig, ax = plt.subplots(figsize=(10, 0.36 * n + 1.3))
    for i, (_, row) in enumerate(table.iterrows()):
        y = n - 1 - i
        c = headlines[headlines["id"] == row["id"]].iloc[0]
        col = colours[row["verdict"]]
        numeric = c["kind"] in ("range", "value") and row["_records"] and c["paper_high"] != 0
        if numeric:
            ref = float(c["paper_high"])
            lo = float(c["paper_low"]) / ref
            ax.add_patch(plt.Rectangle((min(lo, 1.0) - 0.01, y - 0.32), abs(1.0 - lo) + 0.02,
                                       0.64, color="0.8", zorder=1))  # fmt: skip
            for r in row["_records"]:
                a, b = _interval(r)
                xs = np.clip([a / ref, float(r["value"]) / ref, b / ref], *lim)
                ax.plot([xs[0], xs[2]], [y, y], color=col, lw=1.2, zorder=2, alpha=0.8)
                ax.plot(xs[1], y, "o", color=col, ms=4, zorder=3, alpha=0.8)
        else:
            ax.text(1.0, y, row["verdict"], ha="center", va="center", color=col, fontsize=8)
        text = f"{row['id']}: {row['claim']}"
        text = text if len(text) <= 64 else text[:63] + "..."
        ax.text(lim[0] - 0.05, y, text, ha="right", va="center", fontsize=7.5, color=col)
    ax.axvline(1.0, color="0.6", lw=0.8, zorder=0)
    ax.set_xlim(*lim)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_yticks([])
    ax.set_xlabel("ours / the paper's value (the upper end of its range): the paper is at 1")
    handles = [plt.Line2D([], [], marker="o", ls="-", color=v, label=k)
               for k, v in colours.items()]  # fmt: skip
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -1.6 / (n + 4)),
              ncol=3, fontsize=8, frameon=False)  # fmt: skip
    fig.subplots_adjust(left=0.45, right=0.98, top=0.98, bottom=2.2 / (n + 4))
    return fig
