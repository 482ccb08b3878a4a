"""Every notebook source is text with a parameters cell, and every page runs under papermill."""

from pathlib import Path

import nbformat
import pytest

from advlib.tools.nbtools import execute as execute_source
from advlib.tools.nbtools import has_parameters_cell, read_source, set_title

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))

TINY = {
    "victims.md": {
        "profile": "test",
        "dataset": "synthetic",
        "loader": "synthetic",
        "loader_args": {"seed": 0, "clips_per_class": 5, "sample_rate": 8000, "duration": 1.0},
        "victims": {
            "cnn1d_rand": {"knobs": {"width": 0.25, "pools": [8, 4, 1]}, "train": {"epochs": 1}}
        },
        "n_examples": 2,
    },
}


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {
        "victims.md",
        "frontends.md",
        "reproducibility.md",
        "attacks.md",
        "uap.md",
        "at.md",
        "gan.md",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_and_no_outputs(path):
    assert has_parameters_cell(path), f"{path.name} has no cell tagged 'parameters'"
    nb = read_source(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: committed outputs"
            assert cell.execution_count is None


MAX_CODE_LINES = 80


def code_lines(path):
    """The code lines of a notebook source that count against the 80-line budget: non-blank,
    non-comment lines of every code cell but the parameters cell."""
    nb = read_source(path)
    out = []
    for c in nb.cells:
        if c.cell_type != "code" or "parameters" in c.metadata.get("tags", []):
            continue
        out += [ln for ln in c.source.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_thin_views(path):
    """A page is a view: at most 80 code lines, no definitions, no scipy or torch, no
    statistics computed in place (those live in advlib.chapters)."""
    import ast

    lines = code_lines(path)
    assert len(lines) <= MAX_CODE_LINES, f"{path.name}: {len(lines)} code lines (max 80)"
    source = "\n".join(c.source for c in read_source(path).cells if c.cell_type == "code")
    tree = ast.parse(source)
    for node in ast.walk(tree):
        bad = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
        assert not bad, f"{path.name}: a definition in a notebook (line {node.lineno})"
        assert not isinstance(node, ast.While), f"{path.name}: a while loop"
        if isinstance(node, ast.Import | ast.ImportFrom):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for m in mods:
                top = (m or "").split(".")[0]
                assert top not in ("scipy", "torch"), f"{path.name}: imports {m}"


def test_thin_view_rules_catch_a_fat_notebook(tmp_path):
    fat = tmp_path / "fat.md"
    fat.write_text("```{code-cell}\ndef f():\n    return 1\n```\n")
    with pytest.raises(AssertionError, match="definition"):
        test_notebooks_are_thin_views(fat)
    long = tmp_path / "long.md"
    long.write_text("```{code-cell}\n" + "x = 1\n" * 81 + "```\n")
    with pytest.raises(AssertionError, match="81 code lines"):
        test_notebooks_are_thin_views(long)
    imp = tmp_path / "imp.md"
    imp.write_text("```{code-cell}\nfrom scipy import stats\n```\n")
    with pytest.raises(AssertionError, match="imports scipy"):
        test_notebooks_are_thin_views(imp)


def test_notebooks_run_under_papermill(tmp_path, tmp_cache):
    def execute(name, out, parameters):
        execute_source(ROOT / "notebooks" / name, out, parameters, cwd=ROOT)

    out = tmp_path / "generated"
    (out / "victims").mkdir(parents=True)
    page = out / "victims" / "synthetic.ipynb"
    execute("victims.md", page, TINY["victims.md"])
    nb = nbformat.read(page, as_version=4)
    text = "".join(
        str(o.get("data", {})) + str(o.get("text", ""))
        for c in nb.cells
        for o in c.get("outputs", [])
    )
    assert "1D CNN Rand" in text and "<audio" in text
    set_title(page, "Victims on a tiny set")
    assert nbformat.read(page, as_version=4).cells[0].source.startswith("# Victims on a tiny set")

    # the attack page on the same tiny victim (cached by the page above), with a bench file
    bench = tmp_path / "bench_attacks.json"
    bench.write_text(
        '{"results": [{"attack": "fgsm", "library": "advlib", "seconds": 0.1},'
        ' {"attack": "fgsm", "library": "torchattacks", "seconds": 0.2}],'
        ' "speedups": {"fgsm": {"fastest_peer": "torchattacks", "speedup": 2.0, "asr_diff": 0.0,'
        ' "norm_ratio": 1.0, "fastest_matched_peer": "torchattacks", "speedup_at_quality": 2.0}},'
        ' "population": {"pso": {"batched_seconds": 1.0, "loop_seconds": 9.0, "speedup": 9.0,'
        ' "same_result": true}}}'
    )
    tiny = TINY["victims.md"]
    execute(
        "attacks.md",
        out / "attacks.ipynb",
        {
            "profile": "test",
            "loader_args": tiny["loader_args"],
            "victim_config": tiny["victims"]["cnn1d_rand"],
            "n": 4,
            "batch_size": 4,
            "runs": {
                "fgsm": {"settings": {"eps": 0.05}},
                "pgd_t": {"attack": "pgd", "settings": {"eps": 0.5, "steps": 5}, "targets": "next"},
            },
            "universal": {
                "n_craft": 4,
                "runs": {"uap_iterative": {"settings": {"eps": 0.05, "max_passes": 1}}},
            },
            "eot": {"run": "fgsm", "samples": 2},
            "bench_file": str(bench),
        },
    )
    at = str(nbformat.read(out / "attacks.ipynb", as_version=4))
    assert "Goodfellow" in at and "image/png" in at and "<audio" in at
    assert "uap_iterative" in at and "random playback" in at and "torchattacks" in at
    assert "loop_seconds" in at and "speedup_at_quality" in at

    # the UAP chapter at its own tiny defaults (synthetic set, two targets' worth of UAPs)
    execute("uap.md", out / "uap.ipynb", {"profile": "test"})
    ut = str(nbformat.read(out / "uap.ipynb", as_version=4))
    for needle in ("Table 1", "p (McNemar)", "kappa", "crafting clips", "random playback",
                   "<audio", "image/png", "SNR [0,1]", "23.468"):  # fmt: skip
        assert needle in ut, f"UAP page lacks {needle!r}"

    # the adversarial-training chapter at its own tiny defaults (one classifier, two images)
    execute("at.md", out / "at.ipynb", {"profile": "test"})
    tt = str(nbformat.read(out / "at.ipynb", as_version=4))
    for needle in ("AUC % FGSM-trained", "both_auc", "p (McNemar)", "PGD robust acc",
                   "71.79", "<audio", "image/png", "waveform"):  # fmt: skip
        assert needle in tt, f"AT page lacks {needle!r}"

    # the generative-attacks chapter at its own tiny defaults (two targets, tiny generators)
    execute("gan.md", out / "gan.ipynb", {"profile": "test"})
    gt = str(nbformat.read(out / "gan.ipynb", as_version=4))
    for needle in ("Mean targeted success", "genetic", "pso", "92.33", "hinge only", "<audio",
                   "image/png", "error_rate", "after playback", "max training success %",
                   "share of |delta|", "96.88", "Sec. V-B", "Table 1. Ours", "95 % CI",
                   "Figure 1. 1D CNN (tiny)", "p (one-sided)", "Table 10."):  # fmt: skip
        assert needle in gt, f"GAN page lacks {needle!r}"
    assert "'alt': 'Figure" in gt, "figures must carry alt text (advlib.tools.alttext)"

    # the scorecard reads the numbers those three chapters recorded
    execute("scorecard.md", out / "scorecard.ipynb",
            {"profile": "test", "executed_dir": str(out)})  # fmt: skip
    st = str(nbformat.read(out / "scorecard.ipynb", as_version=4))
    for needle in ("reproduced", "not run at this profile", "GAN-6", "<table", "image/png"):
        assert needle in st, f"scorecard page lacks {needle!r}"

    execute("frontends.md", out / "frontends.ipynb", {"profile": "test"})
    fe = str(nbformat.read(out / "frontends.ipynb", as_version=4))
    assert "image/png" in fe and "<audio" in fe

    repro = out / "reproducibility.ipynb"
    execute("reproducibility.md", repro, {"profile": "test", "executed_dir": str(out)})
    rtext = str(nbformat.read(repro, as_version=4))
    assert "victims/synthetic.ipynb" in rtext
    assert "computed" in rtext, "the appendix must list the cache entry the page computed"

    from advlib.study.provenance import collect_executed

    (rec,) = [r for r in collect_executed(out) if r["notebook"] == "victims/synthetic.ipynb"]
    assert rec["provenance"]["profile"] == "test"
    assert rec["provenance"]["cache"][0]["kind"] == "victim"
    assert rec["parameters"]["dataset"] == "synthetic" and rec["duration_s"] > 0
