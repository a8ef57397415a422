"""Opening user files safely and turning them into header + rows, wherever the header sits."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from skureel.catalog.values import norm_header
from skureel.domain import UnusableInput

MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_XLSX_ENTRIES = 5_000
MAX_XLSX_RATIO = 200
csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class Table:
    """Rows of strings under a header; row_numbers are as a spreadsheet user counts them."""

    header: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    sheet: str | None = None
    index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        width = len(self.header)
        for i, row in enumerate(self.rows):
            if len(row) < width:  # ragged rows (WooCommerce) are padded
                self.rows[i] = row + [""] * (width - len(row))
        self.index = {}
        for pos, name in enumerate(self.header):
            self.index.setdefault(norm_header(name), pos)


def check_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """Read the first bytes after checking existence and size; every failure is one line."""
    if not path.exists():
        raise UnusableInput(f"{path}: file not found")
    if path.is_dir():
        raise UnusableInput(f"{path}: is a folder; give the catalog file inside it")
    size = path.stat().st_size
    if size == 0:
        raise UnusableInput(f"{path}: file is empty")
    if size > max_bytes:
        raise UnusableInput(
            f"{path}: file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit; split the catalog"
        )
    with path.open("rb") as fh:
        return fh.read(8192)


def decode_text(path: Path, data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnusableInput(f"{path}: broken UTF-16 text; save it as UTF-8 CSV") from exc
    head = data[:8192]
    if head.count(b"\x00") > max(8, len(head) // 50):
        raise UnusableInput(f"{path}: is a binary file, not a CSV/TSV text file")
    # a stray NUL in one cell must not sink the file: it becomes U+FFFD, visible in that row's values
    data = data.replace(b"\x00", "\ufffd".encode())
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything
        raise UnusableInput(f"{path}: unknown text encoding; save it as UTF-8")
    # WordPress exports can leak whitespace before the BOM
    text = text.lstrip(" \t\r\n").lstrip("\ufeff")
    if not text.strip():
        raise UnusableInput(f"{path}: file is empty")
    return text


def sniff_delimiter(sample: str) -> str:
    first = sample.split("\n", 5)
    counts = {d: sum(line.count(d) for line in first) for d in ("\t", ",", ";", "|")}
    return max(counts, key=lambda d: counts[d])


def read_delimited(path: Path) -> list[list[str]]:
    check_file(path)
    text = decode_text(path, path.read_bytes())
    delimiter = sniff_delimiter(text[:20000])
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise UnusableInput(f"{path}: not a readable CSV ({exc})") from exc


def check_xlsx_archive(path: Path) -> None:
    head = check_file(path)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnusableInput(
            f"{path}: password-protected workbook or legacy .xls; save it as .xlsx without a password"
        )
    if not head.startswith(b"PK"):
        raise UnusableInput(f"{path}: not an .xlsx workbook (the file is not a ZIP archive); re-save it from Excel")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_XLSX_ENTRIES:
                raise UnusableInput(f"{path}: workbook has {len(infos)} parts; refusing a possible zip bomb")
            total = sum(i.file_size for i in infos)
            packed = sum(i.compress_size for i in infos) or 1
            if total > MAX_XLSX_UNCOMPRESSED or total / packed > MAX_XLSX_RATIO:
                raise UnusableInput(
                    f"{path}: workbook expands to {total / 1e6:.0f} MB ({total / packed:.0f}x); refusing a possible zip bomb"
                )
            if "xl/workbook.xml" not in archive.namelist():
                raise UnusableInput(f"{path}: corrupt .xlsx (no workbook inside); re-save it from Excel")
    except zipfile.BadZipFile as exc:
        raise UnusableInput(f"{path}: corrupt .xlsx ({exc}); re-save it from Excel") from exc


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_xlsx(path: Path, sheet: str | None, scorer: "HeaderScorer") -> Table:
    check_xlsx_archive(path)
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise UnusableInput(f"{path}: corrupt .xlsx ({type(exc).__name__}: {exc}); re-save it from Excel") from exc
    try:
        names = workbook.sheetnames
        if sheet is not None and sheet not in names:
            raise UnusableInput(f"{path}: no sheet named {sheet!r}; sheets are {', '.join(names)}")
        candidates = [sheet] if sheet else names
        for name in candidates:
            worksheet = workbook[name]
            rows: list[list[str]] = []
            for raw in worksheet.iter_rows(values_only=True):
                rows.append([_cell(v) for v in raw])
            try:
                return locate_header(rows, scorer, sheet=name)
            except UnusableInput:
                if sheet:
                    raise
        raise UnusableInput(f"{path}: no sheet has a recognisable header row (looked at {', '.join(names)})")
    finally:
        workbook.close()


class HeaderScorer:
    """Counts how many cells of a row are known column names."""

    def __init__(self, known: set[str]) -> None:
        self.known = known

    def score(self, row: list[str]) -> int:
        return sum(1 for cell in row if cell and norm_header(cell) in self.known)


def locate_header(rows: list[list[str]], scorer: HeaderScorer, sheet: str | None = None) -> Table:
    """The header is the best-scoring row among the first 30 (title and instruction rows tolerated)."""
    best, best_score = -1, 1
    for i, row in enumerate(rows[:30]):
        score = scorer.score(row)
        if score > best_score:
            best, best_score = i, score
    if best < 0:
        raise UnusableInput("no recognisable header row in the first 30 rows")
    header = [c.strip() for c in rows[best]]
    while header and not header[-1]:
        header.pop()
    body: list[list[str]] = []
    numbers: list[int] = []
    for offset, row in enumerate(rows[best + 1 :], start=best + 2):
        if "".join(row).strip():  # a row with any non-blank cell (one C call instead of a generator per row)
            body.append(row)
            numbers.append(offset)
    return Table(header=header, rows=body, row_numbers=numbers, sheet=sheet)
