"""pyproject.toml, environment.yml and requirements.lock carry the same pins, and every package
the code imports is declared."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_pins(skip=()):
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(meta["dependencies"])
    for name, extra in meta.get("optional-dependencies", {}).items():
        if name not in skip:
            deps += extra
    return deps


def _conda_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pips = [d for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pips) == 1, "environment.yml needs exactly one pip section"
    return env, list(pips[0]["pip"])


def test_same_pins_in_pyproject_and_environment():
    """The `nodeps` extra cannot sit in the pip section (pip would resolve its dependencies);
    environment.yml names it in the install-without-dependencies comment instead."""
    py = sorted(_pyproject_pins(skip=("nodeps",)), key=str.lower)
    _, conda = _conda_pins()
    assert py == sorted(conda, key=str.lower), (
        f"only in pyproject: {sorted(set(py) - set(conda))}; "
        f"only in environment.yml: {sorted(set(conda) - set(py))}"
    )
    text = (ROOT / "environment.yml").read_text()
    for req in set(_pyproject_pins()) - set(_pyproject_pins(skip=("nodeps",))):
        assert f"--no-deps {req}" in text, f"environment.yml: say how to install {req}"


def test_every_dependency_is_pinned_exactly():
    for req in _pyproject_pins():
        assert "==" in req, f"{req} is not pinned with =="


def test_torch_trio_and_jupyter_book_pins():
    pins = set(_pyproject_pins())
    for req in (
        "torch==2.9.1",
        "torchvision==0.24.1",
        "torchaudio==2.9.1",
        "jupyter-book==1.0.4.post1",
    ):
        assert req in pins


def test_python_version_matches():
    env, _ = _conda_pins()
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "python=3.11" in env["dependencies"]
    assert meta["requires-python"] == ">=3.11,<3.12"


def test_registry_citations_are_in_the_bibliography():
    from advlib.data.registry import dataset_info, dataset_names

    bib = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), flags=re.M))
    for name in dataset_names():
        cites = dataset_info(name).get("citation") or []
        for key in [cites] if isinstance(cites, str) else cites:
            assert key in bib, f"{name}: citation {key!r} missing from references.bib"


# ------------------------------------------------------------------ the lock file and imports

#: Extras the lock file carries (`make lock`); `cluster` (the Slurm plugin) is installed on a
#: cluster by hand and is not locked.
LOCKED_EXTRAS = ("dev", "nodeps")


def _name(req: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[=<>!~ \[;]", req, maxsplit=1)[0]).lower()


def _declared(extras=None) -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra, deps in meta["optional-dependencies"].items():
        if extras is None or extra in extras:
            reqs += deps
    return {_name(r): r.split("==", 1)[1] for r in reqs}


def test_lock_pins_every_declared_package_at_its_version():
    text = (ROOT / "requirements.lock").read_text()
    locked = {_name(n): v for n, v in re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", text, re.M)}
    for name, version in _declared(LOCKED_EXTRAS).items():
        assert locked.get(name) == version, (
            f"{name}=={version} in pyproject.toml, {locked.get(name)} in requirements.lock "
            "(run make lock)"
        )
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in b for b in blocks), "every locked package needs its hashes"


def _imports(path: Path) -> set[str]:
    if path.suffix == ".py":
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                out |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.add(node.module.split(".")[0])
        return out
    # the Snakefile is not Python: its import lines
    return set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", path.read_text(), re.M))


def test_every_imported_package_is_declared():
    """Every third-party module that advlib, the tests and the workflow import, and every Sphinx
    extension the book loads, comes from a distribution pinned in pyproject.toml."""
    files = [*ROOT.glob("advlib/**/*.py"), *ROOT.glob("tests/*.py"), *ROOT.glob("workflow/*.py")]
    modules = set().union(*map(_imports, files), _imports(ROOT / "workflow" / "Snakefile"))
    book = yaml.safe_load((ROOT / "_config.yml").read_text())
    modules |= set(book["sphinx"].get("extra_extensions", []))
    local = {"advlib", "tests", "__future__"}
    third_party = sorted(modules - set(sys.stdlib_module_names) - local)
    dists = importlib.metadata.packages_distributions()
    declared = set(_declared())
    missing = [
        m for m in third_party if not ({_name(d) for d in dists.get(m, [])} | {_name(m)}) & declared
    ]
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
    assert {"myst_nb", "torchattacks", "grimp"} <= set(third_party)  # the scan sees them
