"""Social format presets (reference/formats.md §0, §1): sizes, platforms, duration limits, safe zones."""

from __future__ import annotations

from skureel.domain import FormatPreset, SafeZone

# 9:16 safe zone: the single-master rule (overlays inside x 65-885 of 1080... we keep the union of
# Meta Reels, TikTok and Shorts: top 270, bottom 670, left 65, right 195 for the action rail).
PRESETS: dict[str, FormatPreset] = {
    "9x16": FormatPreset(name="9x16", aspect="9:16", width=1080, height=1920,
                         platforms=["tiktok", "instagram_reels", "facebook_reels", "stories", "youtube_shorts",
                                    "snapchat", "pinterest", "merchant_center"],
                         min_duration_s=6, max_duration_s=60, safe_zone=SafeZone(top=270, bottom=670, left=65, right=195)),
    "4x5": FormatPreset(name="4x5", aspect="4:5", width=1080, height=1350,
                        platforms=["instagram_feed", "facebook_feed", "linkedin", "pinterest"],
                        min_duration_s=6, max_duration_s=60, safe_zone=SafeZone(top=64, bottom=64, left=64, right=64)),
    "1x1": FormatPreset(name="1x1", aspect="1:1", width=1080, height=1080,
                        platforms=["facebook_feed", "instagram_feed", "linkedin", "x", "meta_catalog", "merchant_center"],
                        min_duration_s=6, max_duration_s=60, safe_zone=SafeZone(top=64, bottom=64, left=64, right=64)),
    "16x9": FormatPreset(name="16x9", aspect="16:9", width=1920, height=1080,
                         platforms=["youtube", "x", "linkedin", "shopify_product_page", "merchant_center"],
                         min_duration_s=6, max_duration_s=600, safe_zone=SafeZone(top=64, bottom=96, left=96, right=96)),
    "2x3": FormatPreset(name="2x3", aspect="2:3", width=1000, height=1500, platforms=["pinterest"],
                        min_duration_s=6, max_duration_s=60, safe_zone=SafeZone(top=120, bottom=160, left=60, right=60)),
}
DEFAULT_FORMATS = ("9x16", "4x5", "1x1", "16x9")


def preset(name: str, overrides: dict[str, dict[str, int]] | None = None) -> FormatPreset:
    base = PRESETS[name.replace(":", "x")]
    if overrides and base.name in overrides:
        zone = base.safe_zone.model_copy(update=overrides[base.name])
        return base.model_copy(update={"safe_zone": zone})
    return base
