"""Shared helpers for the per-format readers."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

from skureel.catalog.values import PriceError, parse_money
from skureel.domain import IngestReport, Money, Product, RowIssue

INACTIVE = {"draft", "archived", "inactive", "disabled", "deleted", "discontinued", "hidden", "private", "pending"}


@dataclass
class Collector:
    """Accumulates products, issues and skip counts while a reader walks its rows."""

    file: str
    format: str
    include_inactive: bool = False
    sheet: str | None = None
    image_roots: tuple[str, ...] = ()  # folders besides the catalog's own that local image paths may name
    report: IngestReport = field(init=False)

    def __post_init__(self) -> None:
        self.report = IngestReport(file=self.file, format=self.format, sheet=self.sheet)

    def issue(self, row: int | None, column: str | None, sku: str | None, reason: str, severity: str = "error") -> None:
        self.report.issues.append(
            RowIssue(file=self.file, row=row, column=column, sku=sku or None, reason=reason, severity=severity)
        )

    def money(self, text: str, row: int, column: str | None, sku: str, currency: str | None = None) -> tuple[Money | None, bool]:
        """Returns (money, ok); a bad price is reported against its cell."""
        try:
            return parse_money(text, currency), True
        except PriceError as exc:
            self.issue(row, column, sku, f"{exc}")
            return None, False

    def skip(self, reason: str) -> None:
        self.report.skipped[reason] = self.report.skipped.get(reason, 0) + 1

    def add(self, product: Product) -> None:
        if product.status != "active" and not self.include_inactive:
            self.skip(product.status)
            return
        kept: list[str] = []
        for ref in product.images:
            confined, problem = confine_image(ref, product.base_dir, self.image_roots)
            if problem:
                self.issue(product.source_row, "image", product.sku, f"{ref[:120]}: {problem}")
            elif confined not in kept:
                kept.append(confined)
        product.images = kept
        presenter = product.video.presenter_image
        if presenter:
            confined, problem = confine_image(presenter, product.base_dir, self.image_roots)
            if problem:
                self.issue(product.source_row, "presenter", product.sku, f"{presenter[:120]}: {problem}")
            product.video.presenter_image = confined or None
        if not product.images:
            self.issue(product.source_row, None, product.sku,
                       "no image: it can get an avatar or text-only shot, not image-to-video", "warning")
        self.report.products.append(product)
        self.report.variant_count += max(1, len(product.variants))


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a reader builds its values: 50,000 variants would trigger it hundreds of
    times (half of the ingest time) and free nothing, since rows, products and variants hold no reference cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def normal_status(value: str) -> str:
    text = value.strip().casefold()
    if text in {"archived", "archive", "discontinued", "deleted"}:
        return "archived"
    if text in INACTIVE or text in {"false", "0", "-1", "no", "unpublished"}:
        return "draft"
    return "active"


def normal_availability(value: str) -> str | None:
    text = value.strip().casefold().replace(" ", "_")
    return text or None


def confine_image(ref: str, base_dir: str, roots: tuple[str, ...] = ()) -> tuple[str, str | None]:
    """An image reference as the loader may use it, or a plain reason why not.

    Web links stay links (fetched later under the SSRF rules). Local paths, `file://` links included, resolve
    against the catalog's folder and must stay inside it or inside one of `roots` (SKUREEL_IMAGE_ROOTS).
    """
    text = ref.strip()
    if text.startswith("//"):
        return "https:" + text, None
    if text[:8].casefold().startswith(("https://", "http://")):  # most refs: what urlparse would say, without it
        return text, None
    scheme = urlparse(text).scheme.casefold()
    if scheme in ("http", "https"):
        return text, None
    if scheme == "file":
        text = unquote(urlparse(text).path)
    elif scheme and len(scheme) > 1:  # "c:" of a Windows path is not a scheme
        return "", f"links starting with {scheme}: are not read; use https:// or a file beside the catalog"
    if "\x00" in text:
        return "", "the image path contains a NUL character"
    text = text.replace("\\", "/")  # Windows-style separators from spreadsheets made on Windows
    if len(text) > 1 and text[1] == ":" and text[0].isalpha():
        return "", "image path is outside the catalog's folder (an absolute Windows path)"
    if not base_dir and not roots:
        return text, None
    base = Path(base_dir or ".").resolve()
    candidate = Path(text)
    try:
        resolved = (candidate if candidate.is_absolute() else base / candidate).resolve()
    except (OSError, RuntimeError, ValueError):
        return "", "the image path cannot be resolved"
    allowed = [base, *(Path(r).resolve() for r in roots if r)]
    if not any(resolved == root or resolved.is_relative_to(root) for root in allowed):
        return "", "image path is outside the catalog's folder (allow more folders with SKUREEL_IMAGE_ROOTS)"
    return str(resolved), None
