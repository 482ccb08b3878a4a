"""The "Scorecard" page: every headline claim of the three papers beside ours, with a verdict.

The verdict rules, the claims (``data/papers/headlines.csv``) and the intervals live in
:mod:`advlib.study.scorecard`; this module gathers the records the chapter pages of one build
left in their provenance blocks and shapes the page's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from advlib.study import scorecard as sc
from advlib.tables import UNDEFINED, number

__all__ = ["ScorecardPage", "build", "claims", "numbers_table", "summary_table"]

# a row's colour: its evidence (consistent / contradicted / inconclusive), grey when not judged
_COLOUR = {
    "consistent": "#d9f0d3",
    "contradicted": "#fddbc7",
    "inconclusive": "#fee8c8",
    "": "#eeeeee",
}
_GLUE = ("reproduced", "contradicted", "inconclusive", "notcomparable", "notrun")


@dataclass
class ScorecardPage:
    """What the page shows: the records, the claims with their verdicts and the counts."""

    records: list[dict[str, Any]]
    headlines: pd.DataFrame
    table: pd.DataFrame
    counts: dict[str, int]

    def glue_values(self) -> dict[str, str]:
        """The counts the page's prose and ``book/scorecard.md`` glue: claims per verdict, and
        the stand-in claims per evidence (``sc_standin_consistent``, ...)."""
        out = {f"sc_{k}": str(self.counts[v]) for k, v in zip(_GLUE, sc.VERDICTS, strict=True)}
        out["sc_total"] = str(len(self.table))
        stand_in = self.table[self.table["verdict"] == sc.VERDICTS[3]]
        for e in sc.EVIDENCE:
            out[f"sc_standin_{e}"] = str(int((stand_in["evidence"] == e).sum()))
        return out


def build(executed_dir: str | Path, profile: str) -> ScorecardPage:
    """Read every chapter page's records under ``executed_dir`` and compute the verdicts."""
    records = [r for r in sc.collect_records(executed_dir) if r.get("notebook") != "scorecard"]
    headlines = sc.load_headlines()
    table = sc.scorecard_table(records, headlines, profile=profile)
    vc = table["verdict"].value_counts()
    counts = {v: int(vc.get(v, 0)) for v in sc.VERDICTS}
    return ScorecardPage(records, headlines, table, counts)


def summary_table(page: ScorecardPage) -> pd.DataFrame:
    """Claims per paper and verdict (one row per paper, a column per verdict)."""
    t = page.table.pivot_table(
        index="paper", columns="verdict", values="id", aggfunc="count", fill_value=0
    )
    return t.reindex(columns=list(sc.VERDICTS), fill_value=0).reset_index()


def claims(page: ScorecardPage) -> tuple[pd.DataFrame, list[str]]:
    """Every claim (the paper's number and source, ours, the margin, the verdict with its
    evidence, why, and the n that would decide an inconclusive one) and each row's colour."""
    show = page.table.drop(columns=["_records", "unit"]).reset_index(drop=True)
    show["decisive n"] = ["" if n is None or n != n else f"{int(n):,}" for n in show["decisive n"]]
    return show, [_COLOUR[e] for e in show["evidence"]]


def numbers_table(page: ScorecardPage) -> pd.DataFrame:
    """Every recorded number behind each claim, with the page that recorded it."""
    rows = []
    for _, t in page.table.iterrows():
        for r in t["_records"]:
            v = r["value"]
            rows.append(
                {
                    "claim": t["id"],
                    "what": r.get("label", ""),
                    "data": r.get("dataset", ""),
                    "value": v if isinstance(v, str) else number(v, 4),
                    "95 % interval": (
                        UNDEFINED
                        if r.get("low") is None
                        else f"[{number(r['low'], 4)}, {number(r['high'], 4)}]"
                    ),
                    "n": UNDEFINED if r.get("n") is None else str(r["n"]),
                    "p": number(r.get("p_value"), 4),
                    "page": r.get("notebook", ""),
                }
            )
    cols = ["claim", "what", "data", "value", "95 % interval", "n", "p", "page"]
    return pd.DataFrame(rows, columns=cols)
