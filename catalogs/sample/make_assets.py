"""Draws the sample catalog's packshots and the brand kits' logos and music beds.

Run once by a developer (`python catalogs/sample/make_assets.py`); the outputs are committed. Everything
drawn here is the project's own work. Four real photographs are copied from ../shared/corpus with their
licences (see CREDITS.md).
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "catalogs" / "sample" / "images"
SIZE = 900


def canvas() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    return img, ImageDraw.Draw(img)


def shade(img: Image.Image, box: tuple[int, int, int, int], strength: float = 0.25) -> Image.Image:
    """A soft diagonal shading so flat shapes read as objects."""
    arr = np.asarray(img).astype(np.float32)
    x0, y0, x1, y1 = box
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    t = ((xx - x0) / max(1, x1 - x0) + (yy - y0) / max(1, y1 - y0)) / 2
    factor = 1 + strength * (0.5 - np.clip(t, 0, 1))
    mask = (arr.sum(axis=2) < 760)[..., None]
    out = np.where(mask, np.clip(arr * factor[..., None], 0, 255), arr)
    return Image.fromarray(out.astype(np.uint8))


def serum() -> Image.Image:
    img, d = canvas()
    d.rounded_rectangle((350, 330, 550, 760), 40, fill=(176, 106, 44))
    d.rectangle((400, 250, 500, 335), fill=(30, 30, 30))
    d.ellipse((395, 150, 505, 270), fill=(40, 40, 40))
    d.rounded_rectangle((380, 450, 520, 600), 8, fill=(240, 232, 220))
    d.line((390, 480, 510, 480), fill=(120, 90, 60), width=6)
    d.rectangle((370, 350, 390, 720), fill=(220, 160, 100))
    return shade(img, (350, 150, 550, 760), 0.3)


def tea_box() -> Image.Image:
    img, d = canvas()
    d.polygon([(250, 300), (560, 300), (560, 760), (250, 760)], fill=(46, 110, 78))
    d.polygon([(560, 300), (680, 230), (680, 680), (560, 760)], fill=(30, 80, 56))
    d.polygon([(250, 300), (370, 230), (680, 230), (560, 300)], fill=(70, 140, 100))
    d.ellipse((320, 420, 490, 590), fill=(235, 215, 160))
    d.rectangle((250, 640, 560, 670), fill=(235, 215, 160))
    return img


def ring() -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    arr = np.asarray(img).astype(np.float32)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    r = np.sqrt(((xx - 450) / 1.0) ** 2 + ((yy - 500) / 0.55) ** 2)
    band = (r > 210) & (r < 270)
    angle = np.arctan2(yy - 500, xx - 450)
    light = 0.75 + 0.25 * np.cos(angle * 2 + 0.8)
    gold = np.stack([235 * light, 185 * light, 70 * light], axis=-1)
    arr[band] = gold[band]
    stone = ((xx - 450) ** 2 + (yy - 285) ** 2) < 55**2
    arr[stone] = [200, 230, 255]
    return Image.fromarray(arr.astype(np.uint8)).filter(ImageFilter.SMOOTH)


def scarf() -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    arr = np.asarray(img).astype(np.float32)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    top = 220 + 40 * np.sin(xx / 90.0)
    bottom = 700 + 50 * np.sin(xx / 70.0 + 1)
    inside = (yy > top) & (yy < bottom) & (xx > 150) & (xx < 750)
    folds = 0.8 + 0.2 * np.sin(xx / 35.0 + yy / 160.0)
    colour = np.stack([200 * folds, 60 * folds, 120 * folds], axis=-1)
    pattern = (np.sin(xx / 18.0) * np.sin(yy / 18.0)) > 0.6
    colour[pattern] = [245, 200, 90]
    arr[inside] = colour[inside]
    return Image.fromarray(arr.astype(np.uint8)).filter(ImageFilter.SMOOTH)


def logo(text: str, colour: tuple[int, int, int], path: Path) -> None:
    img = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.ellipse((10, 30, 150, 170), fill=colour + (255,))
    d.ellipse((50, 70, 110, 130), fill=(255, 255, 255, 255))
    from PIL import ImageFont

    font = ImageFont.load_default(size=96)
    d.text((175, 45), text, fill=colour + (255,), font=font)
    img.save(path)


def presenter(path: Path) -> None:
    img, d = canvas()
    d.ellipse((330, 160, 570, 420), fill=(224, 180, 150))  # face
    d.pieslice((310, 120, 590, 360), 180, 360, fill=(60, 40, 30))  # hair
    d.ellipse((395, 260, 425, 290), fill=(50, 40, 40))
    d.ellipse((475, 260, 505, 290), fill=(50, 40, 40))
    d.arc((410, 300, 490, 370), 20, 160, fill=(150, 60, 60), width=8)
    d.rectangle((420, 410, 480, 470), fill=(224, 180, 150))
    d.polygon([(230, 880), (280, 520), (400, 460), (500, 460), (620, 520), (670, 880)], fill=(70, 90, 150))
    img.save(path, quality=92)


def music(path: Path, seconds: float, root_hz: float) -> None:
    """A soft chord pad with a pulse: the kit's own music bed."""
    rate = 48000
    t = np.arange(int(seconds * rate)) / rate
    chord = [root_hz, root_hz * 5 / 4, root_hz * 3 / 2, root_hz * 2]
    pad = sum(np.sin(2 * math.pi * f * t + i) for i, f in enumerate(chord)) / len(chord)
    pulse = 0.6 + 0.4 * (0.5 + 0.5 * np.sin(2 * math.pi * 2 * t))
    signal = 0.3 * pad * pulse
    stereo = np.stack([signal, np.roll(signal, 240)], axis=1)
    data = (np.clip(stereo, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(data.tobytes())


# Real photographs from ../shared/corpus/images (licences and changes in CREDITS.md): name -> (source, long side).
PHOTOS = {"film_camera.jpg": ("cc0_film_camera_studio.jpg", None), "mug.png": ("saleor_mug_transparent_rgba.png", None),
          "tshirt.jpg": ("sylius_tshirt_lifestyle.jpg", 1200), "duffel_bag.jpg": ("abo_duffel_bag_white_bg.jpg", None)}


def copy_photos() -> None:
    """Copies the corpus photos the sample uses; None keeps the file byte for byte, a number resizes its long side."""
    corpus = ROOT.parent / "shared" / "corpus" / "images"
    if not corpus.is_dir():
        print(f"{corpus} is absent: the committed photos are kept")
        return
    for name, (source, long_side) in PHOTOS.items():
        if long_side is None:
            (IMAGES / name).write_bytes((corpus / source).read_bytes())
            continue
        with Image.open(corpus / source) as photo:
            photo.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
            photo.save(IMAGES / name, quality=88, optimize=True)


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, fn in {"serum": serum, "tea_box": tea_box, "ring": ring, "scarf": scarf}.items():
        fn().save(IMAGES / f"{name}.jpg", quality=92)
    copy_photos()
    kits = ROOT / "brand_kits"
    for kit, text, colour, hz in (("aurora", "aurora", (196, 92, 60), 220.0), ("nordlys", "NORDLYS", (20, 60, 90), 196.0)):
        (kits / kit).mkdir(parents=True, exist_ok=True)
        logo(text, colour, kits / kit / "logo.png")
        music(kits / kit / "music.wav", 12.0, hz)
    presenter(kits / "aurora" / "presenter.jpg")


if __name__ == "__main__":
    main()
