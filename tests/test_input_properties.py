"""Property-based tests (hypothesis) of every entry point that takes user input.

Each test states what must hold for *any* input of its kind: a file cut short never loads as if
whole, a misspelt option is refused with the valid ones listed, a listed file that is missing
fails the check, a label out of range is an error and not an empty result, an undefined metric is
NaN and renders as undefined. Example counts are modest so the file runs in well under a minute.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from advlib.data.core import (
    CROP_CHOICES,
    MONO_CHOICES,
    PAD_CHOICES,
    AudioError,
    fit_length,
    read_audio,
    resample_audio,
)

# tmp_path is shared by the examples of one test: every example writes its own file names.
FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# (container, subtype, extension, lossless): formats libsndfile writes and the study could meet
FORMATS = [
    ("WAV", "PCM_U8", "wav", True),
    ("WAV", "PCM_16", "wav", True),
    ("WAV", "PCM_24", "wav", True),
    ("WAV", "PCM_32", "wav", True),
    ("WAV", "FLOAT", "wav", True),
    ("WAV", "DOUBLE", "wav", True),
    ("WAV", "ULAW", "wav", False),
    ("WAV", "ALAW", "wav", False),
    ("WAV", "IMA_ADPCM", "wav", False),
    ("WAV", "MS_ADPCM", "wav", False),
    ("WAVEX", "PCM_16", "wav", True),
    ("AIFF", "PCM_S8", "aiff", False),  # libsndfile pads an odd count with one zero frame
    ("AIFF", "PCM_16", "aiff", True),
    ("AIFF", "FLOAT", "aiff", True),
    ("FLAC", "PCM_16", "flac", True),
    ("FLAC", "PCM_24", "flac", True),
    ("OGG", "VORBIS", "ogg", False),
]
RATES = [1, 7, 8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000]
_counter = iter(range(10**9))


def _fresh(folder: Path, ext: str) -> Path:
    return folder / f"clip{next(_counter)}.{ext}"


@st.composite
def audio_files(draw: st.DrawFn) -> tuple[str, str, str, bool, int, np.ndarray]:
    container, subtype, ext, lossless = draw(st.sampled_from(FORMATS))
    few = container == "OGG" or "ADPCM" in subtype  # libsndfile writes these for 1-2 channels
    channels = draw(st.integers(1, 2 if few else 6))
    rate = draw(st.sampled_from(RATES if container not in ("FLAC", "OGG") else RATES[2:7]))
    frames = draw(st.integers(1, 600))
    seed = draw(st.integers(0, 2**16))
    data = np.random.default_rng(seed).uniform(-0.9, 0.9, (frames, channels)).astype(np.float32)
    return container, subtype, ext, lossless, rate, data


def _write(folder: Path, spec: tuple[str, str, str, bool, int, np.ndarray]) -> Path:
    container, subtype, ext, _, rate, data = spec
    path = _fresh(folder, ext)
    sf.write(path, data, rate, subtype=subtype, format=container)
    return path


# --------------------------------------------------------------------------------- audio


@FAST
@given(spec=audio_files(), mono=st.sampled_from(MONO_CHOICES))
def test_read_audio_any_format_rate_and_channel_count(tmp_path, spec, mono):
    _, subtype, _, lossless, rate, data = spec
    path = _write(tmp_path, spec)
    if data.shape[1] > 1 and mono == "require":
        with pytest.raises(AudioError, match=f"{path.name}: expected mono audio, found"):
            read_audio(path, mono=mono)
        return
    audio, sr = read_audio(path, mono=mono)
    assert sr == rate and audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.abs(audio) <= 1.0)
    if lossless:
        want = data.mean(axis=1) if mono == "mean" else data[:, 0]
        step = {"PCM_U8": 2e-2, "PCM_S8": 2e-2}.get(subtype, 1e-4)
        assert audio.shape == want.shape
        np.testing.assert_allclose(audio, want, atol=step)


@FAST
@given(spec=audio_files(), cut=st.floats(0.0, 1.0, exclude_max=True))
def test_a_file_cut_short_never_loads_as_if_whole(tmp_path, spec, cut):
    """Cut anywhere, a file raises AudioError or (when only trailing metadata was lost)
    returns exactly the samples of the whole file."""
    path = _write(tmp_path, spec)
    whole, _ = read_audio(path, mono="first")
    raw = path.read_bytes()
    cut_path = _fresh(tmp_path, path.suffix[1:])
    cut_path.write_bytes(raw[: int(cut * len(raw))])
    try:
        audio, _ = read_audio(cut_path, mono="first")
    except AudioError as exc:
        assert cut_path.name in str(exc)
        return
    np.testing.assert_array_equal(audio, whole)


@settings(max_examples=15, deadline=None)
@given(
    frames=st.integers(1, 10**6),
    channels=st.integers(1, 8),
    bits=st.sampled_from([8, 16, 24, 32]),
)
def test_a_header_only_wav_is_refused(frames, channels, bits):
    import struct
    import tempfile

    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 1, channels, 8000, 8000 * block, block, bits)
    data_bytes = frames * block
    head = (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(fmt) + 8 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "header.wav"
        path.write_bytes(head)
        with pytest.raises(AudioError, match="header.wav: truncated: its header declares"):
            read_audio(path, mono="mean")


@settings(max_examples=40, deadline=None)
@given(blob=st.binary(max_size=200), riff=st.booleans())
def test_random_bytes_raise_audio_error_only(blob, riff):
    import tempfile

    if riff:
        blob = b"RIFF" + blob[:4].ljust(4, b"\0") + b"WAVE" + blob[4:]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "noise.wav"
        path.write_bytes(blob)
        try:
            audio, _ = read_audio(path, mono="mean")
        except AudioError as exc:
            assert "noise.wav" in str(exc)
        else:  # random bytes that happen to be a valid (short) file: still a clean waveform
            assert audio.ndim == 1 and audio.size > 0 and np.all(np.isfinite(audio))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mono=st.text(max_size=12).filter(lambda s: s not in MONO_CHOICES))
def test_an_unknown_mono_option_is_refused_with_the_choices(tmp_path, mono):
    path = tmp_path / "stereo.wav"
    if not path.exists():
        sf.write(path, np.zeros((10, 2)), 8000)
    with pytest.raises(ValueError, match="mono must be one of 'require', 'mean', 'first'"):
        read_audio(path, mono=mono)  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0, -8000, 8000.0, True, "8000"])
def test_a_bad_expected_sample_rate_is_refused(tmp_path, rate):
    path = tmp_path / "mono.wav"
    sf.write(path, np.zeros(10), 8000)
    with pytest.raises(ValueError, match="sample_rate must be a positive integer"):
        read_audio(path, sample_rate=rate)  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 300),
    length=st.integers(1, 300),
    crop=st.sampled_from(CROP_CHOICES),
    pad=st.sampled_from(PAD_CHOICES),
)
def test_fit_length_always_gives_the_length(n, length, crop, pad):
    audio = np.arange(1, n + 1, dtype=np.float32)
    out = fit_length(audio, length, crop=crop, pad=pad)
    assert out.shape == (length,)
    kept = out[out != 0]
    assert kept.size == min(n, length)
    assert np.all(np.diff(kept) == 1)  # a contiguous run of the input, in order


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 50),
    length=st.integers(1, 50),
    bad=st.text(max_size=8),
    which=st.sampled_from(["crop", "pad"]),
)
def test_fit_length_refuses_an_unknown_crop_or_pad_whatever_the_length(n, length, bad, which):
    assume(bad not in (CROP_CHOICES if which == "crop" else PAD_CHOICES))
    with pytest.raises(ValueError, match=f"{which} must be one of"):
        fit_length(np.ones(n, dtype=np.float32), length, **{which: bad})


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 400),
    orig=st.sampled_from([7, 8000, 11025, 16000, 22050, 44100, 48000]),
    target=st.sampled_from([7, 8000, 11025, 16000, 22050, 44100, 48000]),
)
def test_resample_length_is_exact(n, orig, target):
    out = resample_audio(np.zeros(n, dtype=np.float32), orig, target)
    assert out.shape == (math.ceil(n * target / orig),) and out.dtype == np.float32


def _unused() -> None:  # keep imports used while the file grows
    _ = (warnings, torch)


# ------------------------------------------------------------------ data-set verification


def _make_set(folder: Path, contents: list[bytes], sub: str = "audio") -> list[str]:
    """Files ``<sub>/f<i>.bin`` and a SHA256SUMS listing them; returns their relative paths."""
    import hashlib

    (folder / sub).mkdir(parents=True, exist_ok=True)
    rel = []
    lines = []
    for i, data in enumerate(contents):
        name = f"{sub}/f{i}.bin"
        (folder / name).write_bytes(data)
        rel.append(name)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    return rel


MUTATIONS = ["none", "delete", "flip", "truncate", "extra_loaded", "empty_list", "unload"]


@settings(max_examples=40, deadline=None)
@given(
    contents=st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=6, unique=True),
    mutation=st.sampled_from(MUTATIONS),
    which=st.integers(0, 5),
)
def test_every_listed_file_must_exist_and_match(contents, mutation, which):
    import tempfile

    from advlib.data.download import ChecksumError, verify_loaded_files

    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        files = _make_set(root, contents)
        victim = files[which % len(files)]
        loaded = list(files)
        if mutation == "delete":  # a listed file is gone, and a folder-listing loader skips it
            (root / victim).unlink()
            loaded.remove(victim)
        elif mutation == "flip":
            raw = bytearray((root / victim).read_bytes())
            raw[0] ^= 0xFF
            (root / victim).write_bytes(bytes(raw))
        elif mutation == "truncate":
            (root / victim).write_bytes((root / victim).read_bytes()[:-1])
        elif mutation == "extra_loaded":
            (root / "audio/new.bin").write_bytes(b"new")
            loaded.append("audio/new.bin")
        elif mutation == "empty_list":
            (root / "SHA256SUMS").write_text("")
        elif mutation == "unload":  # loading fewer files than listed is fine while all match
            loaded.remove(victim)
        if mutation in ("none", "unload"):
            assert verify_loaded_files(root, loaded) is True
            return
        with pytest.raises(ChecksumError) as info:
            verify_loaded_files(root, loaded)
        named = {
            "delete": f"{victim}: missing",
            "flip": f"{victim}: SHA-256 mismatch",
            "truncate": f"{victim}: SHA-256 mismatch",
            "extra_loaded": "audio/new.bin",
            "empty_list": "lists no files",
        }[mutation]
        assert named in str(info.value)


def _tiny_fsdd(root: Path) -> None:
    import hashlib

    rec = root / "recordings"
    rec.mkdir(parents=True)
    lines = []
    for digit in range(2):
        for index in range(6):
            path = rec / f"{digit}_amy_{index}.wav"
            sf.write(path, np.full(80, 0.1 * (digit + 1), dtype=np.float32), 8000)
            lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}")
    (root / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def test_fsdd_with_a_listed_recording_missing_fails_verification(tmp_path):
    from advlib.data.download import ChecksumError
    from advlib.data.fsdd import load_fsdd

    _tiny_fsdd(tmp_path)
    assert len(load_fsdd(tmp_path, length=80, verify=True, progress=False)) == 12
    (tmp_path / "recordings" / "1_amy_3.wav").unlink()
    with pytest.raises(ChecksumError, match="1_amy_3.wav: missing"):
        load_fsdd(tmp_path, length=80, verify=True, progress=False)


@settings(max_examples=60, deadline=None)
@given(text=st.binary(max_size=300))
def test_read_checksums_of_any_bytes_is_a_mapping_or_a_checksum_error(text):
    import tempfile

    from advlib.data.download import ChecksumError, read_checksums

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "SHA256SUMS"
        path.write_bytes(text)
        try:
            sums = read_checksums(path)
        except ChecksumError as exc:
            assert "SHA256SUMS" in str(exc)
            return
    for name, digest in sums.items():
        assert not name.startswith("/") and ".." not in name.split("/")
        assert len(digest) == 64 and digest == digest.lower()


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.wav", "audio/../../x.wav"])
def test_a_checksum_list_cannot_point_outside_its_folder(tmp_path, name):
    from advlib.data.download import ChecksumError, read_checksums

    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  {name}\n")
    with pytest.raises(ChecksumError, match="is not a relative path inside the data set"):
        read_checksums(tmp_path / "SHA256SUMS")


# ------------------------------------------------------------------------------ profiles


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a nested dict/list profile."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _set_path(cfg: dict, path: tuple, value: object) -> None:
    node = cfg
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(-3, 12), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@pytest.fixture(scope="module")
def ci_profile() -> dict:
    from advlib.chapters import load_profile

    return load_profile("ci")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), junk=JUNK)
def test_any_damaged_profile_is_valid_or_a_profile_error(ci_profile, data, junk):
    """Replace any value of the ci profile with junk: validation passes or raises
    ProfileError naming the key, never another exception."""
    import copy

    from advlib.chapters import validate_profile
    from advlib.study.profile import ProfileError

    cfg = copy.deepcopy(ci_profile)
    path = data.draw(st.sampled_from(_paths(cfg)))
    _set_path(cfg, path, junk)
    try:
        validate_profile(cfg, source="ci.yaml")
    except ProfileError as exc:
        assert str(exc).startswith("ci.yaml: ") and "\n" not in str(exc)


def _misspell(word: str, how: int, pos: int, letter: str) -> str:
    i = pos % (len(word) + 1)
    if how == 0 and word:  # drop a letter
        j = pos % len(word)
        return word[:j] + word[j + 1 :]
    if how == 1:  # insert one
        return word[:i] + letter + word[i:]
    j = pos % len(word)  # change one
    return word[:j] + letter + word[j + 1 :]


# (path to the mapping in the ci profile, a key there): misspelling the key must be refused
MISSPELLABLE = [
    ((), "seed"),
    ((), "datasets"),
    (("datasets", "synthetic"), "loader"),
    (("datasets", "synthetic"), "victims"),
    (("datasets", "synthetic", "args"), "clips_per_class"),
    (("datasets", "synthetic", "victims", "cnn1d_rand"), "knobs"),
    (("datasets", "synthetic", "victims", "cnn1d_rand", "knobs"), "width"),
    (("datasets", "synthetic", "victims", "cnn1d_rand", "train"), "epochs"),
    (("attacks",), "runs"),
    (("uap",), "n_craft"),
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.sampled_from(MISSPELLABLE),
    how=st.integers(0, 2),
    pos=st.integers(0, 30),
    letter=st.sampled_from("abcdeinorstuz_"),
)
def test_a_misspelt_name_is_refused_at_load_with_the_valid_names(
    ci_profile, which, how, pos, letter
):
    import copy

    from advlib.chapters import validate_profile
    from advlib.study.profile import ProfileError

    cfg = copy.deepcopy(ci_profile)
    path, key = which
    node = cfg
    for part in path:
        node = node[part]
    wrong = _misspell(key, how, pos, letter)
    assume(wrong != key and wrong not in node)
    node[wrong] = node.pop(key)
    with pytest.raises(ProfileError, match=r"unknown .*valid: ") as info:
        validate_profile(cfg, source="ci.yaml")
    assert repr(wrong) in str(info.value) and key in str(info.value)


OPTION_PATHS = [
    (("datasets", "fsdd", "args", "crop"), "crop"),
    (("datasets", "fsdd", "args", "pad"), "pad"),
    (("datasets", "fsdd", "loader"), "loader"),
    (("datasets", "synthetic", "victims", "cnn1d_rand", "train", "optimizer"), "optimizer"),
    (("datasets", "synthetic", "victims", "cnn1d_rand", "train", "scheduler"), "scheduler"),
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(which=st.sampled_from(OPTION_PATHS), word=st.text("abcdeilmnorstuz", min_size=1, max_size=9))
def test_an_unknown_option_string_is_refused_at_load(ci_profile, which, word):
    import copy

    from advlib.chapters import validate_profile
    from advlib.study.profile import ProfileError

    path, name = which
    from advlib.data import LOADERS
    from advlib.train.classifier import _OPTIMIZERS

    valid = {*CROP_CHOICES, *PAD_CHOICES, *LOADERS, *_OPTIMIZERS, "plateau", "cosine"}
    assume(word not in valid)
    cfg = copy.deepcopy(ci_profile)
    _set_path(cfg, path, word)
    with pytest.raises(ProfileError, match=name):
        validate_profile(cfg, source="ci.yaml")


BUDGETS = [
    ("attacks", "runs", "pgd_linf", "settings", "eps"),
    ("attacks", "runs", "pgd_linf", "settings", "steps"),
    ("attacks", "n"),
    ("uap", "n_craft"),
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(BUDGETS),
    value=st.one_of(
        st.floats(max_value=-1e-9), st.just(float("nan")), st.just(float("inf")), st.just(0)
    ),
)
def test_a_budget_out_of_range_is_refused_at_load(ci_profile, path, value):
    import copy

    from advlib.chapters import validate_profile
    from advlib.study.profile import ProfileError

    cfg = copy.deepcopy(ci_profile)
    assume(path[-1] != "eps" or value != 0)  # eps = 0 is a legal (null) budget
    _set_path(cfg, path, value)
    with pytest.raises(ProfileError, match=path[-1]):
        validate_profile(cfg, source="ci.yaml")


@settings(max_examples=40, deadline=None)
@given(
    key=st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
    depth=st.integers(0, 3),
    first=st.integers(),
    second=st.integers(),
)
def test_a_key_written_twice_in_yaml_is_an_error(key, depth, first, second):
    from advlib.study.profile import ProfileError, load_yaml

    pad = "  " * depth
    head = "".join(f"{'  ' * i}level{i}:\n" for i in range(depth))
    text = f"{head}{pad}{key}: {first}\n{pad}other: 1\n{pad}{key}: {second}\n"
    with pytest.raises(ProfileError, match=f"key '{key}' is written twice"):
        load_yaml(text, "p.yaml")


def test_a_profile_file_with_a_key_written_twice_fails_at_load(tmp_path):
    from advlib.chapters import load_profile
    from advlib.paths import REPO_ROOT
    from advlib.study.profile import ProfileError

    text = (REPO_ROOT / "config" / "demo.yaml").read_text()
    path = tmp_path / "twice.yaml"
    path.write_text(text + "\nseed: 1\n")
    with pytest.raises(
        ProfileError, match=r"twice.yaml: line \d+, column 1: key 'seed' is written"
    ):
        load_profile(path)
    merged = tmp_path / "merged.yaml"  # YAML merge keys may be overridden: not a duplicate
    merged.write_text("base: &b {x: 1, y: 2}\nover:\n  <<: *b\n  x: 3\n")
    from advlib.study.profile import load_yaml

    assert load_yaml(merged.read_text())["over"] == {"x": 3, "y": 2}


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=80))
def test_any_yaml_text_loads_or_raises_a_profile_error(text):
    from advlib.study.profile import ProfileError, load_yaml

    try:
        load_yaml(text, "p.yaml")
    except ProfileError as exc:
        assert str(exc).startswith("p.yaml: ") and "\n" not in str(exc)


# ------------------------------------------------------------------ attacks and the runner

# every per-clip attack with settings small enough for a property test
ATTACK_SETTINGS = {
    "fgsm": {"eps": 0.05},
    "bim": {"eps": 0.05, "steps": 2},
    "pgd": {"eps": 0.05, "steps": 2},
    "deepfool": {"steps": 2},
    "cw_l2": {"steps": 2, "binary_search_steps": 1},
    "ddn": {"steps": 2},
    "jsma": {"gamma": 0.5},
    "nes": {"eps": 0.05, "steps": 1, "samples": 2},
    "genetic": {"eps": 0.05, "steps": 1, "population": 4},
    "pso": {"eps": 0.05, "steps": 1, "particles": 4, "epochs": 1},
}


def _linear(n_classes: int, width: int = 16) -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(width, n_classes)).eval()


@pytest.fixture(scope="module")
def known_settings() -> dict:
    """ATTACK_SETTINGS restricted to the settings each attack takes (names differ a little)."""
    import inspect

    from advlib.attacks.registry import get_attack

    out = {}
    for name, s in ATTACK_SETTINGS.items():
        params = inspect.signature(get_attack(name)).parameters
        out[name] = {k: v for k, v in s.items() if k in params}
    return out


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(sorted(ATTACK_SETTINGS)),
    n_classes=st.integers(2, 5),
    batch=st.integers(1, 4),
    offset=st.integers(0, 3),
    negative=st.booleans(),
)
def test_an_attack_refuses_labels_out_of_range(
    known_settings, name, n_classes, batch, offset, negative
):
    from advlib.attacks.registry import make_attack

    attack = make_attack(name, known_settings[name], seed=0)
    x = torch.zeros(batch, 16)
    y = torch.zeros(batch, dtype=torch.long)
    y[-1] = -1 - offset if negative else n_classes + offset
    with pytest.raises(ValueError, match="label"):
        attack(_linear(n_classes), x, y, targeted=False)


@pytest.mark.parametrize("name", sorted(ATTACK_SETTINGS))
def test_an_attack_refuses_an_empty_batch(known_settings, name):
    from advlib.attacks.registry import make_attack

    attack = make_attack(name, known_settings[name], seed=0)
    with pytest.raises(ValueError, match="non-empty batch"):
        attack(_linear(3), torch.zeros(0, 16), torch.zeros(0, dtype=torch.long), targeted=False)


@settings(max_examples=30, deadline=None)
@given(
    n_classes=st.integers(2, 5),
    batch=st.integers(1, 6),
    bad=st.one_of(st.integers(5, 40), st.integers(-40, -1)),
    where=st.sampled_from(["label", "target"]),
    skip=st.booleans(),
)
def test_the_runner_refuses_labels_and_targets_out_of_range(n_classes, batch, bad, where, skip):
    """A label >= n_classes was never attacked (its clean prediction always 'differs'), giving
    an empty run whose success rate is NaN; now it is an error naming the label."""
    from functools import partial

    from advlib.attacks.fgsm import fgsm
    from advlib.run.runner import run_attack

    x = torch.zeros(batch, 16)
    y = torch.zeros(batch, dtype=torch.long)
    targets = None
    bad = bad if bad < 0 else n_classes + bad - 5
    if where == "label":
        y[0] = bad
    else:
        targets = torch.ones(batch, dtype=torch.long)
        targets[-1] = bad
    with pytest.raises(ValueError, match=rf"{where}\(s\) \[{bad}\] out of range: .* {n_classes} "):
        run_attack(
            _linear(n_classes),
            x,
            y,
            partial(fgsm, eps=0.1),
            targets=targets,
            skip_misclassified=skip,
            progress=False,
        )


def test_the_runner_refuses_an_empty_batch_and_float_labels():
    from functools import partial

    from advlib.attacks.fgsm import fgsm
    from advlib.run.runner import pick_clips, run_attack

    attack = partial(fgsm, eps=0.1)
    with pytest.raises(ValueError, match="nothing to attack: x is empty"):
        run_attack(_linear(3), torch.zeros(0, 16), torch.zeros(0, dtype=torch.long), attack)
    with pytest.raises(ValueError, match="integer tensor of labels"):
        run_attack(_linear(3), torch.zeros(2, 16), torch.zeros(2), attack)
    with pytest.raises(ValueError, match="the part is empty"):
        pick_clips(torch.zeros(0, dtype=torch.long), 4)


# ---------------------------------------------------------------------- metrics and tables

WAVES = st.lists(
    st.floats(-1.0, 1.0, allow_subnormal=False).map(lambda v: 0.0 if abs(v) < 1e-3 else v),
    min_size=1,
    max_size=32,
)


@settings(max_examples=60, deadline=None)
@given(
    x=WAVES,
    v=WAVES,
    silent_x=st.booleans(),
    zero_v=st.booleans(),
)
def test_decibel_metrics_are_finite_or_nan_with_a_reason(x, v, silent_x, zero_v):
    from advlib.metrics import UndefinedMetricWarning, ldb, ldb_x, snr_db, spl_db

    n = min(len(x), len(v))
    xa = np.zeros(n) if silent_x else np.asarray(x[:n])
    va = np.zeros(n) if zero_v else np.asarray(v[:n])
    for fn, args, undefined in (
        (snr_db, (xa, va), not xa.any() or not va.any()),
        (ldb_x, (va, xa), not xa.any() or not va.any()),
        (ldb, (xa,), not xa.any()),
        (spl_db, (va,), not va.any()),
    ):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fn(*args)
        reasons = [str(w.message) for w in caught if w.category is UndefinedMetricWarning]
        assert not math.isinf(out), f"{fn.__name__} gave {out}"
        if undefined:
            assert math.isnan(out) and reasons and "undefined" in reasons[0]
        else:
            assert math.isfinite(out) and not reasons


CELLS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(allow_nan=True, allow_infinity=True, width=32).map(np.float32),
    st.just(np.float64("inf")),
    st.just(-np.inf),
    st.none(),
    st.just(pd_na := object()),  # replaced by pandas.NA below (pandas is imported lazily)
    st.integers(-5, 5),
    st.text(alphabet="abc", max_size=3),
)


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(CELLS, min_size=1, max_size=6), fmt=st.sampled_from([None, "dB", "%"]))
def test_a_table_never_shows_inf_or_nan(cells, fmt):
    """Every undefined cell (NaN, inf, None, pandas.NA, in any column type) renders as "—"
    with the footnote saying it is undefined; no "inf", "nan" or "<NA>" reaches the page."""
    import pandas as pd

    from advlib.tables import UNDEFINED, UNDEFINED_NOTE, decibels, percent, render

    cells = [pd.NA if c is pd_na else c for c in cells]
    df = pd.DataFrame({"value": pd.Series(cells, dtype=object)})
    formats = {"dB": {"value": decibels}, "%": {"value": percent}}.get(fmt or "", {})
    html = render(df, "t", formats=formats).data
    body = html.split("<tbody>")[1].split("</tbody>")[0].lower()
    for word in ("inf", "nan", "&lt;na&gt;", "none", "nat"):
        assert word not in body, (cells, body)
    if UNDEFINED in body:
        assert "undefined" in UNDEFINED_NOTE and UNDEFINED_NOTE.split(":")[0] in html
