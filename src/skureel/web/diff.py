"""The diff of a batch against this workspace's last one: new, changed (which fields), unchanged, removed.

No second change detector: each estimate keeps, per SKU, the run's own product hash (keys.product_hash: equal
hash + delivered outputs = the flow skips the SKU) and the content key of each shot (keys.content_key: what a
provider is paid for). A changed SKU whose content keys are all the same only re-composes its overlays (free);
one with a new content key pays for the new generation. Per-field digests of the Product say which fields moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ForeignKey, String, Table, Text, delete, func, insert, select

from skureel.domain import BrandKit, Product
from skureel.web.store import batches, metadata
from skureel.web.tables import engine_for

if TYPE_CHECKING:
    from skureel.planning.plan import Plan

_RAN = ("running", "review", "done")
_WIDTH = 8  # hex characters of each field's digest


def fingerprints(plan: Plan, products: Sequence[Product], kit: BrandKit, providers: list[str], formats: list[str],
                 quality: str) -> dict[str, Any]:
    """Per SKU: its product hash, a digest per Product field and each planned shot's content key.

    Stored compactly (a 2,000-row batch's keys parse in a few milliseconds): `names` lists the fields once, each
    row's `fields` is their 8-character digests run together in that order."""
    from skureel.keys import content_key, digest, file_digest, product_hash

    out: dict[str, dict[str, Any]] = {}
    bases = str(getattr(plan, "bases", "one"))
    for product in map(_portable, products):
        data = product.model_dump(mode="json", exclude={"source_row", "source_file", "base_dir"})
        # repr of the JSON-mode dump: deterministic and about ten times cheaper than a sorted json.dumps per field
        fields = {name: hashlib.sha1(repr(value).encode(), usedforsecurity=False).hexdigest()[:_WIDTH]
                  for name, value in data.items()}
        images = [file_digest(product.resolve_image(i)) if "://" not in i else i for i in product.images]
        fields["images"] = digest([data.get("images"), images])[:_WIDTH]  # the photos' bytes, not only their paths
        whole = product_hash(product, kit, providers, formats, quality, bases)
        out[product.sku] = {"hash": whole[:24], "fields": fields, "keys": {}, "images": images}
    for item in plan.shots:
        row = out.get(item.shot.sku)
        if row is None:
            continue
        provider = item.rendered.provider
        # content keys hold the photos' bytes, not their paths: the same photos in another upload keep their keys
        key = content_key(item.shot, row["images"][:1], provider, item.rendered.model, item.rendered.params, kit,
                          None if provider == "local" else item.rendered.prompt)
        row["keys"][item.shot.shot_id] = key[:20]
    names = sorted({name for row in out.values() for name in row["fields"]})
    for row in out.values():
        row.pop("images")
        row["fields"] = "".join(row["fields"].get(name, "-" * _WIDTH) for name in names)
    return {"names": names, "rows": out}


def _portable(product: Product) -> Product:
    """The product with local image paths relative to its sheet: each upload lives in its own folder, and the
    same photos in next week's upload are the same photos (their bytes are hashed beside)."""
    if not product.base_dir:
        return product
    text = product.model_dump_json().replace(json.dumps(product.base_dir.rstrip("/") + "/")[1:-1], "")
    return Product.model_validate_json(text).model_copy(update={"base_dir": product.base_dir})


batch_keys = Table(
    "batch_keys", metadata,
    Column("batch_id", String(32), ForeignKey("batches.id"), primary_key=True),
    Column("data", Text, nullable=False),  # JSON: sku -> hash, fields, keys (about 0.5 KB a SKU: kept off the batch)
)



def save_fingerprints(store: Any, batch_id: str, data: dict[str, Any]) -> None:
    with engine_for(store, batch_keys).begin() as c:
        c.execute(delete(batch_keys).where(batch_keys.c.batch_id == batch_id))
        c.execute(insert(batch_keys).values(batch_id=batch_id, data=json.dumps(data, separators=(",", ":"))))


def fingerprints_of(store: Any, batch_id: str) -> dict[str, Any]:
    with engine_for(store, batch_keys).connect() as c:
        text = c.execute(select(batch_keys.c.data).where(batch_keys.c.batch_id == batch_id)).scalar()
    found: dict[str, Any] = json.loads(text) if text else {}
    return {"names": found.get("names", []), "rows": found.get("rows", {})}


def _fields(data: dict[str, Any], row: dict[str, Any]) -> dict[str, str]:
    packed = row.get("fields", "")
    return {name: packed[i * _WIDTH:(i + 1) * _WIDTH] for i, name in enumerate(data["names"])}


def previous_batch(store: Any, batch: dict[str, Any]) -> dict[str, Any] | None:
    """The workspace's last planned batch before this one (one that ran wins over one only estimated), read from
    a few small columns: the diff needs its keys, not its whole estimate."""
    query = (select(batches.c.id, batches.c.state, batches.c.sheet_name, batches.c.created_at, batches.c.updated_at,
                    batches.c.run_key)
             .join(batch_keys, batch_keys.c.batch_id == batches.c.id)
             .where(batches.c.workspace_id == batch["workspace_id"], batches.c.id != batch["id"],
                    batches.c.created_at <= batch["created_at"],
                    func.length(batches.c.estimate) > 2)  # a remap since then dropped its plan: not "planned"
             .order_by(batches.c.created_at.desc()).limit(200))
    with engine_for(store, batch_keys).connect() as c:
        rows = [dict(r) for r in c.execute(query).mappings()]
    if not rows:
        return None
    last: dict[str, Any] = max(rows, key=lambda r: (r["state"] in _RAN or r["run_key"] is not None,
                                                    r["created_at"], r["updated_at"]))
    return last


def compare(batch: dict[str, Any], mine_data: dict[str, Any], last: dict[str, Any] | None,
            before_data: dict[str, Any]) -> dict[str, Any]:
    """The diff as plain data: the page renders it and the API returns it."""
    rows = {r["sku"]: r for r in batch["estimate"].get("rows", [])}
    base: dict[str, Any] = {"batch": batch["id"], "estimated": bool(rows), "against": None,
                            "new": [], "changed": [], "unchanged": [], "removed": [], "usd": 0.0}
    if not rows:
        return base
    mine, before = mine_data.get("rows", {}), before_data.get("rows", {})
    if last is not None:
        base["against"] = {k: last[k] for k in ("id", "created_at", "state")} | {"sheet": last["sheet_name"]}
    for sku, row in rows.items():
        now_, old = mine.get(sku, {}), before.get(sku)
        if old is None:
            base["new"].append({"sku": sku, "usd": row["usd"]})
        elif old["hash"] == now_.get("hash"):
            base["unchanged"].append({"sku": sku})
        else:
            ours, theirs = _fields(mine_data, now_), _fields(before_data, old)
            fields = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
            paid_before = set(old["keys"].values())
            regenerate = [shot for shot, key in now_.get("keys", {}).items() if key not in paid_before]
            usd = sum(s["usd"] for s in row["shots"] if s["shot"] in regenerate)
            base["changed"].append({"sku": sku, "fields": fields or ["brand kit or options"],
                                    "regenerate": regenerate, "usd": round(usd, 4)})
    base["removed"] = [{"sku": sku} for sku in before if sku not in rows]
    base["usd"] = round(sum(r["usd"] for r in base["new"]) + sum(r["usd"] for r in base["changed"]), 4)
    return base


def batch_diff(store: Any, batch: dict[str, Any]) -> dict[str, Any]:
    if not batch["estimate"].get("rows"):
        return compare(batch, {}, None, {})  # the empty state: nothing planned yet
    last = previous_batch(store, batch)
    before = fingerprints_of(store, last["id"]) if last else {}
    return compare(batch, fingerprints_of(store, batch["id"]), last, before)
