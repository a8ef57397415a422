"""Content keys and fingerprints that decide what is reused, recomposed or regenerated.

- content key: what a provider would be paid for (image bytes, generation-relevant blueprint fields,
  provider, model, parameters, seed, prompt template). Title, price and call to action are not in it.
- overlay hash: what only the composition depends on (title, prices, call to action, brand overlay look).
- product hash: everything about a product's outputs; equal hash and delivered outputs means nothing runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from skureel.domain import BrandKit, Product, ShotSpec
from skureel.paths import templates_dir

RENDERER_VERSION = "studio-v1.1"  # bump when the local renderer's look changes


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


@lru_cache(maxsize=64)
def file_digest(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        return "missing"
    return hashlib.sha256(file.read_bytes()).hexdigest()


def template_digest(provider: str) -> str:
    """The digest of the templates a provider's prompts come from. Called once per content key (thousands per
    run), so it stats the few files it covers and hashes them again only when one changed (mtime, size)."""
    folder = os.path.join(templates_dir(), "prompts")
    stamps = []
    for name in sorted({f"{provider}.j2", "_scene.j2", "avatar_script.j2"}):
        try:
            info = os.stat(os.path.join(folder, name))
        except OSError:
            continue  # absent: left out of the digest, as it always was
        stamps.append((name, info.st_mtime_ns, info.st_size))
    return _template_digest(folder, tuple(stamps))


@lru_cache(maxsize=256)
def _template_digest(folder: str, stamps: tuple[tuple[str, int, int], ...]) -> str:
    """Keyed by the files' stamps: an edited template gives new stamps, so it is read again (not `file_digest`,
    which keeps a path's first digest for the life of the process)."""
    def content(name: str) -> str:
        file = Path(folder) / name
        return hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else "missing"

    return digest({name: content(name) for name, _, _ in stamps})


def generation_fields(shot: ShotSpec) -> dict[str, Any]:
    data = shot.model_dump(mode="json")
    for volatile in ("subject", "title"):  # the title is overlay text; changing it must not buy a new clip
        data.pop(volatile, None)
    # image bytes are keyed by their digests; a path is only where the sheet happened to sit (a moved folder, a new
    # studio upload) and must not buy the same clip again
    data.pop("source_images", None)
    return data


def content_key(shot: ShotSpec, image_digests: list[str], provider: str, model: str, params: dict[str, Any],
                brand: BrandKit, prompt_text: str | None = None) -> str:
    return digest({
        "images": image_digests, "shot": generation_fields(shot), "provider": provider, "model": model,
        "params": params, "seed": shot.seed, "template": template_digest(provider), "look": brand.look_hash_fields(),
        "renderer": RENDERER_VERSION if provider == "local" else None,
        # hosted prompts embed the title; keep it out so a retitled product reuses its paid clip
        "prompt": None if prompt_text is None else prompt_text.replace(shot.title, "<title>"),
    })[:40]


def overlay_hash(product: Product, brand: BrandKit, format_name: str, language: str | None = None) -> str:
    return digest({
        "title": product.title, "price": product.price.model_dump(mode="json") if product.price else None,
        "sale": product.sale_price.model_dump(mode="json") if product.sale_price else None,
        "cta": brand.end_card.model_dump(), "colours": brand.colours.model_dump(), "format": format_name,
        "logo": file_digest(brand.asset(brand.logo) or ""), "font": file_digest(brand.asset(brand.font) or ""),
        "music": file_digest(brand.asset(brand.music) or ""), "safe": brand.safe_zone_overrides, "language": language,
        "renderer": RENDERER_VERSION,
    })[:24]


def product_hash(product: Product, brand: BrandKit, providers: list[str], formats: list[str], quality: str,
                 bases: str = "one") -> str:
    data = product.model_dump(mode="json", exclude={"source_row", "source_file", "base_dir"})
    images = [file_digest(product.resolve_image(i)) if "://" not in i else i for i in product.images]
    extra = {} if bases == "one" else {"bases": bases}  # `one` keeps the hashes products were delivered under
    return digest({**extra, "product": data, "images": images, "brand": brand.model_dump(mode="json", exclude={"kit_dir"}),
                   "brand_files": [file_digest(brand.asset(x) or "") for x in (brand.logo, brand.font, brand.music,
                                                                              brand.presenter_photo)],
                   "providers": providers, "formats": formats, "quality": quality, "templates": template_digest("local"),
                   "renderer": RENDERER_VERSION})
