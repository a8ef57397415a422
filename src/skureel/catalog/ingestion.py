"""Catalog ingest: detect the feed format, read it, group variants, normalise into Products (exported by the
package, skureel.catalog)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from skureel.catalog.columns import aliases_for, all_known, remap_table
from skureel.catalog.common import Collector, gc_paused
from skureel.catalog.feeds import read_feed, xml_table
from skureel.catalog.native import read_native
from skureel.catalog.reading import HeaderScorer, Table, check_file, locate_header, read_delimited, read_xlsx
from skureel.catalog.shopify import read_shopify
from skureel.catalog.woo import read_woo
from skureel.domain import IngestReport, UnusableInput

FeedFormat = Literal["native", "shopify", "gmc", "meta", "woocommerce"]
FORMATS: tuple[str, ...] = ("native", "shopify", "gmc", "meta", "woocommerce")
_META_ONLY = {"fbproductcategory", "video0url", "producttags0", "richtextdescription", "image0url",
              "quantitytosellonfacebook", "style0", "additionalvariantattribute"}

__all__ = ["FORMATS", "detect_format", "ingest", "load_table"]


def detect_format(table: Table) -> str:
    names = set(table.index)
    if ("handle" in names or "urlhandle" in names) and "title" in names and (
        names & {"variantsku", "variantprice", "bodyhtml", "imagesrc", "productimageurl", "sku", "price"}
    ):
        return "shopify"
    if (names & {"type", "тип"}) and (names & {"parent", "родительский", "regularprice", "базоваяцена", "опубликован", "published"}):
        return "woocommerce"
    if "id" in names and "title" in names and names & _META_ONLY:
        return "meta"
    if "id" in names and "title" in names and names & {"imagelink", "itemgroupid", "gtin", "googleproductcategory"}:
        return "gmc"
    return "native"


def load_table(path: Path, sheet: str | None = None) -> tuple[Table, bool]:
    """Returns the table and whether it came from XML."""
    scorer = HeaderScorer(all_known())
    suffix = path.suffix.casefold()
    head = check_file(path)
    if suffix in {".xlsx", ".xlsm"} or (head.startswith(b"PK") and suffix not in {".csv", ".tsv", ".txt", ".xml"}):
        return read_xlsx(path, sheet, scorer), False
    if suffix in {".xml", ".rss", ".atom"} or head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        return xml_table(path), True
    if suffix == ".xls":
        raise UnusableInput(f"{path}: legacy .xls workbooks are not read; save it as .xlsx")
    with gc_paused():  # csv rows are plain lists of strings; workbooks and XML trees keep the collector
        rows = read_delimited(path)
        try:
            return locate_header(rows, scorer), False
        except UnusableInput as exc:
            raise UnusableInput(f"{path}: {exc}; expected a catalog header such as 'sku, title, price, image'") from exc


def ingest(
    path: str | Path,
    *,
    feed_format: str | None = None,
    sheet: str | None = None,
    include_inactive: bool = False,
    image_roots: Sequence[str] | None = None,
    remap: dict[str, str] | None = None,
) -> IngestReport:
    """Read any supported catalog file. Raises UnusableInput when the file as a whole is unusable.

    Local image paths must stay inside the catalog's folder or `image_roots` (default: SKUREEL_IMAGE_ROOTS).
    `remap` assigns columns to the detected format's fields by hand (field -> column header, "" for none).
    """
    file = Path(path)
    if image_roots is None:
        from skureel.settings import load_settings

        image_roots = load_settings().image_roots
    if feed_format is not None and feed_format not in FORMATS:
        raise UnusableInput(f"unknown format {feed_format!r}; choose one of {', '.join(FORMATS)}")
    table, from_xml = load_table(file, sheet)
    detected = feed_format or ("gmc" if from_xml else detect_format(table))
    if remap:
        table = remap_table(table, remap, aliases_for(detected))
    out = Collector(file=str(file), format=detected, include_inactive=include_inactive, sheet=table.sheet,
                    image_roots=tuple(image_roots))
    out.report.rows_read = len(table.rows)
    base_dir = str(file.resolve().parent)
    with gc_paused():  # the readers only build values (see gc_paused); parsing the file itself keeps the collector
        if detected == "shopify":
            read_shopify(table, out, base_dir)
        elif detected in ("gmc", "meta"):
            read_feed(table, out, base_dir, meta=detected == "meta", from_xml=from_xml)
        elif detected == "woocommerce":
            read_woo(table, out, base_dir)
        else:
            read_native(table, out, base_dir)
    if not out.report.products and not out.report.issues and not out.report.skipped:
        raise UnusableInput(f"{file}: header found but no product rows under it")
    return out.report
