"""Differentiable front-ends against known answers: closed forms, librosa, pywt and a numpy
re-implementation of python_speech_features; gradcheck in float64; batch equals per-item."""

from __future__ import annotations

import contextlib
import math

import librosa
import numpy as np
import pytest
import pywt
import scipy.fft
import torch

from advlib.models.frontends import (
    MFCC,
    Chroma,
    DWTScalogram,
    GammatoneBank,
    MorletCWT,
    SincConv,
    STFTLogMagnitude,
    Tonnetz,
    erb_space,
)
from advlib.paths import data_root

FSDD_WAV = data_root() / "fsdd" / "recordings" / "0_jackson_0.wav"


@pytest.fixture(autouse=True)
def one_thread():
    """These tensors are tiny: a second intra-op thread only adds contention on a busy runner
    (a 24-sample conv1d took 15 ms with 2 threads vs 15 us with 1)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def chirp_noise(n: int = 8000, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """A real-looking test signal in [-1, 1]: chirp 100 Hz -> 0.45 sr, a 440 Hz tone, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    f0, f1, dur = 100.0, 0.45 * sr, n / sr
    chirp = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * dur)))
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * t)
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t) ** 2
    x = 0.5 * env * chirp + tone + 0.05 * rng.standard_normal(n)
    return (x / np.abs(x).max() * 0.9).astype(np.float32)


def fsdd() -> tuple[np.ndarray, int]:
    if not FSDD_WAV.exists():
        pytest.skip(f"{FSDD_WAV} not available")
    sf = pytest.importorskip("soundfile")
    y, sr = sf.read(FSDD_WAV, dtype="float32")
    return y, sr


@contextlib.contextmanager
def float64_constants():
    """Build modules with float64 buffers (``.double()`` would cast float32-rounded ones)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def t32(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def gradcheck(module: torch.nn.Module, x: torch.Tensor) -> None:
    module = module.double()
    x = x.double().requires_grad_(True)
    assert torch.autograd.gradcheck(module, (x,), eps=1e-6, atol=1e-5, rtol=1e-4)


# --------------------------------------------------------------------------------------------
# Gammatone
# --------------------------------------------------------------------------------------------


def test_gammatone_centre_frequencies_erb_spaced():
    bank = GammatoneBank()
    fc = bank.center_freqs.double().numpy()
    assert fc.shape == (64,)
    assert fc[0] == pytest.approx(100.0) and fc[-1] == pytest.approx(8000.0)
    assert np.all(np.diff(fc) > 0)
    erb_rate = 21.4 * np.log10(4.37 * fc / 1000 + 1)  # Glasberg & Moore (1990), Eq. 4
    np.testing.assert_allclose(np.diff(erb_rate), np.diff(erb_rate).mean(), rtol=1e-5)
    # spacing grows with frequency (ERBs widen), about 1 ERB at 100 Hz
    assert np.diff(fc)[-1] > 20 * np.diff(fc)[0]


def test_gammatone_weight_is_a_frozen_buffer_of_impulse_responses():
    bank = GammatoneBank()
    assert bank.weight.shape == (64, 1, 512)
    assert "weight" in dict(bank.named_buffers())
    assert not list(bank.parameters())
    trainable = GammatoneBank(trainable=True)
    assert [n for n, _ in trainable.named_parameters()] == ["weight"]
    torch.testing.assert_close(trainable.weight.detach(), bank.weight)
    # impulse responses follow t^3 exp(-2 pi b ERB t) cos(2 pi fc t), up to the scale
    t = np.arange(512) / 16000
    fc = float(bank.center_freqs[10])
    erb = 24.7 * (4.37 * fc / 1000 + 1)
    g = t**3 * np.exp(-2 * np.pi * 1.019 * erb * t) * np.cos(2 * np.pi * fc * t)
    ours = bank.impulse_responses()[10].double().numpy()
    np.testing.assert_allclose(ours / np.abs(ours).max(), g / np.abs(g).max(), atol=1e-6)


def test_gammatone_frequency_response_peaks_at_fc_with_unit_gain():
    bank = GammatoneBank()
    ir = bank.impulse_responses().double().numpy()
    fc = bank.center_freqs.double().numpy()
    n_fft = 1 << 16
    mag = np.abs(np.fft.rfft(ir, n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1 / 16000)
    peak = freqs[mag.argmax(axis=1)]
    rel = np.abs(peak - fc) / fc
    assert rel.max() < 0.02, rel.max()
    mid = (fc > 150) & (fc < 7000)
    assert rel[mid].max() < 0.002, rel[mid].max()
    # norm="fc_gain": unit gain at fc, which is the peak gain to 1e-3 in mid-band
    gain_fc = np.abs((ir * np.exp(-2j * np.pi * fc[:, None] * np.arange(512) / 16000)).sum(1))
    np.testing.assert_allclose(gain_fc, 1.0, atol=1e-5)
    np.testing.assert_allclose(mag.max(axis=1)[mid], 1.0, atol=1e-3)
    assert mag.max() < 1.07  # near Nyquist a filter overlaps its mirror image
    # norm="l2": unit energy
    l2 = GammatoneBank(norm="l2").impulse_responses().double().norm(dim=1)
    torch.testing.assert_close(l2, torch.ones(64, dtype=torch.float64), atol=1e-5, rtol=0)


def test_gammatone_is_causal_convolution():
    x = chirp_noise(3000)
    bank = GammatoneBank(n_filters=8, kernel_size=128)
    y = bank(t32(x)[None])
    assert y.shape == (1, 8, 3000 - 128 + 1)
    ir = bank.impulse_responses().double().numpy()
    ref = np.stack([np.convolve(x.astype(np.float64), g, mode="valid") for g in ir])
    np.testing.assert_allclose(y[0].double().numpy(), ref, atol=1e-5 * np.abs(ref).max())
    # accepted input layouts
    assert bank(t32(x)[None, None]).shape == y.shape
    assert bank(t32(x)).shape == y.shape[1:]


def test_gammatone_on_fsdd_recording():
    y, sr = fsdd()
    bank = GammatoneBank(n_filters=16, kernel_size=256, sample_rate=sr, f_high=sr / 2)
    out = bank(t32(y)[None])
    ir = bank.impulse_responses().double().numpy()
    ref = np.convolve(y.astype(np.float64), ir[5], mode="valid")
    np.testing.assert_allclose(out[0, 5].double().numpy(), ref, atol=1e-5 * np.abs(ref).max())


# --------------------------------------------------------------------------------------------
# SincConv
# --------------------------------------------------------------------------------------------


def sincnet_reference_filters(low_hz_, band_hz_, kernel_size, sr, min_low=50.0, min_band=50.0):
    """SincConv_fast.forward of mravanelli/SincNet (dnn_models.py), transcribed to numpy."""
    n_lin = np.linspace(0, kernel_size / 2 - 1, int(kernel_size / 2))
    window = 0.54 - 0.46 * np.cos(2 * math.pi * n_lin / kernel_size)
    n = (kernel_size - 1) / 2.0
    n_ = 2 * math.pi * np.arange(-n, 0).reshape(1, -1) / sr
    low = min_low + np.abs(low_hz_)
    high = np.clip(low + min_band + np.abs(band_hz_), min_low, sr / 2)
    band = (high - low)[:, 0]
    left = ((np.sin(high @ n_) - np.sin(low @ n_)) / (n_ / 2)) * window
    centre = 2 * band.reshape(-1, 1)
    bp = np.concatenate([left, centre, left[:, ::-1]], axis=1)
    return bp / (2 * band[:, None])


def test_sincconv_matches_reference_code():
    with float64_constants():
        conv = SincConv(window="reference")
    low_ref = conv.low_hz_.detach().numpy()
    band_ref = conv.band_hz_.detach().numpy()
    # mel initialisation of the reference code
    to_mel = lambda hz: 2595 * np.log10(1 + hz / 700)  # noqa: E731
    to_hz = lambda mel: 700 * (10 ** (mel / 2595) - 1)  # noqa: E731
    hz = to_hz(np.linspace(to_mel(30), to_mel(8000 - 100), 81))
    np.testing.assert_allclose(low_ref[:, 0], hz[:-1], rtol=1e-6)  # float32 parameters
    np.testing.assert_allclose(band_ref[:, 0], np.diff(hz), rtol=1e-5)
    ref = sincnet_reference_filters(low_ref, band_ref, 251, 16000)
    np.testing.assert_allclose(conv.band_responses().numpy(), ref, atol=1e-10)
    # the default symmetric Hamming window differs from the reference's by < 3e-5
    ham = SincConv().band_responses().numpy()
    np.testing.assert_allclose(ham, ref, atol=1e-4)
    assert conv.band_responses().shape == (80, 251)


def test_sincconv_band_pass_response():
    conv = SincConv(out_channels=2, kernel_size=251, sample_rate=16000)
    with torch.no_grad():  # cut-offs (low, high): (500, 1500) and (3000, 6000) Hz
        conv.low_hz_.copy_(torch.tensor([[450.0], [2950.0]]))
        conv.band_hz_.copy_(torch.tensor([[950.0], [2950.0]]))
    low, high = conv.cutoffs_hz()
    torch.testing.assert_close(low, torch.tensor([500.0, 3000.0]))
    torch.testing.assert_close(high, torch.tensor([1500.0, 6000.0]))
    freqs, mag = conv.frequency_responses(n_fft=4096)
    freqs, mag = freqs.numpy(), mag.numpy()
    transition = 3.3 * 16000 / 251  # main-lobe width of a Hamming window
    for i, (lo, hi) in enumerate([(500, 1500), (3000, 6000)]):
        passband = mag[i][(freqs > lo + transition) & (freqs < hi - transition)]
        stop = mag[i][(freqs < lo - transition) | (freqs > hi + transition)]
        gain = np.median(passband)
        assert np.ptp(passband) < 0.02 * gain
        assert stop.max() < 0.01 * gain
        # half-amplitude points at the cut-offs, within a frequency bin or two
        for edge in (lo, hi):
            j = np.argmin(np.abs(freqs - edge))
            assert mag[i][j] == pytest.approx(gain / 2, rel=0.05)


def test_sincconv_shapes_and_learnable_cutoffs():
    conv = SincConv(out_channels=4, kernel_size=11)
    x = t32(chirp_noise(200))[None].repeat(2, 1)
    y = conv(x)
    assert y.shape == (2, 4, 190)
    assert conv(x[:, None]).shape == y.shape
    assert [n for n, _ in conv.named_parameters()] == ["low_hz_", "band_hz_"]
    assert set(dict(conv.named_buffers())) == {"window_", "n_"}
    y.square().sum().backward()
    assert conv.low_hz_.grad.abs().min() > 0 and conv.band_hz_.grad.abs().min() > 0
    strided = SincConv(out_channels=4, kernel_size=11, stride=2, padding=5)
    assert strided(x).shape == (2, 4, 100)


# --------------------------------------------------------------------------------------------
# STFT
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_fft", "hop", "win_length", "window"),
    [(512, 128, None, "hann"), (256, 64, 200, "hann"), (512, 256, None, "hamming")],
)
def test_stft_matches_librosa(n_fft, hop, win_length, window):
    x = chirp_noise(6000)
    ref = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop, win_length=win_length, window=window))
    mod = STFTLogMagnitude(n_fft=n_fft, hop_length=hop, win_length=win_length, window=window)
    ours = torch.exp(mod(t32(x))).numpy() - 1e-6
    assert ours.shape == ref.shape == (n_fft // 2 + 1, 1 + 6000 // hop)
    np.testing.assert_allclose(ours, ref, atol=1e-5 * ref.max())
    # the log itself, where the floor does not matter
    big = ref > 1e-3 * ref.max()
    np.testing.assert_allclose(mod(t32(x)).numpy()[big], np.log(ref[big] + 1e-6), atol=1e-4)
    # float64: exact up to rounding
    ref64 = np.abs(
        librosa.stft(
            x.astype(np.float64), n_fft=n_fft, hop_length=hop, win_length=win_length, window=window
        )
    )
    with float64_constants():
        mod64 = STFTLogMagnitude(n_fft=n_fft, hop_length=hop, win_length=win_length, window=window)
    out64 = mod64(torch.from_numpy(x.astype(np.float64)))
    np.testing.assert_allclose(out64.numpy(), np.log(ref64 + 1e-6), atol=1e-8)


def test_stft_db_and_power_options():
    x = chirp_noise(4000)
    mag = np.abs(librosa.stft(x, n_fft=512, hop_length=128))
    db = STFTLogMagnitude(scale="db", eps=1e-10)(t32(x)).numpy()
    np.testing.assert_allclose(db, 20 * np.log10(mag + 1e-10), atol=2e-3)
    np.testing.assert_allclose(db, librosa.amplitude_to_db(mag, ref=1.0, top_db=None), atol=2e-3)
    log_pow = STFTLogMagnitude(power=2.0, eps=1e-10)(t32(x)).numpy()
    big = mag > 1e-3 * mag.max()
    np.testing.assert_allclose(log_pow[big], np.log(mag[big] ** 2), atol=1e-4)
    db_pow = STFTLogMagnitude(power=2.0, scale="db", eps=1e-12)(t32(x)).numpy()
    np.testing.assert_allclose(db_pow[big], db[big], atol=1e-3)


def test_stft_on_fsdd_recording():
    y, _ = fsdd()
    ref = np.abs(librosa.stft(y, n_fft=256, hop_length=64))
    ours = torch.exp(STFTLogMagnitude(n_fft=256, hop_length=64)(t32(y))).numpy() - 1e-6
    np.testing.assert_allclose(ours, ref, atol=1e-5 * ref.max())


# --------------------------------------------------------------------------------------------
# DWT
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wavelet", "levels", "length"),
    [("db4", 5, 4096), ("db4", 5, 1000), ("haar", 3, 37), ("sym5", 2, 101), ("coif1", 4, 512)],
)
def test_dwt_matches_pywt_wavedec(wavelet, levels, length):
    x = chirp_noise(length, seed=length)
    ref = pywt.wavedec(x.astype(np.float64), wavelet, mode="periodization", level=levels)
    mod = DWTScalogram(wavelet, levels=levels)
    ours = mod.coefficients(t32(x))
    assert [c.shape[-1] for c in ours] == [len(r) for r in ref]
    for c, r in zip(ours, ref):
        np.testing.assert_allclose(c.numpy(), r, atol=1e-5)
    with float64_constants():
        mod64 = DWTScalogram(wavelet, levels=levels)
    ours64 = mod64.coefficients(torch.from_numpy(x.astype(np.float64)))
    for c, r in zip(ours64, ref):
        np.testing.assert_allclose(c.numpy(), r, atol=1e-12)


def test_dwt_scalogram_bins_level_magnitudes():
    x = t32(chirp_noise(2048))[None].repeat(2, 1)
    mod = DWTScalogram("db4", levels=4)
    img = mod(x)
    assert img.shape == (2, 5, 2048 // 16)
    coeffs = mod.coefficients(x)
    # row 0 = |cA_4|, row 4 = |cD_1| averaged over blocks of 8
    torch.testing.assert_close(img[:, 0], coeffs[0].abs())
    torch.testing.assert_close(img[:, 4], coeffs[4].abs().reshape(2, 128, 8).mean(-1))
    torch.testing.assert_close(img[:, 3], coeffs[3].abs().reshape(2, 128, 4).mean(-1))
    fixed = DWTScalogram("db4", levels=4, frames=32, log=True)(x)
    assert fixed.shape == (2, 5, 32)
    expect = torch.log(coeffs[3].abs().reshape(2, 32, 16).mean(-1) + 1e-6)
    torch.testing.assert_close(fixed[:, 3], expect)
    # leading dimensions are kept
    assert mod(x.reshape(2, 1, 2048)).shape == (2, 1, 5, 128)


def test_dwt_on_fsdd_recording():
    y, _ = fsdd()
    ref = pywt.wavedec(y.astype(np.float64), "db4", mode="periodization", level=5)
    for c, r in zip(DWTScalogram("db4", levels=5).coefficients(t32(y)), ref):
        np.testing.assert_allclose(c.numpy(), r, atol=1e-5)


def test_dwt_levels_too_deep_raise():
    mod = DWTScalogram("db4", levels=5)
    assert mod.max_level(1000) == pywt.dwt_max_level(1000, 8) == 7
    with pytest.raises(ValueError, match="too deep"):
        mod(torch.zeros(1, 200))  # max level 4 for 200 samples with an 8-tap filter
    with pytest.raises(ValueError, match="too deep"):
        DWTScalogram("db4", levels=8, input_length=1000)


# --------------------------------------------------------------------------------------------
# Chroma and tonnetz
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sr", "n_fft", "hop"), [(22050, 2048, 512), (16000, 1024, 256)])
def test_chroma_matches_librosa_chroma_stft(sr, n_fft, hop):
    x = chirp_noise(12000, sr=sr)
    ref = librosa.feature.chroma_stft(y=x, sr=sr, n_fft=n_fft, hop_length=hop, tuning=0.0)
    ours = Chroma(sr, n_fft=n_fft, hop_length=hop)(t32(x)).numpy()
    assert ours.shape == ref.shape == (12, 1 + 12000 // hop)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    assert np.allclose(ours.max(axis=0), 1.0)  # max-norm per frame


def test_chroma_of_silence_is_zero_not_nan():
    out = Chroma(16000, n_fft=512, hop_length=128)(torch.zeros(2, 2048))
    assert torch.equal(out, torch.zeros_like(out))
    ton = Tonnetz(16000, n_fft=512, hop_length=128)(torch.zeros(2048))
    assert torch.equal(ton, torch.zeros_like(ton))


@pytest.mark.parametrize(("sr", "n_fft", "hop"), [(22050, 2048, 512), (16000, 1024, 256)])
def test_tonnetz_matches_librosa_on_chroma_stft(sr, n_fft, hop):
    x = chirp_noise(12000, sr=sr)
    chroma = librosa.feature.chroma_stft(y=x, sr=sr, n_fft=n_fft, hop_length=hop, tuning=0.0)
    ref = librosa.feature.tonnetz(sr=sr, chroma=chroma)
    mod = Tonnetz(sr, n_fft=n_fft, hop_length=hop)
    ours = mod(t32(x)).numpy()
    assert ours.shape == ref.shape == (6, 1 + 12000 // hop)
    np.testing.assert_allclose(ours, ref, atol=1e-5)
    np.testing.assert_allclose(mod.project(t32(chroma)).numpy(), ref, atol=1e-6)


def test_chroma_and_tonnetz_on_fsdd_recording():
    y, sr = fsdd()
    chroma = librosa.feature.chroma_stft(y=y, sr=sr, n_fft=512, hop_length=128, tuning=0.0)
    ours = Chroma(sr, n_fft=512, hop_length=128)(t32(y)).numpy()
    np.testing.assert_allclose(ours, chroma, atol=1e-5)
    ref = librosa.feature.tonnetz(sr=sr, chroma=chroma)
    np.testing.assert_allclose(
        Tonnetz(sr, n_fft=512, hop_length=128)(t32(y)).numpy(), ref, atol=1e-5
    )


# --------------------------------------------------------------------------------------------
# MFCC
# --------------------------------------------------------------------------------------------


def psf_mfcc(
    sig, sr=16000, winlen=512, winstep=512, nfft=2048, nfilt=32, numcep=32, preemph=0.97,
    ceplifter=22, append_energy=True, winfunc=np.ones, add_floor=None,
):  # fmt: skip
    """python_speech_features.mfcc (base.py / sigproc.py, v0.6), transcribed; lengths in samples.
    Returns (numcep, frames). ``add_floor``: use log(v + add_floor) instead of psf's rule
    (exact zeros -> machine epsilon), to check our floor separately from the formula."""
    hz2mel = lambda hz: 2595 * np.log10(1 + hz / 700.0)  # noqa: E731
    mel2hz = lambda mel: 700 * (10 ** (mel / 2595.0) - 1)  # noqa: E731
    sig = np.append(sig[0], sig[1:] - preemph * sig[:-1])
    slen = len(sig)
    numframes = 1 if slen <= winlen else 1 + int(math.ceil((1.0 * slen - winlen) / winstep))
    padlen = int((numframes - 1) * winstep + winlen)
    padsignal = np.concatenate((sig, np.zeros((padlen - slen,))))
    indices = (
        np.tile(np.arange(0, winlen), (numframes, 1))
        + np.tile(np.arange(0, numframes * winstep, winstep), (winlen, 1)).T
    )
    frames = padsignal[indices] * np.tile(winfunc(winlen), (numframes, 1))
    pspec = 1.0 / nfft * np.square(np.absolute(np.fft.rfft(frames, nfft)))
    energy = np.sum(pspec, 1)
    energy = np.where(energy == 0, np.finfo(float).eps, energy)
    if add_floor is not None:
        energy = energy + add_floor
    melpoints = np.linspace(hz2mel(0), hz2mel(sr / 2), nfilt + 2)
    bins = np.floor((nfft + 1) * mel2hz(melpoints) / sr)
    fbank = np.zeros([nfilt, nfft // 2 + 1])
    for j in range(nfilt):
        for i in range(int(bins[j]), int(bins[j + 1])):
            fbank[j, i] = (i - bins[j]) / (bins[j + 1] - bins[j])
        for i in range(int(bins[j + 1]), int(bins[j + 2])):
            fbank[j, i] = (bins[j + 2] - i) / (bins[j + 2] - bins[j + 1])
    feat = np.dot(pspec, fbank.T)
    feat = np.where(feat == 0, np.finfo(float).eps, feat)
    if add_floor is not None:
        feat = feat + add_floor
    feat = scipy.fft.dct(np.log(feat), type=2, axis=1, norm="ortho")[:, :numcep]
    if ceplifter > 0:
        feat = feat * (1 + (ceplifter / 2.0) * np.sin(np.pi * np.arange(numcep) / ceplifter))
    if append_energy:
        feat[:, 0] = np.log(energy)
    return feat.T


def test_mfcc_gan_victim_input_is_32x32():
    x = t32(chirp_noise(16384))[None].repeat(2, 1)
    out = MFCC()(x)
    assert out.shape == (2, 32, 32)
    assert MFCC().n_frames(16384) == 32


def test_mfcc_matches_python_speech_features_reimplementation():
    x = chirp_noise(16384)
    ref = psf_mfcc(x.astype(np.float64))
    with float64_constants():  # the formula, with a negligible floor
        mod64 = MFCC(log_floor=1e-300)
    out64 = mod64(torch.from_numpy(x.astype(np.float64))).numpy()
    np.testing.assert_allclose(out64, ref, atol=1e-9, rtol=1e-9)
    out32 = MFCC()(t32(x)).numpy()  # float32, default floor 1e-10
    np.testing.assert_allclose(out32, ref, atol=1e-4, rtol=0)
    # other settings: Hamming window, fewer coefficients, no energy, odd length (padded frame)
    y = chirp_noise(5000, seed=3).astype(np.float64)
    ref2 = psf_mfcc(y, winlen=400, winstep=160, nfft=512, nfilt=26, numcep=13,
                    append_energy=False, winfunc=np.hamming)  # fmt: skip
    settings = {"frame_length": 400, "hop_length": 160, "n_fft": 512, "n_mels": 26, "n_mfcc": 13}
    with float64_constants():
        mod = MFCC(**settings, replace_c0_with_log_energy=False, window="hamming", log_floor=1e-300)
    np.testing.assert_allclose(mod(torch.from_numpy(y)).numpy(), ref2, atol=1e-9, rtol=1e-9)


def test_mfcc_filterbank_and_dct_match_librosa_where_they_coincide():
    with float64_constants():
        mod = MFCC(n_mels=32, n_mfcc=32, lifter=0, replace_c0_with_log_energy=False)
    torch.testing.assert_close(
        mod.dct.T, torch.from_numpy(scipy.fft.dct(np.eye(32), type=2, norm="ortho", axis=0).T)
    )
    # rows are triangles with peak 1 at increasing centre bins
    fb = mod.mel_fb.numpy()
    assert np.allclose(fb.max(axis=1), 1.0) and np.all(np.diff(fb.argmax(axis=1)) > 0)
    log_mel = np.log(np.full((32, 3), 2.0))
    np.testing.assert_allclose(
        mod.dct.numpy() @ log_mel,
        librosa.feature.mfcc(S=log_mel, n_mfcc=32, dct_type=2),
        atol=1e-12,
    )


def test_mfcc_on_fsdd_recording():
    y, sr = fsdd()
    y64 = torch.from_numpy(y.astype(np.float64))
    settings = {"sample_rate": sr, "frame_length": 256, "hop_length": 256, "n_fft": 1024}
    ref = psf_mfcc(y64.numpy(), sr=sr, winlen=256, winstep=256, nfft=1024)
    with float64_constants():
        exact = MFCC(**settings, log_floor=1e-300)
        floored = MFCC(**settings)
    np.testing.assert_allclose(exact(y64).numpy(), ref, atol=1e-9, rtol=1e-9)
    np.testing.assert_allclose(MFCC(**settings, log_floor=1e-30)(t32(y)).numpy(), ref, atol=1e-4)
    # the default floor (1e-10) moves the quiet top bands of this 8 kHz recording by up to ~0.06
    ref_floor = psf_mfcc(y64.numpy(), sr=sr, winlen=256, winstep=256, nfft=1024, add_floor=1e-10)
    np.testing.assert_allclose(floored(y64).numpy(), ref_floor, atol=1e-9, rtol=1e-9)
    assert 1e-3 < np.abs(floored(y64).numpy() - ref).max() < 0.1


# --------------------------------------------------------------------------------------------
# every module: gradcheck, batch == per item, bad settings
# --------------------------------------------------------------------------------------------

TINY = {
    "gammatone": (
        lambda: GammatoneBank(3, kernel_size=16, sample_rate=8000, f_low=200, f_high=3000),
        24,
    ),
    "sinc": (lambda: SincConv(3, kernel_size=9, sample_rate=8000), 20),
    "stft": (lambda: STFTLogMagnitude(n_fft=16, hop_length=8), 40),
    "stft_db_power": (lambda: STFTLogMagnitude(16, 8, power=2.0, scale="db"), 40),
    "dwt": (lambda: DWTScalogram("db2", levels=2), 16),
    "dwt_log_frames": (lambda: DWTScalogram("db2", levels=2, frames=3, log=True), 15),
    "chroma": (lambda: Chroma(8000, n_fft=32, hop_length=16), 64),
    "tonnetz": (lambda: Tonnetz(8000, n_fft=32, hop_length=16), 64),
    "cwt": (lambda: MorletCWT(8000, n_scales=3, f_min=1000, f_max=3000, hop_length=4), 20),
    "mfcc": (
        lambda: MFCC(8000, frame_length=16, hop_length=8, n_fft=32, n_mels=8, n_mfcc=6, lifter=4),
        44,
    ),
}


@pytest.mark.parametrize("name", list(TINY))
def test_gradcheck_float64(name):
    make, length = TINY[name]
    x = torch.randn(2, length, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    gradcheck(make(), 0.5 * x)


def test_gradcheck_dwt_coefficients():
    mod = DWTScalogram("db2", levels=2).double()
    x = torch.randn(1, 13, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: torch.cat(mod.coefficients(v), -1), (x,))


BATCH = {
    "gammatone": (lambda: GammatoneBank(16, kernel_size=128), 1000),
    "sinc": (lambda: SincConv(16, kernel_size=101), 1000),
    "stft": (lambda: STFTLogMagnitude(), 2000),
    "dwt": (lambda: DWTScalogram(levels=4), 1000),
    "chroma": (lambda: Chroma(16000, n_fft=512, hop_length=128), 2000),
    "tonnetz": (lambda: Tonnetz(16000, n_fft=512, hop_length=128), 2000),
    "cwt": (lambda: MorletCWT(16000, n_scales=24, f_min=100, chunk_elements=5000), 2000),
    "mfcc": (lambda: MFCC(), 4096),
}


@pytest.mark.parametrize("name", list(BATCH))
def test_batch_equals_per_item(name):
    make, length = BATCH[name]
    mod = make()
    x = torch.stack([t32(chirp_noise(length, seed=s)) for s in range(3)])
    out = mod(x)
    assert out.shape[0] == 3
    for i in range(3):
        item = mod(x[i : i + 1])[0]
        torch.testing.assert_close(out[i], item, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(mod(x[i]), item, atol=1e-5, rtol=1e-5)
    # leading dimensions of spectral front-ends are kept: (2, 3, T) -> (2, 3, F, frames)
    if name not in ("gammatone", "sinc"):
        assert mod(x[None].repeat(2, 1, 1)).shape == (2, *out.shape)


def test_buffers_follow_dtype_and_are_not_parameters():
    for make, _ in BATCH.values():
        mod = make().double()
        for name, buf in mod.named_buffers():
            assert buf.dtype == torch.float64, name
        if not isinstance(mod, SincConv):
            assert not list(mod.parameters())


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: GammatoneBank(f_high=9000), "Nyquist"),
        (lambda: GammatoneBank(sample_rate=8000), "Nyquist"),
        (lambda: GammatoneBank(f_low=500, f_high=400), "f_low"),
        (lambda: GammatoneBank(n_filters=0), "n_filters"),
        (lambda: GammatoneBank(norm="peak"), "norm"),
        (lambda: SincConv(kernel_size=250), "odd"),
        (lambda: SincConv(sample_rate=200, min_low_hz=50, min_band_hz=50), "Nyquist"),
        (lambda: SincConv(window="hann"), "window"),
        (lambda: STFTLogMagnitude(n_fft=256, win_length=512), "win_length"),
        (lambda: STFTLogMagnitude(eps=0.0), "eps"),
        (lambda: STFTLogMagnitude(window="kaiser"), "window"),
        (lambda: STFTLogMagnitude(power=3.0), "power"),
        (lambda: DWTScalogram(levels=0), "levels"),
        (lambda: DWTScalogram("morl"), "discrete"),
        (lambda: DWTScalogram(mode="zero"), "periodization"),
        (lambda: MorletCWT(n_scales=0), "n_scales"),
        (lambda: MorletCWT(f_min=0.0), "f_min"),
        (lambda: MorletCWT(f_min=500, f_max=400), "f_min"),
        (lambda: MorletCWT(8000, f_max=4500), "Nyquist"),
        (lambda: MorletCWT(bandwidth=0.0), "bandwidth"),
        (lambda: MorletCWT(center=-1.0), "center"),
        (lambda: MorletCWT(hop_length=0), "hop_length"),
        (lambda: MorletCWT(norm="l3"), "norm"),
        (lambda: Chroma(0), "sample_rate"),
        (lambda: Chroma(16000, tuning=0.7), "tuning"),
        (lambda: Tonnetz(16000, hop_length=0), "hop_length"),
        (lambda: MFCC(n_mfcc=40), "n_mfcc"),
        (lambda: MFCC(frame_length=4096), "frame_length"),
        (lambda: MFCC(f_max=9000), "Nyquist"),
        (lambda: MFCC(preemph=1.0), "preemph"),
    ],
)
def test_bad_settings_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="shorter"):
        GammatoneBank()(torch.zeros(1, 100))
    with pytest.raises(ValueError, match=r"\(N, 1, T\)"):
        SincConv()(torch.zeros(1, 2, 1000))
    with pytest.raises(TypeError):
        STFTLogMagnitude()(torch.zeros(1, 1000, dtype=torch.int64))
    with pytest.raises(ValueError, match="too short"):
        MorletCWT()(torch.zeros(1, 1))


def test_erb_space_endpoints():
    fc = erb_space(100, 8000, 5)
    assert fc[0] == pytest.approx(100) and fc[-1] == pytest.approx(8000)


# --------------------------------------------------------------------------------------------
# continuous wavelet transform (complex Morlet)
# --------------------------------------------------------------------------------------------


def _cwt_direct(x: np.ndarray, scales: np.ndarray, b: float, c: float) -> np.ndarray:
    """``W[s, n] = s^(-1/2) sum_k x[k] conj(psi((k - n) / s))``, the untruncated definition."""
    k = np.arange(len(x))
    u = (k[None, :] - k[:, None])[None] / scales[:, None, None]  # (scale, n, k)
    psi = np.exp(-(u**2) / b) * np.exp(2j * np.pi * c * u) / np.sqrt(np.pi * b)
    return (np.conj(psi) * x).sum(-1) / np.sqrt(scales)[:, None]


def test_cwt_matches_direct_definition():
    with float64_constants():
        mod = MorletCWT(8000, n_scales=10, f_min=200, f_max=3500, hop_length=4, truncate=6.0)
    x = chirp_noise(300, seed=3).astype(np.float64)
    w = mod.coefficients(torch.from_numpy(x)).numpy()
    ref = _cwt_direct(x, mod.scales.numpy(), 1.5, 1.0)
    assert w.shape == ref.shape == (10, 300)
    assert np.abs(w - ref).max() <= 1e-10 * np.abs(ref).max()
    # float32 module, default truncation (envelope 1e-7)
    w32 = MorletCWT(8000, n_scales=10, f_min=200, f_max=3500)(t32(x)[None])
    assert w32.dtype == torch.float32 and w32.shape == (1, 10, 300 // 64 + 1)


def test_cwt_matches_pywt_in_magnitude():
    with float64_constants():
        mod = MorletCWT(8000, n_scales=8, f_min=100, f_max=600, bandwidth=1.5, center=1.0)
    x = np.random.default_rng(0).standard_normal(600)
    w = np.abs(mod.coefficients(torch.from_numpy(x)).numpy())
    # pywt differences a finely sampled integrated wavelet: precision 18 keeps its
    # nearest-sample jitter small; scales of 13+ samples keep its half-sample box filter mild
    ref, _ = pywt.cwt(x, mod.scales.numpy(), "cmor1.5-1.0", precision=18)
    assert mod.scales.min() >= 13
    for i in range(8):
        assert np.abs(np.abs(ref[i]) - w[i]).max() <= 2e-2 * w[i].max(), i
        assert np.median(np.abs(ref[i, 100:500]) / w[i, 100:500]) == pytest.approx(1, abs=1.5e-2)


def test_cwt_image_is_pooled_log_magnitude():
    mod = MorletCWT(8000, n_scales=6, f_min=300, f_max=3000, hop_length=16, log=False)
    x = t32(chirp_noise(500, seed=1))
    mag = mod.coefficients(x).abs()
    pooled = torch.nn.functional.avg_pool1d(mag[None], 32, 16, padding=16, count_include_pad=False)
    torch.testing.assert_close(mod(x), pooled[0])
    assert mod(x).shape == (6, 500 // 16 + 1)
    logged = MorletCWT(8000, n_scales=6, f_min=300, f_max=3000, hop_length=16, eps=1e-6)(x)
    torch.testing.assert_close(logged, torch.log(pooled[0] + 1e-6))


@pytest.mark.parametrize("k", [2, 7, 11])
def test_cwt_tone_peaks_at_its_scale(k):
    """Known answer: with norm="l1" a tone of amplitude A at scale k's centre frequency gives
    |W| = A / 2 there (unit gain of exp(-pi^2 B (f - C)^2) at f = C), and is largest there."""
    sr = 8000
    with float64_constants():
        mod = MorletCWT(sr, n_scales=16, f_min=100, f_max=3500, hop_length=50, log=False,
                        norm="l1")  # fmt: skip
    f0 = float(mod.frequencies[k])
    x = 0.6 * np.cos(2 * np.pi * f0 * np.arange(4000) / sr)
    img = mod(torch.from_numpy(x))[:, 20:60].mean(-1)  # frames far from the edges
    assert int(img.argmax()) == k
    assert float(img[k]) == pytest.approx(0.3, rel=1e-3)
    # the default "l2" normalisation weighs scale s by sqrt(s): the peak still lands on k
    with float64_constants():
        mod2 = MorletCWT(sr, n_scales=16, f_min=100, f_max=3500, hop_length=50, log=False)
    assert int(mod2(torch.from_numpy(x))[:, 20:60].mean(-1).argmax()) == k


def test_cwt_centre_frequencies_and_kernels():
    mod = MorletCWT(8000, n_scales=5, f_min=100, f_max=1600, center=1.0)
    np.testing.assert_allclose(mod.frequencies.numpy(), [100, 200, 400, 800, 1600], rtol=1e-6)
    np.testing.assert_allclose(mod.scales.numpy(), 8000 / mod.frequencies.numpy(), rtol=1e-6)
    assert mod.kernels.shape == (5, 2, 2 * mod.half + 1) and not list(mod.parameters())
    assert MorletCWT(8000).f_max == pytest.approx(3600)


def test_cwt_chunks_do_not_change_the_result():
    x = t32(chirp_noise(800, seed=2))[None].repeat(3, 1)
    whole = MorletCWT(8000, n_scales=9, f_min=100, f_max=3000)(x)
    chunked = MorletCWT(8000, n_scales=9, f_min=100, f_max=3000, chunk_elements=1)(x)
    torch.testing.assert_close(whole, chunked)
