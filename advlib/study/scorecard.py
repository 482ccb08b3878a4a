"""The scorecard: every headline result of the three papers beside ours, with a computed verdict.

The headline results (study spec, section 1) are data: ``data/papers/headlines.csv``, one claim
per row with the paper, table and row it is printed in, the paper's value or range, the kind of
claim, a pre-declared equivalence margin with its reason, and the known differences of the
small profiles. The chapters *record* the numbers that answer each claim while they run
(:class:`advlib.study.records.Records`); the records travel in each page's provenance block
(:func:`advlib.study.provenance.provenance_block`), and :func:`scorecard_table` reads them from
the executed notebooks and judges each claim (:func:`judge`).

The evidence, from our numbers alone (each with its 95 % interval):

* ``range``/``value`` claims: the paper's value or range widened by the claim's margin ``m`` is
  the *equivalence region* ``[low - m, high + m]`` (a margin ``x2`` means within a factor of 2).
  *Consistent* when every one of our intervals lies inside it; *contradicted* when one lies
  entirely outside it; *inconclusive* otherwise (an interval too wide to tell the claim from its
  opposite), with the sample size that would decide it: the n at which the interval's
  half-width fits the margin, ``n * (half-width / m)^2`` from the observed spread;
* ``direction`` claims (one method beats another): *consistent* when our one-sided test rejects
  at 0.05 in the paper's direction, *contradicted* when it would in the opposite direction
  (p > 0.95), *inconclusive* otherwise, with the n at which the observed effect would reach
  0.05 (``n * (1.645 / z)^2``, ``z`` the observed one-sided normal score);
* ``identity`` (which architecture wins): consistent when ours is the paper's, else
  contradicted.

The verdict: *reproduced* / *contradicted* / *inconclusive* when the measurement is comparable
(the paper profile, the paper's data sets); *not comparable* when it was made on a stand-in
(another data set, narrower victims, shorter recipes: every demo and ci number), shown with its
evidence ("consistent on a stand-in") but never as a reproduction; *not run at this profile*
when no page measured it. A claim tied to its data set (``data_bound``, e.g. an accuracy) is
judged only on that data set's numbers.
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
    "judge",
    "load_headlines",
    "plot_scorecard",
    "scorecard_table",
    "verdict",
]

HEADLINES_CSV = REPO_ROOT / "data" / "papers" / "headlines.csv"
KINDS = ("range", "value", "identity", "direction")
VERDICTS = ("reproduced", "contradicted", "inconclusive", "not comparable",
            "not run at this profile")  # fmt: skip
EVIDENCE = ("consistent", "contradicted", "inconclusive")
_COLUMNS = (
    "id", "paper", "artefact", "table_row", "claim", "key", "kind", "paper_low", "paper_high",
    "unit", "margin", "margin_reason", "paper_data", "data_bound", "known_differences",
)  # fmt: skip
Z_95_ONE_SIDED = 1.6448536269514722  # the one-sided 5 % point of the standard normal


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
        # one key may answer several claims, one per data set (a data-bound claim's number)
        scope = ("key", r["key"], r["paper_data"])
        if r["id"] in seen or scope in seen:
            raise ValueError(f"{where}: duplicate id or key {r['id']!r} / {r['key']!r}")
        seen.update((r["id"], scope))
        if r["kind"] not in KINDS:
            raise ValueError(f"{where}: kind must be one of {KINDS}, got {r['kind']!r}")
        if not (r["paper"] and r["artefact"] and r["table_row"] and r["claim"]):
            raise ValueError(f"{where}: every claim needs its paper, artefact, row and text")
        if r["kind"] in ("range", "value"):
            lo, hi = float(r["paper_low"]), float(r["paper_high"])
            if lo > hi or (r["kind"] == "value" and lo != hi):
                raise ValueError(f"{where}: bad paper range [{lo}, {hi}] for a {r['kind']}")
            try:
                _margin(r["margin"], lo, hi)
            except ValueError as exc:
                raise ValueError(f"{where}: {exc}") from None
            if not r["margin_reason"]:
                raise ValueError(f"{where}: a margin needs its reason (margin_reason)")
        elif r["margin"]:
            raise ValueError(f"{where}: a {r['kind']} claim takes no margin")
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
    if unit == "s":  # times span milliseconds to minutes
        return f"{v:.3g}"
    digits = 3 if unit in ("share", "ratio", "PESQ") else 2 if unit in ("%", "points") else 1
    return f"{v:.{digits}f}"


def _interval(r: Mapping[str, Any]) -> tuple[float, float]:
    lo = r["low"] if r.get("low") is not None else r["value"]
    hi = r["high"] if r.get("high") is not None else r["value"]
    return float(lo), float(hi)


def _margin(margin: Any, lo: float, hi: float) -> tuple[float, float]:
    """The equivalence region of ``[lo, hi]`` under ``margin``: ``"5"`` widens both ends by 5
    (the claim's unit), ``"x2"`` by a factor of 2."""
    text = str(margin).strip()
    if not text:
        raise ValueError("a range or value claim needs a margin")
    if text.startswith("x"):
        f = float(text[1:])
        if not f > 1:
            raise ValueError(f"a factor margin must exceed 1, got {text!r}")
        return lo / f, hi * f
    m = float(text)
    if not m > 0 or not math.isfinite(m):
        raise ValueError(f"a margin must be a positive number or 'xF', got {text!r}")
    return lo - m, hi + m


def _decisive_n(r: Mapping[str, Any], lo_w: float, hi_w: float, lo: float, hi: float) -> int | None:
    """The sample size at which this record's interval would fit the margin (its half-width
    scales as 1 / sqrt(n)): ``n * (half-width / margin)^2``; ``None`` without ``n``."""
    a, b = _interval(r)
    n = r.get("n")
    margin = min(lo - lo_w, hi_w - hi)
    if not n or b <= a or margin <= 0:
        return None
    return int(math.ceil(n * ((b - a) / 2 / margin) ** 2))


def _comparable(claim: Mapping[str, Any], records: Sequence[Mapping[str, Any]], profile: str):
    """Whether the records measure the paper's setting (paper profile, the paper's data)."""
    paper_data = set(str(claim.get("paper_data", "")).split())
    profiles = {str(r.get("profile") or profile) for r in records}
    data = {r.get("dataset", "") for r in records}
    return profiles == {"paper"} and data <= paper_data


def judge(
    claim: Mapping[str, Any], records: Sequence[Mapping[str, Any]], profile: str = ""
) -> dict[str, Any]:
    """The verdict on one claim from the records of its key (see the module docstring):
    ``{"verdict", "evidence", "reason", "decisive_n", "records"}``; ``reason`` says why it is
    not reproduced (empty when it is), ``decisive_n`` the sample size that would decide an
    inconclusive claim (``None`` where none can be computed), ``records`` the ones judged (a
    data-bound claim's own data set's; all of them when none is on it)."""
    out = {"verdict": VERDICTS[4], "evidence": "", "reason": "", "decisive_n": None,
           "records": list(records)}  # fmt: skip
    if not records:
        out["reason"] = "no executed page of this profile measured it"
        return out
    paper_data = set(str(claim.get("paper_data", "")).split())
    if claim.get("data_bound"):
        ours = {r.get("dataset", "") for r in records}
        records = [r for r in records if r.get("dataset", "") in paper_data]
        if records:
            out["records"] = records
        else:
            out["verdict"] = VERDICTS[3]
            out["reason"] = (
                f"the paper's number is for {', '.join(sorted(paper_data))}; this profile "
                f"measured {', '.join(sorted(ours))}"
            )
            return out
    evidence, reason, n_needed = _evidence(claim, records)
    comparable = _comparable(claim, records, profile)
    out.update(evidence=evidence, decisive_n=n_needed)
    if comparable:
        out["verdict"] = {"consistent": VERDICTS[0]}.get(evidence, evidence)
        out["reason"] = reason
    else:
        out["verdict"] = VERDICTS[3]
        where = f"{evidence} on a stand-in"
        out["reason"] = f"{where}: {reason}" if reason else where
    return out


def _evidence(
    claim: Mapping[str, Any], records: Sequence[Mapping[str, Any]]
) -> tuple[str, str, int | None]:
    unit = claim.get("unit") or ""
    kind = claim["kind"]
    if kind == "identity":
        want = str(claim["table_row"]).split(" (")[0].strip()
        got = [str(r["value"]) for r in records]
        if all(g == want for g in got):
            return EVIDENCE[0], "", None
        return EVIDENCE[1], f"ours: {', '.join(got)} (the paper's: {want})", None
    if kind == "direction":
        return _direction_evidence(records)
    lo, hi = float(claim["paper_low"]), float(claim["paper_high"])
    lo_w, hi_w = _margin(claim["margin"], lo, hi)
    outside, straddle = [], []
    for r in records:
        a, b = _interval(r)
        if b < lo_w or a > hi_w:
            outside.append(r)
        elif a < lo_w or b > hi_w:
            straddle.append(r)
    region = f"{_fmt(lo_w, unit)} to {_fmt(hi_w, unit)}"
    what = "the paper's range" if kind == "range" else "the paper's value"
    paper = f"{_fmt(lo, unit)}{'' if lo == hi else '-' + _fmt(hi, unit)}"
    if outside:
        below = sum(_interval(r)[1] < lo_w for r in outside)
        side = "below" if below == len(outside) else "above" if below == 0 else "outside"
        return (
            EVIDENCE[1],
            (
                f"{len(outside)} of {len(records)} of ours {side} {what} ({paper}) widened by its "
                f"margin ({region}): {_list(outside, unit)}"
            ),
            None,
        )
    if straddle:
        ns = [_decisive_n(r, lo_w, hi_w, lo, hi) for r in straddle]
        known = [n for n in ns if n is not None]
        n_needed = max(known) if known else None
        need = f"; about n = {n_needed} would decide" if n_needed else ""
        return (
            EVIDENCE[2],
            (
                f"{len(straddle)} of {len(records)} intervals reach beyond {what} ({paper}) "
                f"widened by its margin ({region}) without lying outside it: "
                f"{_list(straddle, unit)}{need}"
            ),
            n_needed,
        )
    return EVIDENCE[0], "", None


def _list(records: Sequence[Mapping[str, Any]], unit: str) -> str:
    parts = []
    for r in records[:4]:
        a, b = _interval(r)
        name = r.get("label") or r.get("dataset") or r["key"]
        ci = "" if a == b else f" [{_fmt(a, unit)}, {_fmt(b, unit)}]"
        parts.append(f"{name} {_fmt(r['value'], unit)}{ci}")
    more = f" and {len(records) - 4} more" if len(records) > 4 else ""
    return "; ".join(parts) + more


def _direction_evidence(records: Sequence[Mapping[str, Any]]) -> tuple[str, str, int | None]:
    from scipy.stats import norm

    against, unsure, needs = [], [], []
    for r in records:
        p = r.get("p_value")
        p = 1.0 if p is None else float(p)
        name = f"{r.get('label') or r['key']}: p = {p:.3g} ({r.get('method', 'test')})"
        if r.get("holds") and p < 0.05:
            continue
        if p > 0.95 or (not r.get("holds") and p < 0.05):
            against.append(name + ", the opposite direction")
            continue
        unsure.append(name)
        z = float(norm.isf(min(max(p, 1e-300), 1 - 1e-16)))
        if r.get("n") and z > 0:
            needs.append(int(math.ceil(r["n"] * (Z_95_ONE_SIDED / z) ** 2)))
    if against:
        return EVIDENCE[1], "significant in the opposite direction: " + "; ".join(against), None
    if unsure:
        n_needed = max(needs) if needs else None
        need = f"; about n = {n_needed} would decide" if n_needed else ""
        return (
            EVIDENCE[2],
            "not significant at 0.05 one-sided: " + "; ".join(unsure) + need,
            (n_needed),
        )
    return EVIDENCE[0], "", None


def verdict(
    claim: Mapping[str, Any], records: Sequence[Mapping[str, Any]], profile: str = ""
) -> tuple[str, str]:
    """``(verdict, reason)`` of :func:`judge`."""
    j = judge(claim, records, profile)
    return j["verdict"], j["reason"]


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
    profile and data ours came from, the margin, the verdict and its evidence, why it is not
    reproduced, and the sample size that would decide an inconclusive claim."""
    headlines = load_headlines() if headlines is None else headlines
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for r in records:
        by_key.setdefault(r["key"], []).append(r)
    rows = []
    for _, c in headlines.iterrows():
        j = judge(c, by_key.get(c["key"], []), profile)
        recs = j["records"]
        v, reason = j["verdict"], j["reason"]
        if v != VERDICTS[0] and recs:
            reason = f"{reason}. Known differences: {c['known_differences']}"
        margin = str(c.get("margin") or "")
        if margin and not margin.startswith("x"):
            margin = f"± {margin} {c['unit']}".strip()
        elif margin:
            margin = f"within a factor of {margin[1:]}"
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
                "margin": margin,
                "verdict": v,
                "evidence": j["evidence"],
                "decisive n": j["decisive_n"],
                "reason": reason,
                "_records": recs,
            }
        )
    return pd.DataFrame(rows)


def plot_scorecard(table: pd.DataFrame, headlines: pd.DataFrame | None = None) -> Any:
    """The summary figure: one line per claim. Numeric claims show ours (dots with 95 %
    intervals) divided by the paper's value (the upper end of its range), so the paper sits at
    1 on every line (its range is the grey band); direction and identity claims show their
    verdict in words. Colour is the evidence; values beyond the axis are drawn at its edge."""
    import matplotlib.pyplot as plt

    headlines = load_headlines() if headlines is None else headlines
    colours = {"consistent": "#1a9850", "contradicted": "#d73027", "inconclusive": "#fdae61",
               "": "#999999"}  # fmt: skip
    lim = (-0.25, 2.25)
    n = len(table)
    fig, ax = plt.subplots(figsize=(10, 0.36 * n + 1.3))
    for i, (_, row) in enumerate(table.iterrows()):
        y = n - 1 - i
        c = headlines[headlines["id"] == row["id"]].iloc[0]
        col = colours[row["evidence"]]
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
            word = row["evidence"] or row["verdict"]
            ax.text(1.0, y, word, ha="center", va="center", color=col, fontsize=8)
        text = f"{row['id']}: {row['claim']}"
        text = text if len(text) <= 64 else text[:63] + "..."
        ax.text(lim[0] - 0.05, y, text, ha="right", va="center", fontsize=7.5, color=col)
    ax.axvline(1.0, color="0.6", lw=0.8, zorder=0)
    ax.set_xlim(*lim)
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_yticks([])
    ax.set_xlabel("ours / the paper's value (the upper end of its range): the paper is at 1")
    handles = [plt.Line2D([], [], marker="o", ls="-", color=v, label=k or "not judged")
               for k, v in colours.items()]  # fmt: skip
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -1.6 / (n + 4)),
              ncol=4, fontsize=8, frameon=False, title="evidence (a stand-in or the paper's "
              "setting: see the verdict)", title_fontsize=8)  # fmt: skip
    fig.subplots_adjust(left=0.45, right=0.98, top=0.98, bottom=2.2 / (n + 4))
    return fig
