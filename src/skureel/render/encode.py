"""Encoding with PyAV: H.264 High yuv420p 30 fps CFR, 2 s GOP, AAC 48 kHz stereo, index at the front."""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from skureel.render.audio import RATE

# sync-lookahead=0 runs x264's lookahead in its encoding thread instead of buffering frames for a lookahead thread:
# the same decisions and bytes, about 25 MB less at 1080x1920 (bench/render.py feeds its baseline the same options)
X264_PARAMS = "open-gop=0:8x8dct=1:cabac=1:sync-lookahead=0"
QUALITY = {"final": {"crf": "20", "preset": "veryfast"}, "draft": {"crf": "27", "preset": "superfast"}}


def encode_mp4(path: Path, frames: Iterable[np.ndarray | av.VideoFrame], *, width: int, height: int, fps: int, audio: np.ndarray | None,
               metadata: dict[str, str] | None = None, quality: str = "final") -> None:
    """Writes to a temporary name and renames, so a half-written file is never visible."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.part.mp4")
    settings = QUALITY.get(quality, QUALITY["final"])
    try:
        with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
            for key, value in (metadata or {}).items():
                container.metadata[key] = value
            video = container.add_stream("libx264", rate=Fraction(fps, 1))
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.codec_context.time_base = Fraction(1, fps)
            video.codec_context.profile = "High"
            video.codec_context.gop_size = fps * 2
            video.codec_context.max_b_frames = 2
            video.codec_context.thread_type = "FRAME"
            video.codec_context.thread_count = 0
            video.codec_context.options = {
                "crf": settings["crf"], "preset": settings["preset"], "keyint_min": str(fps * 2), "sc_threshold": "0",
                "x264-params": X264_PARAMS,
            }
            # VUI: sRGB/BT.709 primaries and transfer, limited range; the matrix is BT.601 because OpenCV's
            # converter (below) uses it, and players must decode with the matrix we encoded with
            video.codec_context.color_primaries = 1  # BT.709
            video.codec_context.color_trc = 1  # BT.709
            video.codec_context.colorspace = 6  # SMPTE 170M (BT.601)
            video.codec_context.color_range = 1  # limited (MPEG)
            sound = container.add_stream("aac", rate=RATE)
            sound.codec_context.layout = "stereo"
            sound.codec_context.bit_rate = 192_000
            # the "fast" coder is several times cheaper than the default two-loop search, transparent at 192 kb/s
            sound.codec_context.options = {"aac_coder": "fast"}
            track = audio if audio is not None else np.zeros((0, 2), np.float32)
            sent = 0
            index = -1
            for index, item in enumerate(frames):
                if isinstance(item, av.VideoFrame):  # drawn in yuv420p already (render/yuv.py)
                    frame = item
                else:
                    # OpenCV's SIMD RGB->I420 (BT.601, limited range) is ~6x cheaper than PyAV's swscale path here
                    i420 = np.asarray(cv2.cvtColor(item, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
                    frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
                frame.pts = index
                for packet in video.encode(frame):
                    container.mux(packet)
                # audio interleaved with video so the muxer never buffers the whole clip
                until = min(track.shape[0], int((index + 1) * RATE / fps))
                sent = _send_audio(container, sound, track, sent, until)
            total = int(round((index + 1) * RATE / fps))
            if track.shape[0] < total:
                track = np.concatenate([track, np.zeros((total - track.shape[0], 2), np.float32)])
            sent = _send_audio(container, sound, track, sent, total)
            for packet in video.encode(None):
                container.mux(packet)
            for packet in sound.encode(None):
                container.mux(packet)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _send_audio(container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, track: np.ndarray,
                sent: int, until: int) -> int:
    block = 1024
    while until - sent >= block or (until == track.shape[0] and until > sent):
        end = min(sent + block, until)
        chunk = np.ascontiguousarray(track[sent:end].T)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = sent
        frame.time_base = Fraction(1, RATE)
        for packet in stream.encode(frame):
            container.mux(packet)
        sent = end
    return sent
