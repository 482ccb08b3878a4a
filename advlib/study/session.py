"""One page's session: the profile, the cache, the data sets, the fitted victims, the records.

A notebook is a view: it receives its parameters from papermill (the profile's name and seed,
the data sets its chapter needs, the chapter's section), makes one :class:`Study`, and asks it
for everything it shows::

    study = Study(profile, seed, datasets, notebook="uap", progress=progress)
    data = study.dataset("fsdd")
    fit = study.victim("fsdd", "cnn1d_rand")      # trained on its data set's page, cached
    study.records.record_proportion("uap_penalty_asr", 45, 50, dataset="fsdd")
    study.provenance(parameters={"uap": uap})      # the page's last cell

``datasets`` maps a data-set name of the profile to how it loads (``loader``, ``root``,
``args``, ``licence``, ``title``) and, for chapters that use trained victims, the victims its
page trains (``victims: {name: {knobs, train}}``): the same mapping the workflow hands every
chapter page (``chapter_datasets`` in ``workflow/Snakefile``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from advlib.cache import Cache, param_key
from advlib.data import GENERATED_LOADERS, load_dataset
from advlib.data.core import AudioSet
from advlib.data.fixtures import fixture_set, make_smoke_data
from advlib.data.registry import load_registry
from advlib.paths import cache_dir, fixtures_dir, resolve
from advlib.study.provenance import provenance_block
from advlib.study.records import Records
from advlib.study.section import Section
from advlib.tables import caption, render
from advlib.train.classifier import FittedVictim, fit_victim, victim_params

__all__ = ["Study"]


def _dataset_root(template: str) -> Path:
    """A profile's ``root`` expanded (:func:`advlib.paths.resolve`); when it names a folder that
    ``python -m advlib fetch NAME`` unpacked into (``{data_root}/fsdd``), the folder the archive
    holds (``fsdd/free-spoken-digit-dataset-1.0.9``), so a fetched set and a copy laid out as
    the loader reads it (``fsdd/recordings``) are found under the same ``root``. A root under
    ``{fixtures}`` names a fixture set (:mod:`advlib.data.fixtures`), written there first if it
    is not yet (the ``smoke`` profile's data sets, from a fresh clone)."""
    fixture = fixture_set(template)
    if fixture is not None:
        make_smoke_data(fixtures_dir(), [fixture])
    root = resolve(template)
    inner = (load_registry()["datasets"].get(root.name) or {}).get("folder_in_archive")
    return root / inner if inner and (root / inner).is_dir() else root


class Study:
    """The session of one executed page (see the module docstring).

    Parameters
    ----------
    profile, seed:
        The profile's name and seed (the page's papermill parameters).
    datasets:
        ``{name: {loader, root, args, licence, title, victims}}`` for the data sets the page
        uses.
    notebook:
        The page's name, written into its provenance block.
    cache:
        The result cache (default: :func:`advlib.paths.cache_dir`).
    progress:
        Progress bars while training and loading.
    """

    def __init__(
        self,
        profile: str,
        seed: int,
        datasets: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        notebook: str = "",
        cache: Cache | None = None,
        progress: bool = False,
    ) -> None:
        self.profile = profile
        self.seed = int(seed)
        self.datasets = {k: dict(v) for k, v in (datasets or {}).items()}
        self.notebook = notebook
        self.cache = cache if cache is not None else Cache(cache_dir())
        self.progress = progress
        self.records = Records()
        self._data: dict[str, AudioSet] = {}
        self._folds: dict[tuple[str, tuple[int, ...]], AudioSet] = {}
        self._fits: dict[tuple[str, str], FittedVictim] = {}
        self._numbers = {"Table": 0, "Figure": 0}

    # ------------------------------------------------------------------ data sets

    def _spec(self, name: str) -> dict[str, Any]:
        if name not in self.datasets:
            known = ", ".join(sorted(self.datasets)) or "none"
            raise KeyError(f"data set {name!r} is not among this page's data sets ({known})")
        return self.datasets[name]

    def dataset(self, name: str, fold: tuple[int, int] | list[int] | None = None) -> AudioSet:
        """The data set ``name``, loaded once; with ``fold`` = (test fold, valid fold), its
        partition by those official folds (one object per split, so its identity is hashed
        once)."""
        if name not in self._data:
            d = self._spec(name)
            quiet = {} if d["loader"] in GENERATED_LOADERS else {"progress": self.progress}
            root = _dataset_root(d["root"]) if d.get("root") else None
            self._data[name] = load_dataset(d["loader"], root, **(d.get("args") or {}), **quiet)
        if fold is None:
            return self._data[name]
        key = (name, tuple(int(f) for f in fold))
        if key not in self._folds:
            self._folds[key] = self._data[name].with_fold_split(*fold)
        return self._folds[key]

    def loaded(self) -> dict[str, AudioSet]:
        """The data sets this session has loaded so far, by name (whole, not per fold)."""
        return dict(self._data)

    def title(self, name: str) -> str:
        """The data set's title (its name when the profile gives none)."""
        return str(self._spec(name).get("title") or name)

    def licence(self, name: str) -> str:
        """The licence credit shown where the data set's audio plays."""
        return str(self._spec(name).get("licence") or "")

    def loader(self, name: str) -> str:
        """The loader behind a data set of the profile (the scorecard names data by loader)."""
        return str(self.datasets.get(name, {}).get("loader", name))

    # ------------------------------------------------------------------ victims

    def _victim_config(self, dataset: str, victim: str) -> dict[str, Any]:
        victims = self._spec(dataset).get("victims") or {}
        if victim not in victims:
            known = ", ".join(sorted(victims)) or "none"
            raise KeyError(f"victim {victim!r} is not trained on {dataset!r} ({known})")
        return dict(victims[victim] or {})

    def victim(self, dataset: str, victim: str) -> FittedVictim:
        """The victim ``victim`` trained on ``dataset`` with the profile's knobs and recipe:
        the cache entry its data set's page trained (computed here if missing)."""
        if (dataset, victim) not in self._fits:
            cfg = self._victim_config(dataset, victim)
            self._fits[dataset, victim] = fit_victim(
                self.cache,
                self.dataset(dataset),
                victim,
                knobs=cfg.get("knobs"),
                train=cfg.get("train"),
                seed=self.seed,
                progress=self.progress,
            )
        return self._fits[dataset, victim]

    def victim_key(self, dataset: str, victim: str) -> str:
        """The cache key of a victim of the profile (the one place that builds it)."""
        cfg = self._victim_config(dataset, victim)
        params = victim_params(
            self.dataset(dataset), victim, cfg.get("knobs"), cfg.get("train"), seed=self.seed
        )
        return param_key("victim", params)

    # ------------------------------------------------------------------ display

    def table(self, df: Any, title: str, **kw: Any) -> Any:
        """``df`` as the page's next numbered table (:func:`advlib.tables.render`)."""
        self._numbers["Table"] += 1
        return render(df, title, n=self._numbers["Table"], **kw)

    def show(self, section: Section) -> None:
        """Display a chapter's :class:`~advlib.study.section.Section` in order (tables and
        figures numbered here) and glue its values for the page's prose."""
        from IPython.display import Markdown, display
        from myst_nb import glue

        for kind, obj, kw in section.items:
            if kind == "table":
                opts = dict(kw)
                display(self.table(obj, opts.pop("title"), **opts))
            elif kind == "caption":
                display(self.caption(obj))
            elif kind == "text":
                display(Markdown(obj))
            else:  # figure, media
                display(obj)
        for name, value in section.glue.items():
            glue(name, value, display=False)

    def caption(self, title: str) -> Any:
        """The caption of the figure just shown: ``Figure n. title`` (Markdown)."""
        from IPython.display import Markdown

        self._numbers["Figure"] += 1
        return Markdown(f"*{caption('Figure', self._numbers['Figure'], title)}*")

    # ------------------------------------------------------------------ provenance

    def data_identity(self) -> dict[str, Any]:
        """The content identity of every data set this page loaded."""
        return {k: d.identity() for k, d in self._data.items()}

    def provenance(self, parameters: Mapping[str, Any] | None = None) -> Any:
        """The page's provenance block: profile, seed, ``parameters`` with the loaded data
        sets' identities, the cache entries it computed or reused, and its records."""
        return provenance_block(
            notebook=self.notebook,
            profile=self.profile,
            seed=self.seed,
            parameters={**dict(parameters or {}), "data_identity": self.data_identity()},
            cache_events=self.cache.events,
            results=self.records.as_list(),
        )
