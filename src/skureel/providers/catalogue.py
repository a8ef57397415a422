"""The models each provider serves, after ../shared/reference/kling-v3.md and providers.md.

Prices with `price_confirmed=False` are estimates (third-party listings or conflicting snapshots); the reference marks
them "unconfirmed". Kling changes its API monthly: re-check before going live.
"""

from __future__ import annotations

from skureel.providers.modelspec import ModelSpec

ANY_3_15 = tuple(float(s) for s in range(3, 16))
ANY_3_30 = tuple(float(s) for s in range(3, 31))
FIVE_TEN = (5.0, 10.0)

_KLING_V3_PRICE = {"std": 0.084, "pro": 0.112, "std+audio": 0.126, "pro+audio": 0.168}  # 1 unit ~ $0.14, unconfirmed

KLING = (
    ModelSpec(id="kling-v1-6", label="Kling 1.6", durations_s=FIVE_TEN, camera_control=True),
    ModelSpec(id="kling-v2-1", label="Kling 2.1", durations_s=FIVE_TEN, camera_control=True),
    ModelSpec(id="kling-v2-1-master", label="Kling 2.1 Master", durations_s=FIVE_TEN, camera_control=True),
    ModelSpec(id="kling-v2-5-turbo", label="Kling 2.5 Turbo", durations_s=FIVE_TEN, camera_control=True),
    ModelSpec(id="kling-v2-6", label="Kling 2.6", durations_s=FIVE_TEN, camera_control=True, audio=True,
              audio_field="sound", default_mode="pro", note="sound needs pro"),
    ModelSpec(id="kling-v3", label="Kling Video 3.0", durations_s=ANY_3_15, camera_control=True, audio=True,
              audio_field="sound", multi_shot=True, default_mode="pro", price_per_second_usd=_KLING_V3_PRICE,
              note="camera_control on v3 unconfirmed"),
    ModelSpec(id="kling-v3-omni", label="Kling Video 3.0 Omni (O3)", durations_s=ANY_3_15, camera_control=False,
              audio=True, audio_field="sound", multi_shot=True, max_references=6, endpoint="/v1/videos/omni-video",
              default_mode="pro", price_per_second_usd=_KLING_V3_PRICE,
              note="image_list: the SKU's own gallery"),
)

_FAL_KLING = "fal-ai/kling-video"
FAL = (
    ModelSpec(id=f"{_FAL_KLING}/v2.1/standard/image-to-video", label="Kling 2.1 std", durations_s=FIVE_TEN,
              image_field="image_url", text_to_video=False, price_per_second_usd={"std": 0.05}),
    ModelSpec(id=f"{_FAL_KLING}/v2.5-turbo/pro/image-to-video", label="Kling 2.5 Turbo pro", durations_s=FIVE_TEN,
              image_field="image_url", text_to_video=False, default_mode="pro", price_per_second_usd={"pro": 0.07}),
    ModelSpec(id=f"{_FAL_KLING}/v3/standard/image-to-video", label="Kling 3.0 std", durations_s=ANY_3_15,
              image_field="start_image_url", text_to_video=False, audio=True, audio_field="generate_audio",
              audio_default=True, multi_shot=True, price_per_second_usd={"std": 0.084, "std+audio": 0.126},
              price_confirmed=True),
    ModelSpec(id=f"{_FAL_KLING}/v3/pro/image-to-video", label="Kling 3.0 pro", durations_s=ANY_3_15,
              image_field="start_image_url", text_to_video=False, audio=True, audio_field="generate_audio",
              audio_default=True, multi_shot=True, default_mode="pro",
              price_per_second_usd={"pro": 0.112, "pro+audio": 0.168},
              note="fal's llms.txt says $0.224 / $0.336: conflicting"),
    ModelSpec(id=f"{_FAL_KLING}/v3/standard/text-to-video", label="Kling 3.0 std T2V", durations_s=ANY_3_15,
              image_to_video=False, audio=True, audio_field="generate_audio", audio_default=True, multi_shot=True,
              price_per_second_usd={"std": 0.084, "std+audio": 0.126}, price_confirmed=True),
    ModelSpec(id=f"{_FAL_KLING}/o3/standard/image-to-video", label="Kling O3 (3.0 Omni) std", durations_s=ANY_3_15,
              image_field="image_url", text_to_video=False, audio=True, audio_field="generate_audio",
              audio_default=False, multi_shot=True, price_per_second_usd={"std": 0.084, "std+audio": 0.112}),
    ModelSpec(id=f"{_FAL_KLING}/o3/pro/image-to-video", label="Kling O3 pro", durations_s=ANY_3_15,
              image_field="image_url", text_to_video=False, audio=True, audio_field="generate_audio",
              audio_default=False, multi_shot=True, default_mode="pro",
              price_per_second_usd={"pro": 0.112, "pro+audio": 0.14}, note="price per a reseller"),
    ModelSpec(id=f"{_FAL_KLING}/o3/standard/reference-to-video", label="Kling O3 std references", durations_s=ANY_3_15,
              image_field="start_image_url", references_field="image_urls", max_references=6, audio=True,
              audio_field="generate_audio", audio_default=False, multi_shot=True,
              price_per_second_usd={"std": 0.084, "std+audio": 0.112}),
    ModelSpec(id="kling/v4/image-to-video", label="Kling 4.0", durations_s=ANY_3_30, image_field="start_image_url",
              text_to_video=False, audio=True, audio_field="generate_audio", audio_default=True, multi_shot=True,
              price_per_second_usd={"std": 0.157, "pro": 0.235},
              note="720p/1080p, stereo audio; audio field name unconfirmed"),
    ModelSpec(id="kling/v4/text-to-video", label="Kling 4.0 T2V", durations_s=ANY_3_30, image_to_video=False,
              audio=True, audio_field="generate_audio", audio_default=True, multi_shot=True,
              price_per_second_usd={"std": 0.157, "pro": 0.235}),
)

REPLICATE = (
    ModelSpec(id="kwaivgi/kling-v2.1", label="Kling 2.1", durations_s=FIVE_TEN, image_field="start_image",
              mode_values={"std": "standard", "pro": "pro"}),
    ModelSpec(id="kwaivgi/kling-v3-video", label="Kling 3.0", durations_s=ANY_3_15, image_field="start_image",
              audio=True, audio_field="generate_audio", audio_default=False, multi_shot=True, default_mode="pro",
              mode_values={"std": "standard", "pro": "pro"}, price_per_second_usd=_KLING_V3_PRICE,
              note="duration is an integer; multi_prompt a JSON string"),
    ModelSpec(id="kwaivgi/kling-v3-omni-video", label="Kling 3.0 Omni", durations_s=ANY_3_15,
              image_field="start_image", references_field="reference_images", max_references=6, audio=True,
              audio_field="generate_audio", audio_default=False, multi_shot=True, default_mode="pro",
              mode_values={"std": "standard", "pro": "pro"}, price_per_second_usd=_KLING_V3_PRICE),
)

MINIMAX = (
    ModelSpec(id="MiniMax-Hailuo-02", label="Hailuo 02", durations_s=(6.0, 10.0), resolutions=("768P", "1080P"),
              hd_max_s=6.0, note="512P for I2V too; first+last frame"),
    ModelSpec(id="MiniMax-Hailuo-2.3", label="Hailuo 2.3", durations_s=(6.0, 10.0), resolutions=("768P", "1080P"),
              hd_max_s=6.0),
    ModelSpec(id="MiniMax-Hailuo-2.3-Fast", label="Hailuo 2.3 Fast", durations_s=(6.0, 10.0),
              resolutions=("768P", "1080P"), hd_max_s=6.0, text_to_video=False, note="image-to-video only"),
)

VEO = (
    ModelSpec(id="veo-3.1-fast-generate-preview", label="Veo 3.1 Fast", audio=True,
              price_per_second_usd={"fast": 0.15}, note="always generates audio"),
    ModelSpec(id="veo-3.1-generate-preview", label="Veo 3.1", audio=True, price_per_second_usd={"std": 0.40},
              note="always generates audio"),
)
