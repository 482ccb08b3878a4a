"""The ``smoke`` profile (config/smoke.yaml): the paper profile at paper size on fixture data sets.

Fast tests check that the smoke profile is the paper profile with only its counts cut, that
its fixture data sets load in every real layout, and that CI's covering part of it
(:data:`CI_UNITS`) covers every victim, representation, data-set layout and attack of the whole
profile. The slow test runs that covering part (``pytest -m slow``; CI runs it), about 12 min
on 2 cores; ``make book PROFILE=smoke`` runs all of it (README, "The smoke profile").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from advlib.cache import Cache, canonical_json
from advlib.chapters import load_profile
from advlib.data.fixtures import SMOKE_SETS, fixture_set, make_smoke_data
from advlib.tools.units import profile_units, run_units, with_needs

#: The smoke units CI runs, with every unit they need (:func:`with_needs`): every victim at
#: paper size (but :data:`FULL_RUN_ONLY`), every representation, every data-set layout, every
#: attack, each at least once, within about 12 minutes on 2 cores.
CI_UNITS: list[str] = [
    # the UAP victims on UrbanSound8K (folds, metadata CSV, mixed rates), both UAP methods,
    # targeted and untargeted, and the speech victim of Table 2 (Speech Commands' lists)
    "uap/t0/cnn1d_rand/uap_iterative/untargeted",
    "uap/t0/cnn1d_gamma/uap_penalty/untargeted",
    "uap/t0/envnet_v2/uap_penalty/target-0",
    "uap/t0/sincnet/uap_iterative/target-0",
    "uap/t0/sincnet_vgg19/uap_penalty/untargeted",
    "uap/t1/spchcmd/uap_penalty/untargeted",
    # FSDD's layout
    "victims/fsdd/wrn28_10",
    # the attack library: every per-clip attack, the universal ones and EOT
    "attacks/run/fgsm",
    "attacks/run/bim_a",
    "attacks/run/pgd_targeted",
    "attacks/run/deepfool",
    "attacks/run/cw_l2",
    "attacks/run/ddn",
    "attacks/run/jsma",
    "attacks/run/nes",
    "attacks/run/genetic",
    "attacks/run/pso",
    "attacks/universal/uap_iterative",
    "attacks/eot/pgd_linf",
    # the AT chapter: ESC-50's layout, every representation, FGSM and PGD training, every
    # attack in the image and the waveform domain
    "at/esc50_at/f5v4/dwt_tonnetz/alexnet/fgsm/bim_a",
    "at/esc50_at/f5v4/dwt_tonnetz/alexnet/original/jsma",
    "at/esc50_at/f5v4/dwt_tonnetz/alexnet/original/deepfool",
    "at/esc50_at/f5v4/dwt_tonnetz/alexnet/original/cw_l2",
    "at/esc50_at/f5v4/dwt_tonnetz/alexnet/original/pia",
    "at/esc50_at/f5v4/dwt_tonnetz/alexnet/original/wave-bim_b",
    "at/esc50_at/f5v4/dwt_tonnetz/alexnet/pgd-beyond/robust",
    "at/esc50_at/f5v4/stft/alexnet/original",
    "at/esc50_at/f5v4/dwt/alexnet/original",
    "at/urbansound8k_at/f10v9/stft_tonnetz/googlenet/original",
    "at/urbansound8k_at/f10v9/cwt/resnet34/original",
    "at/urbansound8k_at/f10v9/cwt_tonnetz/resnet18/original",
    "victims/urbansound8k_at/alexnet",
    # the GAN chapter: GTZAN's genre folders and the speech victim's generators, a baseline
    "gan/v1-samplecnn/gen/0",
    "gan/v0-wrn28_10/ablation/code/hinge_and_L2",
    "gan/v0-wrn28_10/compare/pso/0",
]

#: What CI leaves to the full smoke run: the two slowest image classifiers at 768 x 1568 (their
#: AT cells, on the STFT and DWT images, and their victims on DWT+tonnetz). Every other victim,
#: every representation, layout and attack runs in CI.
FULL_RUN_ONLY: dict[str, set[str]] = {"victims": {"resnet56", "vgg16"}}

_ATTACK_KEYS = ("run", "universal")


def _walk(value: Any, found: dict[str, set[str]]) -> None:
    """Collect data-set loaders, victims, representations and attacks named anywhere in a
    unit's spec."""
    if isinstance(value, Mapping):
        for key, v in value.items():
            if key == "loader" and isinstance(v, str):
                found["layouts"].add(v)
            elif key in ("victim", "arch") and isinstance(v, str):
                found["victims"].add(v)
            elif key == "victims" and isinstance(v, Mapping):
                found["victims"].update(v)
            elif key == "representation" and isinstance(v, str):
                found["representations"].add(v)
            elif key in ("attack", "method") and isinstance(v, str):
                found["attacks"].add(v)
            _walk(v, found)
    elif isinstance(value, list | tuple):
        for v in value:
            _walk(v, found)


def coverage(units: Mapping[str, Any], ids: list[str]) -> dict[str, set[str]]:
    """The victims, representations, data-set layouts (loaders) and attacks that running
    ``ids`` (with the units they need) exercises."""
    found: dict[str, set[str]] = {k: set() for k in ("victims", "representations", "layouts",
                                                      "attacks")}  # fmt: skip
    for uid in with_needs(units, ids):
        spec = units[uid].spec
        _walk(spec, found)
        kind, _, rest = uid.partition("/")
        if kind == "attacks":  # a run without an "attack" key is named by its label
            for k in _ATTACK_KEYS:
                if k in spec:
                    found["attacks"].add(spec[k].get("attack", rest.rsplit("/", 1)[-1]))
            if "eot" in spec:
                found["attacks"].add("eot")
        if kind == "gan" and ("/gen/" in uid or "/ablation/" in uid):
            found["attacks"].add("gan")
    return found


@pytest.fixture(scope="module")
def smoke():
    return load_profile("smoke")


def _victims_at_knobs(cfg: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {(v, canonical_json((c or {}).get("knobs") or {}))
            for d in cfg["datasets"].values() for v, c in d["victims"].items()}  # fmt: skip


#: The recipe settings the smoke profile may set: how long training runs and how many clips a
#: step holds (never the optimiser, its rate or its schedule).
_LENGTH = {"epochs", "max_steps", "batch_size", "micro_batch"}


def test_smoke_is_the_paper_profile_with_its_counts_cut(smoke):
    """The paper profile's data sets (loaders and arguments: rates, lengths, folds, words),
    every one of its victims at the paper's knobs, the paper recipes with only their length
    (epochs, steps per epoch, batch) cut, and every chapter section, with the same attacks."""
    paper = load_profile("paper")
    assert set(smoke["datasets"]) == set(paper["datasets"])
    for name, d in smoke["datasets"].items():
        p = paper["datasets"][name]
        assert (d["loader"], d["args"]) == (p["loader"], p["args"]), name
        assert fixture_set(d["root"]) == Path(p["root"]).name, name  # the real set's folder
        for v, c in d["victims"].items():
            assert c["knobs"] == p["victims"][v]["knobs"], (name, v)
            assert set(c.get("train") or {}) <= _LENGTH, (name, v)
    assert _victims_at_knobs(smoke) == _victims_at_knobs(paper)
    assert {k for k in paper if k not in ("profile", "description")} <= set(smoke)
    # the attack library: the same runs of the same attacks
    a, pa = smoke["attacks"], paper["attacks"]
    assert (a["dataset"], a["victim"]) == (pa["dataset"], pa["victim"])
    for part in ("runs", "universal"):
        runs, pruns = (a[part] if part == "runs" else a[part]["runs"],
                       pa[part] if part == "runs" else pa[part]["runs"])  # fmt: skip
        assert set(runs) == set(pruns)
        for k, r in runs.items():
            assert r.get("attack") == pruns[k].get("attack")
            assert set(r["settings"]) == set(pruns[k]["settings"]), k
    # the UAP chapter: the same tables, victims, targets, sections and methods
    u, pu = smoke["uap"], paper["uap"]
    assert set(u) == set(pu) and u["tables"] == pu["tables"] and u["variants"] == pu["variants"]
    assert u["methods"].keys() == pu["methods"].keys()
    for m in u["methods"]:
        assert set(u["methods"][m]) == set(pu["methods"][m]), m
    # the AT chapter: the same classifiers, representations, front-end and attacks
    t, pt = smoke["at"], paper["at"]
    assert set(t) == set(pt)
    assert (t["archs"], t["frontend"], t["representations"]) == (
        pt["archs"], pt["frontend"], pt["representations"])  # fmt: skip
    assert set(t["train"]) <= _LENGTH
    for k, c in t["attacks"].items():
        pc = pt["attacks"][k]
        assert (c["attack"], c.get("targeted")) == (pc["attack"], pc.get("targeted")), k
    for name, ds in t["datasets"].items():
        assert {tuple(f) for f in ds["folds"]} <= {tuple(f) for f in pt["datasets"][name]["folds"]}
    assert set(t["waveform"]["attacks"]) == set(pt["waveform"]["attacks"])
    # the GAN chapter: the same victims, recipe (only its length cut), baselines and sections
    g, pg = smoke["gan"], paper["gan"]
    assert set(g) == set(pg) and g["victims"] == pg["victims"]
    assert set(g["config"]) <= {"epochs", "warmup", "max_steps"} and g["config"]["warmup"] >= 1
    assert {k: b["attack"] for k, b in g["compare"]["baselines"].items()} == {
        k: b["attack"] for k, b in pg["compare"]["baselines"].items()}  # fmt: skip
    assert g["ablation"]["variants"] == pg["ablation"]["variants"]


def test_smoke_trains_every_architecture_and_representation(smoke):
    from advlib.chapters.at import table_cells
    from advlib.models.spectrogram import ARCHITECTURES, REPRESENTATIONS

    cells = {c for name in smoke["at"]["datasets"] for c in table_cells(smoke["at"], name)}
    assert {a for a, _ in cells} == set(ARCHITECTURES)
    assert {r for _, r in cells} == set(REPRESENTATIONS)


def test_smoke_fixture_sets_load_in_every_real_layout(tmp_path, monkeypatch):
    """Every data set of the smoke profile loads from its fixture, with its real classes and
    protocol; the fixtures are written once (a second call reuses them)."""
    from advlib.study import Study

    monkeypatch.setenv("ADVLIB_FIXTURES", str(tmp_path))
    cfg = load_profile("smoke")
    study = Study("smoke", 0, cfg["datasets"])  # writes the fixture sets it needs
    sizes = {}
    for name, d in cfg["datasets"].items():
        data = study.dataset(name)
        assert data.length == d["args"]["length"] and data.sample_rate == d["args"]["sample_rate"]
        parts = {p: int((data.split == p).sum()) for p in ("train", "valid", "test")}
        assert all(parts.values()), (name, parts)
        # every class in training and in the test partition
        for p in ("train", "test"):
            assert set(data.part(p).y.tolist()) == set(range(data.n_classes)), (name, p)
        sizes[name] = (data.n_classes, parts)
    assert sizes["urbansound8k"][0] == 10 and sizes["speech_commands"][0] == 21
    assert sizes["gtzan"] == (10, {"train": 442, "valid": 197, "test": 290})
    assert sizes["fsdd"][0] == 10 and sizes["speech_commands_gan"][0] == 10
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == sorted(
        SMOKE_SETS
    )
    stamp = tmp_path / "gtzan" / ".advlib-fixture.json"
    before = stamp.stat().st_mtime_ns
    make_smoke_data(tmp_path, ["gtzan"])
    assert stamp.stat().st_mtime_ns == before  # kept, not rewritten


def test_ci_covers_every_victim_representation_layout_and_attack(smoke):
    """The covering part CI runs exercises everything the whole smoke profile does, except the
    victims :data:`FULL_RUN_ONLY` names (which the full run still trains)."""
    units = profile_units(smoke)
    assert set(CI_UNITS) <= set(units), sorted(set(CI_UNITS) - set(units))
    everything = coverage(units, list(units))
    covered = coverage(units, CI_UNITS)
    for kind, names in everything.items():
        missing = names - covered[kind]
        assert missing == FULL_RUN_ONLY.get(kind, set()), (kind, sorted(missing))
    assert {"urbansound8k", "esc50", "speech_commands", "gtzan", "fsdd"} == everything["layouts"]
    assert len(everything["representations"]) == 6 and len(everything["victims"]) == 14
    assert {"fgsm", "pgd", "uap_iterative", "uap_penalty", "eot", "gan"} <= everything["attacks"]


def test_coverage_sees_what_a_unit_list_leaves_out(smoke):
    units = profile_units(smoke)
    got = coverage(units, ["victims/fsdd/cnn1d_rand"])
    assert got == {"victims": {"cnn1d_rand"}, "representations": set(), "layouts": {"fsdd"},
                   "attacks": set()}  # fmt: skip
    assert coverage(units, ["attacks/run/fgsm"])["attacks"] == {"fgsm"}


@pytest.mark.slow
def test_ci_covering_part_of_the_smoke_profile_runs(tmp_path, monkeypatch):
    """CI's part of the smoke profile (:data:`CI_UNITS` and their needs) runs at paper size on
    fresh fixtures into an empty cache; every unit computes, and its sentinel records its
    seconds, peak memory and data sizes."""
    import time

    from advlib.chapters.at import forget_representations

    monkeypatch.setenv("ADVLIB_FIXTURES", str(tmp_path / "fixtures"))
    units = profile_units(load_profile("smoke"))
    t0 = time.perf_counter()
    try:
        records = run_units(units, CI_UNITS, root=tmp_path, cache=Cache(tmp_path / "cache"))
    finally:
        forget_representations()
    took = time.perf_counter() - t0
    assert [r["id"] for r in records] == with_needs(units, CI_UNITS)
    for r in records:
        path = tmp_path / "data" / "units" / "smoke" / f"{r['id']}.json"
        rec = json.loads(path.read_text())
        assert rec["computed"] >= 1, r["id"]
        assert rec["seconds"] > 0 and rec["peak_rss_mb"] > 0 and rec["data"], r["id"]
    slowest = sorted(records, key=lambda r: -r["seconds"])[:5]
    print(f"\n{len(records)} smoke units in {took:.0f} s; slowest: "
          + ", ".join(f"{r['id']} {r['seconds']:.0f} s" for r in slowest))  # fmt: skip
