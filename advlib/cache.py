"""A content-addressed, atomic, self-checking cache for every expensive result of the study.

An entry is addressed by ``(kind, key)``, where ``key`` is the SHA-256 of the canonical JSON of
the kind, every parameter that produced the result (including the data set's identity), and the
cache format version. An entry is a folder holding one file per payload item and a
``manifest.json`` with each file's size and SHA-256. Entries are written into a temporary folder
and renamed into place (atomic on POSIX), so a crash never leaves a half-written entry behind a
valid name. On every read the manifest is checked; a corrupt or truncated entry is moved aside
to ``<root>/.corrupt/`` (nothing is deleted), a warning says so, and the result is recomputed:
a damaged entry is never silently used.

Processes share a cache safely: each entry has a file lock (``<key>.lock`` beside it, the
``filelock`` package), held while the entry is computed and written, so two pipeline jobs asking
for one entry compute it once and both read it; a writer killed mid-write (even by SIGKILL)
leaves only a ``.tmp-*`` folder, never read as an entry, removed by the next write of that entry
and, for every entry, by the first write of the next run (:meth:`Cache.clean_leftovers` skips
the folders of writers still alive: their entry's lock is held).

Payload items are stored by type: tensors and dicts of tensors (state dicts) as ``.pt`` read
back with ``torch.load(weights_only=True)``; numpy arrays as ``.npy`` (no pickle);
``pandas.DataFrame`` as JSON (``orient="split"``); anything else JSON-serialisable as ``.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["Cache", "CacheCorruptionWarning", "CacheEvent", "canonical_json", "param_key"]

FORMAT_VERSION = 1


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its integrity check and was moved aside for recomputation."""


def _default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    raise TypeError(f"cannot use a {type(obj).__name__} as a cache parameter")


def canonical_json(params: Any) -> str:
    """JSON with sorted keys and no whitespace: equal parameters give equal text.

    NaN is refused (it would make two equal parameter sets compare unequal).
    """
    try:
        return json.dumps(
            params, sort_keys=True, separators=(",", ":"), default=_default, allow_nan=False
        )
    except ValueError as exc:
        raise ValueError(f"cache parameters must be finite numbers: {exc}") from None


def param_key(kind: str, params: Mapping[str, Any]) -> str:
    """The SHA-256 key of ``(kind, params, format version)``."""
    text = canonical_json({"kind": kind, "params": params, "format": FORMAT_VERSION})
    return hashlib.sha256(text.encode()).hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class CacheEvent:
    """One cache look-up: what was asked, its key, whether it hit, and how long it took."""

    kind: str
    key: str
    hit: bool
    seconds: float


def _write_item(folder: Path, name: str, value: Any) -> tuple[str, str]:
    if isinstance(value, torch.Tensor) or (
        isinstance(value, Mapping)
        and value
        and all(isinstance(v, torch.Tensor) for v in value.values())
    ):
        fname, typ = f"{name}.pt", "torch"
        torch.save(value, folder / fname)
    elif isinstance(value, np.ndarray):
        if value.dtype == object:
            raise TypeError(f"cache item {name!r}: object arrays are not cacheable")
        fname, typ = f"{name}.npy", "numpy"
        np.save(folder / fname, value, allow_pickle=False)
    elif type(value).__name__ == "DataFrame":
        fname, typ = f"{name}.json", "pandas"
        (folder / fname).write_text(value.to_json(orient="split", double_precision=15))
    else:
        fname, typ = f"{name}.json", "json"
        (folder / fname).write_text(json.dumps(value, default=_default))
    return fname, typ


def _read_item(path: Path, typ: str) -> Any:
    if typ == "torch":
        return torch.load(path, map_location="cpu", weights_only=True)
    if typ == "numpy":
        return np.load(path, allow_pickle=False)
    if typ == "pandas":
        import pandas as pd

        return pd.read_json(path, orient="split", precise_float=True)
    if typ == "json":
        return json.loads(path.read_text())
    raise ValueError(f"unknown cache item type {typ!r}")


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class Cache:
    """A cache rooted at ``root`` (created on first write).

    Examples
    --------
    >>> cache = Cache("data/cache")                                   # doctest: +SKIP
    >>> out = cache.get_or_compute("train", {"victim": "cnn1d_rand", "seed": 0}, fit)  # +SKIP
    """

    root: Path
    events: list[CacheEvent] = field(default_factory=list)
    lock_timeout: float = -1.0  # seconds to wait for another process's write (-1: forever)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self._locks: dict[Path, Any] = {}
        self._swept = False

    def clean_leftovers(self) -> int:
        """Remove the temporary folders killed writers left anywhere in the cache; a folder
        whose entry lock is held belongs to a live writer and is kept. Returns how many were
        removed. Called once per :class:`Cache` object, before its first write."""
        from filelock import FileLock, Timeout

        removed = 0
        for tmp in sorted(self.root.glob("*/*/.tmp-*")):
            prefix = tmp.name.split("-")[1] if tmp.name.count("-") >= 2 else ""
            if not prefix:
                continue
            held = []
            try:  # a writer holds its entry's lock from before its folder exists until renamed
                for lock_path in tmp.parent.glob(f"{prefix}*.lock"):
                    lock = FileLock(str(lock_path), timeout=0)
                    lock.acquire()
                    held.append(lock)
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
                    removed += 1
            except Timeout:
                continue  # a live writer
            finally:
                for lock in held:
                    lock.release()
        return removed

    def _sweep_once(self) -> None:
        if not self._swept:
            self._swept = True
            self.clean_leftovers()

    def lock(self, kind: str, key: str) -> Any:
        """The entry's lock (a file lock beside it, shared by every process using this cache):
        held while the entry is computed and written, so two processes asking for one entry
        compute it once. Re-entrant within this object."""
        from filelock import FileLock

        path = self.path(kind, key)
        if path not in self._locks:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._locks[path] = FileLock(
                str(path.parent / f"{key}.lock"), timeout=self.lock_timeout
            )
        return self._locks[path]

    def _clean_leftovers(self, kind: str, key: str) -> int:
        """Remove the temporary folders a killed writer of this entry left (call with the
        entry's lock held: no live writer of it exists then). Returns how many."""
        folder = self.path(kind, key).parent
        n = 0
        for tmp in folder.glob(f".tmp-{key[:12]}-*"):
            shutil.rmtree(tmp, ignore_errors=True)
            n += 1
        return n

    def path(self, kind: str, key: str) -> Path:
        if not kind.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"cache kind must be alphanumeric (with - or _), got {kind!r}")
        return self.root / kind / key[:2] / key

    def load(self, kind: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The payload stored for ``(kind, params)``, or ``None`` when absent or corrupt."""
        key = param_key(kind, params)
        folder = self.path(kind, key)
        if not folder.exists():
            return None
        try:
            manifest = json.loads((folder / "manifest.json").read_text())
            if manifest.get("key") != key or manifest.get("format") != FORMAT_VERSION:
                raise ValueError("manifest key or format does not match")
            payload = {}
            for name, item in manifest["items"].items():
                f = folder / item["file"]
                if f.stat().st_size != item["bytes"]:
                    raise ValueError(f"{item['file']}: size {f.stat().st_size} != {item['bytes']}")
                if _sha256(f) != item["sha256"]:
                    raise ValueError(f"{item['file']}: checksum mismatch")
                payload[name] = _read_item(f, item["type"])
            return payload
        except Exception as exc:  # any failure means the entry cannot be trusted
            self._quarantine(folder, kind, key, exc)
            return None

    def save(self, kind: str, params: Mapping[str, Any], payload: Mapping[str, Any]) -> Path:
        """Store ``payload`` (item name -> value) for ``(kind, params)``, atomically, under the
        entry's lock: a reader sees the old entry or the whole new one, never a part; a writer
        killed half-way leaves only a temporary folder, removed by the next write."""
        key = param_key(kind, params)
        self._sweep_once()
        with self.lock(kind, key):
            self._clean_leftovers(kind, key)
            return self._save_locked(kind, key, params, payload)

    def _save_locked(
        self, kind: str, key: str, params: Mapping[str, Any], payload: Mapping[str, Any]
    ) -> Path:
        final = self.path(kind, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".tmp-{key[:12]}-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            items = {}
            for name, value in payload.items():
                if not name.replace("_", "").isalnum():
                    raise ValueError(f"cache item names must be alphanumeric, got {name!r}")
                fname, typ = _write_item(tmp, name, value)
                f = tmp / fname
                items[name] = {
                    "file": fname,
                    "type": typ,
                    "bytes": f.stat().st_size,
                    "sha256": _sha256(f),
                }
            manifest = {
                "kind": kind,
                "key": key,
                "format": FORMAT_VERSION,
                "params": json.loads(canonical_json(params)),
                "items": items,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
            for f in tmp.iterdir():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            if final.exists():  # a stale or corrupt entry: move it aside, never delete data
                self._quarantine(
                    final, kind, key, RuntimeError("replaced by a new write"), warn=False
                )
            os.rename(tmp, final)
            _fsync_dir(final.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final

    def get_or_compute(
        self,
        kind: str,
        params: Mapping[str, Any],
        compute: Callable[[], Mapping[str, Any]],
    ) -> dict[str, Any]:
        """Load ``(kind, params)`` if a valid entry exists, else run ``compute()`` and store it.

        Every call is logged in :attr:`events` (kind, key, hit, seconds) for provenance.
        """
        return self.fetch(kind, params, compute)[0]

    def fetch(
        self,
        kind: str,
        params: Mapping[str, Any],
        compute: Callable[[], Mapping[str, Any]],
    ) -> tuple[dict[str, Any], CacheEvent]:
        """:meth:`get_or_compute`, also returning the call's :class:`CacheEvent` (its key and
        whether it was a hit)."""
        t0 = time.perf_counter()
        key = param_key(kind, params)
        payload = self.load(kind, params)
        hit = payload is not None
        if payload is None:
            self._sweep_once()
            with self.lock(kind, key):
                # another process may have written it while this one waited for the lock
                payload = self.load(kind, params)
                hit = payload is not None
                if payload is None:
                    self._clean_leftovers(kind, key)
                    self._save_locked(kind, key, params, dict(compute()))
                    # Read back what was written, so a hit and a miss return identical objects.
                    payload = self.load(kind, params)
                    if payload is None:
                        raise RuntimeError(
                            f"cache entry {kind}/{key} failed its check right after writing"
                        )
        event = CacheEvent(kind, key, hit, time.perf_counter() - t0)
        self.events.append(event)
        return payload, event

    def _quarantine(self, folder: Path, kind: str, key: str, exc: BaseException, warn: bool = True):
        dest = self.root / ".corrupt" / f"{kind}-{key[:16]}-{uuid.uuid4().hex[:8]}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(folder, dest)
        if warn:
            warnings.warn(
                f"cache entry {kind}/{key[:16]}... is corrupt ({exc}); moved to {dest} and "
                "recomputing",
                CacheCorruptionWarning,
                stacklevel=3,
            )
