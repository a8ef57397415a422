"""Render speed and memory, measured in one run on the same photo, clip and frame count.

(a) the baseline, "x264 fed RGB frames": PyAV encoding the very frames of skureel's clip (decoded once to raw RGB
    beforehand, read back from a memory map) with the same settings as skureel's final quality (libx264 veryfast
    crf 20, frame threads, the same x264 parameters): the encoder limit of shared/reference/render-notes.md;
(b) skureel's full local clip in its own process, as a render worker makes it from the shot the run hands it (the
    shot is planned by this parent: planning is bench/plan.py's): imports, brand kit, photo decode and cut-out, set,
    shadow and reflection, camera move, turntable and light sweep, overlays, cross-fade and end card, audio, encode,
    and the probe that reads the file back;
(c) MoviePy doing a plain push-in with a fade on the same photo (9x16 only, it is slow).

Each side runs in its own child process, three rounds alternating (a) and (b); CPU is user + sys of that child and
peak RSS is that child's own (os.wait4), so neither side's figures include the other's. Prints medians per format:
the CPU ratio b/a per clip (measured by each child from after its imports to its end: what one more clip costs a
running worker; aim <= 1.25) and per whole process (interpreter start and imports included: about 0.6 s for skureel,
0.15 s for PyAV alone), the wall ratio, peak RSS of (b) (aim < 400 MB), and c/b (aim >= 6).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from skureel.render.encode import X264_PARAMS

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "catalogs" / "sample" / "images" / "film_camera.jpg"
SECONDS = 6.0  # 4.5 s shot + 1.5 s end card
FORMATS = {"9x16": (1080, 1920), "4x5": (1080, 1350), "1x1": (1080, 1080), "16x9": (1920, 1080)}
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
ONLY = [f for f in os.environ.get("BENCH_FORMATS", "").split(",") if f]  # e.g. BENCH_FORMATS=1x1 for a quick look

TO_RAW = """
import sys, av, numpy as np
with av.open(sys.argv[1]) as c, open(sys.argv[2], "wb") as out:
    for f in c.decode(video=0):
        out.write(np.ascontiguousarray(f.to_ndarray(format="rgb24")).tobytes())
"""

CPU = """
import resource
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
"""

X264 = CPU + """
import sys, av, numpy as np
from fractions import Fraction
start = cpu()
w, h, raw, path, params = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
frames = np.memmap(raw, np.uint8, "r").reshape(-1, h, w, 3)
with av.open(path, "w", format="mp4") as c:
    s = c.add_stream("libx264", rate=Fraction(30, 1)); s.width, s.height, s.pix_fmt = w, h, "yuv420p"
    s.codec_context.thread_type = "FRAME"; s.codec_context.thread_count = 0; s.codec_context.profile = "High"
    s.codec_context.gop_size = 60; s.codec_context.max_b_frames = 2
    s.codec_context.options = {"crf": "20", "preset": "veryfast", "keyint_min": "60", "sc_threshold": "0",
                               "x264-params": params}
    for i in range(frames.shape[0]):
        f = av.VideoFrame.from_ndarray(np.asarray(frames[i]), format="rgb24"); f.pts = i
        for p in s.encode(f): c.mux(p)
    for p in s.encode(None): c.mux(p)
print("work_cpu", cpu() - start)
"""

SKUREEL = CPU + """
import sys
from pathlib import Path
from skureel.catalog.brandkit import load_brand_kit
from skureel.catalog.images import ImageCache
from skureel.domain import ShotSpec
from skureel.render.compose import overlay_text_for, prepare, render_local
from skureel.settings import Settings
start = cpu()
kit = load_brand_kit(sys.argv[3])
shot = ShotSpec.model_validate_json(Path(sys.argv[5]).read_text())
hero = prepare(ImageCache(Settings(cache_dir=Path(sys.argv[4]))).load(sys.argv[1]))
result, _ = render_local(shot, hero, sys.argv[2], kit, overlay_text_for(shot.title, "$1,250", None, kit),
                         Path(sys.argv[6]))
assert result.ok, result.problems
print("work_cpu", cpu() - start)
"""


def planned_shot(kit_path: Path, seconds: float) -> str:
    """The benchmark's shot as JSON, planned here: a render worker is handed its shot by the run (planning is
    bench/plan.py's), so the child does what a worker does with it, and no more."""
    from skureel.catalog.brandkit import load_brand_kit
    from skureel.domain import Product
    from skureel.planning import load_vocabulary, plan_product

    kit = load_brand_kit(kit_path)
    product = Product(key="c", sku="CAM", title="Twin-Lens Reflex Camera", material="metal", category="Electronics",
                      images=[str(PHOTO)])
    product.video.duration_s = seconds - kit.end_card.duration_s
    product.video.camera = "slow push-in"
    shot = plan_product(product, kit, load_vocabulary())[0]
    return shot.model_copy(update={"motion_effect": "light_sweep", "title": product.title}).model_dump_json()

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


def child(code: str, *args: str) -> tuple[float, float, float, float]:
    """(wall s, CPU s, peak RSS MB, CPU s after its imports) of this one child process: the first three from its
    own rusage (os.wait4), the last as the child reports it (what one more clip costs a worker that is running)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"benchmark child failed with exit status {proc.returncode}")
    work = [float(line.split()[1]) for line in output.splitlines() if line.startswith("work_cpu ")]
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, work[0] if work else math.nan


def main() -> None:
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        kit = str(ROOT / "brand_kits" / "aurora")
        shot = Path(folder) / "shot.json"
        shot.write_text(planned_shot(Path(kit), SECONDS))
        for fmt, (w, h) in FORMATS.items():
            if ONLY and fmt not in ONLY:
                continue
            clip, raw = f"{folder}/b_{fmt}.mp4", f"{folder}/b_{fmt}.rgb"
            child(SKUREEL, str(PHOTO), fmt, kit, str(cache), str(shot), clip)  # warm the cache and the disk
            child(TO_RAW, clip, raw)  # the baseline encodes skureel's own frames
            a, b = [], []
            for _ in range(ROUNDS):
                a.append(child(X264, str(w), str(h), raw, f"{folder}/a.mp4", X264_PARAMS))
                b.append(child(SKUREEL, str(PHOTO), fmt, kit, str(cache), str(shot), clip))
            os.unlink(raw)
            a_wall, a_cpu = statistics.median(r[0] for r in a), statistics.median(r[1] for r in a)
            b_wall, b_cpu = statistics.median(r[0] for r in b), statistics.median(r[1] for r in b)
            a_work, b_work = statistics.median(r[3] for r in a), statistics.median(r[3] for r in b)
            rows[fmt] = {"x264_cpu": a_cpu, "skureel_cpu": b_cpu, "cpu_ratio": b_cpu / a_cpu,
                         "x264_work_cpu": a_work, "skureel_work_cpu": b_work, "work_cpu_ratio": b_work / a_work,
                         "wall_ratio": b_wall / a_wall, "skureel_peak_rss_mb": max(r[2] for r in b),
                         "x264_peak_rss_mb": max(r[2] for r in a)}
            print(f"{fmt} measured: {json.dumps(rows[fmt])}", file=sys.stderr, flush=True)  # survives a cut-off run
        if os.environ.get("BENCH_MOVIEPY", "1") == "1" and "9x16" in rows:
            w, h = FORMATS["9x16"]
            c = child(MOVIEPY, str(PHOTO), str(w), str(h), str(SECONDS), f"{folder}/c.mp4")
            rows["9x16"]["moviepy_cpu"] = c[1]
            rows["9x16"]["moviepy_over_skureel_cpu"] = c[1] / rows["9x16"]["skureel_cpu"]
    print(f"baseline: PyAV/libx264 veryfast crf 20 ({X264_PARAMS}, frame threads) fed the clip's own {int(SECONDS * 30)} RGB frames;"
          f" medians of {ROUNDS} alternating rounds, CPU = user + sys of each child")
    for fmt, row in rows.items():
        line = (f"{fmt:5}: per clip (after imports) x264 fed RGB {row['x264_work_cpu']:.2f} cpu-s, skureel full clip "
                f"{row['skureel_work_cpu']:.2f} cpu-s = {row['work_cpu_ratio']:.2f}x (aim <= 1.25) | whole process "
                f"{row['x264_cpu']:.2f} vs {row['skureel_cpu']:.2f} cpu-s = {row['cpu_ratio']:.2f}x (aim <= 1.25), wall "
                f"{row['wall_ratio']:.2f}x | peak RSS {row['skureel_peak_rss_mb']:.0f} MB (aim < 400)")
        if "moviepy_cpu" in row:
            line += f" | MoviePy push-in {row['moviepy_cpu']:.2f} cpu-s = {row['moviepy_over_skureel_cpu']:.1f}x skureel (aim >= 6)"
        print(line)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
