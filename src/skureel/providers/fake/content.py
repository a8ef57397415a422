"""What a fake provider's clip shows (`--faults content=MODE`): built from the image the client SUBMITTED, so the
QA gate can be tested end to end against the failures real video models make.

    faithful  the product itself under a gentle camera move (a slow push-in drifting sideways): passes
    other     another product (an orange striped jar) under the same move: fails identity
    hue       the product with its hue turned 150 degrees: fails colour
    label     the product's printed words (found by tesseract) rewritten halfway through: fails label text
    drift     the light darkening and warming over the clip (white balance wandering): fails lighting drift
    flicker   every other frame brighter: fails flicker

A spec is one mode, or modes per attempt separated by "/" (`other/faithful`: the first clip of a shot shows another
product, its regeneration the real one; the last mode repeats), or `prompt`: each job takes the modes named by a
`[content:MODE/MODE]` marker in its prompt (a product title carries it into the prompt), faithful where none is.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

MODES = ("faithful", "other", "hue", "label", "drift", "flicker")
MARKER = re.compile(r"\[content:([a-z/]+)\]", re.IGNORECASE)
FPS = 24
BACKDROP = (233, 228, 220)  # a warm grey studio sweep, as the local renderer's

Effect = Callable[[int, float, np.ndarray], np.ndarray]


def _modes(text: str) -> list[str]:
    modes = [m.strip().lower() for m in text.split("/") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if not modes or unknown:
        raise ValueError(f"unknown content {'/'.join(unknown) or text!r}; known: {', '.join(MODES)} "
                         "(one per attempt, joined by '/'), or prompt")
    return modes


class ContentPlan:
    """Which mode each job gets; counts attempts per shot (same prompt and image) so a retry can differ."""

    def __init__(self, spec: str) -> None:
        self.from_prompt = spec.strip().lower() == "prompt"
        self.modes = [] if self.from_prompt else _modes(spec)
        self.attempts: dict[str, int] = {}
        self.lock = threading.Lock()

    def choose(self, prompt: str, image: bytes | None) -> str:
        modes = self.modes
        if self.from_prompt:
            marker = MARKER.search(prompt)
            modes = _modes(marker.group(1)) if marker else ["faithful"]
        # a regeneration keeps the prompt and the photo and changes only the seed: that is one shot's attempts
        cell = hashlib.sha256(prompt.encode() + b"\0" + (image or b"")).hexdigest()
        with self.lock:
            attempt = self.attempts.get(cell, 0)
            self.attempts[cell] = attempt + 1
        return modes[min(attempt, len(modes) - 1)]


def split_content(spec: str | None) -> tuple[str, ContentPlan | None]:
    """'content=hue,5xx=0.1' -> ('5xx=0.1', plan for hue); an unknown mode is refused with the list of known ones."""
    rest: list[str] = []
    plan: ContentPlan | None = None
    for part in (spec or "").split(","):
        name, _, value = part.partition("=")
        if name.strip() == "content":
            plan = ContentPlan(value)
        elif part.strip():
            rest.append(part)
    return ",".join(rest), plan


def other_product() -> bytes:
    """A product no catalog has (an orange, striped jar on white): the clip of a model that lost the SKU's photo."""
    image = Image.new("RGB", (600, 600), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((170, 120, 430, 500), radius=60, fill=(235, 120, 30))
    for y in range(160, 480, 60):
        draw.rectangle((170, y, 430, y + 22), fill=(250, 230, 90))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# frames ----------------------------------------------------------------------------------------------------------
def frames(photo: np.ndarray, seconds: float, size: tuple[int, int], effect: Effect | None = None,
           swap: np.ndarray | None = None, swap_after: float = 1e9) -> Iterator[np.ndarray]:
    """The photo on the studio sweep under a slow push-in (8 %) drifting a few pixels sideways; from `swap_after`
    seconds on, `swap` is shown instead; `effect` changes each finished frame (index, time, rgb)."""
    width, height = size
    for i in range(int(round(seconds * FPS))):
        t = i / FPS
        source = swap if swap is not None and t >= swap_after else photo
        zoom = 1.0 + 0.08 * t / seconds
        scale = min(width, height) * 0.8 / max(source.shape[:2]) * zoom
        placed = cv2.resize(source, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas = np.full((height, width, 3), BACKDROP, np.uint8)
        ph, pw = placed.shape[:2]
        x, y = int((width - pw) / 2 + 6 * np.sin(t)), int((height - ph) / 2)
        xs, ys = max(0, x), max(0, y)
        crop = placed[ys - y: ys - y + min(ph, height - ys), xs - x: xs - x + min(pw, width - xs)]
        canvas[ys: ys + crop.shape[0], xs: xs + crop.shape[1]] = crop
        frame = canvas if effect is None else effect(i, t, canvas)
        yield np.clip(frame, 0, 255).astype(np.uint8)


def hue_shift(degrees: int) -> Effect:
    def effect(_: int, __: float, rgb: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0].astype(np.int16) + degrees // 2) % 180
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return effect


def lighting_ramp(seconds: float) -> Effect:
    """Darker and warmer over the clip: the white balance of older models wandering."""
    def effect(_: int, t: float, rgb: np.ndarray) -> np.ndarray:
        k = t / seconds
        gain = np.array([1.0 - 0.05 * k, 1.0 - 0.2 * k, 1.0 - 0.45 * k], np.float32)
        return np.asarray(rgb.astype(np.float32) * gain)
    return effect


def flicker(amount: float = 28.0) -> Effect:
    def effect(i: int, _: float, rgb: np.ndarray) -> np.ndarray:
        return rgb.astype(np.float32) + (amount if i % 2 else -amount / 2)
    return effect


def _rot13(word: str) -> str:
    """Every letter and digit changed (a model inventing letters), the length kept."""
    out = []
    for c in word:
        if c.isdigit():
            out.append(str((int(c) + 5) % 10))
        elif c.isascii() and c.isalpha():
            base = ord("A") if c.isupper() else ord("a")
            out.append(chr((ord(c) - base + 13) % 26 + base))
        else:
            out.append(c)
    return "".join(out)


def rewritten_label(rgb: np.ndarray) -> np.ndarray:
    """The photo with each word tesseract reads on it painted over and rewritten; without tesseract or words, the
    middle third blurred beyond reading (a melted label)."""
    out = rgb.copy()
    words: list[tuple[str, int, int, int, int]] = []
    try:
        import pytesseract

        data = pytesseract.image_to_data(rgb, config="--psm 11", output_type=pytesseract.Output.DICT, timeout=20)
        words = [(str(w), int(x), int(y), int(w_), int(h)) for w, c, x, y, w_, h in
                 zip(data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"], strict=False)
                 if float(c) >= 50 and len(re.sub(r"\W", "", str(w))) >= 3]
    except (ImportError, OSError, RuntimeError):
        words = []
    if not words:
        h = rgb.shape[0]
        out[h // 3: 2 * h // 3] = cv2.GaussianBlur(out[h // 3: 2 * h // 3], (0, 0), 12)
        return out
    image = Image.fromarray(out)
    draw = ImageDraw.Draw(image)
    for text, x, y, w, h in words:
        pad = max(2, h // 5)
        box = (max(0, x - pad), max(0, y - pad), min(rgb.shape[1], x + w + pad), min(rgb.shape[0], y + h + pad))
        ring = np.concatenate([rgb[box[1], box[0]: box[2]], rgb[box[3] - 1, box[0]: box[2]]])
        fill = tuple(int(v) for v in np.median(ring, axis=0))  # the label's own colour, read just outside the word
        draw.rectangle(box, fill=fill)
        ink = (20, 20, 20) if sum(fill) > 384 else (240, 240, 240)
        draw.text((x + w / 2, y + h / 2), _rot13(text), fill=ink, font=ImageFont.load_default(size=max(8, h)),
                  anchor="mm")
    return np.asarray(image).copy()


def clip_frames(mode: str, image: bytes | None, width: int, height: int, seconds: float) -> Iterator[np.ndarray]:
    from skureel.imageio import decode_rgba

    data = other_product() if mode == "other" or image is None else image
    rgba = np.asarray(decode_rgba(data)[0]).astype(np.float32)
    a = rgba[..., 3:] / 255.0  # transparency flattened on white, as a provider would see a cut-out
    photo = (rgba[..., :3] * a + 255.0 * (1.0 - a)).astype(np.uint8)
    size = (width, height)
    if mode == "hue":
        return frames(photo, seconds, size, hue_shift(150))
    if mode == "drift":
        return frames(photo, seconds, size, lighting_ramp(seconds))
    if mode == "flicker":
        return frames(photo, seconds, size, flicker())
    if mode == "label":
        return frames(photo, seconds, size, swap=rewritten_label(photo), swap_after=seconds / 2)
    return frames(photo, seconds, size)


def render(mode: str, image: bytes | None, width: int, height: int, seconds: float) -> bytes:
    """The clip as an MP4 (H.264, with a silent track like a model's), encoded the way the local renderer does."""
    from skureel.render.audio import silence
    from skureel.render.encode import encode_mp4

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        encode_mp4(path, clip_frames(mode, image, width, height, seconds), width=width, height=height, fps=FPS,
                   audio=silence(seconds), quality="draft")
        return path.read_bytes()
