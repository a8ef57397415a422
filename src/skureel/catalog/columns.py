"""Column aliases per feed format, matched case-, space- and punctuation-insensitively."""

from __future__ import annotations

import re

from skureel.catalog.reading import Table
from skureel.catalog.values import norm_header
from skureel.domain import UnusableInput

Aliases = dict[str, tuple[str, ...]]

NATIVE: Aliases = {
    "sku": ("sku", "id", "productid", "itemid", "articlenumber", "artikelnummer", "reference", "ref", "variantsku", "code", "productcode"),
    "group": ("parent", "parentsku", "itemgroupid", "group", "productgroup", "handle", "style"),
    "title": ("title", "name", "productname", "producttitle", "product", "itemname", "nom", "titel"),
    "description": ("description", "desc", "productdescription", "body", "bodyhtml", "longdescription", "details", "copy"),
    "brand": ("brand", "vendor", "manufacturer", "marke", "marque"),
    "category": ("category", "categories", "productcategory", "department", "collection"),
    "product_type": ("type", "producttype", "kind"),
    "google_category": ("googleproductcategory",),
    "material": ("material", "materials", "fabric", "composition", "materiau", "stoff"),
    "color": ("color", "colour", "farbe", "couleur", "farg"),
    "pattern": ("pattern", "print"),
    "size": ("size", "packsize", "volume", "dimensions", "grosse", "taille"),
    "gender": ("gender",),
    "age_group": ("agegroup", "age"),
    "price": ("price", "regularprice", "listprice", "rrp", "msrp", "preis", "prix", "unitprice"),
    "sale_price": ("saleprice", "specialprice", "promoprice", "offerprice", "discountprice", "compareatprice"),
    "currency": ("currency", "currencycode"),
    "availability": ("availability", "stockstatus", "stock", "instock"),
    "status": ("status", "active", "published", "state"),
    "images": ("images", "image", "imageurl", "imagelink", "imagesrc", "photo", "photos", "picture", "mainimage", "packshot", "imagepath", "image1"),
    "extra_images": ("additionalimages", "additionalimagelink", "image2", "image3", "gallery"),
    "link": ("link", "url", "producturl", "productlink"),
    "tags": ("tags", "keywords", "labels"),
    "language": ("language", "lang", "locale"),
    "video_type": ("videotype", "video", "videokind"),
    "shots": ("shots", "shottypes", "shotlist"),
    "script": ("script", "voiceover", "vo", "avatarscript"),
    "duration": ("duration", "durations", "videoduration", "length"),
    "camera": ("camera", "cameramove", "camerамovement", "cameramovement", "move"),
    "lighting": ("lighting", "light", "lightingsetup"),
    "lens": ("lens",),
    "mood": ("mood", "tone", "vibe"),
    "audio": ("audio", "music", "sound"),
    "negative_prompt": ("negativeprompt", "negative", "avoid"),
    "seed": ("seed",),
    "formats": ("formats", "format", "aspectratios", "aspects"),
    "campaign": ("campaign", "customlabel0"),
    "provider": ("provider", "model", "engine"),
    "presenter": ("presenter", "presenterphoto", "presenterimage", "avatarimage"),
}

SHOPIFY: Aliases = {
    "handle": ("handle", "urlhandle"),
    "title": ("title",),
    "body": ("bodyhtml", "description"),
    "vendor": ("vendor",),
    "category": ("productcategory",),
    "type": ("type",),
    "tags": ("tags",),
    "published": ("published", "publishedononlinestore"),
    "status": ("status",),
    "sku": ("variantsku", "sku"),
    "barcode": ("variantbarcode", "barcode"),
    "price": ("variantprice", "price"),
    "compare_at": ("variantcompareatprice", "compareatprice"),
    "image": ("imagesrc", "productimageurl"),
    "image_position": ("imageposition",),
    "variant_image": ("variantimage", "variantimageurl"),
    "gender": ("googleshoppinggender",),
    "age_group": ("googleshoppingagegroup",),
    "google_category": ("googleshoppinggoogleproductcategory",),
    "campaign": ("googleshoppingcustomlabel0",),
    "seo_description": ("seodescription",),
}

GMC: Aliases = {
    "id": ("id", "gid"),
    "group": ("itemgroupid",),
    "title": ("title",),
    "description": ("description", "richtextdescription"),
    "link": ("link",),
    "image": ("imagelink", "image0url"),
    "extra_images": ("additionalimagelink", "lifestyleimagelink"),
    "availability": ("availability",),
    "price": ("price",),
    "sale_price": ("saleprice",),
    "brand": ("brand",),
    "google_category": ("googleproductcategory", "fbproductcategory"),
    "product_type": ("producttype",),
    "color": ("color", "colour"),
    "material": ("material",),
    "pattern": ("pattern",),
    "size": ("size",),
    "gender": ("gender",),
    "age_group": ("agegroup",),
    "gtin": ("gtin",),
    "highlight": ("producthighlight",),
    "campaign": ("customlabel0",),
    "status": ("status",),
}

WOO: Aliases = {
    "id": ("id",),
    "type": ("type", "тип", "typ"),
    "sku": ("sku", "артикул", "artikelnummer"),
    "name": ("name", "имя", "название", "nom"),
    "published": ("published", "опубликован", "veröffentlicht"),
    "short": ("shortdescription", "короткоеописание", "краткоеописание"),
    "description": ("description", "описание", "beschreibung"),
    "regular_price": ("regularprice", "базоваяцена", "обычнаяцена", "regulärerpreis"),
    "sale_price": ("saleprice", "акционнаяцена", "цена распродажи", "angebotspreis"),
    "categories": ("categories", "категории", "kategorien"),
    "tags": ("tags", "метки"),
    "images": ("images", "изображения", "bilder"),
    "parent": ("parent", "родительский", "übergeordnetesprodukt"),
    "brand": ("brands", "бренды"),
    "in_stock": ("instock", "вналичии"),
}

_METAFIELD = re.compile(r"\(product\.metafields\.[\w-]+\.([\w-]+)\)", re.I)
_METAFIELD_MAP = {"colorpattern": "color", "color": "color", "material": "material", "fabric": "material",
                  "targetgender": "gender", "agegroup": "age_group", "size": "size", "pattern": "pattern"}
_ATTRIBUTE = re.compile(r"^(attribute|атрибут)(\d+)(name|имя|value|values|значения)", re.I)


def all_known() -> set[str]:
    names: set[str] = set()
    for table in (NATIVE, SHOPIFY, GMC, WOO):
        for aliases in table.values():
            names.update(norm_header(a) for a in aliases)
    return names


class Columns:
    """Resolves canonical fields to column positions of one table."""

    def __init__(self, table: Table, aliases: Aliases) -> None:
        self.positions: dict[str, list[int]] = {}
        for name, options in aliases.items():
            found = [table.index[norm_header(o)] for o in options if norm_header(o) in table.index]
            if found:
                self.positions[name] = found
        self.header = table.header
        # Shopify metafield columns, localised: "Färg (product.metafields.shopify.color-pattern)"
        self.metafields: dict[str, int] = {}
        for pos, head in enumerate(table.header):
            match = _METAFIELD.search(head)
            if match:
                key = _METAFIELD_MAP.get(norm_header(match.group(1)))
                if key:
                    self.metafields.setdefault(key, pos)
        self.extra_native: dict[str, int] = {
            norm_header(h)[len("script"):]: pos
            for pos, h in enumerate(table.header)
            if norm_header(h).startswith("script") and len(norm_header(h)) in (8, 10)
        }

    def first(self, name: str) -> int | None:
        """The single column position for a field, when exactly one column matched (the fast path)."""
        positions = self.positions.get(name)
        return positions[0] if positions and len(positions) == 1 else None

    def has(self, name: str) -> bool:
        return name in self.positions

    def get(self, row: list[str], name: str) -> str:
        for pos in self.positions.get(name, ()):
            value = row[pos].strip() if pos < len(row) else ""
            if value:
                return value
        return ""

    def column_name(self, name: str) -> str | None:
        positions = self.positions.get(name)
        return self.header[positions[0]] if positions else None

    def meta(self, row: list[str], name: str) -> str:
        pos = self.metafields.get(name)
        return row[pos].strip() if pos is not None and pos < len(row) else ""

    def positions_matching(self, pattern: re.Pattern[str]) -> list[int]:
        return [pos for pos, head in enumerate(self.header) if pattern.search(norm_header(head))]


def aliases_for(feed_format: str) -> Aliases:
    """The alias table a detected format is read with (Meta catalogs share the GMC fields)."""
    return {"shopify": SHOPIFY, "gmc": GMC, "meta": GMC, "woocommerce": WOO}.get(feed_format, NATIVE)


def remap_table(table: Table, remap: dict[str, str], aliases: Aliases) -> Table:
    """The table with its columns assigned to fields by the user: `remap` is field -> column header ("" = none).

    Only the lookup changes: the field's first alias points at the chosen column and no alias of the field points
    anywhere else, so the readers see the user's choice; headers (as problems name them), rows and row numbers stay.
    """
    chosen: dict[str, int | None] = {}
    for field, column in remap.items():
        if field not in aliases:
            raise UnusableInput(f"unknown field {field!r}; choose from {', '.join(aliases)}")
        if column and column not in table.header:
            raise UnusableInput(f"the sheet has no column {column!r} (for {field})")
        chosen[field] = table.header.index(column) if column else None
    out = Table(header=list(table.header), rows=table.rows, row_numbers=table.row_numbers, sheet=table.sheet)
    for field, where in chosen.items():
        for alias in aliases[field]:
            out.index.pop(norm_header(alias), None)
        if where is not None:
            out.index[norm_header(aliases[field][0])] = where
    return out


def attribute_columns(header: list[str]) -> list[tuple[int, int]]:
    """WooCommerce 'Attribute N name' / 'Attribute N value(s)' position pairs."""
    names: dict[str, int] = {}
    values: dict[str, int] = {}
    for pos, head in enumerate(header):
        match = _ATTRIBUTE.match(norm_header(head))
        if match:
            target = names if match.group(3).lower() in ("name", "имя") else values
            target.setdefault(match.group(2), pos)
    return [(names[k], values[k]) for k in names if k in values]
