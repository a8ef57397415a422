"""Finding the photo's product in a frame: ORB features + a RANSAC homography, verified by warping the frame back
onto the photo; for plain photos with few features, the silhouette by multi-scale template matching."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from skureel.qa.reference import Reference, orb
from skureel.qa.thresholds import Identity


@dataclass
class Location:
    found: bool
    method: str  # features | silhouette | none
    homography: np.ndarray | None = None  # photo (reference) pixels -> frame pixels
    inliers: int = 0
    inlier_ratio: float = 0.0
    reprojection_px: float | None = None
    correlation: float = 0.0


def _ncc(a: np.ndarray, b: np.ndarray, where: np.ndarray) -> float:
    x, y = a[where].astype(np.float64), b[where].astype(np.float64)
    x, y = x - x.mean(), y - y.mean()
    denominator = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum() / denominator) if denominator > 0 else 0.0


def _plausible(h: np.ndarray, ref: Reference, frame_shape: tuple[int, ...]) -> bool:
    """A camera move maps the product to a convex quad of sane size; random fits from wrong matches do not."""
    rh, rw = ref.gray.shape
    corners = np.array([[0, 0], [rw, 0], [rw, rh], [0, rh]], np.float32).reshape(-1, 1, 2)
    quad = cv2.perspectiveTransform(corners, h).reshape(-1, 2)
    if not np.isfinite(quad).all() or not cv2.isContourConvex(quad.astype(np.float32)):
        return False
    area = abs(cv2.contourArea(quad.astype(np.float32)))
    frame_area = frame_shape[0] * frame_shape[1]
    return 0.01 * frame_area < area < 4.0 * frame_area


def warp_to_reference(frame: np.ndarray, ref: Reference, h: np.ndarray) -> np.ndarray:
    rh, rw = ref.gray.shape
    return cv2.warpPerspective(frame, np.linalg.inv(h), (rw, rh), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


def _by_features(ref: Reference, gray: np.ndarray, limits: Identity) -> Location:
    if ref.descriptors is None or len(ref.points) < limits.min_inliers:
        return Location(found=False, method="none")
    keypoints, descriptors = orb().detectAndCompute(gray, None)
    if descriptors is None or len(keypoints) < limits.min_inliers:
        return Location(found=False, method="none")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(ref.descriptors, descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.8 * p[1].distance]
    if len(good) < limits.min_inliers:
        return Location(found=False, method="none")
    src = np.array([ref.points[m.queryIdx] for m in good], np.float32).reshape(-1, 1, 2)
    dst = np.array([keypoints[m.trainIdx].pt for m in good], np.float32).reshape(-1, 1, 2)
    h, status = cv2.findHomography(src, dst, cv2.RANSAC, 4.0)
    if h is None or status is None or abs(np.linalg.det(h)) < 1e-9:
        return Location(found=False, method="none")
    inlier = status.ravel().astype(bool)
    count, ratio = int(inlier.sum()), float(inlier.mean())
    # reprojection error measured in photo pixels, so it does not depend on the clip's resolution
    back = cv2.perspectiveTransform(dst[inlier], np.linalg.inv(h))
    error = float(np.median(np.linalg.norm(back - src[inlier], axis=2))) if count else None
    location = Location(found=False, method="features", homography=h, inliers=count, inlier_ratio=ratio,
                        reprojection_px=error)
    if count < limits.min_inliers or ratio < limits.min_inlier_ratio or not _plausible(h, ref, gray.shape):
        return location
    location.correlation = _ncc(ref.gray, warp_to_reference(gray, ref, h), ref.mask > 0)
    location.found = location.correlation >= limits.min_warped_correlation
    return location


def _by_silhouette(ref: Reference, gray: np.ndarray, limits: Identity, side: int = 160) -> Location:
    """Best normalised correlation of the cut-out over scales (products stay upright under a camera move)."""
    scale = side / min(gray.shape)
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(np.float32)
    template = ref.gray.astype(np.float32)
    rh, rw = template.shape
    best, best_h, best_share = -1.0, None, 0.0

    def search(shares: np.ndarray) -> None:
        nonlocal best, best_h, best_share
        for share in shares:
            fit = share * min(small.shape) / max(rh, rw)
            tw, th = round(rw * fit), round(rh * fit)
            if tw < 12 or th < 12 or tw > small.shape[1] or th > small.shape[0]:
                continue
            result = cv2.matchTemplate(small, cv2.resize(template, (tw, th), interpolation=cv2.INTER_AREA),
                                       cv2.TM_CCOEFF_NORMED)
            _, score, _, (x, y) = cv2.minMaxLoc(result)
            if score > best:
                f = fit / scale
                best, best_share = float(score), float(share)
                best_h = np.array([[f, 0, x / scale], [0, f, y / scale], [0, 0, 1]], np.float64)

    search(np.geomspace(0.3, 1.6, 14))  # coarse, 13 % apart
    search(best_share * np.geomspace(0.92, 1.08, 7))  # then fine around the best: a push-in lands between steps
    found = best >= limits.min_silhouette_score
    return Location(found=found, method="silhouette", homography=best_h, correlation=best)


def locate(ref: Reference, rgb: np.ndarray, limits: Identity) -> Location:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    by_features = _by_features(ref, gray, limits)
    if by_features.found:
        return by_features
    # repeated patterns (dots, knits, logos printed twice) mislead feature matching, and plain packshots have few
    # features at all: then the silhouette decides, and the colour measure checks what it cannot see
    by_shape = _by_silhouette(ref, gray, limits)
    if by_shape.found:
        by_shape.inliers, by_shape.inlier_ratio = by_features.inliers, by_features.inlier_ratio
        by_shape.reprojection_px = None
    return by_shape
