"""Downloading, checksumming and safely unpacking data sets.

- :func:`sha256_file` and :func:`verify_checksums` check files against a ``sha256sum``-format list
  (the vendored sets ship one as ``SHA256SUMS``).
- :func:`download` streams a URL to a ``.part`` file, checks its SHA-256 and only then moves it into
  place with :func:`os.replace`, so a file at the destination is always complete and verified.
  It refuses to run without a published checksum unless ``allow_unverified=True``.
- :func:`safe_extract` unpacks zip and tar archives after checking *every* member first: absolute
  paths, ``..`` components, links leaving the target folder and device files are refused with
  :class:`UnsafeArchiveError` before anything is written.
- :func:`fetch` does all three for a data set of the registry (``data/datasets.yml``).

Nothing here runs at import time or in the test suite against the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import stat
import tarfile
import urllib.parse
import urllib.request
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

__all__ = [
    "ChecksumError",
    "UnsafeArchiveError",
    "download",
    "fetch",
    "read_checksums",
    "safe_extract",
    "sha256_file",
    "verify_checksums",
    "verify_loaded_files",
]

_CHUNK = 1 << 20
_MARKER = ".advlib-fetch.json"


class ChecksumError(ValueError):
    """A file's checksum differs from the expected one, or a listed file is missing.

    The message names every offending file (and, for a single file, the expected and actual
    digests).
    """


class UnsafeArchiveError(ValueError):
    """An archive member would be written outside the target folder, or is a device file."""


# ----------------------------------------------------------------------------- checksums


def _hash_file(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file as 64 lower-case hex digits (read in 1 MiB chunks)."""
    return _hash_file(Path(path), "sha256")


_SUM_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64}) (?P<mode>[ *])(?P<name>.+)$")


def read_checksums(sums_file: str | Path) -> dict[str, str]:
    """Parse a ``sha256sum``-format file into ``{relative path: digest}``.

    Lines are ``<64 hex digits><space><space or *><path>``; blank lines and ``#`` comments are
    skipped. Paths are relative with ``/`` separators; a leading ``./`` is dropped (``find . |
    xargs sha256sum`` writes one).

    Raises
    ------
    ChecksumError
        The file is missing or not UTF-8 text, a line is malformed, a path is absolute or climbs
        out of its folder (``..``), or a path is listed twice.
    """
    sums_file = Path(sums_file)
    if not sums_file.is_file():
        raise ChecksumError(f"{sums_file}: checksum file not found")
    try:
        text = sums_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ChecksumError(f"{sums_file}: not a text file (UTF-8: {exc.reason})") from None
    out: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SUM_LINE.match(line)
        if m is None:
            raise ChecksumError(f"{sums_file}:{lineno}: not a sha256sum line: {line[:80]!r}")
        name = m["name"]
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or "\x00" in name:
            raise ChecksumError(
                f"{sums_file}:{lineno}: {name!r} is not a relative path inside the data set"
            )
        name = posixpath.normpath(name)
        if name in out:
            raise ChecksumError(f"{sums_file}:{lineno}: {name} is listed twice")
        out[name] = m["digest"].lower()
    return out


def verify_checksums(
    root: str | Path,
    sums_file: str | Path = "SHA256SUMS",
    *,
    files: Iterable[str] | None = None,
    base: str | Path | None = None,
    progress: bool = False,
) -> int:
    """Check files against a ``sha256sum``-format list, like ``sha256sum -c``.

    Parameters
    ----------
    root:
        The data-set folder.
    sums_file:
        The list, relative to ``root`` (or absolute).
    files:
        Check only these paths (as written in the list); each must be listed. Default: every
        listed file.
    base:
        Folder the listed paths are relative to; default the list's own folder. (The vendored
        FSDD lists bare file names relative to ``recordings/``.)
    progress:
        Show a progress bar.

    Returns
    -------
    int
        How many files were checked.

    Raises
    ------
    ChecksumError
        Naming every file that is missing, differs from its listed digest, or (with ``files``)
        is not listed at all; or the list names no file (an emptied list verifies nothing).
    """
    from tqdm.auto import tqdm

    root = Path(root)
    sums_path = Path(sums_file) if Path(sums_file).is_absolute() else root / sums_file
    sums = read_checksums(sums_path)
    if not sums:
        raise ChecksumError(f"{sums_path}: lists no files, so it verifies nothing")
    base_dir = Path(base) if base is not None else sums_path.parent
    problems: list[str] = []
    if files is None:
        todo = list(sums)
    else:
        todo = []
        for f in files:
            if f in sums:
                todo.append(f)
            else:
                problems.append(f"{base_dir / f}: not listed in {sums_path}")
    for name in tqdm(todo, desc=f"verify {sums_path.name}", unit="file", disable=not progress):
        path = base_dir / name
        if not path.is_file():
            problems.append(f"{path}: missing")
            continue
        got = sha256_file(path)
        if got != sums[name]:
            problems.append(f"{path}: SHA-256 mismatch (expected {sums[name]}, got {got})")
    if problems:
        head = f"{len(problems)} file(s) failed the check against {sums_path}:\n  "
        raise ChecksumError(head + "\n  ".join(problems))
    return len(todo)


def verify_loaded_files(
    root: str | Path,
    files: Iterable[str],
    *,
    sums_file: str = "SHA256SUMS",
    progress: bool = False,
) -> bool:
    """Loader helper for ``verify=True``: check ``files`` against ``root/SHA256SUMS`` if present.

    ``files`` are paths relative to ``root`` with ``/`` separators. A list holding bare file
    names (as the vendored FSDD's, relative to ``recordings/``) is matched against the files'
    common folder. Every loaded file must be listed, and every listed file must exist and match
    its digest, loaded or not: a loader that finds its files by listing a folder would otherwise
    load a data set with files missing as if it were whole. When the list does not exist a
    warning says that nothing was verified.

    Returns
    -------
    bool
        Whether a check ran (and passed; a failure raises :class:`ChecksumError`).
    """
    root = Path(root)
    sums = root / sums_file
    files = [posixpath.normpath(f) for f in files]
    if not sums.is_file():
        warnings.warn(f"{sums}: not found, nothing verified", stacklevel=3)
        return False
    listed = read_checksums(sums)
    if not listed:
        raise ChecksumError(f"{sums}: lists no files, so it verifies nothing")
    parents = {posixpath.dirname(f) for f in files}
    base, names = root, files
    if len(parents) == 1 and all("/" not in k for k in listed):
        (parent,) = parents
        base, names = root / parent, [posixpath.basename(f) for f in files]
    unlisted = sorted(set(names) - set(listed))
    if unlisted:
        head = f"{len(unlisted)} loaded file(s) failed the check against {sums}:\n  "
        raise ChecksumError(
            head + "\n  ".join(f"{base / n}: not listed in {sums}" for n in unlisted)
        )
    verify_checksums(root, sums, base=base, progress=progress)
    return True


# ------------------------------------------------------------------------------ download


def _filename_from_url(url: str) -> str:
    name = PurePosixPath(urllib.parse.urlparse(url).path).name
    return name or "download"


def download(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None,
    md5: str | None = None,
    progress: bool = True,
    allow_unverified: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` atomically and verify it.

    The data stream into ``<dest>.part`` while being hashed; only when the digest matches is the
    file moved to ``dest`` with :func:`os.replace`. On a mismatch or any error the partial file
    is deleted. A ``dest`` that already exists with the right digest is kept (no download).

    Parameters
    ----------
    url:
        ``http(s)://``, ``ftp://`` or ``file://`` URL (read with :mod:`urllib.request`).
    dest:
        Target file, or an existing folder (the URL's file name is appended).
    sha256:
        Expected SHA-256 (hex). Required: pass ``None`` only together with ``md5`` or
        ``allow_unverified=True``.
    md5:
        Expected MD5, for archives whose publishers give no SHA-256 (weaker; checked in
        addition when both are given).
    progress:
        Show a tqdm progress bar.
    allow_unverified:
        Download without any checksum (a warning gives the SHA-256 obtained, to record it).
    timeout:
        Socket timeout in seconds.

    Returns
    -------
    Path
        The verified file.

    Raises
    ------
    ValueError
        No checksum given and ``allow_unverified`` is false.
    ChecksumError
        The downloaded data do not match; the message gives expected and actual digests.
    OSError
        Network or file-system errors (the partial file is removed).
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    if dest.is_dir():
        dest = dest / _filename_from_url(url)
    sha256 = sha256.lower() if sha256 else None
    md5 = md5.lower() if md5 else None
    if sha256 is None and md5 is None and not allow_unverified:
        raise ValueError(
            f"refusing to download {url} without a checksum: pass sha256= (or md5=), or "
            "allow_unverified=True to accept whatever arrives"
        )

    def _matches(path: Path) -> bool:
        if sha256 is not None and sha256_file(path) != sha256:
            return False
        return md5 is None or _hash_file(path, "md5") == md5

    if dest.is_file() and (sha256 is not None or md5 is not None) and _matches(dest):
        return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    h_sha, h_md5 = hashlib.sha256(), hashlib.md5()
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "advlib-data/1"})
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(part, "wb") as out:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not progress,
            ) as bar:
                for chunk in iter(lambda: resp.read(_CHUNK), b""):
                    out.write(chunk)
                    h_sha.update(chunk)
                    h_md5.update(chunk)
                    bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        got_sha, got_md5 = h_sha.hexdigest(), h_md5.hexdigest()
        if sha256 is not None and got_sha != sha256:
            raise ChecksumError(
                f"{url}: SHA-256 mismatch for {dest.name} (expected {sha256}, got {got_sha}); "
                "the partial download was deleted"
            )
        if md5 is not None and got_md5 != md5:
            raise ChecksumError(
                f"{url}: MD5 mismatch for {dest.name} (expected {md5}, got {got_md5}); "
                "the partial download was deleted"
            )
        os.replace(part, dest)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if sha256 is None and md5 is None:
        warnings.warn(
            f"{dest}: downloaded WITHOUT verification from {url}; its SHA-256 is {got_sha} "
            "(record it in the registry if you trust this copy)",
            stacklevel=2,
        )
    return dest


# ---------------------------------------------------------------------------- extraction


def _archive_kind(archive: Path) -> str:
    name = archive.name.lower()
    for suffix, kind in (
        (".tar.gz", "tar.gz"),
        (".tgz", "tar.gz"),
        (".tar.bz2", "tar.bz2"),
        (".tbz2", "tar.bz2"),
        (".tar.xz", "tar.xz"),
        (".tar", "tar"),
        (".zip", "zip"),
    ):
        if name.endswith(suffix):
            return kind
    if zipfile.is_zipfile(archive):
        return "zip"
    if tarfile.is_tarfile(archive):
        return "tar"
    raise ValueError(
        f"{archive}: unknown archive type (expected .zip, .tar, .tar.gz/.tgz, .tar.bz2)"
    )


class _VirtualTree:
    """Resolves archive paths the way the OS will after extraction, following archive symlinks.

    Paths are lists of components relative to the target folder. Resolution fails (returns
    ``None``) as soon as a ``..`` would climb above the target folder or a link is absolute.
    """

    def __init__(self) -> None:
        self.links: dict[tuple[str, ...], str] = {}

    def resolve(self, parts: Iterable[str], depth: int = 0) -> tuple[str, ...] | None:
        if depth > 40:
            return None  # symlink loop
        cur: list[str] = []
        for comp in parts:
            if comp in ("", "."):
                continue
            if comp == "..":
                if not cur:
                    return None
                cur.pop()
                continue
            cur.append(comp)
            link = self.links.get(tuple(cur))
            if link is not None:
                if link.startswith("/") or re.match(r"^[A-Za-z]:", link):
                    return None
                parent = cur[:-1]
                resolved = self.resolve([*parent, *re.split(r"[/\\]", link)], depth + 1)
                if resolved is None:
                    return None
                cur = list(resolved)
        return tuple(cur)


def _split_member_name(archive: Path, name: str) -> list[str]:
    """Check a member name and return its components; raise on absolute paths and ``..``."""
    if not name:
        raise UnsafeArchiveError(f"{archive}: member with an empty name")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchiveError(f"{archive}: member {name!r} has an absolute path")
    parts = re.split(r"[/\\]", name)
    if ".." in parts:
        raise UnsafeArchiveError(f"{archive}: member {name!r} contains a '..' component")
    if "\x00" in name:
        raise UnsafeArchiveError(f"{archive}: member {name!r} contains a NUL byte")
    return [p for p in parts if p not in ("", ".")]


def _check_on_disk(archive: Path, target: Path, name: str, parts: tuple[str, ...]) -> None:
    """Existing symlinks in the target folder must not redirect a member outside it."""
    real_target = os.path.realpath(target)
    real = os.path.realpath(os.path.join(target, *parts)) if parts else real_target
    if os.path.commonpath([real_target, real]) != real_target:
        raise UnsafeArchiveError(
            f"{archive}: member {name!r} would be written outside {target} through an existing "
            "symlink"
        )


def _check_tar(archive: Path, tar: tarfile.TarFile, target: Path) -> None:
    tree = _VirtualTree()
    for m in tar.getmembers():
        parts = _split_member_name(archive, m.name)
        if m.isdev() or m.isfifo() or not (m.isfile() or m.isdir() or m.issym() or m.islnk()):
            raise UnsafeArchiveError(f"{archive}: member {m.name!r} is a device or special file")
        where = tree.resolve(parts[:-1])
        if where is None:
            raise UnsafeArchiveError(
                f"{archive}: member {m.name!r} would be written outside the target folder"
            )
        _check_on_disk(archive, target, m.name, (*where, *parts[-1:]))
        if m.issym():
            link = m.linkname
            if link.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", link):
                raise UnsafeArchiveError(
                    f"{archive}: symlink {m.name!r} -> {link!r} points to an absolute path"
                )
            dest = tree.resolve([*where, *re.split(r"[/\\]", link)])
            if dest is None:
                raise UnsafeArchiveError(
                    f"{archive}: symlink {m.name!r} -> {link!r} points outside the target folder"
                )
            _check_on_disk(archive, target, m.name, dest)
            tree.links[(*where, *parts[-1:])] = link
        elif m.islnk():
            link = m.linkname
            if link.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", link):
                raise UnsafeArchiveError(
                    f"{archive}: hard link {m.name!r} -> {link!r} points to an absolute path"
                )
            dest = tree.resolve(re.split(r"[/\\]", link))
            if dest is None:
                raise UnsafeArchiveError(
                    f"{archive}: hard link {m.name!r} -> {link!r} points outside the target folder"
                )
            _check_on_disk(archive, target, m.name, dest)


def _check_zip(archive: Path, zf: zipfile.ZipFile, target: Path) -> None:
    tree = _VirtualTree()
    for info in zf.infolist():
        parts = _split_member_name(archive, info.filename)
        mode = info.external_attr >> 16
        if mode and (stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode)):
            raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a device file")
        where = tree.resolve(parts[:-1])
        if where is None:
            raise UnsafeArchiveError(
                f"{archive}: member {info.filename!r} would be written outside the target folder"
            )
        _check_on_disk(archive, target, info.filename, (*where, *parts[-1:]))
        if mode and stat.S_ISLNK(mode):
            # zipfile writes links as plain files, but refuse escaping ones all the same.
            link = zf.read(info).decode("utf-8", "replace")
            dest = None
            if not (link.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", link)):
                dest = tree.resolve([*where, *re.split(r"[/\\]", link)])
            if dest is None:
                raise UnsafeArchiveError(
                    f"{archive}: symlink {info.filename!r} -> {link!r} points outside the "
                    "target folder"
                )


def safe_extract(archive: str | Path, target: str | Path) -> Path:
    """Unpack a .zip, .tar, .tar.gz/.tgz or .tar.bz2 archive into ``target``, safely.

    Every member is checked *before anything is written*: absolute names, ``..`` components,
    symbolic or hard links whose target (followed through other links in the archive and
    through symlinks already in ``target``) leaves ``target``, and device/FIFO members are
    refused. Tar archives are then extracted with the standard library's ``"data"`` filter as a
    second line of defence.

    Parameters
    ----------
    archive:
        The archive file; the type comes from the suffix, else from its contents.
    target:
        Folder to extract into (created if needed).

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    UnsafeArchiveError
        A member is unsafe; nothing has been written (``target`` is not even created).
    ValueError
        Unknown archive type.
    """
    archive, target = Path(archive), Path(target)
    if not archive.is_file():
        raise FileNotFoundError(f"{archive}: archive not found")
    kind = _archive_kind(archive)
    if kind == "zip":
        with zipfile.ZipFile(archive) as zf:
            _check_zip(archive, zf, target)
            target.mkdir(parents=True, exist_ok=True)
            zf.extractall(target)
        return target
    mode = {"tar": "r:", "tar.gz": "r:gz", "tar.bz2": "r:bz2", "tar.xz": "r:xz"}[kind]
    with tarfile.open(archive, mode) as tar:  # type: ignore[call-overload]
        _check_tar(archive, tar, target)
        target.mkdir(parents=True, exist_ok=True)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(target, filter="data")
        else:  # pragma: no cover - Python < 3.11.4; members were checked above
            tar.extractall(target)
    return target


# --------------------------------------------------------------------------------- fetch


def fetch(
    name: str,
    root: str | Path,
    *,
    force: bool = False,
    progress: bool = True,
    allow_unverified: bool = False,
    keep_archive: bool = True,
) -> Path:
    """Download and unpack a registered data set; return the folder its loader takes.

    The archive goes to ``<root>/downloads/`` and is unpacked into ``<root>/<name>/``. A marker
    file records the verified archive digest; a later call finds it and returns at once
    (``force=True`` downloads and unpacks again).

    Parameters
    ----------
    name:
        Registry name (see :func:`advlib.data.registry.dataset_info`).
    root:
        Folder that holds downloaded data sets.
    force:
        Ignore an earlier completed fetch.
    progress:
        Show progress bars.
    allow_unverified:
        Needed for entries without a recorded checksum (``sha256: null`` and no ``md5``).
    keep_archive:
        Keep the downloaded archive (default) or delete it after unpacking.

    Returns
    -------
    Path
        ``<root>/<name>/<folder_in_archive>`` (or ``<root>/<name>`` when the archive has no
        top folder): the ``root`` argument of the data set's loader.

    Raises
    ------
    ValueError
        Unknown name, or a set that cannot be downloaded (generated by advlib, or manual).
    ChecksumError
        The archive does not match the registry.
    UnsafeArchiveError
        The archive holds unsafe members.
    """
    from advlib.data.registry import dataset_info

    entry = dataset_info(name)
    if entry["source"] == "generated":
        raise ValueError(f"{name} is generated by advlib; there is nothing to download")
    if entry["source"] != "download" or not entry.get("url"):
        hint = f" A local copy is at {entry['vendored']}." if entry.get("vendored") else ""
        raise ValueError(
            f"{name} has no single archive to download (see {entry.get('homepage')}).{hint}"
        )
    root = Path(root)
    out_dir = root / name
    data_dir = out_dir / entry["folder_in_archive"] if entry.get("folder_in_archive") else out_dir
    marker = out_dir / _MARKER
    sha256, md5 = entry.get("sha256"), entry.get("md5")
    if not force and marker.is_file() and data_dir.is_dir():
        try:
            done = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            done = {}
        if done.get("url") == entry["url"] and (
            (sha256 is not None and done.get("sha256") == sha256)
            or (sha256 is None and md5 is not None and done.get("md5") == md5)
            or (sha256 is None and md5 is None and done.get("sha256"))
        ):
            return data_dir
    archive = root / "downloads" / _filename_from_url(entry["url"])
    download(
        entry["url"],
        archive,
        sha256=sha256,
        md5=md5,
        progress=progress,
        allow_unverified=allow_unverified,
    )
    safe_extract(archive, out_dir)
    if not data_dir.is_dir():
        raise ValueError(
            f"{archive}: unpacked, but the expected folder {data_dir} is missing (check "
            f"'folder_in_archive' of {name} in the registry)"
        )
    record = {
        "name": name,
        "url": entry["url"],
        "sha256": sha256_file(archive),
        "md5": _hash_file(archive, "md5") if md5 else None,
        "archive": archive.name,
    }
    tmp = marker.with_name(marker.name + ".part")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, marker)
    if not keep_archive:
        archive.unlink(missing_ok=True)
    return data_dir
