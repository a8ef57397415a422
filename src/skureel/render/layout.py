"""Where the product, the logo and the text go in each format: text always inside the platform safe zone.

The product is laid out the way a product ad is: in 9:16 it takes about half the frame height, centred on the safe
area above the copy (its top may run under the platform's top bar: only text must stay inside the safe zone); in
16:9 it stands on the left third with the copy on the right; 4:5 and 1:1 sit in between. `product` is the box the
product fills at the largest zoom of its camera move (frames.fit_scale), so the median frame is only a few percent
smaller.
"""

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
    logo_in_copy: bool = False  # tall and square formats: the logo sits in the copy's button row, off the product


def layout_for(preset: FormatPreset) -> Layout:
    w, h, z = preset.width, preset.height, preset.safe_zone
    safe = (z.left, z.top, w - z.right, h - z.bottom)
    if preset.width > preset.height:  # 16:9: product on the left third, copy on the right
        split = int(w * 0.62)
        third = w / 3
        half = min(third - w * 0.04, split - w * 0.02 - third)
        return Layout(product=(int(third - half), int(h * 0.06), int(third + half), int(h * 0.94)),
                      text=(split, int(h * 0.28), safe[2], safe[3]),
                      logo=(split, safe[1], safe[2], safe[1] + int(h * 0.1)), safe=safe)
    tall = h / w > 1.5
    text_h = int((safe[3] - safe[1]) * (0.24 if tall else 0.27))
    text = (safe[0], safe[3] - text_h, safe[2], safe[3])
    logo_h = int(min(w, h) * 0.075)
    logo = (safe[0], safe[1], safe[0] + int(w * 0.3), safe[1] + logo_h)  # unused on the frame when logo_in_copy
    # centred on the safe area horizontally (9:16 keeps a wide right rail for the platform's buttons)
    centre = (safe[0] + safe[2]) / 2
    edge = 0.02 if tall else 0.07
    half = min(centre - w * edge, w * (1 - edge) - centre)
    top = int(h * 0.04) if tall else safe[1] + int(h * 0.01)
    bottom = text[1] - int(h * (0.008 if tall else 0.012))
    return Layout(product=(int(centre - half), top, int(centre + half), bottom), text=text, logo=logo, safe=safe,
                  logo_in_copy=True)
