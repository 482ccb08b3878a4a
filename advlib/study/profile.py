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
    at: ...                       # optional: the "Adversarial training" chapter (its schema:
    gan: ...                      # advlib.chapters.at / .gan, validate_section)
    bench:                        # optional: the victim benchmark (advlib.tools.bench_victims)
      batch: 32                   # clips per timed pass (default 32; paper-size image victims
      repeats: 5                  # need far fewer), timed passes (median) and untimed
      warmup: 2                   # warm-up passes before them (defaults 5 and 2)

A data set's ``root`` may also name a fixture set, ``"{fixtures}/urbansound8k"``: a copy of the
real set's layout that advlib writes itself (:mod:`advlib.data.fixtures`, the ``smoke``
profile's data).
"""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, Literal, NoReturn

import yaml

from advlib.paths import REPO_ROOT

__all__ = [
    "PROFILES",
    "ProfileError",
    "load_profile",
    "load_yaml",
    "profile_path",
    "validate_profile",
]

PROFILES = ("demo", "ci", "paper", "smoke")
_TOP = {"profile", "seed", "description", "datasets", "attacks", "uap", "at", "gan", "bench"}
_BENCH = {"batch", "repeats", "warmup"}
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


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice in one mapping is an error (the
    plain loader keeps the last value silently). Keys merged in with ``<<:`` may be
    overridden, as YAML intends."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.get(key)
        except TypeError:  # an unhashable key: the base constructor says so
            break
        if first is not None:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} is written twice in one mapping (first on line {first + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_yaml(stream: str | IO[str], source: str = "YAML") -> Any:
    """Parse YAML safely, refusing a key written twice in a mapping; any syntax error or
    duplicate raises :class:`ProfileError` naming ``source`` and the line."""
    try:
        return yaml.load(stream, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "YAML"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError(f"{source}: {where}: {' '.join(str(problem).split())}") from None


def load_profile(
    name_or_path: str | Path, sections: Mapping[str, SectionCheck] | None = None
) -> dict[str, Any]:
    """Read and validate a profile (``sections``: the chapters' checks of their sections,
    :data:`advlib.chapters.SECTIONS`; :func:`advlib.chapters.load_profile` passes them).
    A key written twice in the file is an error, as is any YAML syntax error."""
    path = profile_path(name_or_path)
    if not path.is_file():
        raise ProfileError(f"no profile file {path} (known profiles: {', '.join(PROFILES)})")
    with open(path, encoding="utf-8") as f:
        cfg = load_yaml(f, str(path))
    validate_profile(cfg, source=str(path), sections=sections)
    return cfg


def fail(source: str, where: str, msg: str) -> NoReturn:
    raise ProfileError(f"{source}: {where}: {msg}")


def unknown_message(what: str, unknown: Iterable[Any], known: Iterable[Any]) -> str:
    """``unknown key(s) ['sed'] (did you mean 'seed'?); valid: a, b, c``."""
    known = sorted(map(str, known))
    unknown = sorted(map(str, unknown))
    hints = [f"{u!r} -> {m[0]!r}" for u in unknown if (m := difflib.get_close_matches(u, known, 1))]
    hint = f" (did you mean {', '.join(hints)}?)" if hints else ""
    return f"unknown {what} {unknown}{hint}; valid: {', '.join(known) or 'none'}"


def _type_problem(value: Any, hint: Any) -> str | None:
    """Why ``value`` does not fit the annotation ``hint`` (ints, floats, bools, strings,
    ``Literal`` choices, unions with ``None``), or ``None`` when it fits or cannot be told."""
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices or isinstance(value, bool):
            return f"must be one of {', '.join(map(repr, choices))}; got {value!r}"
        return None
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        problems = [_type_problem(value, h) for h in options if h is not type(None)]
        return None if any(p is None for p in problems) else problems[0]
    if hint is bool:
        return None if isinstance(value, bool) else f"must be true or false; got {value!r}"
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer; got {value!r}"
        return None
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            extra = ""
            if isinstance(value, str) and "e" in value.lower():
                extra = " (YAML reads 1e-3 as text: write 1.0e-3)"
            return f"must be a number; got {value!r}{extra}"
        return None
    return None


# loader arguments that must be positive where given
_POSITIVE_ARGS = {"sample_rate", "length", "duration", "clips_per_class", "n_folds", "n_speakers"}


def check_call_args(source: str, where: str, fn: Callable[..., Any], args: Mapping) -> None:
    """``args`` fit ``fn``'s annotated parameter types (``Literal`` choices listed); counts and
    rates in :data:`_POSITIVE_ARGS` are positive."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation that cannot be resolved: the call will tell
        return
    for name, value in args.items():
        if name in hints:
            problem = _type_problem(value, hints[name])
            if problem is not None:
                fail(source, f"{where}.{name}", problem)
        if name in _POSITIVE_ARGS and isinstance(value, int | float) and not value > 0:
            fail(source, f"{where}.{name}", f"must be positive; got {value!r}")


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
    unknown = set(cfg) - _TOP
    if unknown:
        fail(source, "top level", unknown_message("key(s)", unknown, _TOP))
    missing = {"profile", "seed", "datasets"} - set(cfg)
    if missing:
        fail(source, "top level", f"missing key(s) {sorted(missing)}")
    if isinstance(cfg["seed"], bool) or not isinstance(cfg["seed"], int) or cfg["seed"] < 0:
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
            fail(source, where, unknown_message("key(s)", unknown, _DATASET))
        loader = ds.get("loader")
        if not isinstance(loader, str) or loader not in LOADERS:
            fail(source, f"{where}.loader", unknown_message("loader", [loader], LOADERS))
        if loader in GENERATED_LOADERS and "root" in ds:
            fail(source, f"{where}.root", f"the generated {loader} set takes no root")
        if loader not in GENERATED_LOADERS and "root" not in ds:
            fail(source, f"{where}.root", f"loader {loader!r} needs a root")
        args = ds.get("args", {}) or {}
        if not isinstance(args, dict):
            fail(source, f"{where}.args", "must be a mapping of loader arguments")
        fn = LOADERS[loader]
        accepted = set(inspect.signature(fn).parameters) - {"root"}
        bad = set(args) - accepted
        if bad:
            fail(
                source,
                f"{where}.args",
                unknown_message(f"argument(s) for loader {loader!r}", bad, accepted),
            )
        check_call_args(source, f"{where}.args", fn, args)
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
            if not isinstance(v, dict):
                fail(source, vwhere, "must be a mapping of knobs and train")
            unknown = set(v) - _VICTIM
            if unknown:
                fail(source, vwhere, unknown_message("key(s)", unknown, _VICTIM))
            for part in ("knobs", "train"):
                if not isinstance(v.get(part) or {}, dict):
                    fail(source, f"{vwhere}.{part}", "must be a mapping")
            bad = set(v.get("knobs", {}) or {}) - set(spec.knobs)
            if bad:
                fail(source, f"{vwhere}.knobs", unknown_message("knob(s)", bad, spec.knobs))
            try:
                TrainConfig.from_dict({**spec.recipe, **(v.get("train", {}) or {})})
            except (TypeError, ValueError) as exc:
                fail(source, f"{vwhere}.train", str(exc))

    if cfg.get("bench") is not None:
        check_keys(source, "bench", cfg["bench"], _BENCH, set())
        for k in ("batch", "repeats"):
            if k in cfg["bench"]:
                positive_int(source, f"bench.{k}", cfg["bench"][k])
        w = cfg["bench"].get("warmup", 0)
        if not isinstance(w, int) or isinstance(w, bool) or w < 0:
            fail(source, "bench.warmup", "must be a non-negative integer")
    for key, check in (sections or {}).items():
        if key in cfg:
            try:
                check(cfg[key], datasets, source)
            except (TypeError, AttributeError, KeyError, IndexError) as exc:
                # a value of the wrong kind where the chapter's check expected another
                fail(
                    source,
                    key,
                    f"malformed section ({type(exc).__name__}: {exc}); a value there has the "
                    "wrong type (see the schema in advlib/study/profile.py)",
                )


def check_keys(source: str, where: str, value: Any, allowed: set, required: set) -> None:
    """``value`` is a mapping with every ``required`` key and no key outside ``allowed``."""
    if not isinstance(value, dict):
        fail(source, where, "must be a mapping")
    unknown = set(value) - allowed
    if unknown:
        fail(source, where, unknown_message("key(s)", unknown, allowed))
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
