"""Where the product, the logo and the text go in each format: text always inside the platform safe zone."""

from __future__ import annotations

from dataclasses import dataclass

from skureel.domain import FormatPreset

Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Layout:
    product: Box  # the product (at its largest zoom) stays inside this box
    text: Box  # title, price, call to action, captions
    logo: Box
    safe: Box


def layout_for(preset: FormatPreset) -> Layout:
    w, h, z = preset.width, preset.height, preset.safe_zone
    safe = (z.left, z.top, w - z.right, h - z.bottom)
    if preset.width > preset.height:  # 16:9: product left, text right
        split = int(w * 0.56)
        return Layout(product=(int(w * 0.06), int(h * 0.1), split - int(w * 0.02), int(h * 0.9)),
                      text=(split + int(w * 0.02), int(h * 0.28), safe[2], safe[3]),
                      logo=(split + int(w * 0.02), safe[1], safe[2], safe[1] + int(h * 0.1)), safe=safe)
    logo_h = int(min(w, h) * 0.075)
    logo = (safe[0], safe[1], safe[0] + int(w * 0.3), safe[1] + logo_h)
    text_h = int((safe[3] - safe[1]) * (0.27 if h / w > 1.5 else 0.3))
    text = (safe[0], safe[3] - text_h, safe[2], safe[3])
    top = logo[3] + int(h * 0.02)
    bottom = text[1] - int(h * 0.015)
    margin = int(w * 0.08)
    return Layout(product=(margin, top, w - margin, bottom), text=text, logo=logo, safe=safe)
