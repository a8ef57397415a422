"""Motion control as Kling ships it: the body motion of the brand's reference clip moved onto in-use and avatar
shots (an avatar's clip is then lip-synced by Kling to our own speech, see providers/kling.py).

Kling's Motion Control (../shared/reference/kling-v3.md section 2) takes one image and a reference video and returns
a clip as long as the usable reference: no duration, aspect, seed or sound of its own. Camera moves are not part of
it: they stay in the prompt (and in `camera_control` for the shots that keep the classic endpoints).
"""

from __future__ import annotations

from skureel.domain import BrandKit, LintFinding, ShotSpec
from skureel.prompts import RenderedPrompt

# the planned model -> the Motion Control model_name it maps to (2.6 and the 3.0 family; older models have none)
MOTION_MODELS = {"kling-v2-6": "kling-v2-6", "kling-v3": "kling-v3", "kling-v3-omni": "kling-v3"}
MOTION_KINDS = ("in_use", "avatar")  # avatars: motion control on the presenter, then Kling's lip-sync to our speech


def with_motion(shot: ShotSpec, rendered: RenderedPrompt, brand: BrandKit) -> tuple[RenderedPrompt, LintFinding | None]:
    """The rendering with the reference in its params (so in its content key: another clip is another purchase),
    or unchanged; a warning when the kit's reference cannot reach the vendor."""
    ref = brand.motion_reference
    if not ref or shot.kind not in MOTION_KINDS or rendered.provider != "kling":
        return rendered, None
    if shot.kind != "avatar" and rendered.model not in MOTION_MODELS:  # the avatar endpoint has no model of its own
        return rendered, None
    if not ref.startswith(("https://", "http://")):
        return rendered, LintFinding(
            severity="warning", sku=shot.sku, shot_id=shot.shot_id, field="motion_reference", provider="kling",
            message="the brand kit's motion reference is a file; Kling fetches the clip by URL, so this shot is made "
                    "without it (give its https URL in brand.yaml)")
    params = {k: v for k, v in rendered.params.items() if k != "sound"}  # the output has no generated sound
    params |= {"motion_reference": ref, "orientation": "image"}  # framing from the photo, camera from the prompt
    return rendered.model_copy(update={"params": params, "audio": False}), None
