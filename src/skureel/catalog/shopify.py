"""Shopify product exports, legacy and 2025 headers: variants by handle, image rows, metafields."""

from __future__ import annotations

import re

from skureel.catalog.columns import SHOPIFY, Columns
from skureel.catalog.common import Collector, normal_status
from skureel.catalog.reading import Table
from skureel.catalog.values import split_list, strip_html, truthy, unguard
from skureel.domain import Product, Variant

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


def read_shopify(table: Table, out: Collector, base_dir: str) -> None:
    cols = Columns(table, SHOPIFY)
    option_cols = _options(table)
    products: dict[str, Product] = {}
    positions: dict[str, list[tuple[int, str]]] = {}
    # hot loop over every variant row: resolve column positions once
    pos_handle, pos_price, pos_sku = cols.first("handle"), cols.first("price"), cols.first("sku")
    pos_image, pos_vimage, pos_compare = cols.first("image"), cols.first("variant_image"), cols.first("compare_at")
    pos_barcode = cols.first("barcode")

    def cell(row: list[str], pos: int | None, name: str) -> str:
        return row[pos].strip() if pos is not None else cols.get(row, name)

    for row, number in zip(table.rows, table.row_numbers, strict=True):
        handle = cell(row, pos_handle, "handle")
        if not handle:
            out.issue(number, cols.column_name("handle"), None, "row without a handle; every row needs the product's handle")
            continue
        product = products.get(handle)
        title = cols.get(row, "title")
        if product is None:
            if not title:
                out.issue(number, cols.column_name("title"), handle, "first row of a product has no title")
                continue
            status_text = cols.get(row, "status")
            if status_text:
                status = normal_status(status_text)
            else:
                published = truthy(cols.get(row, "published"))
                status = "draft" if published is False else "active"
            tags = split_list(cols.get(row, "tags"), ",")
            description = strip_html(cols.get(row, "body")) or strip_html(cols.get(row, "seo_description"))
            product = Product(
                key=handle, sku=handle, title=title, description=description,
                brand=cols.get(row, "vendor") or None, category=cols.get(row, "category") or None,
                product_type=cols.get(row, "type") or None, google_category=cols.get(row, "google_category") or None,
                gender=cols.get(row, "gender") or cols.meta(row, "gender") or None,
                age_group=cols.get(row, "age_group") or cols.meta(row, "age_group") or None,
                color=cols.meta(row, "color") or None, material=cols.meta(row, "material") or None,
                pattern=cols.meta(row, "pattern") or None, status=status,
                tags=tags, source_format="shopify", source_file=out.file, source_row=number, base_dir=base_dir,
            )
            product.video.campaign = cols.get(row, "campaign") or None
            products[handle] = product
            positions[handle] = []
        image = cell(row, pos_image, "image")
        if image:
            pos_text = cols.get(row, "image_position")
            position = int(pos_text) if pos_text.isdigit() else 10_000 + len(positions[handle])
            positions[handle].append((position, image))
        options = {row[n].strip(): row[v].strip() for n, v in option_cols if row[n].strip() and row[v].strip()}
        if options.get("Title") == "Default Title":
            options = {}
        raw_price = cell(row, pos_price, "price")
        sku = unguard(cell(row, pos_sku, "sku"))
        is_variant = bool(raw_price or sku or options)
        if not is_variant:
            continue  # an image-only row
        price, ok_price = out.money(raw_price, number, cols.column_name("price"), sku or handle)
        compare, ok_compare = out.money(cell(row, pos_compare, "compare_at"), number, cols.column_name("compare_at"),
                                        sku or handle)
        if not (ok_price and ok_compare):
            continue
        sale = None
        if compare and price and compare.amount > price.amount:
            price, sale = compare, price  # compare-at is the original; the variant price is the sale
        variant = Variant(sku=sku or f"{handle}-{len(product.variants) + 1}", options=options, price=price,
                          sale_price=sale, gtin=unguard(cell(row, pos_barcode, "barcode")) or None,
                          image=cell(row, pos_vimage, "variant_image") or None, row=number)
        for name, value in options.items():
            key = name.casefold()
            if key in _COLOR_WORDS:
                variant.color = value
            elif key in _SIZE_WORDS:
                variant.size = value
            elif key in _MATERIAL_WORDS:
                variant.material = value
        product.variants.append(variant)
    for handle, product in products.items():
        ordered = [img for _, img in sorted(positions[handle], key=lambda p: p[0])]
        for variant in product.variants:
            if variant.image and variant.image not in ordered:
                ordered.append(variant.image)
        product.images = ordered
        if product.variants:
            first = product.variants[0]
            product.price, product.sale_price = first.price, first.sale_price
            if first.sku and not first.sku.startswith(f"{handle}-"):
                product.sku = first.sku
            colors = [v.color for v in product.variants if v.color]
            product.color = product.color or (colors[0] if colors else None)
            product.material = product.material or next((v.material for v in product.variants if v.material), None)
            sizes = [v.size for v in product.variants if v.size]
            product.size = ", ".join(dict.fromkeys(sizes)) if sizes else None
        out.add(product)
