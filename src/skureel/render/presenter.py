"""The local presenter slide: presenter photo beside the product, word-by-word captions, voice over music.

An honest format for when no avatar provider is configured: nobody's lips move, and the manifest says so.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

from skureel.domain import BrandKit, LightingSpec
from skureel.render.audio import RATE, fit_length, normalise
from skureel.render.frames import composite_premultiplied
from skureel.render.layout import Box
from skureel.render.overlays import fit_text, hex_rgb
from skureel.render.studio import build_sprite
from skureel.render.yuv import Planes, YuvPatch, composite_yauv, yauv_from_premultiplied, yuv_patches
from skureel.speech import Speech, Word

LEAD_S = 0.6


def caption_chunks(words: list[Word], size: int = 4) -> list[list[Word]]:
    return [words[i : i + size] for i in range(0, len(words), size)]


class CaptionLayer:
    """Word-by-word captions: the current chunk of words, the one being spoken highlighted."""

    def __init__(self, caption_box: Box, speech: Speech, brand: BrandKit, lead_s: float = LEAD_S) -> None:
        self.caption_box, self.brand, self.lead_s = caption_box, brand, lead_s
        self.chunks = caption_chunks(speech.words)
        self.cache: dict[tuple[int, int], np.ndarray] = {}
        self.yuv_cache: dict[tuple[int, int], YuvPatch] = {}
        self.caption_times: list[tuple[float, float, str]] = []  # (start, end, highlighted word) as drawn

    def _caption(self, chunk_index: int, word_index: int) -> np.ndarray:
        key = (chunk_index, word_index)
        if key not in self.cache:
            x0, y0, x1, y1 = self.caption_box
            canvas = Image.new("RGBA", (x1 - x0, y1 - y0), (0, 0, 0, 0))
            draw = ImageDraw.Draw(canvas)
            words = [w.text for w in self.chunks[chunk_index]]
            font, lines, line_h = fit_text(draw, " ".join(words), self.brand, x1 - x0 - 40, y1 - y0 - 20,
                                           int((y1 - y0) * 0.42), max_lines=2)
            draw.rounded_rectangle((0, 0, x1 - x0, y1 - y0), radius=18, fill=(0, 0, 0, 150))
            ink, accent = (255, 255, 255, 255), hex_rgb(self.brand.colours.primary) + (255,)
            y = (y1 - y0 - line_h * len(lines)) // 2
            n = 0
            for line in lines:
                x = (x1 - x0 - draw.textlength(line, font=font)) / 2
                for word in line.split():
                    draw.text((x, y), word, font=font, fill=accent if n == word_index else ink)
                    x += draw.textlength(word + " ", font=font)
                    n += 1
                y += line_h
            arr = np.asarray(canvas).astype(np.uint16)
            arr[..., :3] = (arr[..., :3] * arr[..., 3:4] + 127) // 255
            self.cache[key] = arr.astype(np.uint8)
        return self.cache[key]

    def _chosen(self, t: float) -> tuple[int, int] | None:
        """(chunk, word) on screen at t: the chunk holding the word being spoken wins; between words the last
        caption stays a moment with nothing highlighted (word -1)."""
        spoken = t - self.lead_s
        chosen: tuple[int, int] | None = None
        for ci, chunk in enumerate(self.chunks):
            for wi, word in enumerate(chunk):
                if word.start_s <= spoken < word.end_s:
                    chosen = (ci, wi)
                    break
            if chosen:
                break
        if chosen is None:
            for ci, chunk in enumerate(self.chunks):
                if chunk[0].start_s - 0.05 <= spoken < chunk[-1].end_s + 0.25:
                    chosen = (ci, -1)
        if chosen is not None and chosen[1] >= 0:
            self.caption_times.append((t, t, self.chunks[chosen[0]][chosen[1]].text))
        return chosen

    def __call__(self, frame: np.ndarray, t: float) -> None:
        chosen = self._chosen(t)
        if chosen is not None:
            composite_premultiplied(frame, self._caption(*chosen), self.caption_box[0], self.caption_box[1])

    def draw_yuv(self, planes: Planes, t: float) -> None:
        """The same captions blended into yuv420p planes (each caption image converted once)."""
        chosen = self._chosen(t)
        if chosen is None:
            return
        if chosen not in self.yuv_cache:
            height, width = planes.y.shape
            x0, y0 = self.caption_box[:2]
            self.yuv_cache[chosen] = yuv_patches([(x0, y0, self._caption(*chosen))], width, height)[0]
        self.yuv_cache[chosen].draw(planes)


class PresenterLayer(CaptionLayer):
    """Draws the presenter sprite, then the captions."""

    def __init__(self, presenter_rgba: np.ndarray, mask: np.ndarray, bbox: tuple[int, int, int, int],
                 region: Box, caption_box: Box, speech: Speech, brand: BrandKit, lighting: LightingSpec) -> None:
        super().__init__(caption_box, speech, brand)
        bw, bh = bbox[2] - bbox[0], bbox[3] - bbox[1]
        scale = min((region[2] - region[0]) / bw, (region[3] - region[1]) / bh) * 0.92
        self.sprite = build_sprite(presenter_rgba, mask, bbox, scale, lighting)
        self.region = region
        self.yauv: np.ndarray | None = None  # the sprite as Y/A/U/V, made on the first YUV frame

    def _matrix(self, t: float) -> np.ndarray:
        """The presenter breathes: a slow scale and drift, in float precision (sprite -> frame)."""
        sx, sy = self.sprite.centre
        rx0, ry0, rx1, ry1 = self.region
        zoom = 1.0 + 0.006 * t  # never stops, so no stretch of frames is frozen
        cx, cy = (rx0 + rx1) / 2 + 2.5 * math.sin(t * 0.7), (ry0 + ry1) / 2 + 3 * math.sin(t * 0.9)
        return np.array([[zoom, 0, cx - zoom * sx], [0, zoom, cy - zoom * sy]], dtype=np.float32)

    def _rect(self, matrix: np.ndarray, size: tuple[int, int], frame: tuple[int, int], even: bool) -> tuple[int, ...]:
        w, h = size
        zoom, left, top = float(matrix[0, 0]), float(matrix[0, 2]), float(matrix[1, 2])
        x0, y0 = int(max(0, left - 2)), int(max(0, top - 2))
        x1, y1 = int(min(frame[0], left + zoom * w + 2)), int(min(frame[1], top + zoom * h + 2))
        if even:  # chroma is sampled in 2x2 blocks
            x0, y0, x1, y1 = x0 - x0 % 2, y0 - y0 % 2, x1 - x1 % 2, y1 - y1 % 2
        return x0, y0, x1, y1

    def __call__(self, frame: np.ndarray, t: float) -> None:
        matrix = self._matrix(t)
        h, w = self.sprite.rgba.shape[:2]
        x0, y0, x1, y1 = self._rect(matrix, (w, h), (frame.shape[1], frame.shape[0]), even=False)
        if x1 > x0 and y1 > y0:
            local = matrix.copy()
            local[0, 2] -= x0
            local[1, 2] -= y0
            warped = cv2.warpAffine(self.sprite.rgba, local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR)
            composite_premultiplied(frame, warped, x0, y0)
        super().__call__(frame, t)

    def draw_yuv(self, planes: Planes, t: float) -> None:
        """The presenter warped as one Y/A/U/V layer straight into the planes (render/yuv.py), then the captions."""
        if self.yauv is None:
            self.yauv = yauv_from_premultiplied(self.sprite.rgba)
        matrix = self._matrix(t)
        h, w = self.yauv.shape[:2]
        height, width = planes.y.shape
        x0, y0, x1, y1 = self._rect(matrix, (w, h), (width, height), even=True)
        if x1 > x0 and y1 > y0:
            local = matrix.copy()
            local[0, 2] -= x0
            local[1, 2] -= y0
            warped = cv2.warpAffine(self.yauv, local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
            composite_yauv(planes, warped, x0, y0)
        super().draw_yuv(planes, t)


def voice_track(speech: Speech, music: np.ndarray | None, total_s: float) -> np.ndarray:
    """Voice at 48 kHz stereo from LEAD_S, over the music bed ducked by about 12 dB while speaking."""
    from scipy.signal import resample_poly

    g = math.gcd(RATE, speech.rate)
    voice = resample_poly(speech.samples, RATE // g, speech.rate // g).astype(np.float32)
    total = int(round(total_s * RATE))
    track = np.zeros(total, np.float32)
    start = int(LEAD_S * RATE)
    end = min(total, start + voice.shape[0])
    track[start:end] = voice[: end - start]
    mix = np.stack([track, track], axis=1)
    if music is not None:
        bed = fit_length(music, total_s)
        active = np.zeros(total, np.float32)
        active[max(0, start - RATE // 5) : min(total, end + RATE // 4)] = 1.0
        kernel = np.ones(RATE // 5, np.float32) / (RATE // 5)
        envelope = np.convolve(active, kernel, mode="same")
        gain = 1.0 - 0.75 * envelope  # -12 dB under the voice, smooth in and out
        voice_level = float(np.sqrt(np.mean(voice**2))) or 1.0
        bed_level = float(np.sqrt(np.mean(bed**2))) or 1.0
        mix += bed * (gain[:, None] * 0.5 * voice_level / bed_level)
    return normalise(mix)
