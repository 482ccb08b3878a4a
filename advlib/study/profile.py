"""Profiles: what one run of the study computes (data sets, victims, sizes, recipes, seeds).

A profile is a YAML file in ``config/`` (``demo.yaml``, ``ci.yaml``, ``paper.yaml``) that the
Snakemake workflow reads; :func:`validate_profile` checks it completely before anything runs, so
a typo fails in a second with a message naming the key, not an hour into a run.

Schema::

    profile: demo                 # the profile's name
    seed: 0                       # seeds data generation and training
    description: "..."
    datasets:
      <name>:
        loader: synthetic | synthetic_speech | fsdd | esc10 | esc50 | urbansound8k
                | speech_commands | gtzan
        root: "{data_root}/fsdd"            # not for the generated sets (synthetic,
                                             # synthetic_speech); {data_root}, {data}, {repo}
        args: {...}                          # loader arguments (sample_rate, length, ...)
        licence: "..."                       # shown where its audio plays
        victims:
          <victim>:
            knobs: {...}                     # the victim's size knobs
            train: {...}                     # TrainConfig fields
    attacks:                      # optional: the "Attack library" chapter
      dataset: synthetic          # one of the data sets above
      victim: cnn1d_rand          # one of its victims (trained on its page)
      n: 64                       # test clips attacked (class-balanced)
      batch_size: 64
      bench_n: 64                 # clips of the peer benchmark the book shows (make bench: 256)
      bench_libraries: [advlib, torchattacks, foolbox, art]   # (default: all four)
      runs:
        <label>:                  # a row of the chapter's tables
          attack: pgd             # a name of advlib.attacks.registry (default: the label)
          settings: {...}         # the attack's keyword settings, checked against its signature
          targets: next           # optional: an int class, or "next" (label + 1 mod K)
      universal:                  # optional: universal perturbations on the same victim
        n_craft: 64               # training clips the perturbation is crafted on
        runs: {<label>: {attack: uap_iterative | uap_penalty, settings: {...}, target: 3}}
      eot:                        # optional: expectation over playback transformations
        run: pgd_linf             # a label of runs above, re-run on the EOT-wrapped victim
        samples: 4                # transformations averaged per forward pass
    uap:                          # optional: the "Universal perturbations" chapter
      n_craft: 100                # crafting clips per UAP (class-balanced, training part)
      n_eval: null                # held-out clips (class-balanced); null: the whole test part
      methods:                    # settings of uap_iterative and uap_penalty: shared keys,
        uap_iterative: {inner_steps: 50, untargeted: {eps: 0.4}, targeted: {eps: 0.24}}
        uap_penalty: {steps: 1000, untargeted: {c: 0.2}, targeted: {c: 0.15}}
      tables:                     # Tables 1 and 2 (and Table 5, Apps. D, from them)
        - {artefact: "Table 1", dataset: <name>, victims: [...], targets: all | [classes],
           overrides: {uap_penalty: {...}}, model_accuracy: false}
      confidence: {table: 0, victims: [...], values: [...], target: <class>}     # Fig. 1
      n_craft_sweep: {table: 0, values: [...], untargeted: <victim>,
                      targeted: <victim>, target: <class>}                      # Fig. 2
      single: {table: 0, victim: <victim>, settings: {c: 0.2, confidence: 90, steps: 19}}
      transfer: {tables: [0]}                                                   # Table 4
      playback: {table: 0, victims: [...], draws: 8, eot_samples: 4}
      variants: {table: 0, victims: [...],            # the penalty method's two gradients
                 scenarios: [untargeted, targeted]}   # (or a list of these, one per table)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

from advlib.paths import REPO_ROOT

__all__ = ["PROFILES", "load_profile", "profile_path", "validate_profile"]

PROFILES = ("demo", "ci", "paper")
_TOP = {"profile", "seed", "description", "datasets", "attacks", "uap", "at", "gan"}
_DATASET = {"loader", "root", "args", "licence", "victims", "title"}
_VICTIM = {"knobs", "train"}


# A chapter's check of its profile section: (section, the profile's data sets, source).
SectionCheck = Callable[[Any, dict[str, Any], str], None]


class ProfileError(ValueError):
    """A profile breaks the schema; the message names the key."""


def profile_path(name_or_path: str | Path) -> Path:
    """``"demo"`` -> ``config/demo.yaml``; a path is returned as is."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return p if p.is_absolute() else REPO_ROOT / p
    return REPO_ROOT / "config" / f"{name_or_path}.yaml"


def load_profile(
    name_or_path: str | Path, sections: Mapping[str, SectionCheck] | None = None
) -> dict[str, Any]:
    """Read and validate a profile (``sections``: the chapters' checks of their sections,
    :data:`advlib.chapters.SECTIONS`; :func:`advlib.chapters.load_profile` passes them)."""
    path = profile_path(name_or_path)
    if not path.is_file():
        raise ProfileError(f"no profile file {path} (known profiles: {', '.join(PROFILES)})")
    with open(path) as f:
        cfg = yaml.safe_load(f)
    validate_profile(cfg, source=str(path), sections=sections)
    return cfg


def fail(source: str, where: str, msg: str) -> NoReturn:
    raise ProfileError(f"{source}: {where}: {msg}")


def validate_profile(
    cfg: Any, source: str = "profile", sections: Mapping[str, SectionCheck] | None = None
) -> None:
    """Check a profile mapping against the schema; raise :class:`ProfileError` naming the key.

    The top level, the data sets and their victims are checked here; each chapter's section
    (``attacks``, ``uap``, ``at``, ``gan``) by the check ``sections`` maps its key to."""
    from advlib.data import GENERATED_LOADERS, LOADERS
    from advlib.models.registry import victim_spec
    from advlib.train.classifier import TrainConfig

    if not isinstance(cfg, dict):
        fail(source, "top level", "must be a mapping")
    missing = {"profile", "seed", "datasets"} - set(cfg)
    if missing:
        fail(source, "top level", f"missing key(s) {sorted(missing)}")
    unknown = set(cfg) - _TOP
    if unknown:
        fail(source, "top level", f"unknown key(s) {sorted(unknown)}")
    if not isinstance(cfg["seed"], int) or cfg["seed"] < 0:
        fail(source, "seed", "must be a non-negative integer")
    datasets = cfg["datasets"]
    if not isinstance(datasets, dict) or not datasets:
        fail(source, "datasets", "must be a non-empty mapping")
    for name, ds in datasets.items():
        where = f"datasets.{name}"
        if not isinstance(ds, dict):
            fail(source, where, "must be a mapping")
        unknown = set(ds) - _DATASET
        if unknown:
            fail(source, where, f"unknown key(s) {sorted(unknown)}")
        loader = ds.get("loader")
        if loader not in LOADERS:
            fail(source, f"{where}.loader", f"unknown loader {loader!r}; known: {sorted(LOADERS)}")
        if loader in GENERATED_LOADERS and "root" in ds:
            fail(source, f"{where}.root", f"the generated {loader} set takes no root")
        if loader not in GENERATED_LOADERS and "root" not in ds:
            fail(source, f"{where}.root", f"loader {loader!r} needs a root")
        args = ds.get("args", {}) or {}
        fn = LOADERS[loader]
        accepted = set(inspect.signature(fn).parameters) - {"root"}
        bad = set(args) - accepted
        if bad:
            fail(
                source, f"{where}.args", f"unknown argument(s) {sorted(bad)} for loader {loader!r}"
            )
        victims = ds.get("victims")
        if not isinstance(victims, dict) or not victims:
            fail(source, f"{where}.victims", "must be a non-empty mapping of victim names")
        for vname, v in victims.items():
            vwhere = f"{where}.victims.{vname}"
            try:
                spec = victim_spec(vname)
            except ValueError as exc:
                fail(source, vwhere, str(exc))
            v = v or {}
            unknown = set(v) - _VICTIM
            if unknown:
                fail(source, vwhere, f"unknown key(s) {sorted(unknown)}")
            bad = set(v.get("knobs", {}) or {}) - set(spec.knobs)
            if bad:
                fail(
                    source, f"{vwhere}.knobs", f"unknown knob(s) {sorted(bad)}; knobs: {spec.knobs}"
                )
            try:
                TrainConfig.from_dict({**spec.recipe, **(v.get("train", {}) or {})})
            except (TypeError, ValueError) as exc:
                fail(source, f"{vwhere}.train", str(exc))

    for key, check in (sections or {}).items():
        if key in cfg:
            check(cfg[key], datasets, source)


def check_keys(source: str, where: str, value: Any, allowed: set, required: set) -> None:
    """``value`` is a mapping with every ``required`` key and no key outside ``allowed``."""
    if not isinstance(value, dict):
        fail(source, where, "must be a mapping")
    unknown = set(value) - allowed
    if unknown:
        fail(source, where, f"unknown key(s) {sorted(unknown)}")
    missing = required - set(value)
    if missing:
        fail(source, where, f"missing key(s) {sorted(missing)}")


def positive_int(source: str, where: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        fail(source, where, "must be a positive integer")


def merge_attack(base: dict[str, Any], over: dict[str, Any] | None) -> dict[str, Any]:
    """An attack's configuration with ``over`` applied (its ``settings`` merged key by key)."""
    over = dict(over or {})
    merged = {**base, **over}
    merged["settings"] = {**(base.get("settings") or {}), **(over.get("settings") or {})}
    return merged
