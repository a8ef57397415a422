"""Provenance in the published file: XMP (IPTC DigitalSourceType) inside the MP4 and a C2PA manifest signed with a
throw-away certificate chain, read back with the same library after publishing to a folder target."""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from pathlib import Path

import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from defusedxml import ElementTree
from tests.conftest import ROOT
from tests.test_targets_contracts import tiny_mp4

from skureel.publish.targets.base import TargetConfigError
from skureel.publish.targets.output import publish_output
from skureel.publish.targets.provenance import IPTC, read_xmp

PHOTO = ROOT / "catalogs" / "sample" / "images" / "mug.png"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "t")])


def throwaway_chain() -> tuple[bytes, bytes]:
    """A CA and an ES256 signing certificate with the key usages C2PA requires: (chain PEM, key PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    usage = {k: False for k in ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
                                "encipher_only", "decipher_only")}
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def cert(subject: str, public: ec.EllipticCurvePublicKey, is_ca: bool) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name("skureel test CA"))
                   .public_key(public).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
                   .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=is_ca, crl_sign=is_ca, **usage),
                                  critical=True))
        if not is_ca:
            builder = (builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                       .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                                      critical=False)
                       .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False))
        return builder.sign(ca_key, hashes.SHA256())

    ca = cert("skureel test CA", ca_key.public_key(), True)
    leaf = cert("skureel signer", key.public_key(), False)
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)
    return chain, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())


def test_published_clip_carries_xmp_and_a_verifiable_c2pa_manifest(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    (run / "clips" / "MUG-1").mkdir(parents=True)
    clip = tiny_mp4(run / "clips" / "MUG-1" / "MUG-1__hero__9x16.mp4")
    data = clip.read_bytes()
    row = {"sku": "MUG-1", "shot": "hero", "format": "9x16", "title": "Stoneware Mug", "description": "A mug.",
           "uri": str(clip), "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "content_key": "ck-123",
           "provider": "kling", "model": "kling-v2", "seed": 42, "ai_generated": True, "status": "delivered",
           "tags": {"brand": "Aurora Goods", "campaign": "autumn"}, "source_image": str(PHOTO),
           "sidecar_uri": str(clip.with_suffix(".json"))}
    clip.with_suffix(".json").write_text(json.dumps({"provenance": {"c2pa": None}}))
    (run / "manifest.json").write_text(json.dumps({"summary": {}, "deliverables": [row]}))
    kit = tmp_path / "kit"
    kit.mkdir()
    chain, key = throwaway_chain()
    (kit / "signer.pem").write_bytes(chain)
    (kit / "targets.yaml").write_text(f"targets:\n  folder: {{path: '{tmp_path / 'dam'}'}}\n"
                                      "provenance: {c2pa: true, cert_chain: signer.pem, rights: '(c) Aurora Goods'}\n")
    monkeypatch.setenv("SKUREEL_C2PA_PRIVATE_KEY", key.decode())
    monkeypatch.setenv("SKUREEL_CACHE_DIR", str(tmp_path / "cache"))

    report = publish_output(str(run), ["folder"], brand_kit=kit)
    assert not report.failures and report.count("uploaded") == 1
    published = Path(report.results[0].url)
    assert published.exists() and published.read_bytes() != data

    xmp = ElementTree.fromstring(read_xmp(published) or "")
    ns = {"Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/", "dc": "http://purl.org/dc/elements/1.1/",
          "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
    assert xmp.find(".//Iptc4xmpExt:DigitalSourceType", ns).text == IPTC + "compositeWithTrainedAlgorithmicMedia"
    assert xmp.find(".//dc:title/rdf:Alt/rdf:li", ns).text == "Stoneware Mug"
    assert xmp.find(".//dc:rights/rdf:Alt/rdf:li", ns).text == "(c) Aurora Goods"
    assert {li.text for li in xmp.findall(".//dc:subject/rdf:Bag/rdf:li", ns)} == {"Aurora Goods", "autumn"}

    with c2pa.Reader(str(published)) as reader:
        store = json.loads(reader.json())
    # a throw-away chain is untrusted, but the manifest and the hash of the file must verify
    assert store["validation_state"] in ("Valid", "Trusted"), store.get("validation_status")
    assert {s["code"] for s in store.get("validation_status", [])} <= {"signingCredential.untrusted"}
    manifest = store["manifests"][store["active_manifest"]]
    actions = next(a["data"]["actions"] for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    created = next(a for a in actions if a["action"] == "c2pa.created")
    assert created["digitalSourceType"] == IPTC + "trainedAlgorithmicMedia"
    assert created["parameters"]["content_key"] == "ck-123" and created["parameters"]["seed"] == 42
    assert [i["title"] for i in manifest["ingredients"]] == ["mug.png"]
    kept = json.loads(clip.with_suffix(".json").read_text())["provenance"]["c2pa"]  # for targets that re-encode
    assert kept["active_manifest"] == store["active_manifest"]
    assert kept["signed_file_sha256"] == hashlib.sha256(published.read_bytes()).hexdigest()

    again = publish_output(str(run), ["folder"], brand_kit=kit)
    assert again.count("unchanged") == 1
    shutil.rmtree(tmp_path / "dam")  # the copy is cached: a re-publish sends the same signed bytes
    monkeypatch.delenv("SKUREEL_C2PA_PRIVATE_KEY")
    with pytest.raises(TargetConfigError, match="SKUREEL_C2PA_PRIVATE_KEY"):
        publish_output(str(run), ["folder"], brand_kit=kit)
