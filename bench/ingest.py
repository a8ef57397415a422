"""Ingest speed: `skureel validate` on a 50,000-variant Shopify export beside pandas.read_csv of the same file.

Each side runs in its own process and its peak memory is that process's own (os.wait4); medians of 3 runs,
the sides interleaved so a busy machine slows both alike. Aims: within 3x of read_csv (wall, and CPU, which
a shared machine disturbs less), and under 1 GB.
"""

from __future__ import annotations

import csv
import sys
import tempfile
from pathlib import Path

from _util import measure, median

HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published", "Option1 Name",
          "Option1 Value", "Option2 Name", "Option2 Value", "Variant SKU", "Variant Grams", "Variant Price",
          "Variant Compare At Price", "Variant Barcode", "Image Src", "Image Position", "Variant Image", "Status"]
AIM_RATIO, AIM_MB = 3.0, 1024.0


def build(path: Path, products: int = 10_000, variants: int = 5) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for p in range(products):
            for v in range(variants):
                first = v == 0
                writer.writerow([
                    f"product-{p}", f"Product {p}" if first else "", "<p>Soft <b>cotton</b> tee</p>" if first else "",
                    "Acme" if first else "", "Apparel & Accessories > Clothing" if first else "", "Tee" if first else "",
                    "summer, cotton" if first else "", "TRUE" if first else "", "Size" if first else "", f"S{v}",
                    "Color" if first else "", "Navy", f"SKU-{p}-{v}", "250", f"{19 + v}.00", "29.00", f"'00{p}{v}",
                    f"https://cdn.example.com/{p}.jpg" if first else "", "1" if first else "",
                    f"https://cdn.example.com/{p}-{v}.jpg", "active" if first else "",
                ])


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "shopify_50k.csv"
        build(path)
        size_mb = path.stat().st_size / 1e6
        ours, theirs = [], []
        for _ in range(3):
            ours.append(measure([sys.executable, "-m", "skureel", "validate", str(path), "--json"]))
            theirs.append(measure([sys.executable, "-c", "import pandas,sys; pandas.read_csv(sys.argv[1], dtype=str)",
                                   str(path)]))
    ow, oc, om = (median([r[i] for r in ours]) for i in range(3))
    tw, tc, tm = (median([r[i] for r in theirs]) for i in range(3))
    print(f"file: 50,000 variants / 10,000 products, {size_mb:.1f} MB")
    print(f"skureel validate : wall {ow:.2f}s  cpu {oc:.2f}s  peak {om:.0f} MB (its own process)")
    print(f"pandas.read_csv  : wall {tw:.2f}s  cpu {tc:.2f}s  peak {tm:.0f} MB (its own process)")
    print(f"ratio skureel/read_csv, median wall = {ow / tw:.2f}x   (aim <= {AIM_RATIO:g}x) {verdict(ow / tw <= AIM_RATIO)}")
    print(f"ratio skureel/read_csv, median cpu  = {oc / tc:.2f}x   (aim <= {AIM_RATIO:g}x) {verdict(oc / tc <= AIM_RATIO)}")
    print(f"peak memory of skureel validate     = {om:.0f} MB   (aim < {AIM_MB:.0f} MB) {verdict(om < AIM_MB)}")


if __name__ == "__main__":
    main()
