"""Planning's caches and shortcuts say exactly what the slow way says: the prompt lint's fast paths and text cache,
and the template digest read from the files' stamps (issue 16: planning CPU)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from skureel.domain import Product, ShotSpec
from skureel.keys import content_key, template_digest
from skureel.planning import load_vocabulary, plan_product
from skureel.planning import promptlint as pl
from skureel.prompts import RenderedPrompt

ROOT = Path(__file__).resolve().parents[1]

# where a shortcut could part from the regex: case, word edges, letters re.I folds but lower() does not (the
# dotless i, the long s, the Kelvin sign), a tone word at the very start, two candidates where only the later matches
TRICKY = [
    "Set: a DARK graphite studio set, pale cream backdrop.",
    "darkness set; a black-ish wall; black   velvet   room",
    "undark set, xblack wall, a deep blue cyclorama",
    "a mıdnight set and a pale ſweep", "a low-\u212aey room, a high-key wall",
    "Graphite-grey backdrop with a bright white sweep",
    "light grey walls, light and airy set", "pale", "set", "", "dark dark dark",
    "a black leather strap on a white studio table, light falls on the sweep",
    "black, then a wall", "deep  set", "Deep Ocean Set", "a charcoal\tset", "été sombre: dark set, pale wall",
]
MOTION_TEXTS = ["The LIGHT MOVES across it", "a Highlight sweeps", "draped linen", "the lid rises", "a meniscus",
                "nothing at all", "ﬂutter", "light  moves", "lıd opens", "a glınt", "breeze"]


@pytest.mark.parametrize("text", TRICKY)
def test_the_set_rule_finds_what_its_regex_finds(text: str) -> None:
    for pattern, starts in ((pl._DARK, pl._DARK_STARTS), (pl._PALE, pl._PALE_STARTS)):
        fast, slow = pl._first_match(pattern, starts, text), pattern.search(text)
        assert (fast and (fast.span(), fast.group(0))) == (slow and (slow.span(), slow.group(0))), text


@pytest.mark.parametrize("text", MOTION_TEXTS)
def test_the_motion_words_are_found_as_their_regex_finds_them(text: str) -> None:
    for effect, pattern in pl._MOTION_WORDS.items():
        assert pl._says_motion(effect, text) == bool(pattern.search(text)), (effect, text)


def test_phrase_shortcut_keeps_every_repeat_and_ignores_echoes_across_punctuation() -> None:
    assert pl.repeated_phrases("soft light from the upper left; key light from the upper left") == [
        "light from the upper left"]
    assert pl.repeated_phrases("push in slow, push in slow") == ["push in slow"]
    # the same three words across punctuation (the shortcut's mark words repeat there), or only small words: none
    assert pl.repeated_phrases("slow push in. slow push. in slow push") == []
    assert pl.repeated_phrases("a b c, a b. c and then a b. c") == []
    assert pl.repeated_phrases("in and of the, in and of the") == []


def _shot() -> ShotSpec:
    from skureel.catalog.brandkit import load_brand_kit

    product = Product(key="m", sku="AUR-MUG", title="Stoneware Mug", material="ceramic", category="Home > Kitchen",
                      images=["a.jpg"])
    return plan_product(product, load_brand_kit(ROOT / "brand_kits" / "aurora"), load_vocabulary(), provider="kling")[0]


def _fields(shot: ShotSpec, prompt: str) -> list[str]:
    rendered = RenderedPrompt(provider="kling", model="kling-v2-5-turbo", prompt=prompt, duration_s=5,
                              aspect_ratio="9:16")
    return sorted(f"{f.field}: {f.message}" for f in pl.lint_prompt(shot, rendered))


def test_the_text_cache_answers_for_its_own_text_only() -> None:
    shot = _shot()
    clean = f"{shot.subject} stands still. Set: a pale cream sweep. Camera: slow push-in. 5 seconds."
    sloppy = (f"{shot.subject} stands still. Set: a dark graphite set, pale cream backdrop. Lighting: from the "
              "upper left, soft shadow, soft light from the upper left. 5 seconds.")
    pl.clear_cache()
    first = [_fields(shot, clean), _fields(shot, sloppy)]
    again = [_fields(shot, clean), _fields(shot, sloppy)]  # now from the cache
    assert first == again
    assert not [f for f in first[0] if f.startswith(("wording", "environment"))]
    assert any(f.startswith("environment: the set contradicts itself: 'dark graphite set'") for f in first[1])
    assert any("from the upper left" in f for f in first[1]) and any("soft x2" in f for f in first[1])
    # another product's title in the same words is the same text to the wording rules: read once
    other = shot.model_copy(update={"title": "Enamel Jug", "subject": "the Enamel Jug"})
    before = pl._read_ours.cache_info().hits
    _fields(other, sloppy.replace(shot.subject, other.subject))
    assert pl._read_ours.cache_info().hits == before + 1


def _full_digest(folder: Path, provider: str) -> str:
    """The template digest as it was defined: every covered file hashed, on every call."""
    names = [n for n in sorted(p.name for p in folder.glob("*.j2")) if n in (f"{provider}.j2", "_scene.j2",
                                                                          "avatar_script.j2")]
    data = {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def test_template_digest_is_the_full_digest_and_follows_an_edit(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    monkeypatch.setenv("SKUREEL_TEMPLATES_DIR", str(templates))
    prompts = templates / "prompts"
    for provider in ("kling", "veo", "local", "no-such-provider"):
        assert template_digest(provider) == _full_digest(prompts, provider)
    shot, before = _shot(), template_digest("kling")
    key = content_key(shot, ["0" * 64], "kling", "kling-v2-5-turbo", {}, _kit())
    edited = prompts / "kling.j2"
    edited.write_text(edited.read_text() + "\n{# a marketer's edit #}\n")
    stat = edited.stat()
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # a new stamp even on a coarse clock
    assert template_digest("kling") == _full_digest(prompts, "kling") != before
    assert content_key(shot, ["0" * 64], "kling", "kling-v2-5-turbo", {}, _kit()) != key  # an edit buys anew
    (prompts / "_scene.j2").unlink()
    assert template_digest("kling") == _full_digest(prompts, "kling")


def _kit():  # type: ignore[no-untyped-def]
    from skureel.catalog.brandkit import load_brand_kit

    return load_brand_kit(ROOT / "brand_kits" / "aurora")
