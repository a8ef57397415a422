"""The native marketing sheet (.xlsx/.csv): aliases, sections, optional video columns."""

from __future__ import annotations

import re

from skureel.catalog.columns import NATIVE, Columns
from skureel.catalog.common import Collector, normal_availability, normal_status
from skureel.catalog.reading import Table
from skureel.catalog.values import slug, split_list, strip_html
from skureel.domain import Product, Variant, VideoRequest

_FORMAT = re.compile(r"^\s*(\d+)\s*[:x×/]\s*(\d+)\s*$")


def _formats(text: str) -> list[str]:
    out = []
    for part in split_list(text, ",;| "):
        match = _FORMAT.match(part)
        if match:
            out.append(f"{match.group(1)}x{match.group(2)}")
    return out


def _video(cols: Columns, row: list[str], out: Collector, number: int, sku: str) -> VideoRequest | None:
    kind = cols.get(row, "video_type").casefold()
    script = cols.get(row, "script") or None
    scripts = {lang: row[pos].strip() for lang, pos in cols.extra_native.items() if pos < len(row) and row[pos].strip()}
    ok = True
    duration = None
    if text := cols.get(row, "duration"):
        try:
            duration = float(text.rstrip("sS ").replace(",", "."))
            if not 1 <= duration <= 120:
                raise ValueError
        except ValueError:
            out.issue(number, cols.column_name("duration"), sku, f"duration {text!r} must be seconds between 1 and 120")
            ok = False
    seed = None
    if text := cols.get(row, "seed"):
        try:
            seed = int(float(text))
        except ValueError:
            out.issue(number, cols.column_name("seed"), sku, f"seed {text!r} must be a whole number")
            ok = False
    if kind and kind not in {"product", "avatar", "video", "presenter", "spokesperson"}:
        out.issue(number, cols.column_name("video_type"), sku, f"video type {kind!r} must be 'product' or 'avatar'")
        ok = False
    if not ok:
        return None
    avatar = kind in {"avatar", "presenter", "spokesperson"}
    if avatar and not script and not scripts:
        out.issue(number, cols.column_name("script") or "script", sku,
                  "avatar row without a script: a script will be written from the product facts", "warning")
    return VideoRequest(
        video_type="avatar" if avatar else "product",
        shots=[s.casefold() for s in split_list(cols.get(row, "shots"), ",;|")],
        script=script,
        scripts=scripts,
        duration_s=duration,
        camera=cols.get(row, "camera") or None,
        lighting=cols.get(row, "lighting") or None,
        lens=cols.get(row, "lens") or None,
        mood=cols.get(row, "mood") or None,
        audio=cols.get(row, "audio") or None,
        negative_prompt=cols.get(row, "negative_prompt") or None,
        seed=seed,
        formats=_formats(cols.get(row, "formats")),
        campaign=cols.get(row, "campaign") or None,
        provider=cols.get(row, "provider") or None,
        presenter_image=cols.get(row, "presenter") or None,
    )


def read_native(table: Table, out: Collector, base_dir: str) -> None:
    cols = Columns(table, NATIVE)
    if not cols.has("title") and not cols.has("sku"):
        from skureel.domain import UnusableInput

        raise UnusableInput(f"{out.file}: no 'title' or 'sku' column in the header {table.header[:8]}")
    populated = [p for p in range(len(table.header)) if table.header[p]]
    groups: dict[str, Product] = {}
    seen_sku: dict[str, int] = {}
    for row, number in zip(table.rows, table.row_numbers, strict=True):
        filled = [p for p in populated if p < len(row) and row[p].strip()]
        title = cols.get(row, "title")
        raw_price = cols.get(row, "price")
        if len(filled) == 1 and not raw_price:  # a section row such as "RICE" between products
            out.skip("section_row")
            continue
        size_text = cols.get(row, "size")
        derived = slug(f"{title} {size_text}").casefold() if title else ""
        sku = cols.get(row, "sku") or derived
        if not title:
            out.issue(number, cols.column_name("title") or "title", sku, "no title; fill the product's title")
            continue
        if sku in seen_sku and not cols.has("group") and cols.has("sku"):
            out.issue(number, cols.column_name("sku"), sku, f"duplicate SKU, first used on row {seen_sku[sku]}; make it unique")
            continue
        seen_sku.setdefault(sku, number)
        currency = cols.get(row, "currency") or None
        price, ok_price = out.money(raw_price, number, cols.column_name("price"), sku, currency)
        sale, ok_sale = out.money(cols.get(row, "sale_price"), number, cols.column_name("sale_price"), sku, currency)
        video = _video(cols, row, out, number, sku)
        if not (ok_price and ok_sale) or video is None:
            continue
        if sale and price and sale.amount >= price.amount:
            # "compare at" columns hold the higher, original price
            price, sale = sale, price
        images = split_list(cols.get(row, "images"), ",;|\n") + split_list(cols.get(row, "extra_images"), ",;|\n")
        variant = Variant(sku=sku, title=title, price=price, sale_price=sale, color=cols.get(row, "color") or None,
                          size=cols.get(row, "size") or None, material=cols.get(row, "material") or None,
                          image=images[0] if images else None, row=number)
        # without SKUs, rows sharing a title are one product's sizes
        group = cols.get(row, "group") or (sku if cols.has("sku") else slug(title).casefold())
        if group in groups:
            product = groups[group]
            product.variants.append(variant)
            product.images.extend(i for i in images if i not in product.images)
            continue
        status = normal_status(cols.get(row, "status")) if cols.has("status") else "active"
        groups[group] = Product(
            key=group, sku=sku, title=title, description=strip_html(cols.get(row, "description")),
            brand=cols.get(row, "brand") or None, category=cols.get(row, "category") or None,
            product_type=cols.get(row, "product_type") or None,
            google_category=cols.get(row, "google_category") or None,
            material=cols.get(row, "material") or None, color=cols.get(row, "color") or None,
            pattern=cols.get(row, "pattern") or None, size=cols.get(row, "size") or None,
            gender=cols.get(row, "gender") or None, age_group=cols.get(row, "age_group") or None,
            price=price, sale_price=sale, availability=normal_availability(cols.get(row, "availability")),
            status=status,
            images=images, link=cols.get(row, "link") or None, tags=split_list(cols.get(row, "tags"), ",;|"),
            language=cols.get(row, "language") or None, variants=[variant], video=video,
            source_format="native", source_file=out.file, source_row=number, base_dir=base_dir,
        )
    for product in groups.values():
        out.add(product)
