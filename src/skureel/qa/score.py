"""Scoring one clip against the SKU's photo: every measure over the sampled frames, with a sentence when it fails."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from skureel.qa.appearance import dominant, mean_lightness, mired, palette_distance, to_lab
from skureel.qa.frames import Decoded, decode
from skureel.qa.locate import Location, locate, warp_to_reference
from skureel.qa.reference import Reference
from skureel.qa.report import Measure, QaReport
from skureel.qa.text import cer, ocr_available, read_text
from skureel.qa.thresholds import Thresholds


def _at(t: float) -> str:
    return f"{t:.1f} s".replace(".0 s", " s")


def _identity(clip: Decoded, found: list[Location], limits: Thresholds) -> Measure:
    lim = limits.identity
    hits = [loc.found for loc in found]
    share = sum(hits) / len(hits)
    errors = [loc.reprojection_px for loc in found if loc.found and loc.reprojection_px is not None]
    ratios = [loc.inlier_ratio for loc in found if loc.method == "features"]
    error = float(np.median(errors)) if errors else None
    detail: dict[str, float | int | str | None] = {
        "found_frames": sum(hits), "frames": len(hits), "median_inlier_ratio": round(float(np.median(ratios)), 3)
        if ratios else None, "median_reprojection_px": round(error, 2) if error is not None else None,
        "by_features": sum(loc.found and loc.method == "features" for loc in found),
        "by_silhouette": sum(loc.found and loc.method == "silhouette" for loc in found)}
    threshold = f"found in ≥ {lim.min_present:.0%} of frames, reprojection ≤ {lim.max_reprojection_px:g} px"
    measure = Measure(name="identity", passed=True, value=round(share, 3), threshold=threshold, detail=detail,
                      sentence=f"the photo's product is found in {sum(hits)} of {len(hits)} frames")
    if lim.min_present <= 0:
        measure.sentence += " (not required for this kind of shot)"
    elif share < lim.min_present:
        measure.passed = False
        if sum(hits[: max(1, len(hits) // 3)]) == 0:
            measure.sentence = (f"the clip shows a different product from the photo (found in only {sum(hits)} of "
                                f"{len(hits)} frames)")
        else:
            lost = next(s.t for s, hit in zip(clip.samples, hits, strict=True) if not hit)
            measure.sentence = (f"the product changed or left the frame after {_at(lost)} (found in {sum(hits)} of "
                                f"{len(hits)} frames)")
    elif error is not None and error > lim.max_reprojection_px:
        measure.passed = False
        measure.sentence = f"the product's shape wobbles: its features fit the photo only within {error:.1f} px"
    return measure


def _colour(clip: Decoded, ref: Reference, found: list[Location], limits: Thresholds) -> Measure:
    lim = limits.colour
    threshold = f"median ΔE ≤ {lim.max_median_de:g}, p95 ΔE ≤ {lim.max_p95_de:g} (CIEDE2000)"
    core = ref.core if ref.core.any() else ref.mask > 0
    distances: list[tuple[float, float]] = []
    for sample, loc in zip(clip.samples, found, strict=True):
        if loc.found and loc.homography is not None:
            region = to_lab(warp_to_reference(sample.rgb, ref, loc.homography))[core]
        elif lim.centre_fallback:  # a close-up: the product fills the frame, so its centre is the product
            h, w = sample.rgb.shape[:2]
            region = to_lab(sample.rgb[h // 4: 3 * h // 4, w // 4: 3 * w // 4])
        else:
            continue
        distances.append((sample.t, palette_distance(ref.palette, dominant(region, lim.clusters))))
    if not distances:
        return Measure(name="colour", passed=None, threshold=threshold,
                       sentence="not measured: the product was not found in any frame")
    values = np.array([d for _, d in distances])
    median, p95 = float(np.median(values)), float(np.percentile(values, 95))
    measure = Measure(name="colour", passed=True, value=round(median, 2), threshold=threshold,
                      detail={"median_de": round(median, 2), "p95_de": round(p95, 2), "frames": len(values)},
                      sentence=f"colour within ΔE {median:.1f} of the photo")
    if median > lim.max_median_de:
        measure.passed = False
        measure.sentence = f"colour shifted ΔE {median:.0f} from the photo"
    elif p95 > lim.max_p95_de:
        worst = next(t for t, d in distances if d > lim.max_p95_de)
        measure.passed = False
        measure.sentence = f"colour shifted ΔE {p95:.0f} from the photo after {_at(worst)}"
    return measure


def _text(clip: Decoded, ref: Reference, found: list[Location], limits: Thresholds) -> Measure:
    lim = limits.text
    threshold = f"character error rate ≤ {lim.max_cer:.0%} in every frame read (confirmed on the next sample)"
    if not ocr_available():
        return Measure(name="text", passed=None, threshold=threshold,
                       sentence="not measured: tesseract-ocr is not installed")
    if len(ref.text) < lim.min_chars:
        return Measure(name="text", passed=None, threshold=threshold, sentence="not measured: the photo carries no label text")
    usable = [(s, loc) for s, loc in zip(clip.samples, found, strict=True) if loc.found and loc.homography is not None]
    if not usable:
        return Measure(name="text", passed=False, threshold=threshold, value=1.0,
                       sentence="the label text could not be read: the product was not found")
    picks = sorted({round(i) for i in np.linspace(0, len(usable) - 1, min(lim.max_frames, len(usable)))})
    # generous: a silhouette fit is only as precise as its search grid, and a clipped letter reads as a changed one
    region = cv2.dilate(ref.mask, np.ones((31, 31), np.uint8)) > 0
    cache: dict[int, tuple[float, float, str]] = {}

    def read_at(i: int) -> tuple[float, float, str]:
        if i not in cache:
            sample, loc = usable[i]
            assert loc.homography is not None
            read = read_text(warp_to_reference(sample.rgb, ref, loc.homography), region,
                             min_height=lim.min_letter_height)
            cache[i] = (sample.t, cer(ref.text, read), read)
        return cache[i]

    reads = [read_at(i) for i in picks]
    # OCR misses a word in a single compressed frame now and then (keyframes at a high CRF): a changed label is one
    # that the next sampled frame (the previous one, at the end) reads wrong too, so one bad read is confirmed first
    confirmed: list[tuple[float, float, str]] = []
    for i in picks:
        t, error, read = read_at(i)
        if error > lim.max_cer:
            other = i + 1 if i + 1 < len(usable) else i - 1
            if other < 0 or read_at(other)[1] > lim.max_cer:
                confirmed.append((t, error, read or (read_at(other)[2] if other >= 0 else "")))
    kept = confirmed or [r for r in reads if r[1] <= lim.max_cer]  # a read the next sample overruled is not a value
    worst = max((r[1] for r in kept), default=0.0)
    measure = Measure(name="text", passed=True, value=round(worst, 3), threshold=threshold,
                      detail={"photo_text": ref.text[:80], "frames_read": len(cache)},
                      sentence=f"the label reads {ref.text[:40]!r} throughout")
    if confirmed:
        t, _, read = confirmed[0]
        measure.passed = False
        seen = f"read {read[:30]!r} instead of {ref.text[:30]!r}" if read else "unreadable"
        when = "from the start" if t <= clip.samples[0].t + 1e-6 else f"after {_at(t)}"
        measure.sentence = f"the label text changed {when} ({seen})"
    return measure


def _series(ts: list[float], values: list[float]) -> tuple[float, float, float]:
    """(change from the first to the last quarter, range, slope per second) of a series, NaNs left out.

    The change, not the range, is held to the threshold: a light sweep that crosses the product and leaves is a
    look; light that ends somewhere else than it started is drift."""
    pairs = [(t, v) for t, v in zip(ts, values, strict=True) if np.isfinite(v)]
    if len(pairs) < 2:
        return 0.0, 0.0, 0.0
    t_arr, v_arr = np.array(pairs).T
    slope = float(np.polyfit(t_arr, v_arr, 1)[0]) if np.ptp(t_arr) > 0 else 0.0
    quarter = max(1, len(v_arr) // 4)
    change = float(v_arr[-quarter:].mean() - v_arr[:quarter].mean())
    return change, float(np.ptp(v_arr)), slope


def _drift(clip: Decoded, ref: Reference, found: list[Location], limits: Thresholds) -> Measure:
    lim = limits.drift
    ts = [s.t for s in clip.samples]
    # the light's colour is read as colour temperature on the background (near neutral), and as the mean b* (blue to
    # yellow, where a white-balance shift moves) on the product: a saturated product has no meaningful CCT
    series: dict[str, list[float]] = {"background_L": [], "background_mired": [], "product_L": [], "product_b": []}
    for sample, loc in zip(clip.samples, found, strict=True):
        frame = sample.rgb
        inside = np.zeros(frame.shape[:2], bool)
        if loc.found and loc.homography is not None:
            h, w = frame.shape[:2]
            warped = cv2.warpPerspective(ref.mask, loc.homography, (w, h), flags=cv2.INTER_NEAREST)
            inside = warped > 127
            product = frame[inside]
        else:
            product = np.zeros((0, 3), np.uint8)
        around = cv2.dilate(inside.astype(np.uint8), np.ones((15, 15), np.uint8)) == 0
        background = frame[around][::7]
        series["background_L"].append(mean_lightness(to_lab(background)) if background.size else float("nan"))
        series["background_mired"].append(mired(background))
        series["product_L"].append(mean_lightness(to_lab(product[::5])) if product.size else float("nan"))
        series["product_b"].append(float(to_lab(product[::5])[..., 2].mean()) if product.size else float("nan"))
    detail: dict[str, float | int | str | None] = {}
    problems: list[str] = []
    for name, values in series.items():
        change, spread, slope = _series(ts, values)
        detail[f"{name}_change"], detail[f"{name}_range"] = round(change, 2), round(spread, 2)
        detail[f"{name}_slope"] = round(slope, 2)
        where, size = name.split("_")[0], abs(change)
        if name.endswith("_L") and (size > lim.max_luminance_change or abs(slope) > lim.max_luminance_slope):
            way = "brighter" if change > 0 else "darker"
            problems.append(f"the {where} got {way} by {size:.0f} L* over the clip")
        if name.endswith("_mired") and (size > lim.max_mired_change or abs(slope) > lim.max_mired_slope):
            finite = [v for v in values if np.isfinite(v)]
            way = "warmer" if change > 0 else "cooler"  # more mired = lower kelvin = warmer light
            problems.append(f"the light on the {where} turned {way} by {size:.0f} mired "
                            f"({1e6 / finite[0]:.0f} K → {1e6 / finite[-1]:.0f} K)")
        if name.endswith("_b") and (size > lim.max_warmth_change or abs(slope) > lim.max_warmth_slope):
            way = "warmer (yellower)" if change > 0 else "cooler (bluer)"
            problems.append(f"the {where} turned {way} by {size:.0f} b* over the clip")
    threshold = (f"L* change ≤ {lim.max_luminance_change:g}, slope ≤ {lim.max_luminance_slope:g}/s; colour "
                 f"temperature change ≤ {lim.max_mired_change:g} mired, slope ≤ {lim.max_mired_slope:g}/s; "
                 f"product b* change ≤ {lim.max_warmth_change:g}")
    worst = max(abs(float(detail["background_L_change"] or 0.0)) / lim.max_luminance_change,
                abs(float(detail["background_mired_change"] or 0.0)) / lim.max_mired_change,
                abs(float(detail["product_L_change"] or 0.0)) / lim.max_luminance_change,
                abs(float(detail["product_b_change"] or 0.0)) / lim.max_warmth_change)
    return Measure(name="drift", passed=not problems, value=round(worst, 3), threshold=threshold, detail=detail,
                   sentence="; ".join(problems[:2]) if problems else "lighting steady")


def _flicker(clip: Decoded, limits: Thresholds) -> Measure:
    luma = clip.luma
    threshold = f"p95 jump ≤ {limits.flicker.max_jump_p95:g} luma levels"
    if len(luma) < 3:
        return Measure(name="flicker", passed=None, threshold=threshold, sentence="not measured: too few frames")
    jumps = np.abs(luma[1:-1] - (luma[:-2] + luma[2:]) / 2.0)
    p95 = float(np.percentile(jumps, 95))
    measure = Measure(name="flicker", passed=p95 <= limits.flicker.max_jump_p95, value=round(p95, 2),
                      threshold=threshold, detail={"max_jump": round(float(jumps.max()), 2)},
                      sentence="no flicker")
    if not measure.passed:
        first = int(np.argmax(jumps > limits.flicker.max_jump_p95)) + 1
        measure.sentence = (f"the brightness flickers from frame to frame (jumps of {p95:.0f} luma levels, "
                            f"from {_at(first / clip.fps)})")
    return measure


def _runs(clip: Decoded, limits: Thresholds) -> list[Measure]:
    black, frozen = limits.black.max_seconds, limits.frozen.max_seconds
    return [
        Measure(name="black", passed=clip.longest_black_s <= black, value=round(clip.longest_black_s, 2),
                threshold=f"≤ {black:g} s", sentence=f"{clip.longest_black_s:.1f} s of black frames"
                if clip.longest_black_s > black else "no black frames"),
        Measure(name="frozen", passed=clip.longest_frozen_s <= frozen, value=round(clip.longest_frozen_s, 2),
                threshold=f"≤ {frozen:g} s", sentence=f"the picture freezes for {clip.longest_frozen_s:.1f} s"
                if clip.longest_frozen_s > frozen else "keeps moving"),
    ]


def _face(clip: Decoded, ref: Reference, limits: Thresholds) -> Measure:
    from skureel.qa.face import count_faces

    threshold = f"a face in ≥ {limits.face.min_present:.0%} of frames"
    if not ref.has_face:
        return Measure(name="face", passed=None, threshold=threshold,
                       sentence="not measured: no face is detectable on the presenter photo")
    hits = [count_faces(s.rgb) > 0 for s in clip.samples]
    share = sum(hits) / len(hits)
    measure = Measure(name="face", passed=share >= limits.face.min_present, value=round(share, 3), threshold=threshold,
                      detail={"frames_with_face": sum(hits), "frames": len(hits)},
                      sentence=f"a face in {sum(hits)} of {len(hits)} frames")
    if not measure.passed:
        missing = next(s.t for s, hit in zip(clip.samples, hits, strict=True) if not hit)
        measure.sentence = f"no face in {len(hits) - sum(hits)} of {len(hits)} frames (first at {_at(missing)})"
    return measure


def score_decoded(clip: Decoded, ref: Reference, limits: Thresholds, *, avatar: bool = False) -> QaReport:
    started = time.perf_counter()
    report = QaReport(clip=clip.path, reference=ref.source, duration_s=round(clip.duration_s, 3),
                      frames_sampled=len(clip.samples))
    if avatar:  # the subject is the presenter: it must stay a face; the packshot measures do not apply
        skipped = "not measured: an avatar clip shows the presenter, not the packshot"
        report.measures = [Measure(name=n, passed=None, sentence=skipped) for n in ("identity", "colour", "text")]
        found = [Location(found=False, method="none") for _ in clip.samples]
        report.measures += [_drift(clip, ref, found, limits), _flicker(clip, limits), *_runs(clip, limits),
                            _face(clip, ref, limits)]
    else:
        found = [locate(ref, s.rgb, limits.identity) for s in clip.samples]
        report.measures = [_identity(clip, found, limits), _colour(clip, ref, found, limits),
                           _text(clip, ref, found, limits), _drift(clip, ref, found, limits),
                           _flicker(clip, limits), *_runs(clip, limits)]
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def score_clip(path: Path, ref: Reference, limits: Thresholds, *, avatar: bool = False,
               until_s: float | None = None) -> QaReport:
    """Decode the clip once and run every measure; raises UnusableClip when it is not a video at all."""
    started = time.perf_counter()
    clip = decode(path, every_s=limits.sampling.every_s, max_short_side=limits.sampling.max_short_side, until_s=until_s)
    report = score_decoded(clip, ref, limits, avatar=avatar)
    report.seconds = round(time.perf_counter() - started, 3)
    return report
