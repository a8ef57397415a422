"""Catalog values: what ingest produces and what planning reads."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["error", "warning"]


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount: Decimal
    currency: str | None = None

    def display(self) -> str:
        symbols = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥"}
        cur = self.currency or ""
        if self.amount == self.amount.to_integral_value() and self.amount >= 1000:
            text = f"{int(self.amount):,}"
        else:
            text = f"{self.amount:,.2f}"
        if cur in symbols:
            return f"{symbols[cur]}{text}"
        return f"{text} {cur}".strip()


class VideoRequest(BaseModel):
    """Optional per-row video columns of the native marketing sheet."""

    video_type: Literal["product", "avatar"] = "product"
    shots: list[str] = Field(default_factory=list)
    script: str | None = None
    scripts: dict[str, str] = Field(default_factory=dict)  # language -> script (script_de, ...)
    duration_s: float | None = None
    camera: str | None = None
    lighting: str | None = None
    lens: str | None = None
    mood: str | None = None
    audio: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    formats: list[str] = Field(default_factory=list)
    campaign: str | None = None
    provider: str | None = None
    presenter_image: str | None = None


class Variant(BaseModel):
    sku: str
    title: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    price: Money | None = None
    sale_price: Money | None = None
    color: str | None = None
    size: str | None = None
    material: str | None = None
    gtin: str | None = None
    image: str | None = None
    availability: str | None = None
    row: int | None = None


class Product(BaseModel):
    """One product (variants grouped under it), normalised from any feed format."""

    key: str
    sku: str
    title: str
    description: str = ""
    brand: str | None = None
    category: str | None = None
    product_type: str | None = None
    google_category: str | None = None
    material: str | None = None
    color: str | None = None
    pattern: str | None = None
    size: str | None = None
    gender: str | None = None
    age_group: str | None = None
    price: Money | None = None
    sale_price: Money | None = None
    availability: str | None = None
    status: Literal["active", "draft", "archived"] = "active"
    images: list[str] = Field(default_factory=list)
    link: str | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    variants: list[Variant] = Field(default_factory=list)
    video: VideoRequest = Field(default_factory=VideoRequest)
    source_format: str = "native"
    source_file: str = ""
    source_row: int = 0
    base_dir: str = ""

    def resolve_image(self, ref: str) -> str:
        """Local image paths are relative to the catalog file."""
        if "://" in ref or ref.startswith("//"):
            return "https:" + ref if ref.startswith("//") else ref
        path = Path(ref)
        if not path.is_absolute() and self.base_dir:
            path = Path(self.base_dir) / path
        return str(path)


class RowIssue(BaseModel):
    file: str
    row: int | None = None  # as a spreadsheet user counts it (header row included)
    column: str | None = None
    sku: str | None = None
    reason: str
    severity: Severity = "error"

    def line(self) -> str:
        where = Path(self.file).name
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        sku = f" [{self.sku}]" if self.sku else ""
        return f"{where}{sku}: {self.reason}"


class IngestReport(BaseModel):
    file: str
    format: str
    sheet: str | None = None
    products: list[Product] = Field(default_factory=list)
    variant_count: int = 0
    rows_read: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)  # reason -> count (draft, archived, ...)
    issues: list[RowIssue] = Field(default_factory=list)

    @property
    def errors(self) -> list[RowIssue]:
        return [i for i in self.issues if i.severity == "error"]

    def summary(self) -> dict[str, object]:
        return {
            "file": self.file,
            "format": self.format,
            "sheet": self.sheet,
            "products": len(self.products),
            "variants": self.variant_count,
            "skipped": sum(self.skipped.values()),
            "skipped_by_reason": self.skipped,
            "errors": [i.model_dump() for i in self.errors],
            "warnings": [i.model_dump() for i in self.issues if i.severity == "warning"],
        }


class ImageAsset(BaseModel):
    """A decoded, validated image in the content-addressed cache."""

    source: str
    path: str  # normalised RGBA PNG in the cache
    sha256: str  # of the source bytes
    fingerprint: str  # of the decoded pixels' size+mode+bytes digest
    width: int
    height: int
    original_format: str
    has_alpha: bool
