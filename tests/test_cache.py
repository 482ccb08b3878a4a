import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from advlib.cache import Cache, CacheCorruptionWarning, param_key


def _payload():
    return {
        "weights": {"w": torch.arange(6.0).reshape(2, 3), "b": torch.ones(2)},
        "curve": np.linspace(0, 1, 5),
        "table": pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}),
        "record": {"acc": 0.9, "epochs": [1, 2]},
    }


def test_miss_then_hit(tmp_path):
    cache = Cache(tmp_path)
    calls = []

    def compute():
        calls.append(1)
        return _payload()

    a = cache.get_or_compute("train", {"seed": 0, "lr": 1.0}, compute)
    b = cache.get_or_compute("train", {"lr": 1.0, "seed": 0}, compute)  # key order irrelevant
    assert len(calls) == 1
    assert [e.hit for e in cache.events] == [False, True]
    assert torch.equal(a["weights"]["w"], b["weights"]["w"])
    assert np.array_equal(a["curve"], b["curve"])
    pd.testing.assert_frame_equal(a["table"], b["table"])
    assert b["record"] == {"acc": 0.9, "epochs": [1, 2]}
    cache.get_or_compute("train", {"seed": 1, "lr": 1.0}, compute)
    assert len(calls) == 2


def test_fetch_returns_the_payload_and_its_event(tmp_path):
    cache = Cache(tmp_path)
    p1, e1 = cache.fetch("train", {"seed": 0}, _payload)
    p2, e2 = cache.fetch("train", {"seed": 0}, _payload)
    assert (e1.hit, e2.hit) == (False, True) and e1.key == e2.key
    assert cache.events == [e1, e2] and e1.key == param_key("train", {"seed": 0})
    assert p1["record"] == p2["record"]


def test_key_depends_on_every_parameter():
    assert param_key("k", {"a": 1}) != param_key("k", {"a": 2})
    assert param_key("k", {"a": 1}) != param_key("j", {"a": 1})
    assert param_key("k", {"a": [1, 2]}) == param_key("k", {"a": (1, 2)})
    with pytest.raises(ValueError, match="finite"):
        param_key("k", {"a": float("nan")})


def _entry_files(cache, kind, params):
    folder = cache.path(kind, param_key(kind, params))
    return folder, json.loads((folder / "manifest.json").read_text())


@pytest.mark.parametrize("damage", ["truncate", "flip", "manifest", "missing"])
def test_corrupt_entry_is_detected_and_recomputed(tmp_path, damage):
    cache = Cache(tmp_path)
    params = {"x": 1}
    cache.get_or_compute("t", params, _payload)
    folder, manifest = _entry_files(cache, "t", params)
    target = folder / manifest["items"]["weights"]["file"]
    if damage == "truncate":
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[-10] ^= 0xFF
        target.write_bytes(bytes(data))
    elif damage == "manifest":
        (folder / "manifest.json").write_text("{not json")
    else:
        target.unlink()
    calls = []
    with pytest.warns(CacheCorruptionWarning, match="corrupt"):
        out = cache.get_or_compute("t", params, lambda: calls.append(1) or _payload())
    assert calls == [1], "a corrupt entry must be recomputed"
    assert torch.equal(out["weights"]["w"], torch.arange(6.0).reshape(2, 3))
    quarantined = list((tmp_path / ".corrupt").iterdir())
    assert len(quarantined) == 1, "the damaged entry is moved aside, not deleted"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cache.get_or_compute("t", params, lambda: pytest.fail("should hit"))


def test_failed_compute_leaves_nothing(tmp_path):
    cache = Cache(tmp_path)

    def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        cache.get_or_compute("t", {"x": 1}, boom)
    assert cache.load("t", {"x": 1}) is None


def test_unserialisable_item_leaves_no_partial_entry(tmp_path):
    cache = Cache(tmp_path)
    with pytest.raises(TypeError):
        cache.save("t", {"x": 1}, {"ok": {"a": 1}, "bad": object()})
    assert cache.load("t", {"x": 1}) is None
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".tmp")]
    assert leftovers == []


def test_checkpoints_load_with_weights_only(tmp_path, monkeypatch):
    cache = Cache(tmp_path)
    cache.save("t", {"x": 1}, {"weights": {"w": torch.ones(2)}})
    seen = {}
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    cache.load("t", {"x": 1})
    assert seen.get("weights_only") is True


def test_bad_kind_rejected(tmp_path):
    with pytest.raises(ValueError):
        Cache(tmp_path).path("../evil", "ab" * 32)
