"""Tests of checksums, atomic downloads (``file://`` URLs only), safe extraction, ``fetch`` and the
data-set registry. Nothing touches the network.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml

from advlib.data.download import (
    ChecksumError,
    UnsafeArchiveError,
    download,
    fetch,
    read_checksums,
    safe_extract,
    sha256_file,
    verify_checksums,
)
from advlib.data.registry import (
    REQUIRED_FIELDS,
    RegistryError,
    bibtex_entries,
    dataset_info,
    dataset_names,
    load_registry,
    registry_path,
)

# ------------------------------------------------------------------------------ checksums


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_sha256_file_matches_hashlib(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # several read chunks
    (tmp_path / "f.bin").write_bytes(data)
    assert sha256_file(tmp_path / "f.bin") == _sha(data)
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(tmp_path / "empty") == _sha(b"")


def _tree(tmp_path: Path) -> Path:
    root = tmp_path / "set"
    (root / "audio").mkdir(parents=True)
    for name, data in {"audio/a.wav": b"aaa", "audio/b.wav": b"bbb", "c.txt": b"ccc"}.items():
        (root / name).write_bytes(data)
    lines = [
        f"{_sha(b'aaa')}  audio/a.wav",
        f"{_sha(b'bbb')} *audio/b.wav",  # binary-mode marker, as `sha256sum -b` writes
        "",
        "# a comment",
        f"{_sha(b'ccc')}  c.txt",
    ]
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return root


def test_verify_checksums_ok_and_subset(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    assert read_checksums(root / "SHA256SUMS")["audio/b.wav"] == _sha(b"bbb")
    assert verify_checksums(root) == 3
    assert verify_checksums(root, files=["c.txt"]) == 1


def test_verify_checksums_names_every_bad_file(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "audio" / "a.wav").write_bytes(b"aaX")
    (root / "c.txt").unlink()
    with pytest.raises(ChecksumError) as err:
        verify_checksums(root)
    msg = str(err.value)
    assert "2 file(s)" in msg
    assert "a.wav: SHA-256 mismatch" in msg and f"expected {_sha(b'aaa')}" in msg
    assert "c.txt: missing" in msg
    assert "b.wav" not in msg
    with pytest.raises(ChecksumError, match=r"new\.wav: not listed"):
        verify_checksums(root, files=["audio/new.wav"])


def test_verify_checksums_truncated_file(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    (root / "audio" / "b.wav").write_bytes(b"bb")
    with pytest.raises(ChecksumError, match=r"audio/b\.wav: SHA-256 mismatch"):
        verify_checksums(root)


def test_verify_checksums_bad_sums_file(tmp_path: Path) -> None:
    with pytest.raises(ChecksumError, match="SHA256SUMS: checksum file not found"):
        verify_checksums(tmp_path)
    (tmp_path / "SHA256SUMS").write_text("not a checksum line\n")
    with pytest.raises(ChecksumError, match=r"SHA256SUMS:1: not a sha256sum line"):
        verify_checksums(tmp_path)


# ------------------------------------------------------------------------------- download


def _payload(tmp_path: Path, data: bytes = b"payload " * 5000) -> tuple[Path, str]:
    src = tmp_path / "remote" / "archive.tar.gz"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(data)
    return src, _sha(data)


def test_download_file_url_verified(tmp_path: Path) -> None:
    src, digest = _payload(tmp_path)
    dest = download(src.as_uri(), tmp_path / "dl" / "a.tar.gz", sha256=digest, progress=False)
    assert dest.read_bytes() == src.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["a.tar.gz"]  # no .part left
    # into a folder: the URL's file name is used
    (tmp_path / "dir").mkdir()
    d2 = download(src.as_uri(), tmp_path / "dir", sha256=digest, progress=False)
    assert d2 == tmp_path / "dir" / "archive.tar.gz"


def test_download_mismatch_deletes_partial(tmp_path: Path) -> None:
    src, digest = _payload(tmp_path)
    wrong = "0" * 64
    dest = tmp_path / "dl" / "a.tar.gz"
    with pytest.raises(ChecksumError) as err:
        download(src.as_uri(), dest, sha256=wrong, progress=False)
    assert f"expected {wrong}" in str(err.value) and f"got {digest}" in str(err.value)
    assert not dest.exists() and not dest.with_name("a.tar.gz.part").exists()
    assert list(dest.parent.iterdir()) == []


def test_download_keeps_existing_verified_file(tmp_path: Path) -> None:
    src, digest = _payload(tmp_path)
    dest = download(src.as_uri(), tmp_path / "a.tar.gz", sha256=digest, progress=False)
    src.unlink()  # the URL is gone: a second call must not need it
    assert download(src.as_uri(), dest, sha256=digest, progress=False) == dest
    dest.write_bytes(b"stale")  # a wrong local copy is fetched again (and here fails)
    with pytest.raises(OSError):
        download(src.as_uri(), dest, sha256=digest, progress=False)
    assert dest.read_bytes() == b"stale" and not dest.with_name("a.tar.gz.part").exists()


def test_download_refuses_without_checksum(tmp_path: Path) -> None:
    src, digest = _payload(tmp_path)
    dest = tmp_path / "a.bin"
    with pytest.raises(ValueError, match="without a checksum"):
        download(src.as_uri(), dest, sha256=None, progress=False)
    assert not dest.exists()
    with pytest.warns(UserWarning, match=digest):
        download(src.as_uri(), dest, sha256=None, allow_unverified=True, progress=False)
    assert dest.read_bytes() == src.read_bytes()


def test_download_md5_fallback(tmp_path: Path) -> None:
    src, _ = _payload(tmp_path)
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    dest = download(src.as_uri(), tmp_path / "a.bin", sha256=None, md5=md5, progress=False)
    assert dest.is_file()
    with pytest.raises(ChecksumError, match="MD5 mismatch"):
        download(src.as_uri(), tmp_path / "b.bin", sha256=None, md5="f" * 32, progress=False)
    assert not (tmp_path / "b.bin").exists() and not (tmp_path / "b.bin.part").exists()


# ----------------------------------------------------------------------------- extraction


def _tar(
    path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz"
) -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return path


def _file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, None


@pytest.mark.parametrize(
    "suffix,mode", [(".tar", "w"), (".tar.gz", "w:gz"), (".tgz", "w:gz"), (".tar.bz2", "w:bz2")]
)
def test_safe_extract_tar_ok(tmp_path: Path, suffix: str, mode: str) -> None:
    d = tmp_path / "d"
    d.mkdir()
    arc = _tar(
        tmp_path / f"ok{suffix}",
        [_file("top/a.txt", b"A"), _file("top/sub/b.txt", b"B"), _link("top/l", "sub/b.txt")],
        mode,
    )
    out = safe_extract(arc, tmp_path / "out")
    assert (out / "top" / "a.txt").read_bytes() == b"A"
    assert (out / "top" / "l").read_bytes() == b"B"


def test_safe_extract_zip_ok(tmp_path: Path) -> None:
    arc = tmp_path / "ok.zip"
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr("top/a.txt", "A")
        zf.writestr("top/sub/", "")
    out = safe_extract(arc, tmp_path / "out")
    assert (out / "top" / "a.txt").read_text() == "A" and (out / "top" / "sub").is_dir()


def _outside_untouched(tmp_path: Path, target: Path) -> None:
    assert not target.exists(), "nothing may be written when an archive is refused"
    assert not (tmp_path / "evil").exists() and not (tmp_path / "evil.txt").exists()


UNSAFE_TARS = {
    "dotdot": [_file("ok.txt"), _file("../evil.txt")],
    "dotdot_nested": [_file("a/../../evil.txt")],
    "absolute": [_file("ok.txt"), _file("/tmp/advlib-evil-abs.txt")],
    "symlink_escape": [_link("evil", "../../etc"), _file("ok.txt")],
    "symlink_absolute": [_link("evil", "/etc/passwd")],
    "symlink_then_write_through": [
        _link("sub", "."),
        _link("esc", "sub/.."),
        _file("esc/evil.txt"),
    ],
    "symlink_chain": [_link("b", "."), _link("a", "b/..")],
    "hardlink_escape": [_link("evil", "../outside.txt", tarfile.LNKTYPE)],
    "hardlink_absolute": [_link("evil", "/etc/passwd", tarfile.LNKTYPE)],
}


@pytest.mark.parametrize("case", sorted(UNSAFE_TARS))
def test_safe_extract_refuses_unsafe_tar(tmp_path: Path, case: str) -> None:
    arc = _tar(tmp_path / "bad.tar.gz", UNSAFE_TARS[case])
    target = tmp_path / "target"
    with pytest.raises(UnsafeArchiveError, match=re.escape(str(arc))):
        safe_extract(arc, target)
    _outside_untouched(tmp_path, target)
    assert not Path("/tmp/advlib-evil-abs.txt").exists()


def test_safe_extract_refuses_device(tmp_path: Path) -> None:
    info = tarfile.TarInfo("dev/null-ish")
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    arc = _tar(tmp_path / "dev.tar", [_file("ok.txt"), (info, None)], "w")
    with pytest.raises(UnsafeArchiveError, match="device"):
        safe_extract(arc, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_safe_extract_refuses_existing_symlink_escape(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", target / "data")
    arc = _tar(tmp_path / "a.tar.gz", [_file("data/evil.txt")])
    with pytest.raises(UnsafeArchiveError, match="existing symlink"):
        safe_extract(arc, target)
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize(
    "name", ["../evil.txt", "/tmp/advlib-evil-zip.txt", "a/../../evil.txt", "..\\evil.txt"]
)
def test_safe_extract_refuses_unsafe_zip(tmp_path: Path, name: str) -> None:
    arc = tmp_path / "bad.zip"
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr(zipfile.ZipInfo(name), "evil")
    target = tmp_path / "target"
    with pytest.raises(UnsafeArchiveError):
        safe_extract(arc, target)
    _outside_untouched(tmp_path, target)
    assert not Path("/tmp/advlib-evil-zip.txt").exists()


def test_safe_extract_refuses_zip_symlink_escape(tmp_path: Path) -> None:
    arc = tmp_path / "bad.zip"
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr(info, "../../outside")
    with pytest.raises(UnsafeArchiveError, match="symlink"):
        safe_extract(arc, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_safe_extract_unknown_type(tmp_path: Path) -> None:
    (tmp_path / "x.rar").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match="unknown archive type"):
        safe_extract(tmp_path / "x.rar", tmp_path / "t")


# ---------------------------------------------------------------------------------- fetch


def _registry_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **entries: dict) -> Path:
    base = {
        "title": "t",
        "source": "download",
        "archive": "tar.gz",
        "checksum_source": "test",
        "licence": "CC0",
        "citation": "key2024",
        "classes": 2,
        "sample_rate": 8000,
        "protocol": "p",
    }
    doc = {
        "datasets": {name: {"name": name, **base, **e} for name, e in entries.items()},
        "bibtex": {"key2024": "@misc{key2024,\n  title = {T}\n}\n"},
    }
    path = tmp_path / "registry.yml"
    path.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("ADVLIB_REGISTRY", str(path))
    return path


def test_fetch_downloads_extracts_and_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arc = _tar(tmp_path / "toy-1.0.tar.gz", [_file("toy-1.0/recordings/0_a_0.wav", b"RIFF")])
    _registry_with(
        tmp_path,
        monkeypatch,
        toy={"url": arc.as_uri(), "sha256": sha256_file(arc), "folder_in_archive": "toy-1.0"},
    )
    data = fetch("toy", tmp_path / "store", progress=False)
    assert data == tmp_path / "store" / "toy" / "toy-1.0"
    assert (data / "recordings" / "0_a_0.wav").read_bytes() == b"RIFF"
    arc.unlink()  # second call: already there and verified, no download
    assert fetch("toy", tmp_path / "store", progress=False) == data
    # force: unpack again, reusing the verified archive kept in <root>/downloads
    (data / "recordings" / "0_a_0.wav").unlink()
    assert fetch("toy", tmp_path / "store", progress=False, force=True) == data
    assert (data / "recordings" / "0_a_0.wav").is_file()
    (tmp_path / "store" / "downloads" / "toy-1.0.tar.gz").unlink()
    with pytest.raises(OSError):  # neither a kept archive nor the URL
        fetch("toy", tmp_path / "store", progress=False, force=True)


def test_fetch_refuses_bad_checksum_and_unverified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arc = _tar(tmp_path / "toy.tar.gz", [_file("x.txt")])
    _registry_with(
        tmp_path,
        monkeypatch,
        bad={"url": arc.as_uri(), "sha256": "1" * 64},
        nosum={"url": arc.as_uri(), "sha256": None},
        gen={"source": "generated", "url": None, "archive": None, "sha256": None},
        man={"source": "manual", "url": None, "archive": None, "sha256": None, "vendored": "v/"},
    )
    with pytest.raises(ChecksumError, match="expected 1111"):
        fetch("bad", tmp_path / "store", progress=False)
    assert not (tmp_path / "store" / "bad").exists()
    with pytest.raises(ValueError, match="without a checksum"):
        fetch("nosum", tmp_path / "store", progress=False)
    with pytest.warns(UserWarning, match="WITHOUT verification"):
        out = fetch("nosum", tmp_path / "store", progress=False, allow_unverified=True)
    assert (out / "x.txt").is_file()
    with pytest.raises(ValueError, match="generated by advlib"):
        fetch("gen", tmp_path / "store")
    with pytest.raises(ValueError, match="local copy is at v/"):
        fetch("man", tmp_path / "store")
    with pytest.raises(ValueError, match="known data sets: bad, gen, man, nosum"):
        fetch("nope", tmp_path / "store")


def test_fetch_refuses_unsafe_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arc = _tar(tmp_path / "evil.tar.gz", [_file("../evil.txt")])
    _registry_with(tmp_path, monkeypatch, evil={"url": arc.as_uri(), "sha256": sha256_file(arc)})
    with pytest.raises(UnsafeArchiveError):
        fetch("evil", tmp_path / "store", progress=False)
    assert (
        not (tmp_path / "store" / "evil").exists()
        and not (tmp_path / "store" / "evil.txt").exists()
    )


# ------------------------------------------------------------------------------- registry

#: Checksums as found in public sources (see checksum_source in data/datasets.yml).
KNOWN_SHA256 = {
    "fsdd": "8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0",
    "speech_commands_v1": "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
    "speech_commands_v2": "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
    "gtzan": "24347e0223d2ba798e0a558c4c172d9d4a19c00bb7963fe055d183dadb4ef2c6",
}


def test_real_registry_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADVLIB_REGISTRY", raising=False)
    assert registry_path() == Path(__file__).resolve().parents[1] / "data" / "datasets.yml"
    names = set(dataset_names())
    assert {
        "fsdd",
        "esc10",
        "esc50",
        "urbansound8k",
        "speech_commands_v2",
        "gtzan",
        "synthetic_env",
    } <= names
    for name in names:
        entry = dataset_info(name)
        assert all(f in entry for f in REQUIRED_FIELDS), name
        assert entry["sha256"] is None or re.fullmatch(r"[0-9a-f]{64}", entry["sha256"])
        if entry["sha256"] is None and entry["source"] == "download":
            assert "md5" in entry or "None" in entry["checksum_source"], name
    for name, digest in KNOWN_SHA256.items():
        assert dataset_info(name)["sha256"] == digest
    assert dataset_info("synthetic_env")["source"] == "generated"
    assert dataset_info("fsdd")["vendored"] == "{data_root}/fsdd"
    assert dataset_info("esc10")["vendored"] == "{data_root}/esc10"
    bib = bibtex_entries()
    for key in (
        "jackson2018fsdd",
        "piczak2015esc",
        "salamon2014urbansound",
        "warden2018speechcommands",
        "tzanetakis2002gtzan",
        "kereliuk2015gtzan",
    ):
        assert bib[key].startswith("@") and f"{{{key}," in bib[key]


def test_dataset_info_unknown_lists_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADVLIB_REGISTRY", raising=False)
    with pytest.raises(ValueError, match=r"unknown data set 'mnist'.*esc10.*fsdd.*gtzan"):
        dataset_info("mnist")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("licence"), "missing required field.*licence"),
        (lambda e: e.update(sha256="abc"), "sha256"),
        (lambda e: e.update(archive="rar"), "archive"),
        (lambda e: e.update(citation="nokey"), "nokey"),
        (lambda e: e.update(name="other"), "must equal the key"),
        (lambda e: e.update(classes=0), "classes"),
    ],
)
def test_registry_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change, message: str
) -> None:
    entry = {"url": "file:///x.tar.gz", "sha256": "a" * 64}
    path = _registry_with(tmp_path, monkeypatch, toy=entry)
    doc = yaml.safe_load(path.read_text())
    change(doc["datasets"]["toy"])
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(RegistryError, match=message):
        load_registry()


def test_registry_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVLIB_REGISTRY", str(tmp_path / "nope.yml"))
    with pytest.raises(RegistryError, match="nope.yml"):
        dataset_info("fsdd")
