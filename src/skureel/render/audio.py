"""Audio for a deliverable: the provider's track or the brand's music bed, fitted to length and
normalised to -14 LUFS integrated with true peak at or below -1 dBTP."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from skureel.render import loudness

RATE = 48_000
TARGET_LUFS = -14.0
TARGET_TP_DB = -1.0


def decode_audio(path: str | Path, rate: int = RATE) -> np.ndarray | None:
    """Any file PyAV reads -> float32 (samples, 2) at `rate`; None when it has no audio stream."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
        chunks: list[np.ndarray] = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    if not chunks:
        return None
    return np.concatenate(chunks, axis=1).T.astype(np.float32)


def fit_length(samples: np.ndarray, seconds: float, rate: int = RATE, fade_in: float = 0.4, fade_out: float = 1.0) -> np.ndarray:
    """Loop or trim to the exact length, with fades so loops and ends never click."""
    need = int(round(seconds * rate))
    if samples.shape[0] == 0:
        return np.zeros((need, 2), np.float32)
    reps = int(np.ceil(need / samples.shape[0]))
    out = np.tile(samples, (reps, 1))[:need].copy()
    fi, fo = int(fade_in * rate), int(min(fade_out, seconds / 3) * rate)
    if fi:
        out[:fi] *= np.linspace(0, 1, fi, dtype=np.float32)[:, None]
    if fo:
        out[-fo:] *= np.linspace(1, 0, fo, dtype=np.float32)[:, None]
    return out


def true_peak_db(samples: np.ndarray) -> float:
    """Peak of the 4x oversampled signal (ITU-R BS.1770 style estimate)."""
    if samples.size == 0:
        return -np.inf
    up = loudness.upsample4(samples if samples.ndim == 2 else samples[:, None])
    peak = float(np.abs(up).max())
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def integrated_lufs(samples: np.ndarray, rate: int = RATE) -> float:
    if samples.shape[0] < int(0.4 * rate) + 1:
        return -np.inf
    return loudness.integrated_lufs(samples, rate)  # BS.1770-4, as pyloudnorm measures it, without scipy


def normalise(samples: np.ndarray, rate: int = RATE) -> np.ndarray:
    """Gain to -14 LUFS; if that would push the true peak over -1 dBTP, a soft limiter takes the peaks."""
    loudness = integrated_lufs(samples, rate)
    if not np.isfinite(loudness):
        return samples
    out = samples * np.float32(10 ** ((TARGET_LUFS - loudness) / 20))
    ceiling = 10 ** ((TARGET_TP_DB - 0.8) / 20)  # headroom for the AAC encoder's overshoot
    for _ in range(4):
        peak_db = true_peak_db(out)
        if peak_db <= TARGET_TP_DB - 0.7:
            break
        # tanh knee above 70% of the ceiling keeps loudness while taming the few peaks
        knee = ceiling * 0.7
        over = np.abs(out) > knee
        out[over] = np.sign(out[over]) * (knee + (ceiling - knee) * np.tanh((np.abs(out[over]) - knee) / (ceiling - knee)))
    return out.astype(np.float32)


def under_bed(bed: np.ndarray, under: np.ndarray, duck_db: float = -12.0) -> np.ndarray:
    """A model's own sound (ambience, foley) kept under the brand's music bed, ducked by `duck_db` against it,
    then the mix normalised like every other track."""
    n = min(bed.shape[0], under.shape[0])
    quiet = normalise(under[:n]) * np.float32(10 ** (duck_db / 20))
    return normalise(bed[:n] + quiet)


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros((int(round(seconds * rate)), 2), np.float32)
