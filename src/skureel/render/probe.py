"""Reading an encoded deliverable back and checking it before it may be published."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import av
import numpy as np
from pydantic import BaseModel, Field

from skureel.render.audio import decode_audio, integrated_lufs, true_peak_db


class ProbeResult(BaseModel):
    path: str
    codec: str
    profile: str
    pix_fmt: str
    width: int
    height: int
    fps: float
    frames: int
    duration_s: float
    audio_codec: str | None
    audio_rate: int | None
    audio_channels: int | None
    lufs_i: float | None
    true_peak_db: float | None
    faststart: bool
    tags: dict[str, str] = Field(default_factory=dict)
    longest_black_s: float = 0.0
    longest_frozen_s: float = 0.0
    problems: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class FrameRuns:
    """The longest black and frozen runs in a sequence of luma planes, from a 1-in-6 grid of samples.

    `watch()` measures the frames on their way into the encoder, so the probe need not decode the clip again
    (about a tenth of a clip's CPU): x264 at these rates can neither create nor remove a black or frozen stretch,
    and a frozen pair measured before encoding differs by 0, not by encoder noise, so the check is as strict.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit  # frames checked: those before the end card, which is meant to stand still
        self.count = 0
        self.black = self.frozen = self.longest_black = self.longest_frozen = 0
        self.previous: np.ndarray | None = None

    def add(self, luma: np.ndarray) -> None:
        if self.count < self.limit:
            gray = luma[::6, ::6].astype(np.int16)
            self.black = self.black + 1 if gray.mean() < 18 and gray.std() < 6 else 0
            # frozen = nothing anywhere moved by more than encoder noise (a small moving object still counts)
            moved = self.previous is None or int(np.abs(gray - self.previous).max()) > 3
            self.frozen = 0 if moved else self.frozen + 1
            self.longest_black, self.longest_frozen = max(self.longest_black, self.black), max(self.longest_frozen, self.frozen)
            self.previous = gray
        self.count += 1

    def watch(self, frames: Iterable[av.VideoFrame]) -> Iterator[av.VideoFrame]:
        for frame in frames:
            self.add(luma_of(frame))
            yield frame


def luma_of(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane, read in place: no colour conversion."""
    plane = frame.planes[0]
    return np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[: frame.height, : frame.width]


def _moov_first(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    moov, mdat = head.find(b"moov"), head.find(b"mdat")
    return moov != -1 and (mdat == -1 or moov < mdat)


def probe(path: Path, *, width: int, height: int, fps: int, duration_s: float, end_card_s: float = 0.0,
          expect_sound: bool = True, check_frames: bool = True, watched: FrameRuns | None = None) -> ProbeResult:
    """Reads the file back and checks it; `watched`: the runs measured as its frames were encoded, so the frames
    are counted from the container without decoding them again."""
    problems: list[str] = []
    with av.open(str(path)) as container:
        vs = container.streams.video[0]
        ctx = vs.codec_context
        tags = {k: str(v) for k, v in container.metadata.items()}
        audio = container.streams.audio[0] if container.streams.audio else None
        rate = float(vs.average_rate) if vs.average_rate else 0.0
        result = ProbeResult(path=str(path), codec=ctx.name, profile=str(ctx.profile or ""), pix_fmt=str(ctx.pix_fmt),
                             width=ctx.width, height=ctx.height, fps=rate, frames=0, duration_s=0.0,
                             audio_codec=audio.codec_context.name if audio else None,
                             audio_rate=audio.codec_context.sample_rate if audio else None,
                             audio_channels=audio.codec_context.channels if audio else None,
                             lufs_i=None, true_peak_db=None, faststart=_moov_first(path), tags=tags)
        # the checks read luma statistics only: one decoding thread and no deblocking cost the least CPU
        # (the budget on 2 cores), and neither can hide a black or frozen stretch
        vs.thread_type = "NONE"
        vs.codec_context.options = {"skip_loop_filter": "all"}
        runs = FrameRuns(int(round((duration_s - end_card_s) * fps)) if check_frames else 0)
        if watched is not None or not check_frames:
            count = sum(1 for packet in container.demux(vs) if packet.size)  # one sample per frame
        else:
            for frame in container.decode(video=0):
                runs.add(luma_of(frame))
            count = runs.count
    if watched is not None:
        runs = watched
    result.frames = count
    result.duration_s = count / fps
    result.longest_black_s = runs.longest_black / fps
    result.longest_frozen_s = runs.longest_frozen / fps
    if result.codec != "h264":
        problems.append(f"video codec {result.codec}, expected h264")
    if "high" not in result.profile.casefold():
        problems.append(f"H.264 profile {result.profile!r}, expected High")
    if result.pix_fmt != "yuv420p":
        problems.append(f"pixel format {result.pix_fmt}, expected yuv420p")
    if (result.width, result.height) != (width, height):
        problems.append(f"size {result.width}x{result.height}, expected {width}x{height}")
    if abs(rate - fps) > 0.01:
        problems.append(f"{rate:g} fps, expected {fps} CFR")
    if abs(result.duration_s - duration_s) > 1.0 / fps + 1e-6:
        problems.append(f"duration {result.duration_s:.3f}s, expected {duration_s:.3f}s (±1 frame)")
    if not result.faststart:
        problems.append("index (moov) is not at the front")
    if result.audio_codec != "aac" or result.audio_rate != 48000 or result.audio_channels != 2:
        problems.append(f"audio {result.audio_codec} {result.audio_rate} Hz {result.audio_channels} ch, expected AAC 48 kHz stereo")
    else:
        samples = decode_audio(path)
        if samples is not None:
            lufs = integrated_lufs(samples)
            result.lufs_i = round(lufs, 2) if np.isfinite(lufs) else None
            peak = true_peak_db(samples)
            result.true_peak_db = round(peak, 2) if np.isfinite(peak) else None
        if expect_sound:
            if result.lufs_i is None:
                problems.append("audio track is silent")
            elif abs(result.lufs_i + 14) > 1.5:
                problems.append(f"loudness {result.lufs_i} LUFS, expected -14 ±1.5")
            if result.true_peak_db is not None and result.true_peak_db > -1.0:
                problems.append(f"true peak {result.true_peak_db} dBTP, expected ≤ -1")
    if result.longest_black_s > 0.5:
        problems.append(f"{result.longest_black_s:.2f}s of black frames")
    if result.longest_frozen_s > 0.5:
        problems.append(f"{result.longest_frozen_s:.2f}s of frozen frames before the end card")
    result.problems = problems
    return result
