"""Uploads: the sheet's type sniffed from its bytes, an optional images zip unpacked safely, generated names only.

The original file name is kept as display text; nothing a user sends becomes a path. An images zip is refused
whole when any entry tries to leave its folder (`..`, absolute paths, links) or expands beyond the caps.
"""

from __future__ import annotations

import secrets
import shutil
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from skureel.domain import SkureelError

_BINARY_MAGIC = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"%PDF": "a PDF document",
                 b"GIF8": "a GIF image", b"\x7fELF": "a program", b"MZ": "a program", b"\x1f\x8b": "a gzip archive",
                 b"Rar!": "a RAR archive", b"7z\xbc\xaf": "a 7-Zip archive"}
_CHUNK = 1 << 20


class UploadRefused(SkureelError):
    """An upload we will not store; `status` is the HTTP answer (413 too large, 415 wrong type, 422 unsafe)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def sniff_sheet(head: bytes, members: list[str] | None) -> str:
    """The sheet's real type from its first bytes (and zip member names): xlsx, csv, tsv or xml."""
    if head.startswith(b"PK"):
        names = set(members or [])
        if "xl/vbaProject.bin" in names:
            raise UploadRefused("the workbook contains macros (vbaProject.bin); save it as a plain .xlsx", 415)
        if "xl/workbook.xml" in names and "[Content_Types].xml" in names:
            return "xlsx"
        raise UploadRefused("this ZIP archive is not an .xlsx workbook; send images as the separate images zip", 415)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadRefused("a legacy .xls or password-protected workbook; save it as .xlsx without a password", 415)
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise UploadRefused(f"the file is {what}, not a catalog; upload .xlsx, .csv, .tsv or a feed .xml", 415)
    if b"\x00" in head:
        raise UploadRefused("the file is binary, not a catalog; upload .xlsx, .csv, .tsv or a feed .xml", 415)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \r\n\t")
    if text.startswith(b"<"):
        return "xml"
    first = text.split(b"\n", 1)[0]
    return "tsv" if first.count(b"\t") > max(first.count(b","), first.count(b";")) else "csv"


def _zip_members(path: Path) -> list[str] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except zipfile.BadZipFile:
        return None


def save_stream(source: BinaryIO, dest: Path, max_bytes: int) -> int:
    """Copy an uploaded part to `dest`, refusing it past `max_bytes` (the request guard caps the whole body too)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with dest.open("wb") as out:
        while chunk := source.read(_CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise UploadRefused(f"the upload is larger than the {max_bytes / 1e6:g} MB limit", 413)
            out.write(chunk)
    if size == 0:
        raise UploadRefused("the file is empty", 422)
    return size


def new_upload_dir(root: Path) -> Path:
    folder = root / secrets.token_hex(12)
    (folder / "files").mkdir(parents=True)
    return folder


def store_sheet(raw: Path, folder: Path) -> Path:
    """Move the received sheet to a generated name in the batch's files folder, by its sniffed type."""
    with raw.open("rb") as handle:
        head = handle.read(65536)
    kind = sniff_sheet(head, _zip_members(raw) if head.startswith(b"PK") else None)
    files = folder / "files"
    while True:  # a generated name that no zip entry took
        dest = files / f"sheet-{secrets.token_hex(6)}.{kind}"
        if not dest.exists():
            break
    shutil.move(str(raw), dest)
    return dest


def _safe_member(name: str) -> PurePosixPath | None:
    """The member's relative path, None for entries to skip, or a refusal for an entry that leaves the folder."""
    clean = name.replace("\\", "/")
    if clean.endswith("/") or clean.startswith("__MACOSX/") or PurePosixPath(clean).name == ".DS_Store":
        return None
    path = PurePosixPath(clean)
    if path.is_absolute() or clean.startswith("/") or (len(clean) > 1 and clean[1] == ":") or ".." in path.parts:
        raise UploadRefused(f"the images zip has an entry that points outside its folder ({name!r}); refused whole")
    parts = [p for p in path.parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def unpack_images(archive_path: Path, folder: Path, *, max_members: int, max_bytes: int) -> int:
    """Unpack an images zip into the batch's files folder; returns the number of files written."""
    files = (folder / "files").resolve()
    try:
        archive = zipfile.ZipFile(archive_path)
    except zipfile.BadZipFile as exc:
        raise UploadRefused("the images upload is not a ZIP archive", 415) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > max_members:
            raise UploadRefused(f"the images zip has {len(infos)} entries, over the {max_members} limit")
        declared = sum(i.file_size for i in infos)
        if declared > max_bytes:
            raise UploadRefused(f"the images zip expands to {declared / 1e6:.0f} MB, over the {max_bytes / 1e6:g} MB limit")
        plan: list[tuple[zipfile.ZipInfo, Path]] = []
        for info in infos:
            rel = _safe_member(info.filename)
            if rel is None:
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UploadRefused(f"the images zip has a link ({info.filename!r}); refused whole")
            dest = (files / str(rel)).resolve()
            if not dest.is_relative_to(files):
                raise UploadRefused(f"the images zip has an entry that points outside its folder ({info.filename!r})")
            plan.append((info, dest))
        written = 0
        total = 0
        for info, dest in plan:  # sizes in the headers can lie: count what actually inflates
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, dest.open("wb") as out:
                while chunk := src.read(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        raise UploadRefused(f"the images zip expands beyond the {max_bytes / 1e6:g} MB limit")
                    out.write(chunk)
            written += 1
    return written
