"""Where the real data sets are found: ``ADVLIB_DATA_ROOT`` (default ``data/downloads``), for a
copy laid out as the loader reads it and for a set ``python -m advlib fetch`` unpacked."""

from advlib import paths
from advlib.study.session import _dataset_root


def test_data_root_defaults_to_the_downloads_and_follows_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("ADVLIB_DATA_ROOT", raising=False)
    monkeypatch.delenv("ADVLIB_DATA", raising=False)
    assert paths.data_root() == paths.REPO_ROOT / "data" / "downloads"
    monkeypatch.setenv("ADVLIB_DATA_ROOT", str(tmp_path))
    assert paths.data_root() == tmp_path
    assert paths.resolve("{data_root}/fsdd") == tmp_path / "fsdd"
    assert paths.resolve("{repo}/x") == paths.REPO_ROOT / "x"
    assert paths.resolve("rel") == paths.REPO_ROOT / "rel"


def test_a_fetched_set_and_a_plain_copy_share_one_root(monkeypatch, tmp_path):
    monkeypatch.setenv("ADVLIB_DATA_ROOT", str(tmp_path))
    (tmp_path / "fsdd" / "recordings").mkdir(parents=True)  # a copy laid out as the loader reads
    assert _dataset_root("{data_root}/fsdd") == tmp_path / "fsdd"
    fetched = tmp_path / "fsdd" / "free-spoken-digit-dataset-1.0.9"  # the v1.0.9 archive's folder
    (fetched / "recordings").mkdir(parents=True)
    assert _dataset_root("{data_root}/fsdd") == fetched
    assert _dataset_root("{data_root}/esc10") == tmp_path / "esc10"  # no folder in its archive
    assert _dataset_root("{data_root}/mine") == tmp_path / "mine"  # not a registered name


def test_fixture_roots_resolve_under_the_fixtures_folder(tmp_path, monkeypatch):
    from advlib.data.fixtures import FIXTURES, fixture_set
    from advlib.paths import fixtures_dir, resolve

    monkeypatch.setenv("ADVLIB_FIXTURES", str(tmp_path))
    assert fixtures_dir() == tmp_path
    assert resolve(f"{FIXTURES}/gtzan") == tmp_path / "gtzan"
    assert fixture_set(f"{FIXTURES}/gtzan") == "gtzan"
    assert fixture_set("{data_root}/gtzan") is None and fixture_set("") is None
    monkeypatch.delenv("ADVLIB_FIXTURES")
    assert fixtures_dir().parts[-2:] == ("generated", "fixtures")
