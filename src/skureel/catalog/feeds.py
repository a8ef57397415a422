"""Google Merchant Center (TSV/CSV/RSS XML) and Meta catalog feeds: one row per variant."""

from __future__ import annotations

import re
from pathlib import Path

from skureel.catalog.columns import GMC, Columns
from skureel.catalog.common import Collector, normal_availability, normal_status
from skureel.catalog.reading import Table, check_file
from skureel.catalog.values import split_list, strip_html, unguard
from skureel.domain import Product, UnusableInput, Variant

XML_JOIN = "\x1f"  # repeated XML elements are joined with a separator no URL contains
_META_IMAGE = re.compile(r"^image\d+url$")


def read_feed(table: Table, out: Collector, base_dir: str, *, meta: bool, from_xml: bool = False) -> None:
    cols = Columns(table, GMC)
    if not cols.has("id"):
        raise UnusableInput(f"{out.file}: feed has no 'id' column")
    image_columns = cols.positions_matching(_META_IMAGE) if meta else []
    separators = XML_JOIN if from_xml else (",;| " if meta else ",")
    products: dict[str, Product] = {}
    for row, number in zip(table.rows, table.row_numbers, strict=True):
        item_id = unguard(cols.get(row, "id"))
        if not item_id:
            out.issue(number, cols.column_name("id") or "id", None, "item without an id")
            continue
        title = cols.get(row, "title").strip()
        if not title:
            out.issue(number, cols.column_name("title") or "title", item_id, "item without a title")
            continue
        price, ok_price = out.money(cols.get(row, "price"), number, cols.column_name("price"), item_id)
        sale, ok_sale = out.money(cols.get(row, "sale_price"), number, cols.column_name("sale_price"), item_id)
        if not (ok_price and ok_sale):
            continue
        images = [cols.get(row, "image")] if cols.get(row, "image") else []
        images += [row[p].strip() for p in image_columns if row[p].strip() and row[p].strip() not in images]
        images += [i for i in split_list(cols.get(row, "extra_images"), separators) if i not in images]
        variant = Variant(sku=item_id, title=title, price=price, sale_price=sale, color=cols.get(row, "color") or None,
                          size=cols.get(row, "size") or None, material=cols.get(row, "material") or None,
                          gtin=cols.get(row, "gtin") or None, image=images[0] if images else None,
                          availability=normal_availability(cols.get(row, "availability")), row=number)
        group = cols.get(row, "group") or item_id
        product = products.get(group)
        if product is not None:
            product.variants.append(variant)
            product.images.extend(i for i in images if i not in product.images)
            continue
        availability = normal_availability(cols.get(row, "availability"))
        status = normal_status(cols.get(row, "status")) if cols.get(row, "status") else "active"
        if availability == "discontinued":
            status = "archived"
        description = strip_html(cols.get(row, "description"))
        highlight = strip_html(cols.get(row, "highlight"))
        products[group] = Product(
            key=group, sku=item_id, title=title, description="\n".join(x for x in (description, highlight) if x),
            brand=cols.get(row, "brand") or None, google_category=cols.get(row, "google_category") or None,
            category=cols.get(row, "product_type") or cols.get(row, "google_category") or None,
            product_type=cols.get(row, "product_type") or None, material=variant.material, color=variant.color,
            pattern=cols.get(row, "pattern") or None, size=variant.size, gender=cols.get(row, "gender") or None,
            age_group=cols.get(row, "age_group") or None, price=price, sale_price=sale, availability=availability,
            status=status,
            images=images, link=cols.get(row, "link") or None, variants=[variant],
            source_format="meta" if meta else "gmc", source_file=out.file, source_row=number, base_dir=base_dir,
        )
        products[group].video.campaign = cols.get(row, "campaign") or None
    for product in products.values():
        sizes = [v.size for v in product.variants if v.size]
        if len(set(sizes)) > 1:
            product.size = ", ".join(dict.fromkeys(sizes))
        out.add(product)


def xml_table(path: Path) -> Table:
    """RSS 2.0 (channel/item) or Atom (feed/entry) with the g: namespace, parsed with defusedxml."""
    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    check_file(path)
    try:
        root = ElementTree.parse(str(path)).getroot()
    except ElementTree.ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        hint = " (an '&' in a URL must be written as &amp;)" if "not well-formed" in str(exc) else ""
        raise UnusableInput(
            f"{path}: malformed XML at line {line}, column {column}: {str(exc).split(':')[0]}{hint}; no item was read"
        ) from exc
    except DefusedXmlException as exc:
        raise UnusableInput(f"{path}: refused unsafe XML ({type(exc).__name__})") from exc

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    items = [el for el in root.iter() if local(el.tag) in ("item", "entry")]
    if not items:
        raise UnusableInput(f"{path}: XML has no <item> or <entry> elements; is it a product feed?")
    records: list[dict[str, str]] = []
    header: list[str] = []
    for item in items:
        record: dict[str, str] = {}
        for child in item:
            name = local(child.tag)
            text = (child.text or "").strip()
            if name == "link" and not text:
                text = child.get("href", "")
            if name in record and text:
                record[name] += XML_JOIN + text
            elif text:
                record[name] = text
            if name not in header:
                header.append(name)
        records.append(record)
    rows = [[rec.get(h, "") for h in header] for rec in records]
    return Table(header=header, rows=rows, row_numbers=list(range(1, len(rows) + 1)))
