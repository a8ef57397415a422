"""Column remap and saved mappings: the user assigns a sheet's columns to fields, the workspace remembers it.

A remap is field -> column header ("" = not used) for the detected format's fields; ingest applies it
(catalog.columns.remap_table), so validation, estimate, the run and the annotated sheet all read the sheet the
same way. Saved per workspace under the sheet's set of headers: next week's export with the same columns gets
the same mapping applied at upload, and the validation screen says so.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, delete, insert, select

from skureel.web.store import metadata, now
from skureel.web.tables import engine_for

saved_mappings = Table(
    "saved_mappings", metadata,
    Column("workspace_id", Integer, ForeignKey("workspaces.id"), primary_key=True),
    Column("header_key", String(64), primary_key=True),  # sha256 of the sorted, normalised header names
    Column("format", String(20), nullable=False),
    Column("remap", Text, nullable=False),  # JSON: field -> column header
    Column("saved_by", String(320), nullable=False),
    Column("saved_at", String(40), nullable=False),
)



def header_key(header: list[str]) -> str:
    from skureel.catalog.values import norm_header

    names = sorted({norm_header(h) for h in header if h.strip()})
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def saved(store: Any, workspace_id: int, key: str, feed_format: str) -> dict[str, Any] | None:
    query = select(saved_mappings).where(saved_mappings.c.workspace_id == workspace_id,
                                         saved_mappings.c.header_key == key, saved_mappings.c.format == feed_format)
    with engine_for(store, saved_mappings).connect() as c:
        row = c.execute(query).mappings().first()
    return {**dict(row), "remap": json.loads(row["remap"])} if row else None


def save(store: Any, workspace_id: int, key: str, feed_format: str, remap: dict[str, str], who: str) -> None:
    with engine_for(store, saved_mappings).begin() as c:
        c.execute(delete(saved_mappings).where(saved_mappings.c.workspace_id == workspace_id,
                                               saved_mappings.c.header_key == key))
        if remap:
            c.execute(insert(saved_mappings).values(workspace_id=workspace_id, header_key=key, format=feed_format,
                                                    remap=json.dumps(remap, sort_keys=True), saved_by=who,
                                                    saved_at=now()))


def apply_saved(store: Any, workspace_id: int, sheet: Path, report: dict[str, Any]) -> dict[str, Any]:
    """At upload: the report re-made with the workspace's saved mapping for this header set, when there is one."""
    from skureel.web.batches import validation_report

    if not report.get("header") or report.get("remap"):
        return report
    found = saved(store, workspace_id, header_key(report["header"]), str(report.get("format")))
    if found is None:
        return report
    remapped = validation_report(sheet, found["remap"])
    if not remapped.get("format"):  # the saved mapping no longer fits (a column went): keep the plain report
        return report
    remapped["saved_mapping"] = {"saved_by": found["saved_by"], "saved_at": found["saved_at"]}
    remapped["detected"] = report.get("mapping", [])
    return remapped


def remap_from_form(form: dict[str, str], fields: list[str], header: list[str]) -> dict[str, str]:
    """Only fields of the format and columns of the sheet; a field left on its detected column needs no entry."""
    remap: dict[str, str] = {}
    for field in fields:
        key = f"field.{field}"
        if key in form:
            column = form[key]
            remap[field] = column if column in header else ""
    return remap


def changed_only(remap: dict[str, str], detected: list[dict[str, Any]]) -> dict[str, str]:
    current = {m["field"]: m["column"] for m in detected}
    return {f: c for f, c in remap.items() if current.get(f, "") != c}


def detected(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """The mapping ingest found on its own (kept beside a remap, so a remap is stored as a difference to it)."""
    report = batch["report"]
    return list(report.get("detected") or ([] if report.get("remap") else report.get("mapping", [])))
