"""The published numbers of the papers we reproduce, as validated data.

``data/papers/<paper>.csv`` holds one printed number per row, with where it is printed
(``artefact``, ``table_row``) and what it measures; ``data/papers/README.md`` documents the
columns and the source. For the UAP paper (Abdoli et al., "Universal adversarial audio
perturbations", arXiv:1908.03173) that is Tables 1-10 and the single-sample targeted means of
Sec. 4.1; Table 11 is left out (mangled by the text extraction). For the AT paper (Alfonso
Sallo et al., "Adversarially training for audio classifiers", ICPR 2021) it is Tables I-III:
clean accuracy and its drop after adversarial training, the average fooling AUC of the
adversarially trained models, and the perturbation ratio eps_r. For the GAN paper (Wang et al.,
"Targeted speech adversarial example generation with generative adversarial network", IEEE
Access 2020, SpeechAdvGan) it is Table 1 (success rate, SNR and time per example of the GAN
against Alzantot et al.'s genetic algorithm and SirenAttack's PSO), Table 2 (SNR and PESQ per
target class) and the results stated in the text of Sec. V-B (per-target and per-source success
rates, error-rate statistics of Fig. 6) and Sec. V-D (the ablation's maximum success rates).

Each paper has its own columns and allowed values, a :class:`PaperSchema` in :data:`SCHEMAS`;
:data:`COLUMNS`, :data:`METRICS`, :data:`SCENARIOS` and :data:`SPLITS` are the UAP paper's.

>>> df = load_paper_numbers("UAP")  # doctest: +SKIP
>>> paper_values(df, artefact="Table 1", method="penalty", victim="cnn1d_rand",
...              scenario="targeted", split="test", metric="asr")["value"].item()  # doctest: +SKIP
0.854
>>> at = load_paper_numbers("AT")  # doctest: +SKIP
>>> paper_values(at, artefact="Table I", dataset="urbansound8k", representation="dwt_tonnetz",
...              victim="resnet56", metric="accuracy")["value"].item()  # doctest: +SKIP
91.36
>>> gan = load_paper_numbers("GAN")  # doctest: +SKIP
>>> paper_values(gan, artefact="Table 1", dataset="speech_commands", method="gan",
...              metric="success_rate")["value"].item()  # doctest: +SKIP
92.33
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from advlib import paths
from advlib.data.gtzan import GTZAN_GENRES
from advlib.data.speech_commands import GAN_WORDS
from advlib.models.spectrogram import ARCHITECTURES, REPRESENTATIONS

__all__ = [
    "COLUMNS",
    "GAN_GTZAN_GENRES",
    "GAN_SPEECH_COMMANDS",
    "METRICS",
    "PROTOCOL_COLUMNS",
    "SCENARIOS",
    "SCHEMAS",
    "SPEECH_COMMANDS_V1_TEST",
    "SPLITS",
    "UAP_TEST_SIZE",
    "PaperSchema",
    "load_paper_numbers",
    "load_protocol_notes",
    "paper_values",
    "papers_dir",
    "protocol_table",
    "table5_recomputed",
    "table5_text",
]

#: The columns of the UAP paper's CSV, in order.
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
#: The GAN paper's ten Speech Commands words (Sec. V-A), in its order: the loader's list.
GAN_SPEECH_COMMANDS: tuple[str, ...] = GAN_WORDS
#: The GAN paper's ten GTZAN genres (Sec. V-A), in its order: the loader's list.
GAN_GTZAN_GENRES: tuple[str, ...] = GTZAN_GENRES
_AT_COLUMNS: tuple[str, ...] = (
    "paper",
    "artefact",
    "table_row",
    "dataset",
    "representation",
    "victim",
    "metric",
    "value",
    "note",
)
_GAN_COLUMNS: tuple[str, ...] = (
    "paper",
    "artefact",
    "table_row",
    "dataset",
    "victim",
    "method",
    "target",
    "metric",
    "value",
    "note",
)


@dataclass(frozen=True)
class PaperSchema:
    """The columns and allowed values of one paper's CSV.

    Parameters
    ----------
    columns : tuple of str
        The header, in order; it includes ``paper`` and ``value``.
    required : tuple of str
        The columns that may not be empty.
    allowed : mapping of str to frozenset of str
        ``column -> allowed values`` (``""`` among them where the column may be empty); the
        columns are checked in this order. Columns not named here take any text.

    Raises
    ------
    ValueError
        When ``columns`` lacks ``paper`` or ``value``, or ``required`` / ``allowed`` name a
        column not in ``columns``.
    """

    columns: tuple[str, ...]
    required: tuple[str, ...]
    allowed: Mapping[str, frozenset[str]]

    def __post_init__(self) -> None:
        for col in ("paper", "value"):
            if col not in self.columns:
                raise ValueError(f"columns {self.columns!r} lack {col!r}")
        unknown = (set(self.required) | set(self.allowed)) - set(self.columns)
        if unknown:
            raise ValueError(f"required / allowed name unknown columns {sorted(unknown)}")


#: Each paper's schema, by the short name :func:`load_paper_numbers` takes. ``"UAP"``: Abdoli et
#: al., "Universal adversarial audio perturbations" (:data:`COLUMNS`). ``"AT"``: Alfonso Sallo et
#: al., "Adversarially training for audio classifiers", Tables I-III: ``dataset``,
#: ``representation`` and ``victim`` (our registry names) say which classifier a number is
#: about; ``metric`` is ``accuracy`` (clean test accuracy, %), ``accuracy_drop`` (its drop after
#: adversarial training, percentage points), ``fooling_auc`` (average AUC %, Table II) or
#: ``eps_r`` (perturbation ratio, Table III). Every column but ``note`` is required. ``"GAN"``:
#: Wang et al., "Targeted speech adversarial example generation with generative adversarial
#: network" (SpeechAdvGan), Tables 1-2 and Sec. V-B / V-D: ``dataset`` (``speech_commands``,
#: ``gtzan``), ``victim`` (``wrn28_10``, ``samplecnn``: the paper's WideResNet and SampleCNN),
#: ``method`` (``gan``, ``genetic``: Alzantot et al., ``pso``: SirenAttack), ``target`` (a class
#: of :data:`GAN_SPEECH_COMMANDS` / :data:`GAN_GTZAN_GENRES`, empty for a value over targets) and
#: ``metric``: ``success_rate`` (%), ``snr_db`` (dB), ``seconds`` (per adversarial example),
#: ``pesq`` (PESQ score), ``error_rate`` (Fig. 6's attack error rate, 100 - success rate, %) and
#: ``error_rate_std`` (its standard deviation over source-target pairs, percentage points).
#: Every column but ``target`` and ``note`` is required.
SCHEMAS: dict[str, PaperSchema] = {
    "UAP": PaperSchema(
        columns=COLUMNS,
        required=_REQUIRED,
        allowed={"metric": METRICS, "scenario": SCENARIOS, "split": SPLITS, "method": _METHODS},
    ),
    "AT": PaperSchema(
        columns=_AT_COLUMNS,
        required=tuple(c for c in _AT_COLUMNS if c != "note"),
        allowed={
            "dataset": frozenset({"esc50", "urbansound8k"}),
            "representation": frozenset(REPRESENTATIONS),
            "victim": frozenset(ARCHITECTURES),
            "metric": frozenset({"accuracy", "accuracy_drop", "fooling_auc", "eps_r"}),
        },
    ),
    "GAN": PaperSchema(
        columns=_GAN_COLUMNS,
        required=tuple(c for c in _GAN_COLUMNS if c not in ("target", "note")),
        allowed={
            "dataset": frozenset({"speech_commands", "gtzan"}),
            "victim": frozenset({"wrn28_10", "samplecnn"}),
            "method": frozenset({"gan", "genetic", "pso"}),
            "target": frozenset({*GAN_SPEECH_COMMANDS, *GAN_GTZAN_GENRES, ""}),
            "metric": frozenset(
                {"success_rate", "snr_db", "seconds", "pesq", "error_rate", "error_rate_std"}
            ),
        },
    ),
}


def papers_dir() -> Path:
    """``data/papers/`` of the repository.

    The published numbers are tracked with the code, so the folder is found from
    :data:`advlib.paths.REPO_ROOT`, not from ``ADVLIB_DATA`` (which may point at a user's own
    copy of the generated data).
    """
    return paths.REPO_ROOT / "data" / "papers"


def _check_row(row: dict[str, str], where: str, paper: str, schema: PaperSchema) -> float:
    """Validate one CSV row against ``schema``; return its value as a float or raise
    ``ValueError``."""
    for col in schema.required:
        if not row[col]:
            raise ValueError(f"{where}: empty {col!r}")
    if row["paper"] != paper:
        raise ValueError(f"{where}: paper {row['paper']!r}, expected {paper!r}")
    for col, allowed in schema.allowed.items():
        if row[col] not in allowed:
            raise ValueError(f"{where}: {col} {row[col]!r} not in {sorted(allowed - {''})}")
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
        The paper's short name, a key of :data:`SCHEMAS`; the file is
        ``data/papers/<paper lowercase>.csv``. ``"UAP"``: Abdoli et al., "Universal adversarial
        audio perturbations", Tables 1-10 and the single-sample targeted means of Sec. 4.1.
        ``"AT"``: Alfonso Sallo et al., "Adversarially training for audio classifiers",
        Tables I-III. ``"GAN"``: Wang et al., "Targeted speech adversarial example generation
        with generative adversarial network", Tables 1-2 and the results of Sec. V-B and V-D
        (see ``data/papers/README.md``).
    path : str or Path, optional
        Read this file instead (it must follow ``paper``'s schema and its rows must still name
        ``paper``).

    Returns
    -------
    pandas.DataFrame
        One row per printed number, the columns of ``paper``'s schema (:data:`COLUMNS` for
        ``"UAP"``); ``value`` is float, every other column a string (empty where not
        applicable). ``value_text`` keeps the number as printed (``"0.900"``, ``"-20.1006"``,
        ``"06.89"``, ``"19.4"``).

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    ValueError
        On an unknown ``paper`` (the message names the known ones); on a wrong header or a bad
        row (a value outside the schema's allowed ones, e.g. an unknown metric; a missing
        required field; a value that is not a finite number), naming the file and line.
    """
    schema = SCHEMAS.get(paper)
    if schema is None:
        raise ValueError(f"unknown paper {paper!r}; known papers: {', '.join(sorted(SCHEMAS))}")
    columns = schema.columns
    file = Path(path) if path is not None else papers_dir() / f"{paper.lower()}.csv"
    records: list[dict[str, str]] = []
    values: list[float] = []
    for where, fields in _csv_rows(file, columns):
        row = dict(zip(columns, fields, strict=True))
        values.append(_check_row(row, where, paper, schema))
        records.append(row)
    if not records:
        raise ValueError(f"{file}: no rows")
    df = pd.DataFrame.from_records(records, columns=list(columns))
    df["value_text"] = df["value"]
    df["value"] = pd.Series(values, index=df.index, dtype=float)
    return df


def _csv_rows(file: Path, columns: tuple[str, ...]) -> Iterator[tuple[str, list[str]]]:
    """The rows of a paper-numbers CSV after its header is checked against ``columns``:
    ``(where, fields)``, ``where`` naming the file and line; a row with the wrong number of
    fields is an error naming it."""
    with open(file, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or tuple(header) != columns:
            raise ValueError(f"{file}:1: header {header!r}, expected {','.join(columns)}")
        for fields in reader:
            where = f"{file}:{reader.line_num}"
            if len(fields) != len(columns):
                raise ValueError(f"{where}: {len(fields)} fields, expected {len(columns)}")
            yield where, fields


def paper_values(df: pd.DataFrame, **filters: str) -> pd.DataFrame:
    """The rows of ``df`` whose columns equal every given filter.

    Parameters
    ----------
    df : pandas.DataFrame
        A frame from :func:`load_paper_numbers`.
    **filters : str
        ``column=value`` pairs, e.g. ``artefact="Table 1", metric="asr"`` (UAP paper,
        Table 1 ASRs) or ``artefact="Table III", victim="resnet56"`` (AT paper, eps_r of
        ResNet-56). Use ``""`` to select empty cells.

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


# --------------------------------------------------------------------------- protocol notes

#: The columns of ``data/papers/protocol.csv``, in order: one row per place where a paper's
#: number or test rests on a choice that differs from the data set's official protocol or from
#: what the paper says elsewhere. ``recomputed`` (a statistic recomputed under the official or
#: consistent choice, as text) may be empty; every other column is required.
PROTOCOL_COLUMNS: tuple[str, ...] = (
    "id",
    "paper",
    "artefact",
    "row",
    "paper_choice",
    "official",
    "consequence",
    "recomputed",
    "source",
)
#: Test-set sizes of the UAP paper's Table 5 (Sec. 4): UrbanSound8K and the TFSR challenge set.
UAP_TEST_SIZE: dict[str, int] = {"urbansound8k": 874, "speech_commands": 158_537}
#: The official Speech Commands v0.01 ``testing_list.txt`` size (51,088 / 6,798 / 6,835 clips).
SPEECH_COMMANDS_V1_TEST: int = 6_835


def load_protocol_notes(paper: str | None = None, path: str | Path | None = None) -> pd.DataFrame:
    """The protocol notes of ``data/papers/protocol.csv``, validated.

    Parameters
    ----------
    paper : {"UAP", "AT", "GAN"}, optional
        Keep only this paper's rows (all rows when omitted).
    path : str or Path, optional
        Read this file instead.

    Returns
    -------
    pandas.DataFrame
        The columns :data:`PROTOCOL_COLUMNS`, every one a string.

    Raises
    ------
    ValueError
        On a wrong header, a row with the wrong number of fields, an empty required field, an
        unknown paper or a duplicate id, naming the file, line and id.
    """
    if paper is not None and paper not in SCHEMAS:
        raise ValueError(f"unknown paper {paper!r}; known papers: {', '.join(sorted(SCHEMAS))}")
    file = Path(path) if path is not None else papers_dir() / "protocol.csv"
    records: list[dict[str, str]] = []
    seen: set[str] = set()
    for where, fields in _csv_rows(file, PROTOCOL_COLUMNS):
        row = dict(zip(PROTOCOL_COLUMNS, fields, strict=True))
        where = f"{where} (id {row['id']!r})"
        for col in PROTOCOL_COLUMNS:
            if col != "recomputed" and not row[col].strip():
                raise ValueError(f"{where}: empty {col!r}")
        if row["paper"] not in SCHEMAS:
            raise ValueError(f"{where}: paper {row['paper']!r} not in {sorted(SCHEMAS)}")
        if row["id"] in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(row["id"])
        records.append(row)
    if not records:
        raise ValueError(f"{file}: no rows")
    df = pd.DataFrame.from_records(records, columns=list(PROTOCOL_COLUMNS))
    if paper is not None:
        df = df[df["paper"] == paper].reset_index(drop=True)
    return df


def table5_recomputed(uap: pd.DataFrame | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """The UAP paper's Table 5 recomputed from its own p_l, p_h and the m of Sec. 4.

    One row per (scenario, victim): the printed ``p_l``, ``p_h`` and ``Z (paper)``; ``m``;
    ``Z`` recomputed with App. C's formula from the printed proportions; its one-sided p-value
    :math:`\\Phi(Z)`; whether it is significant at ``alpha`` (the paper uses 0.057) alone and
    after Holm's correction over the twelve rows; ``X_l`` / ``X_h`` (the proportions times m,
    rounded); the range of the paired (McNemar, normal form) statistic
    :math:`(X_h - X_l) / \\sqrt{b + c}` that those counts allow, since both methods attack the
    same m clips and the discordant counts b + c (between X_h - X_l and
    min(X_l + X_h, 2m - X_l - X_h)) are not printed; and, for the Speech Commands rows, Z
    with the official v0.01 test list's m (:data:`SPEECH_COMMANDS_V1_TEST`).
    """
    from scipy.stats import norm

    from advlib.stats import holm

    uap = load_paper_numbers("UAP") if uap is None else uap
    t5 = uap[uap["artefact"] == "Table 5"]
    rows = []
    for (scenario, victim), g in t5.groupby(["scenario", "victim"], sort=False):
        v = dict(zip(g["metric"], g["value"], strict=True))
        speech = victim == "spchcmd"
        m = UAP_TEST_SIZE["speech_commands" if speech else "urbansound8k"]
        z = _pooled_z(v["p_low"], v["p_high"], m)
        x_l, x_h = round(v["p_low"] * m), round(v["p_high"] * m)
        d = x_h - x_l
        widest = min(x_l + x_h, 2 * m - x_l - x_h)
        rows.append(
            {
                "scenario": scenario,
                "victim": victim,
                "p_l": v["p_low"],
                "p_h": v["p_high"],
                "Z (paper)": v["z"],
                "m": m,
                "Z": z,
                "p (one-sided)": float(norm.cdf(z)),
                "X_l": x_l,
                "X_h": x_h,
                "McNemar z min": d / math.sqrt(widest) if widest else 0.0,
                "McNemar z max": math.sqrt(d) if d > 0 else 0.0,
                "Z (m = v0.01 test list)": (
                    _pooled_z(v["p_low"], v["p_high"], SPEECH_COMMANDS_V1_TEST) if speech else None
                ),
            }
        )
    df = pd.DataFrame(rows)
    df[f"significant at {alpha:g}"] = df["p (one-sided)"] < alpha
    h = holm(df["p (one-sided)"].to_numpy(), alpha=alpha)
    df["p Holm"] = h.p_adjusted
    df[f"significant at {alpha:g}, Holm"] = h.reject
    return df.set_index(["scenario", "victim"])


def _pooled_z(p_l: float, p_h: float, m: int) -> float:
    """App. C's Z from two proportions of the same m (pooled variance)."""
    p = (p_l + p_h) / 2
    return (p_l - p_h) / math.sqrt(2 * p * (1 - p) / m)


def table5_text(row: pd.Series, alpha: float = 0.05) -> str:
    """The ``recomputed`` text of a Table 5 row of ``protocol.csv`` (a row of
    :func:`table5_recomputed`): the tests assert the CSV holds exactly this."""
    yes = {True: "yes", False: "no"}
    text = (
        f"Z = {row['Z']:.3f} (m = {row['m']:,}); one-sided p = {row['p (one-sided)']:.2g}; "
        f"significant at {alpha:g}: {yes[bool(row[f'significant at {alpha:g}'])]}; "
        f"Holm over 12: {yes[bool(row[f'significant at {alpha:g}, Holm'])]}; "
        f"paired McNemar z from {row['McNemar z min']:.2f} to {row['McNemar z max']:.2f}"
    )
    if row["Z (m = v0.01 test list)"] is not None and not pd.isna(row["Z (m = v0.01 test list)"]):
        text += (
            f"; with the v0.01 test list (m = {SPEECH_COMMANDS_V1_TEST:,}): "
            f"Z = {row['Z (m = v0.01 test list)']:.3f}"
        )
    return text


#: The columns :func:`protocol_table` shows, with their headers.
_PROTOCOL_VIEW = {
    "artefact": "artefact",
    "row": "row",
    "paper_choice": "the paper",
    "official": "official protocol / consistent value",
    "consequence": "what it changes",
    "recomputed": "recomputed",
}


def protocol_section(paper: str) -> Any:
    """The page section of one paper's protocol notes: :func:`protocol_table` as a table."""
    from advlib.study.section import Section

    return Section().table(
        protocol_table(paper),
        f"Protocol notes: the {paper} paper beside the data sets' official protocols "
        "(`data/papers/protocol.csv`).",
        index=True,
    )


def protocol_table(paper: str) -> pd.DataFrame:
    """One paper's protocol notes for a page (:meth:`Study.table`): one row per finding, the
    paper's choice beside the official protocol, what it changes and the recomputed value."""
    df = load_protocol_notes(paper)
    return df.set_index("id")[list(_PROTOCOL_VIEW)].rename(columns=_PROTOCOL_VIEW)
