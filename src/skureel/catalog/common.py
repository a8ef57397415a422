"""Shared helpers for the per-format readers."""

from __future__ import annotations

from dataclasses import dataclass, field

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
        if not product.images:
            self.issue(product.source_row, None, product.sku,
                       "no image: it can get an avatar or text-only shot, not image-to-video", "warning")
        self.report.products.append(product)
        self.report.variant_count += max(1, len(product.variants))


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
