"""Units of work: the independent computations of a page, each one pipeline job.

A page's expensive results live in the cache (:mod:`advlib.cache`). A :class:`Unit` fills some
of them: training one victim, fitting one adversarially trained cell, one attack family on one
cell, one universal perturbation, one generator. Each chapter module enumerates its page's units
with ``units(params)``, from the page's own parameters (those papermill hands the page,
:func:`advlib.tools.pages.page_parameters`), and a unit's :meth:`Unit.run` calls the chapter
functions the page calls, with the same arguments, so it fills exactly the entries the page then
reads (same keys). The pipeline (``workflow/Snakefile``) runs every unit as a job
(``python -m advlib unit ID``) before the page, which then only reads the cache.

A unit names the units it needs (``needs``: an attack needs its fitted cell, a UAP its victim);
the pipeline orders them so. Two units asking for one entry at once are safe anyway: the
cache's per-entry lock makes the second wait and read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from advlib.cache import canonical_json

__all__ = [
    "Unit",
    "as_page_parameters",
    "check_units",
    "data_spec",
    "study_args",
    "unit_slug",
    "victim_id",
]

_ID = re.compile(r"^[A-Za-z0-9_.+=-]+(/[A-Za-z0-9_.+=-]+)*$")


def unit_slug(value: Any) -> str:
    """``value`` as one path segment of a unit id (letters, digits, ``_.+=-``)."""
    text = str(value).strip().replace(" ", "_")
    return re.sub(r"[^A-Za-z0-9_.+=-]", "-", text) or "-"


def as_page_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` as the page receives them: through JSON with sorted keys (papermill's
    parameters), so that a unit iterates in the page's order."""
    return json.loads(json.dumps(params, sort_keys=True))


def victim_id(dataset: str, victim: str) -> str:
    """The id of the unit that trains ``victim`` on ``dataset`` (the victims page's unit, which
    the other chapters' units need)."""
    return f"victims/{unit_slug(dataset)}/{unit_slug(victim)}"


def study_args(params: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`~advlib.study.Study` arguments of a page's parameters."""
    return {"profile": params["profile"], "seed": params["seed"], "datasets": params["datasets"]}


def data_spec(params: Mapping[str, Any], name: str) -> dict[str, Any]:
    """How data set ``name`` of a page's parameters loads (what its identity depends on)."""
    d = params["datasets"][name]
    return {"name": name, "loader": d["loader"], "root": d.get("root"), "args": d.get("args")}


@dataclass(frozen=True)
class Unit:
    """One job of the pipeline.

    Attributes
    ----------
    id:
        A stable path-like id (``at/esc10/f5/stft/resnet56/fgsm``), usable as a file name and a
        Snakemake wildcard; it names what is computed, not its settings.
    page:
        The page whose entries it fills (``victims``, ``attacks``, ``uap``, ``at``, ``gan``);
        ``dataset`` is the victims page's data set.
    study:
        ``{profile, seed, datasets}``: the page's :class:`~advlib.study.Study` arguments.
    spec:
        Every setting the unit's results depend on, its data sets' loading included
        (:func:`data_spec`); with the profile and seed, the pipeline's job parameter, so a
        changed setting re-runs exactly the units it reaches.
    work:
        ``work(study)``: the computation, calling the page's chapter functions.
    needs:
        Ids of the units whose entries this one reads.
    timing:
        It reports seconds (UAP crafting, the attack runs, the baselines): the pipeline runs it
        alone, on every core.
    gpu, mem_mb, runtime:
        Resources of its job: GPUs (1 for a unit that trains or runs a model), memory (MB),
        wall time (minutes, for a cluster).
    """

    id: str
    page: str
    study: Mapping[str, Any]
    spec: Mapping[str, Any]
    work: Callable[[Any], Any] = field(repr=False, compare=False)
    needs: tuple[str, ...] = ()
    timing: bool = False
    gpu: int = 1
    mem_mb: int = 16000
    runtime: int = 240
    dataset: str | None = None

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise ValueError(f"unit id {self.id!r}: segments of letters, digits and _.+=- only")

    @property
    def spec_json(self) -> str:
        """:attr:`spec` with the profile's name and seed, as canonical JSON."""
        s = self.study
        return canonical_json({"profile": s["profile"], "seed": s["seed"], "spec": self.spec})

    def make_study(self, *, cache: Any = None, progress: bool = False) -> Any:
        """The :class:`~advlib.study.Study` the unit works in: the page's data sets and seed."""
        from advlib.study.session import Study

        s = self.study
        return Study(s["profile"], s["seed"], s["datasets"], notebook=f"unit {self.id}",
                     cache=cache, progress=progress)  # fmt: skip

    def run(self, study: Any) -> Any:
        """Compute the unit's entries in ``study`` (its cache), as the page computes them."""
        return self.work(study)


def check_units(units: Iterable[Unit]) -> dict[str, Unit]:
    """The units by id; a repeated id or a need that names no unit is an error."""
    out: dict[str, Unit] = {}
    for u in units:
        if u.id in out:
            raise ValueError(f"two units have the id {u.id!r}")
        out[u.id] = u
    for u in out.values():
        missing = [n for n in u.needs if n not in out]
        if missing:
            raise ValueError(f"unit {u.id!r} needs unknown unit(s) {missing}")
    return out
