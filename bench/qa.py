"""QA cost per clip against the compose cost of the same clip, measured in one run.

For each photo: a hosted-like base clip (720x1280, 5 s, the fake providers' renderer), then
(a) the QA gate on it: the photo prepared (cut-out, features, colours, OCR) and every measure scored;
(b) composing the same clip into the 9x16 format, and into all four formats (what a default run does).

Prints wall and CPU seconds and the ratio a/b per clip, then the median ratio over the clips (aim: QA <= 15 % of
composing the clip's formats).
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from skureel.catalog.brandkit import load_brand_kit  # noqa: E402
from skureel.providers.local import render_base_clip  # noqa: E402
from skureel.qa import from_image, load_thresholds, score_clip  # noqa: E402
from skureel.render.compose import compose_clip, overlay_text_for  # noqa: E402

PHOTOS = ["film_camera.jpg", "mug.png", "tshirt.jpg"]
FORMATS = ["9x16", "4x5", "1x1", "16x9"]


def timed(fn):  # noqa: ANN001, ANN201
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    brand = load_brand_kit(ROOT / "brand_kits" / "aurora")
    text = overlay_text_for("Bench product", "$19.00", None, brand)
    limits = load_thresholds()
    totals = {"qa": 0.0, "one": 0.0, "all": 0.0}
    ratios: dict[str, list[float]] = {"one": [], "all": []}
    print(f"{'photo':14s} {'qa wall':>8s} {'qa cpu':>7s} {'9x16 wall':>9s} {'4 fmts wall':>11s} {'qa/9x16':>8s} {'qa/4 fmts':>9s}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        warm = work / "warm.mp4"  # imports and the first OCR happen once per run, not once per clip
        warm.write_bytes(render_base_clip(None, 360, 640, 1.0))
        score_clip(warm, from_image(ROOT / "catalogs" / "sample" / "images" / "serum.jpg", limits), limits)
        for name in PHOTOS:
            photo = ROOT / "catalogs" / "sample" / "images" / name
            rgba = Image.open(photo).convert("RGBA")  # flattened on white, as the pipeline sends it to a provider
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
            payload = io.BytesIO()
            image.save(payload, format="JPEG", quality=92)
            clip = work / f"{photo.stem}.mp4"
            clip.write_bytes(render_base_clip(payload.getvalue(), 720, 1280, 5.0))

            def check(photo: Path = photo, clip: Path = clip) -> object:
                return score_clip(clip, from_image(photo, limits), limits)

            report, qa_wall, qa_cpu = timed(check)
            walls = []
            for fmt in FORMATS:
                _, wall, _ = timed(lambda fmt=fmt, clip=clip: compose_clip(clip, None, 5.0, fmt, brand, text,
                                                                        work / f"o-{fmt}.mp4"))
                walls.append(wall)
            totals["qa"] += qa_wall
            totals["one"] += walls[0]
            totals["all"] += sum(walls)
            ratios["one"].append(qa_wall / walls[0])
            ratios["all"].append(qa_wall / sum(walls))
            verdict = "pass" if report.passed else "FAIL"  # type: ignore[attr-defined]
            print(f"{photo.stem:14s} {qa_wall:8.2f} {qa_cpu:7.2f} {walls[0]:9.2f} {sum(walls):11.2f} "
                  f"{qa_wall / walls[0]:8.1%} {qa_wall / sum(walls):9.1%}  ({verdict})")
    print(f"{'total':14s} {totals['qa']:8.2f} {'':7s} {totals['one']:9.2f} {totals['all']:11.2f} "
          f"{totals['qa'] / totals['one']:8.1%} {totals['qa'] / totals['all']:9.1%}")
    print(f"{'median':14s} {'':8s} {'':7s} {'':9s} {'':11s} {statistics.median(ratios['one']):8.1%} "
          f"{statistics.median(ratios['all']):9.1%}   aim: qa/4 fmts <= 15 %")


if __name__ == "__main__":
    main()
