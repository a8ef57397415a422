"""Run manifest (JSON and a spreadsheet-safe CSV), sidecars and the HTML report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from skureel.exports import csv_bytes
from skureel.naming import clip_stem
from skureel.paths import templates_dir

MANIFEST_COLUMNS = ["sku", "title", "shot", "kind", "format", "platforms", "width", "height", "duration_s", "fps",
                    "provider", "model", "seed", "prompt", "content_key", "input_fingerprint", "cost_usd", "uri",
                    "poster_uri", "sidecar_uri", "sha256", "bytes", "created_at", "version", "status", "label",
                    "lufs_i", "true_peak_db", "tag_brand", "tag_campaign", "tag_category", "tag_material", "tag_colour",
                    "tag_locale", "ai_generated", "qa_score", "qa_flags"]


def flatten(row: dict[str, Any]) -> list[object]:
    tags = row.get("tags", {})
    values: list[object] = []
    for column in MANIFEST_COLUMNS:
        if column.startswith("tag_"):
            values.append(tags.get(column[4:], ""))
        elif column == "platforms":
            values.append(" ".join(row.get("platforms", [])))
        elif column == "qa_flags":  # the QA gate's failing measures, e.g. "colour text" (skureel.pipeline.gate)
            values.append(" ".join(row.get("qa_flags", [])))
        else:
            values.append(row.get(column, ""))
    return values


def manifest_json(rows: list[dict[str, Any]], summary: dict[str, Any]) -> bytes:
    return json.dumps({"summary": summary, "deliverables": rows}, indent=2, ensure_ascii=False, default=str).encode()


def manifest_csv(rows: list[dict[str, Any]]) -> bytes:
    return csv_bytes(MANIFEST_COLUMNS, [flatten(r) for r in rows])


def sidecar(row: dict[str, Any], product_source: str, gtins: list[str]) -> bytes:
    """House sidecar convention (reference/formats.md §3.3)."""
    data = {
        "asset_id": clip_stem(row["sku"], row["shot"], row["format"]),
        "file": {"bytes": row["bytes"], "sha256": row["sha256"]},
        "video": {"w": row["width"], "h": row["height"], "fps": row["fps"], "duration_s": row["duration_s"], "codec": "h264"},
        "audio": {"lufs_i": row.get("lufs_i"), "true_peak": row.get("true_peak_db")},
        "preset": row["format"], "platforms": row["platforms"],
        "product": {"source": product_source, "product_key": row["sku"], "variant_keys": row.get("variant_keys", []),
                    "gtin": gtins},
        "title": row["title"], "description": row.get("description", ""), "keywords": row.get("keywords", []),
        "rights": {"copyright": row["tags"].get("brand", ""), "usage_terms": "", "expires": None},
        "provenance": {"digital_source_type": "http://cv.iptc.org/newscodes/digitalsourcetype/"
                       + ("trainedAlgorithmicMedia" if row["provider"] != "local" else "compositeWithTrainedAlgorithmicMedia"),
                       "ai_generated": row["ai_generated"], "model": row["model"], "provider": row["provider"],
                       "prompt": row["prompt"], "content_key": row["content_key"], "c2pa": None},
        "label": row.get("label", ""), "created_at": row["created_at"], "tags": row["tags"],
    }
    if "qa_score" in row:  # the QA gate's verdict on the generated base clip (skureel.pipeline.gate)
        data["qa"] = {"qa_score": row["qa_score"], "qa_flags": row.get("qa_flags", []),
                      "reasons": row.get("qa_reasons", []), "attempts": row.get("qa_attempts", 1)}
    return json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()


def render_report(rows: list[dict[str, Any]], failures: list[dict[str, Any]], summary: dict[str, Any], out_root: str) -> bytes:
    env = SandboxedEnvironment(loader=FileSystemLoader(str(templates_dir() / "report")), autoescape=select_autoescape(["html", "j2"]))
    by_sku: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = by_sku.setdefault(row["sku"], {"sku": row["sku"], "title": row["title"], "shots": {}})
        shot = entry["shots"].setdefault(row["shot"], {"prompt": row["prompt"], "provider": row["provider"],
                                                       "cost_usd": row["cost_usd"], "label": row.get("label", ""),
                                                       "clips": []})
        shot["clips"].append({**row, "href": _relative(row["uri"], out_root), "poster": _relative(row.get("poster_uri", ""), out_root)})
    html = env.get_template("report.html.j2").render(products=list(by_sku.values()), failures=failures, summary=summary)
    return html.encode()


def _relative(uri: str, root: str) -> str:
    if uri and "://" not in uri and root:
        try:
            return str(Path(uri).relative_to(root))
        except ValueError:
            return uri
    return uri
