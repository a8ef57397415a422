"""WooCommerce exports: variable products and their variations linked by Parent; translated headers."""

from __future__ import annotations

from skureel.catalog.columns import WOO, Columns, attribute_columns
from skureel.catalog.common import Collector
from skureel.catalog.reading import Table
from skureel.catalog.values import slug, split_list, strip_html
from skureel.domain import Product, Variant

_COLOR = {"color", "colour", "pacolor", "цвет", "farbe"}
_SIZE = {"size", "pasize", "размер", "größe"}
_MATERIAL = {"material", "pamaterial", "материал"}


def read_woo(table: Table, out: Collector, base_dir: str) -> None:
    cols = Columns(table, WOO)
    attributes = attribute_columns(table.header)
    parents: dict[str, Product] = {}
    pending: list[tuple[list[str], int]] = []
    for row, number in zip(table.rows, table.row_numbers, strict=True):
        kind = cols.get(row, "type").casefold()
        if "variation" in kind:
            pending.append((row, number))
            continue
        name = cols.get(row, "name")
        item_id = cols.get(row, "id")
        sku = cols.get(row, "sku") or (f"woo-{item_id}" if item_id else slug(name).casefold())
        if not name:
            out.issue(number, cols.column_name("name"), sku, "product without a name")
            continue
        price, ok_price = out.money(cols.get(row, "regular_price"), number, cols.column_name("regular_price"), sku)
        sale, ok_sale = out.money(cols.get(row, "sale_price"), number, cols.column_name("sale_price"), sku)
        if not (ok_price and ok_sale):
            continue
        published = cols.get(row, "published")
        status = "draft" if published in {"0", "-1"} else "active"
        attrs = {row[n].strip(): row[v].strip() for n, v in attributes if row[n].strip()}
        product = Product(
            key=sku, sku=sku, title=name,
            description=strip_html(cols.get(row, "description")) or strip_html(cols.get(row, "short")),
            brand=cols.get(row, "brand") or None, category=cols.get(row, "categories") or None,
            price=price, sale_price=sale, status=status, images=split_list(cols.get(row, "images"), ","),
            tags=split_list(cols.get(row, "tags"), ","), source_format="woocommerce", source_file=out.file,
            source_row=number, base_dir=base_dir,
            color=next((v for k, v in attrs.items() if k.casefold() in _COLOR), None),
            size=next((v for k, v in attrs.items() if k.casefold() in _SIZE), None),
            material=next((v for k, v in attrs.items() if k.casefold() in _MATERIAL), None),
            variants=[] if "variable" in kind else [Variant(sku=sku, title=name, price=price, sale_price=sale, row=number)],
        )
        parents[sku] = product
        if item_id:
            parents[f"id:{item_id}"] = product
    for row, number in pending:
        parent_ref = cols.get(row, "parent")
        parent = parents.get(parent_ref)
        sku = cols.get(row, "sku") or f"{parent_ref}-{number}"
        if parent is None:
            out.issue(number, cols.column_name("parent") or "Parent", sku,
                      f"variation's parent {parent_ref!r} is not in the file")
            continue
        price, ok_price = out.money(cols.get(row, "regular_price"), number, cols.column_name("regular_price"), sku)
        sale, ok_sale = out.money(cols.get(row, "sale_price"), number, cols.column_name("sale_price"), sku)
        if not (ok_price and ok_sale):
            continue
        attrs = {row[n].strip(): row[v].strip() for n, v in attributes if row[n].strip()}
        images = split_list(cols.get(row, "images"), ",")
        parent.variants.append(Variant(
            sku=sku, options=attrs, price=price, sale_price=sale, image=images[0] if images else None, row=number,
            color=next((v for k, v in attrs.items() if k.casefold() in _COLOR), None),
            size=next((v for k, v in attrs.items() if k.casefold() in _SIZE), None)))
        parent.images.extend(i for i in images if i not in parent.images)
    seen: set[int] = set()
    for product in parents.values():
        if id(product) in seen:
            continue
        seen.add(id(product))
        if product.variants and product.price is None:
            product.price, product.sale_price = product.variants[0].price, product.variants[0].sale_price
        out.add(product)
