"""Render speed, measured in one run on the same photo and frame count:

(a) x264 alone: PyAV encoding ready-made RGB frames at the same size and preset (the encoder limit);
(b) skureel's full local clip: cut-out, set, shadow, camera move, light sweep, overlays, end card, audio, probe;
(c) MoviePy doing a plain push-in with a fade on the same photo (one format, it is slow).

Prints CPU-time and wall ratios per format (aim: b/a <= 1.25 in CPU, c/b >= 6) and peak RSS of (b).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "catalogs" / "sample" / "images" / "film_camera.jpg"
SECONDS = 6.0  # 4.5 s shot + 1.5 s end card
FORMATS = {"9x16": (1080, 1920), "4x5": (1080, 1350), "1x1": (1080, 1080), "16x9": (1920, 1080)}

X264 = """
import sys, av, numpy as np
from fractions import Fraction
w, h, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
frame = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
frame[:] = (frame // 16) + 200  # mostly flat, like a studio set
with av.open(sys.argv[4], "w") as c:
    s = c.add_stream("libx264", rate=Fraction(30, 1)); s.width, s.height, s.pix_fmt = w, h, "yuv420p"
    s.codec_context.thread_type = "FRAME"; s.codec_context.options = {"crf": "20", "preset": "veryfast"}
    for i in range(n):
        f = frame.copy(); f[h // 3 : h // 3 + 200, (i * 3) % (w - 300): (i * 3) % (w - 300) + 300] = 40
        for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")): c.mux(p)
    for p in s.encode(None): c.mux(p)
"""

SKUREEL = """
import sys
from pathlib import Path
from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import Product
from skureel.planning import load_vocabulary, plan_product
from skureel.render.compose import overlay_text_for, prepare, render_local
from skureel.settings import Settings
kit = load_brand_kit(sys.argv[3])
product = Product(key="c", sku="CAM", title="Twin-Lens Reflex Camera", material="metal", category="Electronics",
                  images=[sys.argv[1]])
product.video.duration_s = float(sys.argv[5]) - kit.end_card.duration_s
product.video.camera = "slow push-in"
shot = plan_product(product, kit, load_vocabulary())[0].model_copy(update={"motion_effect": "light_sweep"})
hero = prepare(ImageCache(Settings(cache_dir=Path(sys.argv[4]))).load(sys.argv[1]))
render_local(shot, hero, sys.argv[2], kit, overlay_text_for(product.title, "$1,250", None, kit), Path(sys.argv[6]))
"""

MOVIEPY = """
import sys
from moviepy import ImageClip, vfx
w, h, seconds = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
clip = ImageClip(sys.argv[1]).with_duration(seconds)
clip = clip.resized(height=h).with_position("center")
clip = clip.resized(lambda t: 1 + 0.04 * t).with_effects([vfx.FadeIn(0.5), vfx.FadeOut(0.5)])
from moviepy import CompositeVideoClip
CompositeVideoClip([clip], size=(w, h)).write_videofile(sys.argv[5], fps=30, codec="libx264", preset="veryfast",
                                                        audio=False, logger=None)
"""


def child(code: str, *args: str) -> tuple[float, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), after.ru_maxrss / 1024


def main() -> None:
    import statistics
    import tempfile

    frames = int(SECONDS * 30)
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        for fmt, (w, h) in FORMATS.items():
            a, b = [], []
            for _ in range(3):
                a.append(child(X264, str(w), str(h), str(frames), f"{folder}/a.mp4"))
                b.append(child(SKUREEL, str(PHOTO), fmt, str(ROOT / "brand_kits" / "aurora"), str(cache), str(SECONDS),
                               f"{folder}/b.mp4"))
            a_wall, a_cpu = statistics.median([r[0] for r in a]), statistics.median([r[1] for r in a])
            b_wall, b_cpu = statistics.median([r[0] for r in b]), statistics.median([r[1] for r in b])
            rows[fmt] = {"x264_cpu": a_cpu, "skureel_cpu": b_cpu, "cpu_ratio": b_cpu / a_cpu, "wall_ratio": b_wall / a_wall,
                         "peak_rss_mb": max(r[2] for r in b)}
        w, h = FORMATS["9x16"]
        c = child(MOVIEPY, str(PHOTO), str(w), str(h), str(SECONDS), f"{folder}/c.mp4")
        rows["9x16"]["moviepy_cpu"] = c[1]
        rows["9x16"]["moviepy_over_skureel_cpu"] = c[1] / rows["9x16"]["skureel_cpu"]
    for fmt, row in rows.items():
        line = (f"{fmt:5}: x264 alone {row['x264_cpu']:.2f} cpu-s | skureel full clip {row['skureel_cpu']:.2f} cpu-s | "
                f"ratio cpu {row['cpu_ratio']:.2f}x wall {row['wall_ratio']:.2f}x (aim <= 1.25)")
        if "moviepy_cpu" in row:
            line += f" | MoviePy push-in {row['moviepy_cpu']:.2f} cpu-s = {row['moviepy_over_skureel_cpu']:.1f}x skureel (aim >= 6)"
        print(line)
    print("note: peak RSS is the largest of any child process so far:", f"{max(r['peak_rss_mb'] for r in rows.values()):.0f} MB")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
