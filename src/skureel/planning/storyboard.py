"""One generation for several shots of one SKU: Kling 3.0's multi-shot storyboard (hero -> detail -> in use).

The product then looks the same in every shot (one model run sees them all) and is paid once per storyboard; the
clip is cut back into the shots afterwards. Used only when every shot is planned on the same multi-shot model.
"""

from __future__ import annotations

from collections.abc import Sequence

from skureel.domain import ShotSpec
from skureel.prompts import RenderedPrompt
from skureel.providers.base import StoryShot
from skureel.providers.capabilities import model_caps

MAX_SHOTS = 6
SHOT_PROMPT_CHARS = 512


def _short(prompt: str, limit: int = SHOT_PROMPT_CHARS) -> str:
    """The prompt cut at a sentence end under the per-shot limit (subject and action come first in ours)."""
    if len(prompt) <= limit:
        return prompt
    cut = prompt[:limit]
    end = cut.rfind(". ")
    return cut[: end + 1] if end > limit // 3 else cut.rstrip()


def storyboard_for(shots: Sequence[tuple[ShotSpec, RenderedPrompt]]) -> list[StoryShot] | None:
    """The storyboard for a SKU's shots, or None when they cannot share one generation: fewer than two, an avatar,
    different providers or models, a model without multi-shot, or more shots than the model takes."""
    usable = [(s, r) for s, r in shots if s.kind != "avatar"]
    if len(usable) < 2 or len(usable) != len(shots) or len(usable) > MAX_SHOTS:
        return None
    first = usable[0][1]
    if any((r.provider, r.model, r.params) != (first.provider, first.model, first.params) for _, r in usable):
        return None
    caps = model_caps(first.provider, first.model)
    if caps.model is None or not caps.model.multi_shot:
        return None
    seconds = [max(1, int(round(r.duration_s))) for _, r in usable]
    top = int(max(caps.durations_s))
    while sum(seconds) > top:  # trim the longest shot first, never below a second
        longest = max(range(len(seconds)), key=lambda i: seconds[i])
        if seconds[longest] <= 1:
            return None
        seconds[longest] -= 1
    if sum(seconds) < min(caps.durations_s):
        return None
    return [StoryShot(shot_id=s.shot_id, prompt=_short(r.prompt), duration_s=float(d))
            for (s, r), d in zip(usable, seconds, strict=True)]
