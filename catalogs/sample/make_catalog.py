"""Writes catalogs/sample/products.xlsx: the README demo's native marketing sheet."""

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

HEADER = ["SKU", "Title", "Description", "Brand", "Category", "Material", "Colour", "Price", "Sale price",
          "Currency", "Image", "Video type", "Shots", "Script", "Duration", "Camera", "Lighting", "Lens", "Mood",
          "Formats", "Campaign"]
ROWS = [
    ["AUR-TEE-NVY", "Organic Cotton Crew Tee", "<p>Heavyweight <b>organic cotton</b> jersey tee.</p><ul><li>Relaxed fit</li><li>Pre-shrunk</li></ul>",
     "Aurora", "Apparel > Tops", "100% organic cotton jersey", "White", 39, None, "USD", "images/tshirt.jpg",
     "product", "hero", None, 6, None, None, None, "relaxed", None, None],
    ["AUR-SER-AMB", "Vitamin C Glow Serum 30 ml", "A lightweight brightening serum with 15% vitamin C in an amber glass dropper bottle.",
     "Aurora", "Beauty > Skincare", "amber glass", "Amber", 48, 36, "USD", "images/serum.jpg",
     "avatar", None, "Meet our Vitamin C Glow Serum. Fifteen percent vitamin C in a lightweight texture that sinks in fast. Now thirty-six dollars. Shop now.",
     12, None, None, None, "fresh", None, None],
    ["AUR-TEA-SEN", "Sencha Green Tea, 20 Sachets", "Japanese first-flush sencha in a recyclable cardboard box.",
     "Aurora", "Food > Tea", "cardboard packaging", "Green", 12.5, None, "USD", "images/tea_box.jpg",
     "product", "unboxing", None, 6, None, None, None, "calm", None, None],
    ["AUR-CAM-TLR", "Twin-Lens Reflex Camera", "A restored medium-format twin-lens reflex camera with a leather-covered metal body.",
     "Aurora", "Electronics > Cameras", "metal and leather", "Black", "$1,250.00", None, None, "images/film_camera.jpg",
     "product", "hero, detail", None, 6, None, None, "100mm macro", "nostalgic", None, None],
    ["AUR-RNG-GLD", "Gold Solitaire Ring", "An 18k gold band with a single round-cut stone.",
     "Aurora", "Jewellery > Rings", "18k gold", "Gold", 890, None, "USD", "images/ring.jpg",
     "product", "detail", None, 6, "orbit left", "low-key dramatic", None, "luxurious", None, None],
    ["AUR-BAG-GRY", "Weekender Duffel Bag", "A roomy heather-grey duffel in recycled polyester with webbing handles.",
     "Aurora", "Accessories > Bags", "recycled polyester", "Grey", 120, 96, "USD", "images/duffel_bag.jpg",
     "product", "hero", None, 6, "orbit right", None, None, "adventurous", None, None],
    ["AUR-SCF-MUL", "Silk Twill Scarf", "A 90 cm square scarf in printed silk twill with hand-rolled edges.",
     "Aurora", "Accessories > Scarves", "silk", "Magenta", 145, None, "USD", "images/scarf.jpg",
     "product", "hero", None, 6, None, None, None, "elegant", None, None],
    ["AUR-MUG-WHT", "Stoneware Mug", "A glazed ceramic mug for coffee and tea, 350 ml.",
     "Aurora", "Home > Kitchen", "ceramic", "White", 24, None, "USD", "images/mug.png",
     "product", "hero", None, 6, None, None, None, "cosy", "9x16, 1x1", None],
]


def main() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Products"
    sheet.append(["Aurora Goods: autumn product videos"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    workbook.save(Path(__file__).with_name("products.xlsx"))


if __name__ == "__main__":
    main()
