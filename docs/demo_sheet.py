"""Make docs/demo.png from a `make demo` output: one frame of each sample product's 9:16 hero clip, side by side.

Run after `make demo`: `.venv/bin/python docs/demo_sheet.py [out/demo] [docs/demo.png]`. The README shows the result."""

from __future__ import annotations

import sys
from pathlib import Path

import av
from PIL import Image

WIDTH = 270  # per tile; 9:16 tiles 270 x 480


def frame_at(clip: Path, seconds: float) -> Image.Image:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= seconds:
                return frame.to_image()
    raise SystemExit(f"{clip}: shorter than {seconds} s")


def main(out: Path, target: Path) -> None:
    clips = sorted(out.glob("clips/*/*__9x16.mp4"))
    firsts: dict[str, Path] = {}
    for clip in clips:  # one clip per product: the first shot in name order
        firsts.setdefault(clip.parent.name, clip)
    if not firsts:
        raise SystemExit(f"{out}: no 9x16 clips; run `make demo` first")
    tiles = [frame_at(clip, 2.0).resize((WIDTH, WIDTH * 16 // 9)) for clip in firsts.values()]
    sheet = Image.new("RGB", (WIDTH * len(tiles), tiles[0].height), "white")
    for i, tile in enumerate(tiles):
        sheet.paste(tile, (i * WIDTH, 0))
    sheet.save(target, optimize=True)
    print(f"{target}: {len(tiles)} products")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "out/demo"), Path(sys.argv[2] if len(sys.argv) > 2 else "docs/demo.png"))
