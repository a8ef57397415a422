"""Brand overlays drawn once per format with Pillow: logo, title, price, call to action, end card.

Text that does not fit is wrapped, then shrunk; it is never clipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from skureel.domain import BrandKit, FormatPreset
from skureel.imageio import open_rgba
from skureel.render.layout import Box, Layout

FontT = ImageFont.FreeTypeFont | ImageFont.ImageFont


@dataclass(frozen=True)
class OverlayText:
    title: str
    price: str | None = None
    original_price: str | None = None  # struck through when on sale
    call_to_action: str = ""


def hex_rgb(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def load_font(brand: BrandKit, size: int) -> FontT:
    path = brand.asset(brand.font)
    if path and Path(path).is_file():
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: FontT, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def fit_text(draw: ImageDraw.ImageDraw, text: str, brand: BrandKit, box_w: int, box_h: int, start: int,
             max_lines: int = 3) -> tuple[FontT, list[str], int]:
    """Largest font size (from `start` down) whose wrapped lines fit the box; returns font, lines, line height."""
    size = start
    while True:
        font = load_font(brand, size)
        lines = _wrap(draw, text, font, box_w)
        line_h = int(size * 1.22)
        widest = max((draw.textlength(line, font=font) for line in lines), default=0)
        if (len(lines) <= max_lines and line_h * len(lines) <= box_h and widest <= box_w) or size <= 12:
            return font, lines, line_h
        size -= 2


def _paste_logo(canvas: Image.Image, brand: BrandKit, box: Box, right: bool = False) -> None:
    path = brand.asset(brand.logo)
    if not path or box[2] - box[0] < 8 or box[3] - box[1] < 8:
        return
    logo = open_rgba(path)  # checked when the brand kit was loaded
    scale = min((box[2] - box[0]) / logo.width, (box[3] - box[1]) / logo.height)
    size = (max(1, int(logo.width * scale)), max(1, int(logo.height * scale)))
    x = box[2] - size[0] if right else box[0]
    canvas.alpha_composite(logo.resize(size, Image.Resampling.LANCZOS), (x, box[1]))


def draw_overlay(preset: FormatPreset, layout: Layout, brand: BrandKit, text: OverlayText) -> np.ndarray:
    """The static overlay as premultiplied-ready RGBA (uint8), transparent where nothing is drawn."""
    canvas = Image.new("RGBA", (preset.width, preset.height), (0, 0, 0, 0))
    if not layout.logo_in_copy:
        _paste_logo(canvas, brand, layout.logo)
    draw = ImageDraw.Draw(canvas)
    x0, y0, x1, y1 = layout.text
    box_w, box_h = x1 - x0, y1 - y0
    ink = hex_rgb(brand.colours.text)
    accent = hex_rgb(brand.colours.primary)
    base = int(min(preset.width, preset.height) * 0.062)
    # everything (two title lines at most, price, button) must fit the box: shrink the base size if not
    base = max(14, min(base, int((box_h - 28) / (1.22 * 2 + 1.1 + 1.05))))
    title_font, lines, line_h = fit_text(draw, text.title, brand, box_w - 32, int(box_h * 0.5), base, max_lines=2)
    price_font = load_font(brand, max(14, int(base * 0.85)))
    cta_font = load_font(brand, max(14, int(base * 0.7)))
    used = line_h * len(lines) + int(base * 1.1) + int(base * 1.05)
    top = y0 + max(0, box_h - used - 24)
    panel_h = min(box_h, used + 24)
    backdrop = Image.new("RGBA", (box_w, panel_h), hex_rgb(brand.colours.background) + (200,))
    canvas.alpha_composite(backdrop, (x0, y1 - panel_h))
    y = top + 12
    for line in lines:
        draw.text((x0 + 16, y), line, font=title_font, fill=ink + (255,))
        y += line_h
    x = x0 + 16
    if text.original_price:
        draw.text((x, y), text.original_price, font=price_font, fill=ink + (150,))
        width = draw.textlength(text.original_price, font=price_font)
        mid = y + int(price_font.size * 0.55) if isinstance(price_font, ImageFont.FreeTypeFont) else y + 8
        draw.line((x, mid, x + width, mid), fill=ink + (220,), width=max(2, base // 14))
        x += int(width + base * 0.4)
    if text.price:
        draw.text((x, y), text.price, font=price_font, fill=accent + (255,))
    y += int(base * 1.1)
    cta_w = 0
    if text.call_to_action:
        cta_w = int(draw.textlength(text.call_to_action, font=cta_font)) + 40
        cta_w = min(cta_w, box_w - 32)
        draw.rounded_rectangle((x0 + 16, y, x0 + 16 + cta_w, y + int(base * 1.0)), radius=int(base * 0.5),
                               fill=accent + (255,))
        draw.text((x0 + 36, y + int(base * 0.12)), text.call_to_action, font=cta_font, fill=(255, 255, 255, 255))
    if layout.logo_in_copy:  # beside the button, right-aligned: the product owns the rest of the frame
        left = max(x0 + 16 + cta_w + int(base * 0.6), x1 - 16 - int(box_w * 0.4))
        _paste_logo(canvas, brand, (left, y, x1 - 16, y + int(base * 1.0)), right=True)
    return np.asarray(canvas)


def draw_end_card(preset: FormatPreset, layout: Layout, brand: BrandKit) -> np.ndarray:
    """Logo, tagline and call to action on the brand background, as an RGB frame."""
    w, h = preset.width, preset.height
    canvas = Image.new("RGBA", (w, h), hex_rgb(brand.colours.background) + (255,))
    sx0, sy0, sx1, sy1 = layout.safe
    logo_w = int((sx1 - sx0) * 0.6)
    logo_box = (sx0 + ((sx1 - sx0) - logo_w) // 2, int(sy0 + (sy1 - sy0) * 0.22), 0, 0)
    logo_box = (logo_box[0], logo_box[1], logo_box[0] + logo_w, logo_box[1] + int(logo_w * 0.34))
    _paste_logo(canvas, brand, logo_box)
    draw = ImageDraw.Draw(canvas)
    ink = hex_rgb(brand.colours.text)
    base = int(min(w, h) * 0.06)
    y = logo_box[3] + base
    if brand.end_card.tagline:
        font, lines, line_h = fit_text(draw, brand.end_card.tagline, brand, sx1 - sx0 - 20, base * 3, base)
        for line in lines:
            lw = draw.textlength(line, font=font)
            draw.text(((w - lw) / 2, y), line, font=font, fill=ink + (255,))
            y += line_h
    cta = brand.end_card.call_to_action
    if cta:
        font = load_font(brand, int(base * 0.8))
        cw = draw.textlength(cta, font=font) + 60
        top = y + base // 2
        draw.rounded_rectangle(((w - cw) / 2, top, (w + cw) / 2, top + base * 1.3), radius=base * 0.65,
                               fill=hex_rgb(brand.colours.primary) + (255,))
        draw.text(((w - cw) / 2 + 30, top + base * 0.2), cta, font=font, fill=(255, 255, 255, 255))
    return np.asarray(canvas.convert("RGB"))
