"""Tests of the real data-set loaders, on tiny fake sets in the real layouts and, when present, on
the vendored real data in ``$ADVLIB_DATA_ROOT`` (``.ci/run`` sets it).

Protocol checks are exact (which clip lands in which partition), and every bad input must raise
an error that names the offending file.
"""

from __future__ import annotations

import collections
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from advlib.data.core import AudioError, AudioSet, fit_length, read_audio, resample_audio
from advlib.data.download import ChecksumError
from advlib.data.esc import load_esc10, load_esc50
from advlib.data.fsdd import load_fsdd
from advlib.data.gtzan import GTZAN_GENRES, gtzan_split_ids, load_gtzan
from advlib.data.speech_commands import (
    CORE_WORDS,
    GAN_WORDS,
    UNKNOWN,
    load_speech_commands,
)
from advlib.data.urbansound8k import load_urbansound8k
from tests.fixtures import (
    ESC10_CATEGORIES,
    US8K_CLASSES,
    make_esc10,
    make_esc50,
    make_fsdd,
    make_gtzan,
    make_speech_commands,
    make_urbansound8k,
    signal,
    write_audio,
)
from tests.helpers import vendored


def _check_convention(s: AudioSet, length: int, sample_rate: int) -> None:
    assert s.x.dtype == torch.float32 and s.x.shape == (len(s), length)
    assert s.y.dtype == torch.int64
    assert s.sample_rate == sample_rate
    assert float(s.x.abs().max()) <= 1.0
    assert len(s.files) == len(s) == len(s.split)
    assert s.info["licence"] and s.info["citation"] and s.info["loader"]["function"]


def _fold_partitions(s: AudioSet) -> dict[int, set[str]]:
    out: dict[int, set[str]] = collections.defaultdict(set)
    for f, p in zip(s.folds.tolist(), s.split.tolist(), strict=True):
        out[f].add(p)
    return out


# ---------------------------------------------------------------------------------- FSDD


def _fsdd_name(rel: str) -> tuple[int, str, int]:
    m = re.match(r"recordings/(\d)_([a-z]+)_(\d+)\.wav$", rel)
    assert m, rel
    return int(m[1]), m[2], int(m[3])


def test_fsdd_official_split_and_labels(tmp_path: Path) -> None:
    root = make_fsdd(tmp_path / "fsdd")
    s = load_fsdd(root, progress=False)
    _check_convention(s, 8000, 8000)
    assert s.name == "fsdd" and s.classes == tuple("0123456789") and s.folds is None
    assert len(s) == 10 * 2 * 12
    for rel, y, part, spk in zip(s.files, s.y.tolist(), s.split, s.info["speakers"], strict=True):
        digit, speaker, index = _fsdd_name(rel)
        assert y == digit and spk == speaker
        expected = "test" if index <= 4 else "valid" if index <= 9 else "train"
        assert part == expected, rel
    counts = collections.Counter(s.split.tolist())
    assert counts == {"test": 100, "valid": 100, "train": 40}
    parts = {p: set(np.asarray(s.files)[s.split == p]) for p in ("train", "valid", "test")}
    assert not parts["train"] & parts["valid"] and not parts["train"] & parts["test"]
    assert not parts["valid"] & parts["test"]
    assert s.info["citation"] == ["jackson2018fsdd"] and "CC BY-SA" in s.info["licence"]


def test_fsdd_clip_content_is_padded_file(tmp_path: Path) -> None:
    root = make_fsdd(tmp_path / "fsdd", speakers=("alice",), n_index=5)
    s = load_fsdd(root, length=1000, progress=False)
    i = s.files.index("recordings/3_alice_0.wav")  # 400 samples: zero-padded at the end
    raw, _ = read_audio(root / s.files[i], sample_rate=8000)
    assert len(raw) == 400
    np.testing.assert_array_equal(s.x[i, :400].numpy(), raw)
    assert torch.all(s.x[i, 400:] == 0)
    j = s.files.index("recordings/3_alice_3.wav")  # 1600 samples: cropped from the start
    raw, _ = read_audio(root / s.files[j], sample_rate=8000)
    assert len(raw) == 1600
    np.testing.assert_array_equal(s.x[j].numpy(), raw[:1000])


def test_fsdd_custom_valid_indices_and_overlap(tmp_path: Path) -> None:
    root = make_fsdd(tmp_path / "fsdd", speakers=("alice",))
    s = load_fsdd(root, valid_indices=[11], progress=False)
    idx = np.array(s.info["indices"])
    assert set(s.split[idx == 11]) == {"valid"} and set(s.split[idx == 7]) == {"train"}
    assert set(s.split[idx < 5]) == {"test"}
    s0 = load_fsdd(root, valid_indices=(), progress=False)
    assert "valid" not in set(s0.split)
    with pytest.raises(ValueError, match="overlap"):
        load_fsdd(root, valid_indices=[4, 5], progress=False)


def test_fsdd_resampling_is_explicit(tmp_path: Path) -> None:
    root = make_fsdd(tmp_path / "fsdd", speakers=("alice",), n_index=6)
    with pytest.raises(AudioError, match=r"8000 Hz.*16000 Hz|16000 Hz"):
        load_fsdd(root, sample_rate=16000, length=16000, progress=False)
    s = load_fsdd(root, sample_rate=16000, length=16000, resample=True, progress=False)
    assert s.sample_rate == 16000 and s.x.shape[1] == 16000


def test_fsdd_verify_passes_and_detects_tampering(tmp_path: Path) -> None:
    root = make_fsdd(tmp_path / "fsdd", speakers=("alice",), n_index=6)
    assert load_fsdd(root, verify=True, progress=False).info["loader"]["verified"] is True
    victim = root / "recordings" / "5_alice_3.wav"
    write_audio(victim, signal(400, freq=999.0), 8000)  # still valid audio, other content
    with pytest.raises(ChecksumError, match="5_alice_3.wav"):
        load_fsdd(root, verify=True, progress=False)
    (root / "SHA256SUMS").unlink()
    with pytest.warns(UserWarning, match="SHA256SUMS"):
        assert load_fsdd(root, verify=True, progress=False).info["loader"]["verified"] is False


def test_fsdd_unlisted_file_fails_verification(tmp_path: Path) -> None:
    root = make_fsdd(tmp_path / "fsdd", speakers=("alice",), n_index=6)
    write_audio(root / "recordings" / "0_zed_0.wav", signal(400), 8000)
    with pytest.raises(ChecksumError, match=r"0_zed_0.wav: not listed"):
        load_fsdd(root, verify=True, progress=False)


def _corrupt(path: Path, kind: str) -> None:
    if kind == "empty":
        sf.write(str(path), np.zeros(0, dtype=np.float32), 8000, subtype="PCM_16")
    elif kind == "stereo":
        sf.write(str(path), np.zeros((400, 2), dtype=np.float32), 8000, subtype="PCM_16")
    elif kind == "nan":
        a = signal(400)
        a[100] = np.nan
        sf.write(str(path), a, 8000, subtype="FLOAT")
    elif kind == "rate":
        sf.write(str(path), signal(400), 11025, subtype="PCM_16")
    elif kind == "truncated":
        path.write_bytes(path.read_bytes()[:20])
    elif kind == "garbage":
        path.write_bytes(b"this is not audio at all" * 10)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("empty", "empty audio"),
        ("stereo", "expected mono"),
        ("nan", "NaN"),
        ("rate", "sample rate is 11025 Hz"),
        ("truncated", "unreadable"),
        ("garbage", "unreadable"),
    ],
)
def test_fsdd_bad_file_is_named(tmp_path: Path, kind: str, message: str) -> None:
    root = make_fsdd(tmp_path / "fsdd", speakers=("alice",), n_index=6, sums=False)
    victim = root / "recordings" / "7_alice_5.wav"
    _corrupt(victim, kind)
    with pytest.raises(AudioError, match=message) as err:
        load_fsdd(root, progress=False)
    assert "7_alice_5.wav" in str(err.value)


def test_fsdd_layout_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="recordings"):
        load_fsdd(tmp_path / "nowhere", progress=False)
    root = make_fsdd(tmp_path / "fsdd", speakers=("alice",), n_index=6, sums=False)
    write_audio(root / "recordings" / "seven_alice_1.wav", signal(100), 8000)
    with pytest.raises(ValueError, match="seven_alice_1.wav"):
        load_fsdd(root, progress=False)


# ----------------------------------------------------------------------------------- ESC


def test_esc10_folds_classes_and_split(tmp_path: Path) -> None:
    root = make_esc10(tmp_path / "esc10")
    s = load_esc10(root, length=3200, progress=False)
    _check_convention(s, 3200, 16000)
    assert s.name == "esc10"
    # class order follows `target`, not the alphabet
    assert s.classes == tuple(c for _, c in ESC10_CATEGORIES)
    meta = {r.split(",")[0]: r.split(",") for r in (root / "meta.csv").read_text().splitlines()[1:]}
    for rel, fold, y in zip(s.files, s.folds.tolist(), s.y.tolist(), strict=True):
        row = meta[rel.removeprefix("audio/")]
        assert fold == int(row[1]) and y == int(row[2]) and s.classes[y] == row[3]
    parts = _fold_partitions(s)
    assert all(len(p) == 1 for p in parts.values()), parts
    assert parts[5] == {"test"} and parts[4] == {"valid"}
    assert parts[1] == parts[2] == parts[3] == {"train"}
    # no Freesound source in two partitions
    src_parts = collections.defaultdict(set)
    for src, p in zip(s.info["src_files"], s.split, strict=True):
        src_parts[src].add(p)
    assert all(len(p) == 1 for p in src_parts.values())


def test_esc10_center_crop_and_pad_match_fit_length(tmp_path: Path) -> None:
    root = make_esc10(tmp_path / "esc10", n_folds=5, clips_per_class_fold=1)
    length = 3200  # 0.2 s at 16 kHz; fake clips are 0.1-0.3 s
    s = load_esc10(root, length=length, progress=False)
    lengths = set()
    for i, rel in enumerate(s.files):
        raw, _ = read_audio(root / rel, sample_rate=16000, resample=True)
        lengths.add(len(raw) > length)
        if len(raw) > length:  # centred crop
            start = (len(raw) - length) // 2
            expected = raw[start : start + length]
        else:  # zeros appended
            expected = np.concatenate([raw, np.zeros(length - len(raw), dtype=np.float32)])
        np.testing.assert_array_equal(s.x[i].numpy(), expected)
    assert lengths == {True, False}  # both cropping and padding were exercised


def test_esc10_other_folds_and_no_resample(tmp_path: Path) -> None:
    root = make_esc10(tmp_path / "esc10", clips_per_class_fold=1)
    s = load_esc10(root, length=1000, test_fold=1, valid_fold=None, progress=False)
    assert set(s.split[s.folds == 1]) == {"test"} and "valid" not in set(s.split)
    rot = s.with_fold_split(test_fold=3, valid_fold=2)
    assert _fold_partitions(rot)[3] == {"test"}
    with pytest.raises(AudioError, match=r"\.ogg: sample rate is 44100 Hz"):
        load_esc10(root, resample=False, progress=False)
    s44 = load_esc10(root, sample_rate=44100, length=4410, resample=False, progress=False)
    assert s44.sample_rate == 44100


def test_esc10_missing_meta_and_missing_clip(tmp_path: Path) -> None:
    root = make_esc10(tmp_path / "esc10", clips_per_class_fold=1)
    victim = sorted((root / "audio").iterdir())[3]
    victim.unlink()
    with pytest.raises(AudioError, match=re.escape(victim.name)):
        load_esc10(root, progress=False)
    (root / "meta.csv").unlink()
    with pytest.raises(FileNotFoundError, match="meta.csv"):
        load_esc10(root, progress=False)


def test_esc10_fold_prefix_must_match_csv(tmp_path: Path) -> None:
    root = make_esc10(tmp_path / "esc10", clips_per_class_fold=1)
    meta = root / "meta.csv"
    lines = meta.read_text().splitlines()
    name, fold, *rest = lines[1].split(",")
    lines[1] = ",".join([name, str(int(fold) % 5 + 1), *rest])
    meta.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=re.escape(name)):
        load_esc10(root, progress=False)


def test_esc10_verify(tmp_path: Path) -> None:
    root = make_esc10(tmp_path / "esc10", clips_per_class_fold=1)
    assert load_esc10(root, length=800, verify=True, progress=False).info["loader"]["verified"]
    victim = sorted((root / "audio").iterdir())[0]
    victim.write_bytes(victim.read_bytes()[:-50])  # truncated
    with pytest.raises(ChecksumError, match=re.escape(victim.name)):
        load_esc10(root, length=800, verify=True, progress=False)


def test_esc50_full_and_esc10_subset(tmp_path: Path) -> None:
    root = make_esc50(tmp_path / "ESC-50-master")
    s = load_esc50(root, length=1600, progress=False)
    _check_convention(s, 1600, 16000)
    assert s.classes == ("dog", "cow", "rain", "chirping_birds", "chainsaw")
    assert s.info["esc50_targets"] == [0, 5, 10, 14, 41]
    assert len(s) == 25 and all(len(p) == 1 for p in _fold_partitions(s).values())
    for rel, y, fold in zip(s.files, s.y.tolist(), s.folds.tolist(), strict=True):
        f, _, _, target = Path(rel).stem.split("-")
        assert s.info["esc50_targets"][y] == int(target) and fold == int(f)
    sub = load_esc50(root, esc10_only=True, length=1600, progress=False)
    assert sub.classes == ("dog", "rain", "chainsaw") and len(sub) == 15
    assert sub.info["subset"] == "esc10" and sub.info["esc50_targets"] == [0, 10, 41]
    assert set(sub.split[sub.folds == 5]) == {"test"} and set(sub.split[sub.folds == 4]) == {
        "valid"
    }


def test_esc50_missing_meta(tmp_path: Path) -> None:
    root = make_esc50(tmp_path / "ESC-50-master")
    (root / "meta" / "esc50.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"esc50\.csv"):
        load_esc50(root, progress=False)


def test_esc_missing_column_is_named(tmp_path: Path) -> None:
    root = make_esc50(tmp_path / "ESC-50-master")
    meta = root / "meta" / "esc50.csv"
    meta.write_text(meta.read_text().replace(",esc10,", ",esc_10,", 1))
    with pytest.raises(ValueError, match=r"esc50\.csv: missing column\(s\) esc10"):
        load_esc50(root, progress=False)


# --------------------------------------------------------------------------- UrbanSound8K


def test_urbansound8k_folds_from_csv(tmp_path: Path) -> None:
    root = make_urbansound8k(tmp_path / "UrbanSound8K", clips_per_class_fold=2)
    s = load_urbansound8k(root, length=4000, progress=False)
    _check_convention(s, 4000, 16000)
    assert s.classes == tuple(c for _, c in US8K_CLASSES)
    rows = [
        r.split(",") for r in (root / "metadata" / "UrbanSound8K.csv").read_text().splitlines()[1:]
    ]
    # folds are exactly the CSV column, in CSV order, never reshuffled
    assert s.folds.tolist() == [int(r[5]) for r in rows]
    assert s.y.tolist() == [int(r[6]) for r in rows]
    assert list(s.files) == [f"audio/fold{r[5]}/{r[0]}" for r in rows]
    parts = _fold_partitions(s)
    assert sorted(parts) == list(range(1, 11)) and all(len(p) == 1 for p in parts.values())
    assert parts[10] == {"test"} and parts[9] == {"valid"}
    for k in range(1, 9):
        assert parts[k] == {"train"}
    for test_fold in range(1, 11):
        rot = s.with_fold_split(test_fold)
        tr = set(rot.folds[rot.split == "train"].tolist())
        te = set(rot.folds[rot.split == "test"].tolist())
        assert te == {test_fold} and not tr & te


def test_urbansound8k_mixed_rates_and_channels(tmp_path: Path) -> None:
    root = make_urbansound8k(tmp_path / "UrbanSound8K")
    s = load_urbansound8k(root, length=4000, progress=False)
    stereo = [rel for rel in s.files if sf.info(str(root / rel)).channels == 2]
    rates = {sf.info(str(root / rel)).samplerate for rel in s.files}
    assert stereo and len(rates) == 4
    i = s.files.index(stereo[0])
    data, sr = sf.read(str(root / stereo[0]), dtype="float32", always_2d=True)
    expected = resample_audio(data.mean(axis=1), sr, 16000)  # channel mean, then resampled
    np.testing.assert_allclose(s.x[i].numpy(), fit_length(expected, 4000), atol=1e-6)
    with pytest.raises(AudioError, match="expected mono"):
        load_urbansound8k(root, mono="require", progress=False)
    with pytest.raises(AudioError, match="pass resample=True"):
        load_urbansound8k(root, resample=False, progress=False)


def test_urbansound8k_missing_metadata(tmp_path: Path) -> None:
    root = make_urbansound8k(tmp_path / "UrbanSound8K")
    (root / "metadata" / "UrbanSound8K.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"UrbanSound8K\.csv"):
        load_urbansound8k(root, progress=False)


def test_urbansound8k_file_in_wrong_fold_folder_is_named(tmp_path: Path) -> None:
    root = make_urbansound8k(tmp_path / "UrbanSound8K")
    f = next((root / "audio" / "fold3").iterdir())
    f.rename(root / "audio" / "fold4" / f.name)
    with pytest.raises(AudioError, match=re.escape(f"fold3/{f.name}")):
        load_urbansound8k(root, progress=False)


# ------------------------------------------------------------------------ Speech Commands


def _lines(path: Path) -> set[str]:
    return {line for line in path.read_text().splitlines() if line}


@pytest.mark.parametrize("layout", ["flat", "audio"])
def test_speech_commands_lists_respected_exactly(tmp_path: Path, layout: str) -> None:
    root = make_speech_commands(tmp_path / "sc", layout=layout)
    s = load_speech_commands(root, progress=False)
    _check_convention(s, 16000, 16000)
    assert s.classes == ("dog", "marvin", "no", "up", "yes")  # all words, sorted
    assert "_background_noise_" not in s.classes
    assert not any("_background_noise_" in f for f in s.files)
    files = np.asarray(s.files)
    assert set(files[s.split == "test"]) == _lines(root / "testing_list.txt")
    assert set(files[s.split == "valid"]) == _lines(root / "validation_list.txt")
    assert len(files[s.split == "train"]) == len(s) - len(_lines(root / "testing_list.txt")) - len(
        _lines(root / "validation_list.txt")
    )
    for f, y in zip(s.files, s.y.tolist(), strict=True):
        assert s.classes[y] == f.split("/")[0]
    # no speaker in two partitions
    by_speaker = collections.defaultdict(set)
    for spk, p in zip(s.info["speakers"], s.split, strict=True):
        by_speaker[spk].add(p)
    assert all(len(p) == 1 for p in by_speaker.values())


def test_speech_commands_zero_pads_to_one_second(tmp_path: Path) -> None:
    root = make_speech_commands(tmp_path / "sc")
    s = load_speech_commands(root, progress=False)
    short = [i for i, f in enumerate(s.files) if sf.info(str(root / f)).frames == 8000]
    assert short
    for i in short:
        raw, _ = read_audio(root / s.files[i], sample_rate=16000)
        np.testing.assert_array_equal(s.x[i, :8000].numpy(), raw)
        assert torch.all(s.x[i, 8000:] == 0)


def test_speech_commands_words_and_unknown(tmp_path: Path) -> None:
    root = make_speech_commands(tmp_path / "sc")
    s = load_speech_commands(root, words=["yes", "no"], progress=False)
    assert s.classes == ("yes", "no") and set(s.info["words"]) == {"yes", "no"}
    assert set(np.asarray(s.files)[s.split == "test"]) == {
        t for t in _lines(root / "testing_list.txt") if t.split("/")[0] in ("yes", "no")
    }
    u = load_speech_commands(root, words=["yes", "no"], unknown=True, progress=False)
    assert u.classes == ("yes", "no", UNKNOWN) and len(u) == len(s) * 5 // 2
    for f, y in zip(u.files, u.y.tolist(), strict=True):
        word = f.split("/")[0]
        assert u.classes[y] == (word if word in ("yes", "no") else UNKNOWN)
    with pytest.raises(FileNotFoundError, match="stop"):
        load_speech_commands(root, words=["yes", "stop"], progress=False)
    with pytest.raises(ValueError, match="_background_noise_"):
        load_speech_commands(root, words=["yes", "_background_noise_"], progress=False)
    with pytest.raises(ValueError, match="words"):
        load_speech_commands(root, unknown=True, progress=False)
    # an unquoted YAML list reads yes/no as booleans: named, not a folder lookup
    with pytest.raises(ValueError, match="quote them"):
        load_speech_commands(root, words=[True, False], progress=False)


@pytest.mark.parametrize("missing", ["testing_list.txt", "validation_list.txt"])
def test_speech_commands_missing_list_is_named(tmp_path: Path, missing: str) -> None:
    root = make_speech_commands(tmp_path / "sc", layout="audio")
    (root / missing).unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(missing)):
        load_speech_commands(root, progress=False)


def test_speech_commands_list_errors(tmp_path: Path) -> None:
    root = make_speech_commands(tmp_path / "sc")
    test_list = root / "testing_list.txt"
    first = sorted(_lines(test_list))[0]
    (root / first).unlink()
    with pytest.raises(ValueError, match=re.escape(first)):
        load_speech_commands(root, progress=False)
    root2 = make_speech_commands(tmp_path / "sc2")
    valid = sorted(_lines(root2 / "validation_list.txt"))[0]
    with open(root2 / "testing_list.txt", "a") as fh:
        fh.write(valid + "\n")
    with pytest.raises(ValueError, match="both"):
        load_speech_commands(root2, progress=False)


def test_speech_commands_bad_clip_and_verify(tmp_path: Path) -> None:
    root = make_speech_commands(tmp_path / "sc", layout="audio", sums=True)
    assert load_speech_commands(root, verify=True, progress=False).info["loader"]["verified"]
    victim = root / "audio" / "up" / "cccc0003_nohash_1.wav"
    sf.write(str(victim), np.zeros((1600, 2), dtype=np.float32), 16000)
    with pytest.raises(ChecksumError, match="cccc0003_nohash_1.wav"):
        load_speech_commands(root, verify=True, progress=False)
    with pytest.raises(AudioError, match="cccc0003_nohash_1.wav: expected mono"):
        load_speech_commands(root, progress=False)


def test_word_constants() -> None:
    assert GAN_WORDS == ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
    assert len(CORE_WORDS) == 20 and set(GAN_WORDS) < set(CORE_WORDS)


# --------------------------------------------------------------------------------- GTZAN


def _all_split_ids() -> list[str]:
    return [t for p in ("train", "valid", "test") for t in gtzan_split_ids(p)]


def test_gtzan_filtered_split_lists() -> None:
    ids = {p: gtzan_split_ids(p) for p in ("train", "valid", "test")}
    assert {p: len(v) for p, v in ids.items()} == {"train": 443, "valid": 197, "test": 290}
    allids = _all_split_ids()
    assert len(set(allids)) == 930
    assert all(
        re.fullmatch(r"[a-z]+\.\d{5}", t) and t.split(".")[0] in GTZAN_GENRES for t in allids
    )
    assert "jazz.00054" in ids["train"]
    # spot checks against the published lists (Kereliuk et al. 2015 / dnn-mgr)
    assert ids["test"][:2] == ("blues.00012", "blues.00013") and ids["test"][-1] == "rock.00090"
    assert ids["valid"][0] == "blues.00000" and ids["train"][-1] == "rock.00099"


@pytest.mark.parametrize(("folder", "ext"), [("genres", ".wav"), ("genres_original", ".au")])
def test_gtzan_loads_filtered_split_and_skips_corrupt(
    tmp_path: Path, folder: str, ext: str
) -> None:
    # also write three tracks that the filtered split leaves out: they must be ignored
    listed = set(_all_split_ids())
    outside = [f"{g}.{n:05d}" for g in GTZAN_GENRES for n in range(100)]
    outside = [t for t in outside if t not in listed][:3]
    root = make_gtzan(tmp_path / "gtzan", ids=[*listed, *outside], folder=folder, ext=ext)
    with pytest.warns(UserWarning, match=r"jazz\.00054"):
        s = load_gtzan(root, length=441, progress=False)
    _check_convention(s, 441, 22050)
    assert collections.Counter(s.split.tolist()) == {"train": 442, "valid": 197, "test": 290}
    assert s.info["skipped"] == ["jazz.00054"]
    assert not any("jazz.00054" in f for f in s.files)
    assert not any(Path(f).stem in outside for f in s.files)
    for f, y, p in zip(s.files, s.y.tolist(), s.split, strict=True):
        track = Path(f).stem
        assert f == f"{folder}/{track.split('.')[0]}/{track}{ext}"
        assert s.classes[y] == track.split(".")[0]
        assert track in gtzan_split_ids(p)


def test_gtzan_other_unreadable_or_missing_track_raises(tmp_path: Path) -> None:
    root = make_gtzan(tmp_path / "gtzan", ids=_all_split_ids(), corrupt=("jazz.00054", "pop.00013"))
    with pytest.warns(UserWarning), pytest.raises(AudioError, match=r"pop\.00013\.wav"):
        load_gtzan(root, length=441, progress=False)
    (root / "genres" / "pop" / "pop.00013.wav").unlink()
    with pytest.warns(UserWarning), pytest.raises(AudioError, match=r"pop\.00013"):
        load_gtzan(root, length=441, progress=False)
    shutil.rmtree(root / "genres")
    with pytest.raises(FileNotFoundError, match="genre folders"):
        load_gtzan(root, progress=False)


# ------------------------------------------------------------------ real vendored data sets


def test_real_fsdd() -> None:
    s = load_fsdd(vendored("fsdd"), verify=True, progress=False)
    _check_convention(s, 8000, 8000)
    counts = collections.Counter(s.split.tolist())
    assert counts["train"] + counts["valid"] == 2700 and counts["test"] == 300
    assert counts["valid"] == 300
    assert sorted(set(s.info["speakers"])) == [
        "george",
        "jackson",
        "lucas",
        "nicolas",
        "theo",
        "yweweler",
    ]
    idx = np.array(s.info["indices"])
    assert set(s.split[idx <= 4]) == {"test"} and not (set(s.split[idx > 4]) & {"test"})
    assert s.class_counts() == {str(d): 300 for d in range(10)}


@pytest.mark.slow
def test_real_esc10() -> None:
    s = load_esc10(vendored("esc10"), verify=True, progress=False)
    _check_convention(s, 80000, 16000)
    assert len(s) == 398
    assert s.classes == (
        "dog",
        "rain",
        "sea_waves",
        "crying_baby",
        "clock_tick",
        "sneezing",
        "helicopter",
        "chainsaw",
        "rooster",
        "crackling_fire",
    )
    assert collections.Counter(s.folds.tolist()) == {1: 79, 2: 79, 3: 80, 4: 80, 5: 80}
    per_class_fold = collections.Counter(
        (s.classes[y], f) for y, f in zip(s.y.tolist(), s.folds.tolist(), strict=True)
    )
    for c in s.classes:
        expected = [7, 7, 8, 8, 8] if c == "rooster" else [8] * 5
        assert [per_class_fold[(c, f)] for f in range(1, 6)] == expected, c
    for rel, fold in zip(s.files, s.folds.tolist(), strict=True):
        assert Path(rel).name.startswith(f"{fold}-")
    assert all(len(p) == 1 for p in _fold_partitions(s).values())


def test_real_speech_commands_subset() -> None:
    root = vendored("speech_commands_subset")
    s = load_speech_commands(root, verify=True, progress=False)
    _check_convention(s, 16000, 16000)
    assert len(s) == 300 and len(s.classes) == 30
    assert collections.Counter(s.split.tolist()) == {"train": 205, "valid": 44, "test": 51}
    files = np.asarray(s.files)
    assert set(files[s.split == "test"]) == _lines(root / "testing_list.txt")
    assert set(files[s.split == "valid"]) == _lines(root / "validation_list.txt")
    assert s.info["version"] == "v0.01" and s.info["citation"] == ["warden2018speechcommands"]
    g = load_speech_commands(root, words=GAN_WORDS, progress=False)
    assert g.classes == GAN_WORDS and len(g) == 100


def test_class_count_agrees_with_the_registry_and_the_generated_sets():
    """The class counts the pipeline enumerates target units with, before any data exists."""
    from advlib.data import class_count, make_synthetic, make_synthetic_speech
    from advlib.data.registry import dataset_info

    for loader, entry in [("fsdd", "fsdd"), ("esc10", "esc10"), ("esc50", "esc50"),
                          ("urbansound8k", "urbansound8k"), ("gtzan", "gtzan")]:  # fmt: skip
        assert class_count(loader) == dataset_info(entry)["classes"], loader
    tiny = {"clips_per_class": 5, "duration": 0.25}
    assert class_count("synthetic") == make_synthetic(**tiny).n_classes
    assert class_count("synthetic_speech") == make_synthetic_speech(**tiny).n_classes
    words = {"words": ["yes", "no", "up"]}
    assert class_count("speech_commands", words) == 3
    assert class_count("speech_commands", {**words, "unknown": True}) == 4
    assert class_count("speech_commands", {}) is None and class_count("nope") is None
