"""Units of work (advlib.study.units): running a page's units first leaves the page nothing to
compute (every cache look-up of the page is a hit), ids are unique and stable, the paper
profile has hundreds of them, and a changed setting reaches only the units it concerns."""

import copy
import json
from pathlib import Path

import pytest

from advlib.cache import Cache
from advlib.chapters import at, attacks, gan, load_profile, uap, victims
from advlib.study.units import Unit, check_units
from advlib.tools.nbtools import parameter_defaults, read_source
from advlib.tools.pages import page_parameters
from advlib.tools.units import batch_of, batches, page_units, profile_units, run_batch, run_unit

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = {"victims": victims, "attacks": attacks, "uap": uap, "at": at, "gan": gan}

pytestmark = pytest.mark.usefixtures("one_thread")

#: Smaller victims for the attack page's defaults (which train 50 epochs on 2,000 clips).
TINY_SYNTHETIC = {
    "loader": "synthetic", "root": None, "title": "Synthetic", "licence": "CC0",
    "args": {"seed": 0, "clips_per_class": 10, "sample_rate": 8000, "duration": 0.5},
    "victims": {"cnn1d_rand": {"knobs": {"width": 0.25, "pools": [4, 4, 1]},
                               "train": {"epochs": 6}}},
}  # fmt: skip


def _params(page):
    """The page's tiny parameters: its source's defaults (the attack page's made smaller)."""
    p = {**parameter_defaults(ROOT / "notebooks" / f"{page}.md"), "profile": "test"}
    if page == "victims":
        p["datasets"] = {"synthetic": copy.deepcopy(TINY_SYNTHETIC)}
    if page == "attacks":
        p.update(datasets={"synthetic": copy.deepcopy(TINY_SYNTHETIC)}, n=6, batch_size=6)
        p["universal"] = {"n_craft": 6, "runs": {"uap_iterative": {
            "settings": {"eps": 0.1, "max_passes": 1, "inner_steps": 2}}}}  # fmt: skip
    return p


def _units(page, params):
    """The page's units and the victims units of its data sets (as the pipeline runs them)."""
    out = CHAPTERS[page].units(params)
    if page != "victims":
        for ds, spec in params["datasets"].items():
            if spec.get("victims"):
                out = victims.units({**params, "dataset": ds}) + out
    return list(check_units(out).values())


def _execute_page(page, params):
    """The page's code cells, run here with ``params`` (the parameters cell replaced), as
    papermill runs them; returns the page's namespace (its ``study`` holds the cache events)."""
    ns = dict(params)
    for cell in read_source(ROOT / "notebooks" / f"{page}.md").cells:
        if cell.cell_type == "code" and "parameters" not in cell.metadata.get("tags", []):
            exec(compile(cell.source, f"{page}.md", "exec"), ns)
    return ns


@pytest.mark.parametrize("page", ["victims", "attacks", "uap", "at", "gan"])
def test_after_its_units_a_page_computes_nothing(page, tmp_cache, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    params = _params(page)
    units = _units(page, params)
    assert any(u.page == page for u in units)
    filled = set()
    for u in units:  # in the pipeline's order: each unit after the ones it needs
        rec = run_unit(u, tmp_path / "units" / f"{u.id}.json", cache=Cache(tmp_cache))
        assert json.loads((tmp_path / "units" / f"{u.id}.json").read_text())["id"] == u.id
        filled |= {(e["kind"], e["key"]) for e in rec["entries"]}
    ns = _execute_page(page, params)
    events = ns["study"].cache.events
    assert events, "the page read nothing from the cache"
    missed = [(e.kind, e.key[:12]) for e in events if not e.hit]
    assert not missed, f"the {page} page computed {missed} after its units"
    assert {(e.kind, e.key) for e in events} <= filled


@pytest.mark.parametrize("page", ["uap", "at"])
def test_a_batch_runs_a_pages_units_in_one_study_with_the_same_entries(
    page, tmp_cache, tmp_path, monkeypatch
):
    """``units=page`` (the small profiles): each page's units run in one process sharing one
    Study; every unit still writes its sentinel, and the page computes nothing afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    params = _params(page)
    units = {u.id: u for u in _units(page, params)}
    names = list(batches(units))
    assert all(n.startswith(("victims-", page)) for n in names) and names[-1].startswith(page)
    if page == "at":  # one batch per representation, side by side on the cores
        reps = {u.id.split("/")[3] for u in units.values() if u.page == "at"}
        assert {n for n in names if n.startswith("at")} == {f"at-{r}" for r in reps}
    for name in names:  # the victims' batches first, as the DAG orders them
        rec = run_batch(units, name, tmp_path / f"{name}.json", root=tmp_path,
                        cache=Cache(tmp_cache))  # fmt: skip
        assert rec["units"] == batches(units)[name]
        assert json.loads((tmp_path / f"{name}.json").read_text())["batch"] == name
    for uid in units:
        assert (
            json.loads((tmp_path / "data" / "units" / "test" / f"{uid}.json").read_text())["id"]
            == uid
        )
    ns = _execute_page(page, params)
    missed = [(e.kind, e.key[:12]) for e in ns["study"].cache.events if not e.hit]
    assert not missed, f"the {page} page computed {missed} after its batch"
    with pytest.raises(KeyError, match="no batch"):
        run_batch(units, "nope", tmp_path / "x.json", cache=Cache(tmp_cache))


def test_unit_sentinel_and_second_run_reads_only(tmp_cache, tmp_path):
    (u,) = victims.units(_params("victims"))
    first = run_unit(u, tmp_path / "s.json", cache=Cache(tmp_cache))
    assert first["computed"] == 1 and first["entries"][0]["kind"] == "victim"
    again = run_unit(u, tmp_path / "s.json", cache=Cache(tmp_cache))
    assert again["computed"] == 0 and again["entries"][0]["key"] == first["entries"][0]["key"]
    rec = json.loads((tmp_path / "s.json").read_text())
    assert rec["peak_rss_mb"] > 0 and rec["seconds"] >= 0 and rec["page"] == "victims"
    # what scales the unit's cost to another profile: CPU time, threads, the data's sizes
    assert rec["cpu_seconds"] >= 0 and rec["threads"] >= 1
    assert rec["peak_rss_scope"] in ("unit", "process")
    (name,) = rec["data"]
    sizes = rec["data"][name]
    assert sum(sizes["clips"].values()) > 0 and sizes["length"] > 0 and sizes["classes"] > 1
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically


@pytest.mark.parametrize("profile", ["demo", "ci", "paper", "smoke"])
def test_ids_are_unique_stable_and_needs_resolve(profile):
    cfg = load_profile(profile)
    units = profile_units(cfg)  # raises on a repeated id or an unknown need
    again = profile_units(load_profile(profile))
    assert list(units) == list(again)
    assert [u.spec_json for u in units.values()] == [u.spec_json for u in again.values()]
    for uid, u in units.items():
        assert isinstance(u, Unit) and uid == u.id and not uid.endswith(".json")
        assert u.gpu in (0, 1) and u.mem_mb > 0 and u.runtime > 0
        assert u.page in ("victims", "attacks", "uap", "at", "gan")


def test_the_paper_profile_is_hundreds_of_jobs():
    units = profile_units(load_profile("paper"))
    assert len(units) > 200
    kinds = {uid.split("/")[0] for uid in units}
    assert kinds == {"victims", "attacks", "uap", "at", "gan"}
    # one job per AT cell fit and per attack family on a cell
    assert "at/esc50_at/f5v4/stft/resnet56/original" in units
    assert "at/esc50_at/f5v4/stft/resnet56/fgsm" in units
    assert any(uid.startswith("at/") and uid.endswith("/cw_l2") for uid in units)


def test_timing_units_are_the_timed_computations():
    units = profile_units(load_profile("ci"))
    timed = {uid.split("/")[0] for uid, u in units.items() if u.timing}
    assert timed == {"attacks", "uap", "gan"}
    assert all(u.timing for uid, u in units.items() if uid.startswith(("attacks/", "uap/")))
    assert not any(u.timing for uid, u in units.items() if uid.startswith(("at/", "victims/")))


def test_a_changed_setting_reaches_only_its_units():
    cfg = load_profile("ci")
    before = {u.id: u.spec_json for u in page_units(cfg, "at")}
    cfg2 = copy.deepcopy(cfg)
    cfg2["at"]["archs"]["resnet56"]["width"] = 0.75
    after = {u.id: u.spec_json for u in page_units(cfg2, "at")}
    assert set(before) == set(after)  # ids name what is computed, not its settings
    changed = {k for k in before if before[k] != after[k]}
    assert changed and all("/resnet56/" in k for k in changed)
    assert changed == {k for k in before if "/resnet56/" in k}
    # a victim's recipe reaches its victim unit and the chapters' units that use it
    cfg3 = copy.deepcopy(cfg)
    cfg3["datasets"]["esc10"]["victims"]["cnn1d_rand"]["train"]["epochs"] = 3
    a, b = profile_units(cfg), profile_units(cfg3)
    changed = {k for k in a if a[k].spec_json != b[k].spec_json}
    assert "victims/esc10/cnn1d_rand" in changed
    assert "uap/t0/cnn1d_rand/uap_penalty/untargeted" in changed
    assert not any(k.startswith(("at/", "gan/", "attacks/")) for k in changed)
    assert not any(k.startswith("victims/") and k != "victims/esc10/cnn1d_rand" for k in changed)


def test_units_take_the_pages_own_parameters():
    cfg = load_profile("ci")
    for page in ("uap", "at", "gan", "attacks"):
        params = page_parameters(cfg, page)
        for u in page_units(cfg, page):
            assert u.study["datasets"] == json.loads(json.dumps(params["datasets"]))
            assert u.page == page and u.gpu == 1


def test_each_unit_job_claims_its_own_gpu(tmp_path, monkeypatch):
    """With device=cuda and several GPUs, concurrent unit jobs take distinct devices (one
    lock per GPU); with one GPU, an explicit index or the CPU nothing is claimed."""
    import torch

    from advlib.tools.units import claim_gpu

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 3)
    monkeypatch.setenv("ADVLIB_DEVICE", "cuda")
    claims = [claim_gpu(tmp_path) for _ in range(3)]
    assert sorted(c[0] for c in claims) == ["cuda:0", "cuda:1", "cuda:2"]
    claims[1][1].release()
    again = claim_gpu(tmp_path)
    assert again[0] == claims[1][0]  # the freed one
    for c in (claims[0], claims[2], again):
        c[1].release()
    monkeypatch.setenv("ADVLIB_DEVICE", "cuda:1")
    assert claim_gpu(tmp_path) is None
    monkeypatch.setenv("ADVLIB_DEVICE", "cuda")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert claim_gpu(tmp_path) is None


@pytest.mark.parametrize("mode", ["each", "page"])
def test_dry_run_schedules_every_unit_with_its_resources(mode, tmp_path):
    """At the demo profile the pipeline's jobs are the units (``units=each``: one rule ``unit``
    job each, with a GPU; ``units=page``, the small profiles' default: one ``unit_batch`` job
    per page or data set's victims) and the pages (no GPU), in one DAG."""
    import re
    import shutil
    import subprocess
    import sys

    snakemake = shutil.which("snakemake") or str(Path(sys.executable).parent / "snakemake")
    out = subprocess.run(
        [snakemake, "--snakefile", str(ROOT / "workflow" / "Snakefile"), "--cores", "2",
         "--config", "profile=demo", f"units={mode}", "--dry-run", "--forceall",
         "--directory", str(ROOT)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout  # fmt: skip
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", out)
    units = profile_units(load_profile("demo"))
    seen = {}
    for b in blocks:
        m = re.match(r"(?:local)?rule (\w+):", b)
        if not m:
            continue
        gpu = re.search(r"gpu=(\d+)", b)
        seen.setdefault(m.group(1), []).append(int(gpu.group(1)) if gpu else None)
    if mode == "each":
        assert len(seen["unit"]) == len(units) and set(seen["unit"]) == {1}
        assert "unit_batch" not in seen and "early_batch" not in seen
    else:  # the victims' batches and the GAN's generators first (early_batch, priority 50)
        jobs = seen["unit_batch"] + seen["early_batch"]
        assert len(jobs) == len(batches(units)) and set(jobs) == {1} and "unit" not in seen
        early = {n for n in batches(units) if n.startswith("victims-") or n == "gan"}
        assert len(seen["early_batch"]) == len(early)
        assert re.findall(r"rule early_batch:[^\n]*\n(?:[^\n]+\n)*?\s+priority: 50", out)
    assert {batch_of(u) for u in units.values()} == set(batches(units))
    for page in ("victims", "attacks", "uap", "at", "gan"):
        assert set(seen[page]) == {0}, page


@pytest.mark.slow
@pytest.mark.parametrize("page", ["uap", "gan"])
def test_targets_all_is_one_unit_per_class_and_the_page_reads_them(
    page, tmp_cache, tmp_path, monkeypatch
):
    """``targets: all`` gives one unit per target class (the class count is known before any
    data: advlib.data.class_count), and the page then computes nothing new."""
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(ROOT)
    params = _params(page)
    if page == "uap":
        params["uap"]["tables"][0]["targets"] = "all"
    else:
        params["gan"]["victims"][0]["targets"] = "all"
    units = _units(page, params)
    per_target = [u.id for u in units if u.page == page and u.spec.get("target") is not None]
    assert len({u.split("/")[-1] for u in per_target}) >= 10, per_target
    filled = set()
    for u in units:
        rec = run_unit(u, None, cache=Cache(tmp_cache))
        filled |= {(e["kind"], e["key"]) for e in rec["entries"]}
    events = _execute_page(page, params)["study"].cache.events
    assert not [e for e in events if not e.hit]
    assert {(e.kind, e.key) for e in events} <= filled
