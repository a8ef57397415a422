"""Every corpus catalog ingests with known counts, or fails as a whole with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest
from tests.conftest import CORPUS, needs_corpus

from skureel.catalog import ingest
from skureel.domain import UnusableInput

# file -> (format, products, variants, skipped)
EXPECTED = {
    "gmc_feed_lakeerie_apparel.tsv": ("gmc", 29, 160, 0),  # 22 item groups + 7 items without a group
    "gmc_rss_huenox_apparel.xml": ("gmc", 123, 123, 0),
    "meta_catalog_leibig_wine_de.csv": ("meta", 80, 80, 0),
    "shopify_apparel_swiminista.csv": ("shopify", 25, 375, 0),
    "shopify_fr_parispousse.csv": ("shopify", 40, 111, 0),
    "shopify_large_vietjewelers.csv": ("shopify", 577, 935, 666),  # 619 drafts + 47 archived skipped
    "shopify_new_format_sv_velofant.csv": ("shopify", 12, 17, 2),  # 2 archived
    "shopify_single_variant_basarabia.csv": ("shopify", 503, 503, 0),
    "woocommerce_ru_headers_leading_ws.csv": ("woocommerce", 9, 9, 0),
    "xlsx_pantry_catalogue_sections.xlsx": ("native", 74, 76, 14),  # 14 section rows
}


@needs_corpus
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_counts(name: str) -> None:
    fmt, products, variants, skipped = EXPECTED[name]
    report = ingest(CORPUS / "catalogs" / name)
    assert report.format == fmt
    assert len(report.products) == products
    assert report.variant_count == variants
    assert sum(report.skipped.values()) == skipped
    assert not report.errors, [i.line() for i in report.errors[:3]]


@needs_corpus
def test_malformed_xml_says_what_and_where() -> None:
    with pytest.raises(UnusableInput) as info:
        ingest(CORPUS / "catalogs" / "gmc_rss_airfeel_MALFORMED.xml")
    message = str(info.value)
    assert "line 13" in message and "&amp;" in message and "\n" not in message


@needs_corpus
def test_shopify_details() -> None:
    swim = ingest(CORPUS / "catalogs" / "shopify_apparel_swiminista.csv")
    product = swim.products[0]
    assert product.description and "<" not in product.description
    assert all(not (v.gtin or "").startswith("'") for p in swim.products for v in p.variants)
    assert any(v.color for v in product.variants)
    velo = ingest(CORPUS / "catalogs" / "shopify_new_format_sv_velofant.csv")
    assert any(p.color for p in velo.products)  # localised "Färg (product.metafields.shopify.color-pattern)"
    viet = ingest(CORPUS / "catalogs" / "shopify_large_vietjewelers.csv")
    priced = [p for p in viet.products if p.price]
    assert priced and all(p.price.amount == p.price.amount.to_integral_value() for p in priced)


@needs_corpus
def test_feed_details() -> None:
    hue = ingest(CORPUS / "catalogs" / "gmc_rss_huenox_apparel.xml")
    first = hue.products[0]
    assert len(first.images) == 4 and "tr:f-webp,w-600" in first.images[1]  # commas inside URLs kept
    assert first.price is not None and str(first.price.amount) == "799" and first.price.currency == "INR"
    assert "'" in first.description  # &#x27; decoded
    wine = ingest(CORPUS / "catalogs" / "meta_catalog_leibig_wine_de.csv")
    assert not any("[object Object]" in p.description for p in wine.products)
    lake = ingest(CORPUS / "catalogs" / "gmc_feed_lakeerie_apparel.tsv")
    assert any(p.title.startswith('"Lake Erie Loot Crew"') for p in lake.products)


@needs_corpus
@pytest.mark.parametrize("name", sorted(EXPECTED) + ["gmc_rss_airfeel_MALFORMED.xml"])
def test_cli_validate_exit_codes(name: str) -> None:
    result = subprocess.run([sys.executable, "-m", "skureel", "validate", str(CORPUS / "catalogs" / name), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stderr
    expected = 2 if "MALFORMED" in name else 0
    assert result.returncode == expected, result.stderr
