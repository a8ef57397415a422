"""Provenance that travels with the file: XMP inside the MP4 (IPTC DigitalSourceType, title, description,
keywords, rights) and, when the brand configures a signer, a C2PA manifest signed through `c2pa-python` (the
generation as actions: provider, model, seed, content key; the SKU photo as an ingredient when the row names it).

The published copy is made once per (clip sha256, provenance settings) and cached, so a rerun uploads the same
bytes; the clip's identity everywhere else stays the manifest's sha256. XMP goes in first as a top-level `uuid`
box appended after the media (no offsets move); C2PA then signs the whole file (it hashes the boxes).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import uuid
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from pydantic import BaseModel, ConfigDict

from skureel.publish.targets.base import Deliverable, TargetConfigError, credential

XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")  # the XMP box of ISO BMFF (XMP spec part 3)
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


class ProvenanceOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    c2pa: bool = False
    cert_chain: str = ""  # PEM, leaf first, relative to the brand kit
    private_key_env: str = "SKUREEL_C2PA_PRIVATE_KEY"  # PEM text of the key (or a Prefect Secret of that name)
    algorithm: str = "es256"
    timestamp_url: str | None = None
    rights: str = ""


def source_type(item: Deliverable) -> str:
    """The local studio composite uses no trained model; hosted generations are composed with brand overlays."""
    if item.provider in ("", "local") and not item.ai_generated:
        return IPTC + "compositeSynthetic"
    return IPTC + "compositeWithTrainedAlgorithmicMedia"


def xmp_packet(item: Deliverable, rights: str) -> bytes:
    keywords = "".join(f"<rdf:li>{escape(v)}</rdf:li>" for v in item.tags.values() if v)
    text = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" '
        'xmlns:skureel="https://skureel.dev/ns/1.0/">'
        f"<Iptc4xmpExt:DigitalSourceType>{source_type(item)}</Iptc4xmpExt:DigitalSourceType>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(item.title or item.sku)}</rdf:li></rdf:Alt></dc:title>'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(item.description)}</rdf:li></rdf:Alt>'
        f"</dc:description><dc:subject><rdf:Bag>{keywords}</rdf:Bag></dc:subject>"
        f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{escape(rights)}</rdf:li></rdf:Alt></dc:rights>'
        f"<skureel:sku>{escape(item.sku)}</skureel:sku><skureel:contentKey>{escape(item.content_key)}</skureel:contentKey>"
        f"<skureel:aiGenerated>{'True' if item.ai_generated else 'False'}</skureel:aiGenerated>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    return text.encode("utf-8")


def read_xmp(path: Path) -> str | None:
    """The XMP packet of an MP4 (its top-level uuid box), or None."""
    with path.open("rb") as handle:
        while header := handle.read(8):
            size, kind = struct.unpack(">I4s", header)
            head = 8
            if size == 1:
                size, head = struct.unpack(">Q", handle.read(8))[0], 16
            elif size == 0:
                return None
            if kind == b"uuid" and handle.read(16) == XMP_UUID:
                return handle.read(size - head - 16).decode("utf-8")
            handle.seek(size - head - (16 if kind == b"uuid" else 0), os.SEEK_CUR)
    return None


class Provenance:
    def __init__(self, options: ProvenanceOptions, kit: Path | None, cache: Path, lookup: Any = None) -> None:
        self.opts, self.cache = options, cache
        self._signer_parts: tuple[bytes, bytes] | None = None
        if options.c2pa:
            chain = (kit / options.cert_chain) if kit and options.cert_chain else None
            key = credential(options.private_key_env, lookup)
            if chain is None or not chain.exists() or not key:
                raise TargetConfigError(f"provenance: C2PA needs `cert_chain` (a PEM beside brand.yaml) and the key in "
                                        f"{options.private_key_env}")
            self._signer_parts = (chain.read_bytes(), key.encode())
        digest = hashlib.sha256(options.model_dump_json().encode() + (self._signer_parts or (b"", b""))[0])
        self.tag = digest.hexdigest()[:12]

    def prepare(self, item: Deliverable) -> Deliverable:
        """The copy that is published: XMP inside, C2PA signed when configured. Same sha256 (the clip's identity)."""
        dest = self.cache / f"{item.sha256}-{self.tag}.mp4"
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.tmp.mp4")  # C2PA reads the format from the suffix
            shutil.copyfile(item.path, tmp)
            packet = xmp_packet(item, self.opts.rights or item.tags.get("brand", ""))
            with tmp.open("ab") as handle:
                handle.write(struct.pack(">I4s", 8 + 16 + len(packet), b"uuid") + XMP_UUID + packet)
            if self._signer_parts is not None:
                signed = tmp.with_suffix(".signed.mp4")
                self._sign(item, tmp, signed)
                os.replace(signed, tmp)
            os.replace(tmp, dest)
        return item.model_copy(update={"path": dest, "bytes": dest.stat().st_size})

    def summary(self, item: Deliverable) -> dict[str, Any] | None:
        """What the sidecar keeps of the signed copy's C2PA manifest (for targets that re-encode the file)."""
        copy = self.cache / f"{item.sha256}-{self.tag}.mp4"
        if self._signer_parts is None or not copy.exists():
            return None
        import c2pa

        with c2pa.Reader(str(copy)) as reader:
            store = json.loads(reader.json())
        active = store["manifests"][store["active_manifest"]]
        return {"active_manifest": store["active_manifest"], "validation_state": store.get("validation_state"),
                "signed_file_sha256": hashlib.sha256(copy.read_bytes()).hexdigest(), "manifest": active}

    def _sign(self, item: Deliverable, source: Path, dest: Path) -> None:
        import c2pa

        assert self._signer_parts is not None
        chain, key = self._signer_parts
        generated = item.provider not in ("", "local")
        actions: list[dict[str, Any]] = [{
            "action": "c2pa.created",
            "digitalSourceType": IPTC + ("trainedAlgorithmicMedia" if generated else "compositeSynthetic"),
            "parameters": {"provider": item.provider or "local", "model": item.model, "content_key": item.content_key,
                           "seed": item.seed}}]
        if generated:
            actions.append({"action": "c2pa.edited", "digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia",
                            "parameters": {"description": "brand overlays, captions and end card composited"}})
        manifest = {"claim_generator_info": [{"name": "skureel", "version": "0.1.0"}],
                    "title": f"{item.title or item.sku} {item.format}",
                    "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}]}
        try:
            signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(self.opts.algorithm.encode(), chain, key,
                                                               self.opts.timestamp_url))
            with c2pa.Builder(json.dumps(manifest)) as builder:
                photo = item.source_image
                if photo and Path(photo).exists():
                    with open(photo, "rb") as stream:
                        builder.add_ingredient(json.dumps({"title": Path(photo).name, "relationship": "inputTo"}),
                                               _mime(photo), stream)
                builder.sign_file(str(source), str(dest), signer)
        except c2pa.C2paError as exc:
            raise TargetConfigError(f"provenance: C2PA signing failed ({str(exc)[:200]})") from exc


def _mime(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return {".png": "image/png", ".webp": "image/webp", ".avif": "image/avif"}.get(suffix, "image/jpeg")
