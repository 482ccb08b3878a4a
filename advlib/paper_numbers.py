"""The published numbers of the papers we reproduce, as validated data.

``data/papers/<paper>.csv`` holds one printed number per row, with where it is printed
(``artefact``, ``table_row``) and what it measures; ``data/papers/README.md`` documents the
columns and the source. For the UAP paper (Abdoli et al., "Universal adversarial audio
perturbations", arXiv:1908.03173) that is Tables 1-10 and the single-sample targeted means of
Sec. 4.1; Table 11 is left out (mangled by the text extraction).

>>> df = load_paper_numbers("UAP")  # doctest: +SKIP
>>> paper_values(df, artefact="Table 1", method="penalty", victim="cnn1d_rand",
...              scenario="targeted", split="test", metric="asr")["value"].item()  # doctest: +SKIP
0.854
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from . import paths

__all__ = [
    "COLUMNS",
    "METRICS",
    "SCENARIOS",
    "SPLITS",
    "load_paper_numbers",
    "paper_values",
    "papers_dir",
]

#: The columns of a paper-numbers CSV, in order.
COLUMNS: tuple[str, ...] = (
    "paper",
    "artefact",
    "table_row",
    "method",
    "victim",
    "evaluated_on",
    "scenario",
    "split",
    "metric",
    "target",
    "value",
    "note",
)
#: Allowed ``metric`` values: attack success rate, SNR (dB), l_dB_x(v) (dB), the victim's
#: accuracy under attack, and the App. C test's lower / higher proportion and Z statistic.
METRICS: frozenset[str] = frozenset({"asr", "snr_db", "ldb_x", "model_acc", "p_low", "p_high", "z"})
#: Allowed ``scenario`` values.
SCENARIOS: frozenset[str] = frozenset({"targeted", "untargeted"})
#: Allowed ``split`` values (empty: not applicable or not stated).
SPLITS: frozenset[str] = frozenset({"train", "test", ""})
_METHODS: frozenset[str] = frozenset({"iterative", "penalty", ""})
_REQUIRED: tuple[str, ...] = ("paper", "artefact", "table_row", "victim", "scenario", "metric")


def papers_dir() -> Path:
    """``data/papers/`` of the repository.

    The published numbers are tracked with the code, so the folder is found from
    :data:`advlib.paths.REPO_ROOT`, not from ``ADVLIB_DATA`` (which may point at a user's own
    copy of the generated data).
    """
    return paths.REPO_ROOT / "data" / "papers"


def _check_row(row: dict[str, str], where: str, paper: str) -> float:
    """Validate one CSV row; return its value as a float or raise ``ValueError``."""
    for col in _REQUIRED:
        if not row[col]:
            raise ValueError(f"{where}: empty {col!r}")
    if row["paper"] != paper:
        raise ValueError(f"{where}: paper {row['paper']!r}, expected {paper!r}")
    if row["metric"] not in METRICS:
        raise ValueError(f"{where}: metric {row['metric']!r} not in {sorted(METRICS)}")
    if row["scenario"] not in SCENARIOS:
        raise ValueError(f"{where}: scenario {row['scenario']!r} not in {sorted(SCENARIOS)}")
    if row["split"] not in SPLITS:
        raise ValueError(f"{where}: split {row['split']!r} not in {sorted(SPLITS - {''})}")
    if row["method"] not in _METHODS:
        raise ValueError(f"{where}: method {row['method']!r} not in {sorted(_METHODS - {''})}")
    try:
        value = float(row["value"])
    except ValueError:
        raise ValueError(f"{where}: value {row['value']!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: value {row['value']!r} is not finite")
    return value


def load_paper_numbers(paper: str = "UAP", path: str | Path | None = None) -> pd.DataFrame:
    """Load and validate the published numbers of one paper.

    Parameters
    ----------
    paper : str, default "UAP"
        The paper's short name; the file is ``data/papers/<paper lowercase>.csv``. ``"UAP"``:
        Abdoli et al., "Universal adversarial audio perturbations", Tables 1-10 and the
        single-sample targeted means of Sec. 4.1 (see ``data/papers/README.md``).
    path : str or Path, optional
        Read this file instead (its rows must still name ``paper``).

    Returns
    -------
    pandas.DataFrame
        One row per printed number, columns :data:`COLUMNS`; ``value`` is float, every other
        column a string (empty where not applicable). ``value_text`` keeps the number as
        printed (``"0.900"``, ``"-20.1006"``).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        On a wrong header or a bad row (unknown metric, scenario, split or method; a missing
        required field; a value that is not a finite number), naming the file and line.
    """
    file = Path(path) if path is not None else papers_dir() / f"{paper.lower()}.csv"
    with open(file, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(header) != COLUMNS:
            raise ValueError(f"{file}:1: header {header!r}, expected {','.join(COLUMNS)}")
        records: list[dict[str, str]] = []
        values: list[float] = []
        for fields in reader:
            where = f"{file}:{reader.line_num}"
            if len(fields) != len(COLUMNS):
                raise ValueError(f"{where}: {len(fields)} fields, expected {len(COLUMNS)}")
            row = dict(zip(COLUMNS, fields, strict=True))
            values.append(_check_row(row, where, paper))
            records.append(row)
    if not records:
        raise ValueError(f"{file}: no rows")
    df = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    df["value_text"] = df["value"]
    df["value"] = pd.Series(values, index=df.index, dtype=float)
    return df


def paper_values(df: pd.DataFrame, **filters: str) -> pd.DataFrame:
    """The rows of ``df`` whose columns equal every given filter.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame from :func:`load_paper_numbers`.
    **filters : str
        ``column=value`` pairs, e.g. ``artefact="Table 1", metric="asr"`` (UAP paper,
        Table 1 ASRs). Use ``""`` to select empty cells.

    Returns
    -------
    pandas.DataFrame
        The matching rows (a copy, original index kept).

    Raises
    ------
    KeyError
        When a filter names no column of ``df``, or when no row matches (the message names
        the filters).
    """
    mask = pd.Series(True, index=df.index)
    for col, want in filters.items():
        if col not in df.columns:
            raise KeyError(f"no column {col!r} (filters {filters!r})")
        mask &= df[col] == want
    if not mask.any():
        shown = ", ".join(f"{k}={v!r}" for k, v in filters.items())
        raise KeyError(f"no paper number matches {shown}")
    return df[mask].copy()
