"""Generated catalogs in every format, and broken files that must fail with one line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from tests.conftest import SAMPLE

from skureel.catalog import ingest
from skureel.catalog.values import parse_money, strip_html
from skureel.domain import UnusableInput


@pytest.mark.parametrize(
    "text,amount,currency",
    [("799 INR", "799", "INR"), ("49,00 TND", "49.00", "TND"), ("$1,234.50", "1234.50", "USD"),
     ("1050000", "1050000", None), ("1.234,50 €", "1234.50", "EUR"), ("12,5", "12.5", None), ("5.7", "5.7", None)],
)
def test_parse_money(text: str, amount: str, currency: str | None) -> None:
    money = parse_money(text)
    assert money is not None and money.amount == Decimal(amount) and money.currency == currency


def test_strip_html() -> None:
    assert strip_html("<p>A &amp; B</p><p>C&#x27;s</p><!---->") == "A & B\nC's"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skureel", *args], capture_output=True, text=True, timeout=120)


def test_sample_catalog() -> None:
    report = ingest(SAMPLE)
    assert report.format == "native" and len(report.products) == 8
    avatar = [p for p in report.products if p.video.video_type == "avatar"]
    assert len(avatar) == 1 and avatar[0].video.script
    cam = next(p for p in report.products if p.sku == "AUR-CAM-TLR")
    assert cam.price is not None and cam.price.amount == Decimal("1250.00") and cam.video.shots == ["hero", "detail"]


def test_native_sheet_tolerates_titles_sections_and_reports_bad_rows(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["My catalogue"])
    ws.append([" Product-Name ", "S.K.U", "PRICE", "Image"])
    ws.append(["SHIRTS", None, None, None])
    ws.append(["Linen shirt", "SH-1", 49.5, "a.jpg"])
    ws.append(["Wool shirt", "SH-2", "abc", "b.jpg"])
    ws.append(["@home +tee", "SH-3", 10, None])
    for _ in range(20):
        ws.append([None, None, None, None])
    path = tmp_path / "sheet.xlsx"
    wb.save(path)
    report = ingest(path)
    assert [p.sku for p in report.products] == ["SH-1", "SH-3"]
    assert len(report.errors) == 1
    issue = report.errors[0]
    assert issue.row == 5 and issue.column == "PRICE" and issue.sku == "SH-2"
    out = tmp_path / "report.csv"
    result = run_cli("validate", str(path), "--report", str(out))
    assert result.returncode == 1
    xlsx_out = tmp_path / "report.xlsx"
    run_cli("validate", str(path), "--report", str(xlsx_out))
    assert load_workbook(xlsx_out).active.max_row == 3  # header + error + no-image warning
    # the title cell that looked like a formula is neutralised in exports
    summary = json.loads(run_cli("validate", str(path), "--json").stdout)
    assert summary["products"] == 2 and summary["errors"][0]["column"] == "PRICE"


def test_report_neutralises_formulas(tmp_path: Path) -> None:
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("sku,title,price\n=cmd|' /C calc'!A0,Evil,abc\n", encoding="utf-8")
    out = tmp_path / "r.csv"
    assert run_cli("validate", str(csv_path), "--report", str(out)).returncode == 1
    text = out.read_text(encoding="utf-8-sig")
    assert "'=cmd" in text and "\n=cmd" not in text and ",=cmd" not in text


def test_meta_instruction_row_bom_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "meta.csv"
    path.write_bytes(
        "\ufeff# Required | Optional fields below\n"
        "id,title,description,availability,condition,price,link,image_link,brand,fb_product_category,item_group_id,color\n"
        'A1,Tee,Soft tee,in stock,new,"19,99 EUR",https://x/a,https://x/a.jpg,B,Clothing,G1,Red\n'
        'A2,Tee,Soft tee,out of stock,new,"19,99 EUR",https://x/a,https://x/b.jpg,B,Clothing,G1,Blue\n'.encode()
    )
    report = ingest(path)
    assert report.format == "meta" and len(report.products) == 1 and report.variant_count == 2
    assert report.products[0].price is not None and report.products[0].price.amount == Decimal("19.99")
    assert report.products[0].variants[1].availability == "out_of_stock"


def test_gmc_csv_and_woo_variations(tmp_path: Path) -> None:
    gmc = tmp_path / "feed.csv"
    gmc.write_text("id,title,description,link,image_link,additional_image_link,price,item_group_id,size\n"
                   'a,Cap,Cap,https://x,https://x/1.jpg,"https://x/2.jpg,https://x/3.jpg",15.00 USD,g,S\n'
                   "b,Cap,Cap,https://x,https://x/1.jpg,,15.00 USD,g,M\n")
    report = ingest(gmc)
    assert report.format == "gmc" and len(report.products[0].images) == 3 and report.products[0].size == "S, M"
    woo = tmp_path / "woo.csv"
    woo.write_text("ID,Type,SKU,Name,Published,Regular price,Images,Parent,Attribute 1 name,Attribute 1 value(s)\n"
                   "10,variable,HOOD,Hoodie,1,,https://x/h.jpg,,Color,\"Red, Blue\"\n"
                   "11,variation,HOOD-R,,1,55,,HOOD,Color,Red\n"
                   "12,variation,HOOD-B,,1,55,,id:10,Color,Blue\n"
                   "13,simple,SOCK,Socks,-1,9\n")
    report = ingest(woo)
    assert report.format == "woocommerce" and len(report.products) == 1 and report.skipped == {"draft": 1}
    assert [v.color for v in report.products[0].variants] == ["Red", "Blue"]


def _zip_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 1024 * 1024))


@pytest.mark.parametrize("kind", ["missing", "binary", "empty", "encrypted", "corrupt", "zipbomb", "huge", "noheader"])
def test_broken_files_fail_with_one_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / ("book.xlsx" if kind in ("encrypted", "corrupt", "zipbomb") else "cat.csv")
    if kind == "binary":
        path.write_bytes(bytes(range(256)) * 40)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "encrypted":
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
    elif kind == "corrupt":
        path.write_bytes(b"PK\x03\x04" + b"garbage" * 100)
    elif kind == "zipbomb":
        _zip_bomb(path)
    elif kind == "huge":
        with path.open("wb") as fh:
            fh.truncate(201 * 1024 * 1024)
    elif kind == "noheader":
        path.write_text("1,2,3\n4,5,6\n")
    with pytest.raises(UnusableInput):
        ingest(path)
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") <= 1, result.stderr


def test_check_images_reports_unusable_images_as_warnings(tmp_path: Path) -> None:
    (tmp_path / "ok.png").write_bytes(b"not really a png")
    catalog = tmp_path / "c.csv"
    catalog.write_text("sku,title,price,image\nA,Mug,5,ok.png\nB,Cup,6,missing.jpg\n")
    result = run_cli("validate", str(catalog), "--check-images", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert {w["sku"] for w in warnings if w["reason"] == "no usable image"} == {"A", "B"}
