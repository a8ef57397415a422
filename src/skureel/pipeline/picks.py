"""The winners picked after `skureel compare`, and `skureel run --seed-from compare[=PATH]` using them.

`skureel compare ... --pick N` writes PATH/<sku>/pick.json beside compare.csv: the variant's provider:model, seed,
content key and the compare ledger's record of the paid clip. A run seeded from PATH plans each picked SKU on that
model with that seed (like a row's own `provider` and `seed` columns) and enters the paid clip into the run's ledger,
so a shot whose content key is the picked variant's is reused, never paid twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ValidationError

from skureel.domain import Product, UnusableInput
from skureel.ledger import Ledger

PICK_FILE = "pick.json"


class Pick(BaseModel):
    sku: str
    model: str  # provider:model, as compare.csv writes it
    seed: int
    content_key: str = ""  # empty for a local variant (nothing was paid)
    clip_path: str = ""  # the paid clip in the cache (cache_dir/clips/<key>.mp4)
    clip_sha256: str = ""
    cost_usd: float = 0.0
    shot_id: str = ""
    blueprint_hash: str = ""

    @property
    def provider(self) -> str:
        return self.model.partition(":")[0]


def seed_from_path(value: str | None, default: str = "out/compare") -> str | None:
    """`compare` -> the default compare folder; `compare=PATH` -> PATH; None stays None."""
    if value is None:
        return None
    name, sep, path = value.partition("=")
    if name != "compare" or (sep and not path):
        raise UnusableInput(f"--seed-from takes compare or compare=PATH, not {value!r}")
    return path or default


def load_picks(folder: str) -> dict[str, Pick]:
    """Every PATH/<sku>/pick.json, by SKU; a folder without any is a mistake worth one line."""
    root = Path(folder)
    if not root.is_dir():
        raise UnusableInput(f"--seed-from: {folder} is not a compare folder (run `skureel compare --out {folder}`)")
    picks: dict[str, Pick] = {}
    for file in sorted(root.glob(f"*/{PICK_FILE}")):
        try:
            pick = Pick.model_validate_json(file.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise UnusableInput(f"{file}: not a pick written by `skureel compare --pick` ({exc.__class__.__name__})") from None
        picks[pick.sku] = pick
    if not picks:
        raise UnusableInput(f"--seed-from: no picks in {folder}; choose one with `skureel compare ... --pick N`")
    return picks


def apply_picks(products: Sequence[Product], picks: dict[str, Pick], providers: Sequence[str]) -> list[Product]:
    """Each picked SKU pinned to its model and seed, as its row's own `provider` and `seed` columns would."""
    chain = {p.partition(":")[0] for p in providers}
    out: list[Product] = []
    for product in products:
        pick = picks.get(product.sku)
        if pick is None:
            out.append(product)
            continue
        if pick.provider not in chain:
            raise UnusableInput(f"--seed-from: SKU {product.sku!r} was picked on {pick.model}, but {pick.provider} is "
                                f"not in --provider {','.join(providers)}")
        video = product.video.model_copy(update={"provider": pick.model, "seed": pick.seed})
        out.append(product.model_copy(update={"video": video}))
    return out


def adopt_picks(ledger: Ledger, picks: dict[str, Pick]) -> list[str]:
    """The picked variants' paid clips entered into this run's ledger (done), when the clip is still in the cache
    unchanged: the run then reuses them by content key instead of buying them again."""
    import hashlib

    notes: list[str] = []
    for pick in picks.values():
        if not pick.content_key or not pick.clip_path:
            continue
        row = ledger.job(pick.content_key)
        if row is not None and row["state"] == "done":
            continue
        clip = Path(pick.clip_path)
        if not clip.is_file() or hashlib.sha256(clip.read_bytes()).hexdigest() != pick.clip_sha256:
            notes.append(f"SKU {pick.sku!r}: the picked clip is no longer in the cache; it is generated again")
            continue
        ledger.record_intent(pick.content_key, sku=pick.sku, shot_id=pick.shot_id, provider=pick.provider,
                             model=pick.model.partition(":")[2], seed=pick.seed, blueprint_hash=pick.blueprint_hash,
                             input_fingerprint=pick.content_key[:16], cost_usd=pick.cost_usd)
        ledger.update_job(pick.content_key, state="done", clip_path=str(clip), clip_sha256=pick.clip_sha256)
    return notes
