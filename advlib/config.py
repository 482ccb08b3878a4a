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
        root: "{shared_data}/fsdd"          # not for the generated sets (synthetic,
                                             # synthetic_speech); {shared_data}, {data}, {repo}
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
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import yaml

from .paths import REPO_ROOT

__all__ = ["PROFILES", "load_profile", "profile_path", "validate_profile"]

PROFILES = ("demo", "ci", "paper")
_TOP = {"profile", "seed", "description", "datasets", "attacks", "uap", "at", "gan"}
_GAN = {
    "victims",
    "config",
    "n_eval",
    "compare",
    "quality",
    "ablation",
    "listen",
    "transfer",
    "playback",
}
_GAN_VICTIM = {"dataset", "victim", "targets", "label", "config"}
_AT = {
    "datasets",
    "representations",
    "frontend",
    "archs",
    "train",
    "fgsm",
    "n_attack",
    "batch_size",
    "cap",
    "attacks",
    "attack_cells",
    "figure",
    "waveform",
    "pgd",
}
_AT_TRAINING = {"method", "eps", "alpha", "epochs", "lr", "init", "steps", "step_size", "monitor"}
_AT_ATTACK = {"attack", "settings", "targeted", "budgets", "step_fraction"}
_ATTACKS = {
    "dataset",
    "victim",
    "n",
    "batch_size",
    "runs",
    "universal",
    "eot",
    "bench_n",
    "bench_libraries",
}
_RUN = {"attack", "settings", "targets"}
_UNIVERSAL_RUN = {"attack", "settings", "target"}
_DATASET = {"loader", "root", "args", "licence", "victims", "title"}
_VICTIM = {"knobs", "train"}


class ProfileError(ValueError):
    """A profile breaks the schema; the message names the key."""


def profile_path(name_or_path: str | Path) -> Path:
    """``"demo"`` -> ``config/demo.yaml``; a path is returned as is."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return p if p.is_absolute() else REPO_ROOT / p
    return REPO_ROOT / "config" / f"{name_or_path}.yaml"


def load_profile(name_or_path: str | Path) -> dict[str, Any]:
    """Read and validate a profile."""
    path = profile_path(name_or_path)
    if not path.is_file():
        raise ProfileError(f"no profile file {path} (known profiles: {', '.join(PROFILES)})")
    with open(path) as f:
        cfg = yaml.safe_load(f)
    validate_profile(cfg, source=str(path))
    return cfg


def _fail(source: str, where: str, msg: str) -> None:
    raise ProfileError(f"{source}: {where}: {msg}")


def validate_profile(cfg: Any, source: str = "profile") -> None:
    """Check a profile mapping against the schema; raise :class:`ProfileError` naming the key."""
    from .data import GENERATED_LOADERS, LOADERS
    from .models.registry import victim_spec
    from .train import TrainConfig

    if not isinstance(cfg, dict):
        _fail(source, "top level", "must be a mapping")
    missing = {"profile", "seed", "datasets"} - set(cfg)
    if missing:
        _fail(source, "top level", f"missing key(s) {sorted(missing)}")
    unknown = set(cfg) - _TOP
    if unknown:
        _fail(source, "top level", f"unknown key(s) {sorted(unknown)}")
    if not isinstance(cfg["seed"], int) or cfg["seed"] < 0:
        _fail(source, "seed", "must be a non-negative integer")
    datasets = cfg["datasets"]
    if not isinstance(datasets, dict) or not datasets:
        _fail(source, "datasets", "must be a non-empty mapping")
    for name, ds in datasets.items():
        where = f"datasets.{name}"
        if not isinstance(ds, dict):
            _fail(source, where, "must be a mapping")
        unknown = set(ds) - _DATASET
        if unknown:
            _fail(source, where, f"unknown key(s) {sorted(unknown)}")
        loader = ds.get("loader")
        if loader not in LOADERS:
            _fail(source, f"{where}.loader", f"unknown loader {loader!r}; known: {sorted(LOADERS)}")
        if loader in GENERATED_LOADERS and "root" in ds:
            _fail(source, f"{where}.root", f"the generated {loader} set takes no root")
        if loader not in GENERATED_LOADERS and "root" not in ds:
            _fail(source, f"{where}.root", f"loader {loader!r} needs a root")
        args = ds.get("args", {}) or {}
        fn = LOADERS[loader]
        accepted = set(inspect.signature(fn).parameters) - {"root"}
        bad = set(args) - accepted
        if bad:
            _fail(
                source, f"{where}.args", f"unknown argument(s) {sorted(bad)} for loader {loader!r}"
            )
        victims = ds.get("victims")
        if not isinstance(victims, dict) or not victims:
            _fail(source, f"{where}.victims", "must be a non-empty mapping of victim names")
        for vname, v in victims.items():
            vwhere = f"{where}.victims.{vname}"
            try:
                spec = victim_spec(vname)
            except ValueError as exc:
                _fail(source, vwhere, str(exc))
            v = v or {}
            unknown = set(v) - _VICTIM
            if unknown:
                _fail(source, vwhere, f"unknown key(s) {sorted(unknown)}")
            bad = set(v.get("knobs", {}) or {}) - set(spec.knobs)
            if bad:
                _fail(
                    source, f"{vwhere}.knobs", f"unknown knob(s) {sorted(bad)}; knobs: {spec.knobs}"
                )
            try:
                TrainConfig.from_dict({**spec.recipe, **(v.get("train", {}) or {})})
            except (TypeError, ValueError) as exc:
                _fail(source, f"{vwhere}.train", str(exc))

    if "attacks" in cfg:
        _validate_attacks(cfg["attacks"], datasets, source)
    if "uap" in cfg:
        _validate_uap(cfg["uap"], datasets, source)
    if "at" in cfg:
        _validate_at(cfg["at"], datasets, source)
    if "gan" in cfg:
        _validate_gan(cfg["gan"], datasets, source)


def _check_keys(source: str, where: str, value: Any, allowed: set, required: set) -> None:
    """``value`` is a mapping with every ``required`` key and no key outside ``allowed``."""
    if not isinstance(value, dict):
        _fail(source, where, "must be a mapping")
    unknown = set(value) - allowed
    if unknown:
        _fail(source, where, f"unknown key(s) {sorted(unknown)}")
    missing = required - set(value)
    if missing:
        _fail(source, where, f"missing key(s) {sorted(missing)}")


def _positive_int(source: str, where: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        _fail(source, where, "must be a positive integer")


def _validate_attacks(att: Any, datasets: dict[str, Any], source: str) -> None:
    where = "attacks"
    _check_keys(source, where, att, _ATTACKS, {"dataset", "victim", "runs"})
    if att["dataset"] not in datasets:
        _fail(source, f"{where}.dataset", f"{att['dataset']!r} is not a data set of the profile")
    if att["victim"] not in datasets[att["dataset"]]["victims"]:
        _fail(source, f"{where}.victim", f"{att['victim']!r} is not trained on {att['dataset']!r}")
    for key in ("n", "batch_size", "bench_n"):
        if key in att:
            _positive_int(source, f"{where}.{key}", att[key])
    libs = att.get("bench_libraries", [])
    known = {"advlib", "torchattacks", "foolbox", "art"}
    if not isinstance(libs, list) or set(libs) - known:
        _fail(source, f"{where}.bench_libraries", f"must be a list of {sorted(known)}")
    runs = att["runs"]
    if not isinstance(runs, dict) or not runs:
        _fail(source, f"{where}.runs", "must be a non-empty mapping of labels")
    for label, run in runs.items():
        run = _check_run(source, f"{where}.runs.{label}", label, run, universal=False)
        t = run.get("targets")
        if t is not None and t != "next" and (not isinstance(t, int) or t < 0):
            _fail(source, f"{where}.runs.{label}.targets", "must be a class index or 'next'")
    uni = att.get("universal")
    if uni is not None:
        uwhere = f"{where}.universal"
        if not isinstance(uni, dict) or set(uni) - {"n_craft", "runs"} or not uni.get("runs"):
            _fail(source, uwhere, "must be a mapping with n_craft and a non-empty runs mapping")
        for label, run in uni["runs"].items():
            _check_run(source, f"{uwhere}.runs.{label}", label, run, universal=True)
    eot = att.get("eot")
    if eot is not None:
        ewhere = f"{where}.eot"
        if not isinstance(eot, dict) or set(eot) - {"run", "samples"}:
            _fail(source, ewhere, "must be a mapping of run and samples")
        if eot.get("run") not in runs:
            _fail(source, f"{ewhere}.run", f"{eot.get('run')!r} is not a label of attacks.runs")


def _check_run(source: str, where: str, label: str, run: Any, *, universal: bool) -> dict:
    """One run of the attacks section: known keys, a known attack of the right kind (per-clip
    under ``runs``, universal under ``universal.runs``) and settings it accepts."""
    from .attacks.registry import attack_spec, make_attack

    run = run or {}
    if not isinstance(run, dict):
        _fail(source, where, "must be a mapping")
    unknown = set(run) - (_UNIVERSAL_RUN if universal else _RUN)
    if unknown:
        _fail(source, where, f"unknown key(s) {sorted(unknown)}")
    name = run.get("attack", label)
    try:
        kind = attack_spec(name).kind
        make_attack(name, run.get("settings") or {})
    except ValueError as exc:
        _fail(source, where, str(exc))
    if universal and kind != "universal":
        _fail(source, where, f"{name!r} is not a universal attack")
    if not universal and kind == "universal":
        _fail(source, where, f"{name!r} is universal; the chapter runs per-clip attacks")
    return run


_UAP = {"n_craft", "n_eval", "methods", "tables", "confidence", "n_craft_sweep", "single",
        "transfer", "playback"}  # fmt: skip
_UAP_TABLE = {"artefact", "dataset", "victims", "targets", "overrides", "model_accuracy"}
_UAP_PARTS = {
    "confidence": ({"table", "victims", "values", "target"}, {"table", "victims", "values"}),
    "n_craft_sweep": (
        {"table", "values", "untargeted", "targeted", "target"},
        {"table", "values", "untargeted", "targeted"},
    ),
    "single": ({"table", "victim", "settings"}, {"table", "victim"}),
    "transfer": ({"tables"}, {"tables"}),
    "playback": ({"table", "victims", "draws", "eot_samples"}, {"table", "victims"}),
}


def _validate_uap(uap: Any, datasets: dict[str, Any], source: str) -> None:
    """The ``uap`` section: data sets and victims of the profile, settings each method
    accepts in each scenario (after each table's overrides), targets, and the sweeps'
    references to a table."""
    from .attacks.registry import make_attack
    from .universal import SCENARIOS, uap_settings

    where = "uap"
    _check_keys(source, where, uap, _UAP, {"n_craft", "methods", "tables"})
    _positive_int(source, f"{where}.n_craft", uap["n_craft"])
    if uap.get("n_eval") is not None:
        _positive_int(source, f"{where}.n_eval", uap["n_eval"])
    methods = uap["methods"]
    if not isinstance(methods, dict) or set(methods) != {"uap_iterative", "uap_penalty"}:
        _fail(source, f"{where}.methods", "must give settings for uap_iterative and uap_penalty")
    for method, block in methods.items():
        if not isinstance(block, dict):
            _fail(source, f"{where}.methods.{method}", "must be a mapping")

    def check(method: str, at: str, **settings_of: Any) -> None:
        for scenario in SCENARIOS:
            try:
                make_attack(method, uap_settings(methods, method, scenario, **settings_of))
            except ValueError as exc:
                _fail(source, at, str(exc))

    for method in methods:
        check(method, f"{where}.methods.{method}")
    tables = uap["tables"]
    if not isinstance(tables, list) or not tables:
        _fail(source, f"{where}.tables", "must be a non-empty list")
    for i, tab in enumerate(tables):
        twhere = f"{where}.tables[{i}]"
        _check_keys(source, twhere, tab, _UAP_TABLE, {"dataset", "victims"})
        if tab["dataset"] not in datasets:
            _fail(
                source, f"{twhere}.dataset", f"{tab['dataset']!r} is not a data set of the profile"
            )
        trained = datasets[tab["dataset"]]["victims"]
        if not isinstance(tab["victims"], list) or not tab["victims"]:
            _fail(source, f"{twhere}.victims", "must be a non-empty list")
        for v in tab["victims"]:
            if v not in trained:
                _fail(source, f"{twhere}.victims", f"{v!r} is not trained on {tab['dataset']!r}")
        targets = tab.get("targets", "all")
        if targets != "all" and (not isinstance(targets, list) or not targets):
            _fail(source, f"{twhere}.targets", "must be 'all' or a non-empty list of classes")
        overrides = tab.get("overrides") or {}
        for method in overrides:
            if method not in methods:
                _fail(source, f"{twhere}.overrides", f"unknown method {method!r}")
            check(method, f"{twhere}.overrides.{method}", table_overrides=overrides)
    for part, (allowed, required) in _UAP_PARTS.items():
        if part not in uap:
            continue
        sec = uap[part]
        pwhere = f"{where}.{part}"
        _check_keys(source, pwhere, sec, allowed, required)
        refs = sec["tables"] if part == "transfer" else [sec["table"]]
        for t in refs:
            if not isinstance(t, int) or not 0 <= t < len(tables):
                _fail(source, pwhere, f"table {t!r} is not an index of uap.tables")
        trained = tables[refs[0]]["victims"]
        named = [
            *sec.get("victims", []),
            *(sec[k] for k in ("victim", "untargeted", "targeted") if k in sec),
        ]
        for v in named:
            if v not in trained:
                _fail(source, pwhere, f"{v!r} is not a victim of uap.tables[{refs[0]}]")
        if "values" in sec and (not isinstance(sec["values"], list) or not sec["values"]):
            _fail(source, f"{pwhere}.values", "must be a non-empty list")
        if part == "single":
            check("uap_penalty", f"{pwhere}.settings", **(sec.get("settings") or {}))


def _cells(source: str, where: str, cells: Any, archs: dict, reps: list) -> None:
    """A list of ``[arch, representation]`` pairs the section trains."""
    if not isinstance(cells, list) or not cells:
        _fail(source, where, "must be a non-empty list of [arch, representation] pairs")
    for cell in cells:
        if not isinstance(cell, list) or len(cell) != 2:
            _fail(source, where, f"{cell!r} is not an [arch, representation] pair")
        if cell[0] not in archs or cell[1] not in reps:
            _fail(source, where, f"{cell!r}: not among at.archs x at.representations")


def _validate_at(at: Any, datasets: dict[str, Any], source: str) -> None:
    """The ``at`` section (the "Adversarial training" chapter): data sets with folds, image
    classifiers and their knobs, the training recipes, the six attacks' settings (checked
    against each attack's parameters) and the cells that are attacked."""
    from .at_study import ATTACK_TITLES
    from .attacks.registry import make_attack
    from .models.registry import victim_spec
    from .models.spectrogram import ARCHITECTURES, REPRESENTATIONS
    from .train import TrainConfig

    where = "at"
    _check_keys(source, where, at, _AT, {"datasets", "representations", "archs", "fgsm",
                                          "attacks", "attack_cells", "cap"})  # fmt: skip
    if not isinstance(at["datasets"], dict) or not at["datasets"]:
        _fail(source, f"{where}.datasets", "must be a non-empty mapping")
    for name, ds in at["datasets"].items():
        dwhere = f"{where}.datasets.{name}"
        if name not in datasets:
            _fail(source, dwhere, f"{name!r} is not a data set of the profile")
        _check_keys(source, dwhere, ds, {"folds"}, {"folds"})
        folds = ds["folds"]
        ok = isinstance(folds, list) and folds and all(
            isinstance(f, list) and len(f) == 2 and all(isinstance(k, int) for k in f)
            and f[0] != f[1] for f in folds)  # fmt: skip
        if not ok:
            _fail(source, f"{dwhere}.folds", "must list [test fold, valid fold] pairs of ints")
    reps = at["representations"]
    if not isinstance(reps, list) or not reps or set(reps) - set(REPRESENTATIONS):
        _fail(source, f"{where}.representations", f"must be a list from {REPRESENTATIONS}")
    archs = at["archs"]
    if not isinstance(archs, dict) or not archs or set(archs) - set(ARCHITECTURES):
        _fail(source, f"{where}.archs", f"must map names from {ARCHITECTURES} to knobs")
    frontend = at.get("frontend") or {}
    for arch, knobs in archs.items():
        bad = set({**frontend, **(knobs or {})}) - set(victim_spec(arch).knobs)
        if bad or "representation" in (knobs or {}):
            _fail(source, f"{where}.archs.{arch}", f"unknown knob(s) {sorted(bad)} (the "
                  "representation comes from at.representations)")  # fmt: skip
        try:
            TrainConfig.from_dict({**victim_spec(arch).recipe, **(at.get("train") or {})})
        except (TypeError, ValueError) as exc:
            _fail(source, f"{where}.train", str(exc))
    for key in ("fgsm", "pgd"):
        if key not in at:
            continue
        allowed = _AT_TRAINING | ({"cell", "robust_steps"} if key == "pgd" else set())
        sec, kwhere = at[key], f"{where}.{key}"
        _check_keys(source, kwhere, sec, allowed, {"eps"})
        eps = sec["eps"]
        if not isinstance(eps, int | float) or not 0 < eps <= 1:
            _fail(source, f"{kwhere}.eps", "must be in (0, 1] (paper scale)")
        if sec.get("method", key) != key:
            _fail(source, f"{kwhere}.method", f"the {key} section trains with {key}")
        alpha = sec.get("alpha", 0.0)
        if not isinstance(alpha, int | float) or not 0 <= alpha <= 1:
            _fail(source, f"{kwhere}.alpha", "must be in [0, 1] (Eq. 14)")
        if sec.get("init", "original") not in ("original", "scratch"):
            _fail(source, f"{kwhere}.init", "must be 'original' or 'scratch'")
        for k in ("epochs", "steps", "robust_steps"):
            if k in sec:
                _positive_int(source, f"{kwhere}.{k}", sec[k])
        if sec.get("monitor") is not None:
            mon = sec["monitor"]
            _check_keys(source, f"{kwhere}.monitor", mon, {"n", "eps", "steps"}, {"eps"})
            for k in ("n", "steps"):
                if k in mon:
                    _positive_int(source, f"{kwhere}.monitor.{k}", mon[k])
        if key == "pgd":
            _cells(source, f"{where}.pgd.cell", [at["pgd"].get("cell")], archs, reps)
    for name in ("n_attack", "batch_size"):
        if at.get(name) is not None:
            _positive_int(source, f"{where}.{name}", at[name])
    if not isinstance(at["cap"], int | float) or not at["cap"] > 0:
        _fail(source, f"{where}.cap", "must be a positive budget (paper scale)")
    attacks = at["attacks"]
    if not isinstance(attacks, dict) or not attacks or set(attacks) - set(ATTACK_TITLES):
        _fail(source, f"{where}.attacks", f"must map names from {list(ATTACK_TITLES)}")

    def check_attack(awhere: str, cfg: Any) -> None:
        _check_keys(source, awhere, cfg, _AT_ATTACK, {"attack"})
        if not isinstance(cfg.get("targeted", False), bool):
            _fail(source, f"{awhere}.targeted", "must be true or false")
        frac = cfg.get("step_fraction", 1.0)
        if not isinstance(frac, int | float) or not frac > 0:
            _fail(source, f"{awhere}.step_fraction", "must be positive")
        settings = dict(cfg.get("settings") or {})
        if cfg.get("budgets") is not None:
            b = cfg["budgets"]
            if not isinstance(b, list) or not b or any(not v > 0 for v in b) or b != sorted(b):
                _fail(source, f"{awhere}.budgets", "must be increasing positive budgets")
            settings["eps"] = b[0]
        try:
            make_attack(cfg["attack"], settings)
        except ValueError as exc:
            _fail(source, awhere, str(exc))

    for name, cfg in attacks.items():
        check_attack(f"{where}.attacks.{name}", cfg)
    _cells(source, f"{where}.attack_cells", at["attack_cells"], archs, reps)
    if "figure" in at:
        _check_keys(source, f"{where}.figure", at["figure"], {"cell", "clip"}, {"cell"})
        clip = at["figure"].get("clip", 0)
        if not isinstance(clip, int) or isinstance(clip, bool) or clip < 0:
            _fail(source, f"{where}.figure.clip", "must be a test-clip index >= 0")
        _cells(source, f"{where}.figure.cell", [at["figure"]["cell"]], archs, reps)
    if "waveform" in at:
        wave = at["waveform"]
        wwhere = f"{where}.waveform"
        _check_keys(source, wwhere, wave, {"cells", "cap", "attacks"}, {"cells", "cap", "attacks"})
        _cells(source, f"{wwhere}.cells", wave["cells"], archs, reps)
        if not isinstance(wave["cap"], int | float) or not wave["cap"] > 0:
            _fail(source, f"{wwhere}.cap", "must be a positive budget (paper scale)")
        if not isinstance(wave["attacks"], dict) or set(wave["attacks"]) - set(attacks):
            _fail(source, f"{wwhere}.attacks", "must map names of at.attacks to overrides")
        for name, over in wave["attacks"].items():
            check_attack(f"{wwhere}.attacks.{name}", merge_attack(attacks[name], over))


def _validate_gan(gan: Any, datasets: dict[str, Any], source: str) -> None:
    """The ``gan`` section (the "Generative attacks" chapter): the victims attacked (a data set
    of the profile and a victim trained on it, the target classes), the generator recipe
    (:class:`advlib.gan.GanConfig`, per victim overridable), the baselines of Table 1 (checked
    against each attack's parameters) and the indices the figures use."""
    from .attacks.registry import make_attack
    from .gan import GanConfig

    where = "gan"
    _check_keys(source, where, gan, _GAN, {"victims", "config"})
    victims = gan["victims"]
    if not isinstance(victims, list) or not victims:
        _fail(source, f"{where}.victims", "must be a non-empty list of {dataset, victim}")

    def recipe(rwhere: str, *configs: Any) -> GanConfig:
        merged: dict[str, Any] = {}
        for c in configs:
            if c is not None and not isinstance(c, dict):
                _fail(source, rwhere, "must be a mapping of GAN settings")
            merged.update(c or {})
        try:
            return GanConfig.from_dict(merged)
        except (TypeError, ValueError) as exc:
            _fail(source, rwhere, str(exc))

    recipe(f"{where}.config", gan["config"])
    for i, v in enumerate(victims):
        vwhere = f"{where}.victims[{i}]"
        _check_keys(source, vwhere, v, _GAN_VICTIM, {"dataset", "victim"})
        if v["dataset"] not in datasets:
            _fail(source, f"{vwhere}.dataset", f"{v['dataset']!r} is not a data set of the profile")
        if v["victim"] not in datasets[v["dataset"]]["victims"]:
            _fail(source, f"{vwhere}.victim",
                  f"{v['victim']!r} is not trained on {v['dataset']!r}")  # fmt: skip
        targets = v.get("targets", "all")
        ok = targets == "all" or (
            isinstance(targets, list) and targets
            and all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in targets)
            and len(set(targets)) == len(targets))  # fmt: skip
        if not ok:
            _fail(source, f"{vwhere}.targets", "must be 'all' or a list of distinct class indices")
        recipe(f"{vwhere}.config", gan["config"], v.get("config"))

    def victim_index(swhere: str, sec: dict) -> int:
        i = sec.get("victim", 0)
        if not isinstance(i, int) or isinstance(i, bool) or not 0 <= i < len(victims):
            _fail(source, f"{swhere}.victim", f"must index gan.victims (0..{len(victims) - 1})")
        return i

    if gan.get("n_eval") is not None:
        _positive_int(source, f"{where}.n_eval", gan["n_eval"])
    if gan.get("compare") is not None:
        cwhere = f"{where}.compare"
        cmp = gan["compare"]
        _check_keys(source, cwhere, cmp, {"victim", "n", "baselines"}, {"baselines"})
        victim_index(cwhere, cmp)
        if "n" in cmp:
            _positive_int(source, f"{cwhere}.n", cmp["n"])
        if not isinstance(cmp["baselines"], dict) or not cmp["baselines"]:
            _fail(source, f"{cwhere}.baselines", "must map labels to {attack, settings}")
        for label, b in cmp["baselines"].items():
            bwhere = f"{cwhere}.baselines.{label}"
            _check_keys(source, bwhere, b, {"attack", "settings"}, {"attack"})
            try:
                make_attack(b["attack"], b.get("settings"))
            except ValueError as exc:
                _fail(source, bwhere, str(exc))
    if gan.get("quality") is not None:
        _check_keys(source, f"{where}.quality", gan["quality"], {"max_clips"}, set())
        if gan["quality"].get("max_clips") is not None:
            _positive_int(source, f"{where}.quality.max_clips", gan["quality"]["max_clips"])
    if gan.get("ablation") is not None:
        awhere = f"{where}.ablation"
        ab = gan["ablation"]
        _check_keys(source, awhere, ab, {"victim", "source", "target", "config", "variants"},
                    {"source", "target"})  # fmt: skip
        i = victim_index(awhere, ab)
        for k in ("source", "target"):
            if not isinstance(ab[k], int) or isinstance(ab[k], bool) or ab[k] < 0:
                _fail(source, f"{awhere}.{k}", "must be a class index >= 0")
        if ab["source"] == ab["target"]:
            _fail(source, awhere, "source and target must differ")
        variants = ab.get("variants", ["paper"])
        if not isinstance(variants, list) or not variants or set(variants) - {"paper", "code"}:
            _fail(source, f"{awhere}.variants", "must list 'paper' and/or 'code'")
        recipe(f"{awhere}.config", gan["config"], victims[i].get("config"), ab.get("config"))
    if gan.get("listen") is not None:
        lwhere = f"{where}.listen"
        ls = gan["listen"]
        _check_keys(source, lwhere, ls, {"victim", "pairs"}, {"pairs"})
        victim_index(lwhere, ls)
        pairs = ls["pairs"]
        if not isinstance(pairs, list) or not pairs or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(k, int) for k in p)
            and p[0] != p[1] for p in pairs):  # fmt: skip
            _fail(source, f"{lwhere}.pairs", "must list [source, target] class pairs")
    if gan.get("transfer") is not None:
        twhere = f"{where}.transfer"
        tr = gan["transfer"]
        _check_keys(source, twhere, tr, {"victim", "others"}, {"others"})
        spec = victims[victim_index(twhere, tr)]
        trained = datasets[spec["dataset"]]["victims"]
        others = tr["others"]
        if not isinstance(others, list) or not others or set(others) - set(trained):
            msg = f"must list victims trained on {spec['dataset']!r}: {sorted(trained)}"
            _fail(source, f"{twhere}.others", msg)
    if gan.get("playback") is not None:
        pwhere = f"{where}.playback"
        pb = gan["playback"]
        _check_keys(source, pwhere, pb, {"victim", "draws"}, set())
        victim_index(pwhere, pb)
        if "draws" in pb:
            _positive_int(source, f"{pwhere}.draws", pb["draws"])


def merge_attack(base: dict[str, Any], over: dict[str, Any] | None) -> dict[str, Any]:
    """An attack's configuration with ``over`` applied (its ``settings`` merged key by key)."""
    over = dict(over or {})
    merged = {**base, **over}
    merged["settings"] = {**(base.get("settings") or {}), **(over.get("settings") or {})}
    return merged
