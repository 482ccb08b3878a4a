"""The numbers a page records for the scorecard, each with its interval or test.

A chapter records the numbers that answer a headline claim (``data/papers/headlines.csv``) on
the :class:`Records` its :class:`advlib.study.Study` owns; the page's provenance block
(:func:`advlib.study.provenance.provenance_block`) carries them to the scorecard, which computes
the verdicts (:mod:`advlib.study.scorecard`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Records"]


def _finite(name: str, v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"{name} must be finite, got {v!r}")
    return f


class Records:
    """An ordered list of scorecard records (plain dicts, JSON-ready)."""

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self._items)

    def record(
        self,
        key: str,
        value: float | str,
        *,
        low: float | None = None,
        high: float | None = None,
        n: int | None = None,
        dataset: str = "",
        label: str = "",
        p_value: float | None = None,
        holds: bool | None = None,
        method: str = "",
    ) -> dict[str, Any]:
        """Record one number (or, for ``identity`` claims, a name) that answers a headline claim.

        ``low``/``high``: its 95 % interval (``None`` for an exact or unrepeatable number);
        ``label``: what it is (a victim, a cell); ``p_value``/``holds``/``method``: for a test of a
        direction claim (:meth:`record_test`). The record joins this list, which the page's
        provenance block carries to the scorecard.
        """
        if not key:
            raise ValueError("a record needs a key")
        rec: dict[str, Any] = {"key": key, "dataset": dataset, "label": label, "n": n}
        if isinstance(value, str):
            rec["value"] = value
        else:
            rec["value"] = _finite("value", value)
        rec["low"], rec["high"] = _finite("low", low), _finite("high", high)
        if rec["low"] is not None and rec["high"] is not None and rec["low"] > rec["high"]:
            raise ValueError(f"{key}: interval [{low}, {high}] is reversed")
        if p_value is not None:
            p = _finite("p_value", p_value)
            if not 0 <= p <= 1:
                raise ValueError(f"{key}: p_value must be in [0, 1], got {p_value}")
            rec.update(p_value=p, holds=bool(holds), method=method)
        self._items.append(rec)
        return rec

    def record_proportion(
        self, key: str, successes: int, n: int, *, scale: float = 1.0, **kw: Any
    ) -> dict[str, Any]:
        """A success rate with its 95 % Wilson interval (``scale=100`` for percent)."""
        from advlib.stats import wilson_interval

        if n < 1:
            raise ValueError(f"{key}: a proportion needs n >= 1")
        lo, hi = wilson_interval(int(successes), int(n))
        return self.record(
            key, scale * successes / n, low=scale * lo, high=scale * hi, n=int(n), **kw
        )

    def record_difference(
        self, key: str, k1: int, n1: int, k2: int, n2: int, *, scale: float = 1.0, **kw: Any
    ) -> dict[str, Any]:
        """The difference ``k1/n1 - k2/n2`` of two success rates with Newcombe's hybrid score
        interval (method 10 of Newcombe, Stat. Med. 17, 1998), built from the two Wilson
        intervals; it treats the samples as independent (conservative for paired clips)."""
        from advlib.stats import wilson_interval

        if n1 < 1 or n2 < 1:
            raise ValueError(f"{key}: both proportions need n >= 1")
        p1, p2 = k1 / n1, k2 / n2
        l1, u1 = wilson_interval(int(k1), int(n1))
        l2, u2 = wilson_interval(int(k2), int(n2))
        d = p1 - p2
        lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
        return self.record(key, scale * d, low=scale * lo, high=scale * hi, n=int(n1), **kw)

    def record_mean(
        self, key: str, samples: Sequence[float] | np.ndarray, **kw: Any
    ) -> dict[str, Any]:
        """The mean of ``samples`` with its 95 % t interval (no interval for one sample)."""
        from scipy import stats

        a = np.asarray(samples, dtype=float)
        a = a[np.isfinite(a)]
        if len(a) == 0:
            raise ValueError(f"{key}: no finite samples")
        m = float(a.mean())
        if len(a) < 2 or float(a.std()) == 0.0:
            return self.record(key, m, n=len(a), **kw)
        half = float(stats.t.ppf(0.975, len(a) - 1) * a.std(ddof=1) / math.sqrt(len(a)))
        return self.record(key, m, low=m - half, high=m + half, n=len(a), **kw)

    def record_test(
        self, key: str, statistic: float, p_value: float, *, holds: bool, method: str, **kw: Any
    ) -> dict[str, Any]:
        """A one-sided test of a direction claim: ``holds`` whether the effect points the paper's
        way, ``p_value`` against no effect, ``method`` the test's name."""
        return self.record(key, statistic, p_value=p_value, holds=holds, method=method, **kw)

    def as_list(self) -> list[dict[str, Any]]:
        """The records so far (copies)."""
        return [dict(r) for r in self._items]

    def clear(self) -> None:
        self._items.clear()
