"""Spreadsheet-safe exports: every text cell that a spreadsheet could evaluate is neutralised."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00")


def neutralise(value: object) -> object:
    """Prefix a quote to text starting with a formula trigger; numbers stay numbers (OWASP CSV injection)."""
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], sheet: str = "report") -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append([neutralise(h) for h in header])
    for row in rows:
        worksheet.append([neutralise(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_table(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    suffix = path.suffix.casefold()
    if suffix == ".xlsx":
        atomic_write_bytes(path, xlsx_bytes(header, rows))
    elif suffix == ".json":
        records = [dict(zip(header, row, strict=True)) for row in rows]
        atomic_write_bytes(path, json.dumps(records, indent=2, ensure_ascii=False, default=str).encode())
    else:
        atomic_write_bytes(path, csv_bytes(header, rows))
