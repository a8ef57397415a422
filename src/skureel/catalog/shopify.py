"""Shopify product exports, legacy and 2025 headers: variants by handle, image rows, metafields."""

from __future__ import annotations

import re
from typing import Any

from skureel.catalog.columns import SHOPIFY, Columns
from skureel.catalog.common import Collector, normal_status
from skureel.catalog.reading import Table
from skureel.catalog.values import split_list, strip_html, truthy, unguard
from skureel.domain import Product, Variant, VideoRequest

_OPTION_NAME = re.compile(r"^option(\d)name$")
_COLOR_WORDS = {"color", "colour", "farg", "färg", "farbe", "couleur", "colore", "màusắc", "kleur"}
_SIZE_WORDS = {"size", "storlek", "größe", "grosse", "taille", "taglia", "kíchthước", "maat"}
_MATERIAL_WORDS = {"material", "matériau", "materiau", "fabric", "stoff"}


def _options(table: Table) -> list[tuple[int, int]]:
    pairs = []
    for n in "123":
        name = table.index.get(f"option{n}name")
        value = table.index.get(f"option{n}value")
        if name is not None and value is not None:
            pairs.append((name, value))
    return pairs


class _Draft:
    """A product while its rows are read: plain values, so each Product is validated once, with all its fields."""

    __slots__ = ("fields", "images", "variants")

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.images: list[tuple[int, str]] = []
        self.variants: list[Variant] = []


def read_shopify(table: Table, out: Collector, base_dir: str) -> None:
    cols = Columns(table, SHOPIFY)
    option_cols = _options(table)
    drafts: dict[str, _Draft] = {}
    # hot loop over every variant row: resolve column positions (and the names reported with a bad cell) once
    pos_handle, pos_price, pos_sku = cols.first("handle"), cols.first("price"), cols.first("sku")
    pos_image, pos_vimage, pos_compare = cols.first("image"), cols.first("variant_image"), cols.first("compare_at")
    pos_barcode, pos_title = cols.first("barcode"), cols.first("title")
    price_column, compare_column = cols.column_name("price"), cols.column_name("compare_at")

    def cell(row: list[str], pos: int | None, name: str) -> str:
        return row[pos].strip() if pos is not None else cols.get(row, name)

    for row, number in zip(table.rows, table.row_numbers, strict=True):
        handle = cell(row, pos_handle, "handle")
        if not handle:
            out.issue(number, cols.column_name("handle"), None, "row without a handle; every row needs the product's handle")
            continue
        draft = drafts.get(handle)
        if draft is None:
            title = cell(row, pos_title, "title")
            if not title:
                out.issue(number, cols.column_name("title"), handle, "first row of a product has no title")
                continue
            draft = drafts[handle] = _Draft(_first_row(cols, row, number, handle, title, out.file, base_dir))
        image = cell(row, pos_image, "image")
        if image:
            pos_text = cols.get(row, "image_position")
            position = int(pos_text) if pos_text.isdigit() else 10_000 + len(draft.images)
            draft.images.append((position, image))
        options = {}
        for n, v in option_cols:
            option, value = row[n].strip(), row[v].strip()
            if option and value:
                options[option] = value
        if options.get("Title") == "Default Title":
            options = {}
        raw_price = cell(row, pos_price, "price")
        sku = unguard(cell(row, pos_sku, "sku"))
        if not (raw_price or sku or options):
            continue  # an image-only row
        price, ok_price = out.money(raw_price, number, price_column, sku or handle)
        compare, ok_compare = out.money(cell(row, pos_compare, "compare_at"), number, compare_column, sku or handle)
        if not (ok_price and ok_compare):
            continue
        sale = None
        if compare and price and compare.amount > price.amount:
            price, sale = compare, price  # compare-at is the original; the variant price is the sale
        named: dict[str, str] = {}
        for name, value in options.items():
            key = name.casefold()
            field = "color" if key in _COLOR_WORDS else "size" if key in _SIZE_WORDS else \
                "material" if key in _MATERIAL_WORDS else None
            if field:
                named[field] = value
        draft.variants.append(Variant(
            sku=sku or f"{handle}-{len(draft.variants) + 1}", options=options, price=price, sale_price=sale,
            gtin=unguard(cell(row, pos_barcode, "barcode")) or None, image=cell(row, pos_vimage, "variant_image") or None,
            row=number, **named))
    for handle, draft in drafts.items():
        out.add(_product(handle, draft))


def _first_row(cols: Columns, row: list[str], number: int, handle: str, title: str, file: str,
               base_dir: str) -> dict[str, Any]:
    """The product-level fields, read from a product's first row."""
    status_text = cols.get(row, "status")
    if status_text:
        status = normal_status(status_text)
    else:
        published = truthy(cols.get(row, "published"))
        status = "draft" if published is False else "active"
    return dict(
        key=handle, sku=handle, title=title,
        description=strip_html(cols.get(row, "body")) or strip_html(cols.get(row, "seo_description")),
        brand=cols.get(row, "vendor") or None, category=cols.get(row, "category") or None,
        product_type=cols.get(row, "type") or None, google_category=cols.get(row, "google_category") or None,
        gender=cols.get(row, "gender") or cols.meta(row, "gender") or None,
        age_group=cols.get(row, "age_group") or cols.meta(row, "age_group") or None,
        color=cols.meta(row, "color") or None, material=cols.meta(row, "material") or None,
        pattern=cols.meta(row, "pattern") or None, status=status, tags=split_list(cols.get(row, "tags"), ","),
        source_format="shopify", source_file=file, source_row=number, base_dir=base_dir,
        video=VideoRequest(campaign=cols.get(row, "campaign") or None),
    )


def _product(handle: str, draft: _Draft) -> Product:
    fields, variants = draft.fields, draft.variants
    ordered = [img for _, img in sorted(draft.images, key=lambda p: p[0])]
    for variant in variants:
        if variant.image and variant.image not in ordered:
            ordered.append(variant.image)
    fields["images"] = ordered
    if variants:
        first = variants[0]
        fields["price"], fields["sale_price"] = first.price, first.sale_price
        if first.sku and not first.sku.startswith(f"{handle}-"):
            fields["sku"] = first.sku
        fields["color"] = fields["color"] or next((v.color for v in variants if v.color), None)
        fields["material"] = fields["material"] or next((v.material for v in variants if v.material), None)
        sizes = [v.size for v in variants if v.size]
        fields["size"] = ", ".join(dict.fromkeys(sizes)) if sizes else None
    return Product(**fields, variants=variants)
