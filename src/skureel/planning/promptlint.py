"""Lint a rendered prompt the way a director reads it: one rule per habit of a sloppy brief.

- wording: no phrase of three or more words said twice, and each watched adjective (templates/vocab/wording.yaml,
  "soft", "slow", ...) said once, its adverb included;
- set: the set and the backdrop do not contradict each other ("a dark graphite studio set ... pale cream backdrop");
- subject: the product named once, with an article;
- duration: the seconds in the text are the seconds sent to the provider;
- material: a rigid product (its category's recipe says so) does not move like cloth ("supple, creases softly"), and
  the local renderer's motion (the blueprint's motion_effect) is the one the words describe.

Catalog text (the subject: title, colour, material) is left out of the wording rules: a title may say "Soft".
"""

from __future__ import annotations

import re
from collections import Counter

from skureel.domain import LintFinding, ShotSpec
from skureel.prompts import RenderedPrompt, wording

SCRIPT_PROVIDERS = ("heygen", "did")  # their "prompt" is the presenter's script, not a scene
_BREAK = re.compile(r"[^\w\s'-]+")  # punctuation: a phrase never runs across it
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")  # as prompts.vary_wording reads words: "soft-touch" is not "soft"
_STOP = frozenset("a an the of in on to and with as its it at from for by is into over while then or but".split())
_ARTICLES = ("the", "a", "an", "our", "this", "each")
_SECONDS = re.compile(r"\b(\d+(?:\.\d+)?)[- ]?(?:seconds?|secs?)\b", re.I)
_SET_NOUN = r"(?:set|backdrop|background|sweep|wall|walls|cyclorama|room)"
_DARK = re.compile(r"\b(dark|darker|black|graphite|charcoal|midnight|deep \w+|low-key)\s+(?:[\w-]+\s+){0,2}?"
                   + _SET_NOUN + r"\b", re.I)
_PALE = re.compile(r"\b(pale|white|cream|ivory|bright|light \w+|high-key)\s+(?:[\w-]+\s+){0,2}?" + _SET_NOUN
                   + r"\b", re.I)
_SOFT_BODY = re.compile(r"\b(supple|creas(?:e|es|ing)|drap(?:e|es|ing)|sway(?:s|ing)?|rippl(?:e|es|ing)|"
                        r"flutter(?:s|ing)?|folds|squash|bounc(?:e|es|ing)|compress(?:es)?|springs? back|snaps? back|"
                        r"bends?)\b", re.I)
# the words that tell a model what the local renderer's motion does (render/effects.py material_motion)
_MOTION_WORDS = {effect: re.compile(words, re.I) for effect, words in {
    "light_sweep": r"highlight|sweep|sheen|glint|sparkle|catch|glide|reflection|raking|light (?:moves|travels)",
    "cloth_ripple": r"drap|sway|rippl|fold|flutter|breeze|settle|hangs",
    "shimmer": r"pour|drip|swirl|shimmer|droplet|splash|wobble|meniscus",
    "reveal": r"lid|reveal|rises|open",
}.items()}


def _finding(severity: str, shot: ShotSpec, field: str, message: str, provider: str) -> LintFinding:
    return LintFinding(severity=severity, sku=shot.sku, shot_id=shot.shot_id, field=field, message=message,
                       provider=provider)


def _ours(prompt: str, subject: str, title: str) -> str:
    """The prompt without catalog text (the renderer writes it verbatim), the product's place marked by a stop so
    no phrase runs across it. A plain replace: one regex per title would be compiled for every product."""
    for catalog in (subject, subject[:1].upper() + subject[1:], title):
        if catalog:
            prompt = prompt.replace(catalog, " | ")
    return prompt


def _grams(runs: list[list[str]], n: int) -> dict[str, int]:
    counts: Counter[tuple[str, ...]] = Counter()
    for run in runs:
        counts.update(tuple(run[i : i + n]) for i in range(len(run) - n + 1))
    return {" ".join(g): c for g, c in counts.items() if c > 1 and not _STOP.issuperset(g)}


def repeated_phrases(text: str, n: int = 3) -> list[str]:
    """Phrases of n or more words said more than once (not across punctuation, not made only of small words),
    longest first: "from the upper left" once, not also "from the upper" and "the upper left"."""
    runs = [run.split() for run in _BREAK.split(text.casefold())]
    seen: set[tuple[str, ...]] = set()
    for run in runs:  # the usual case, checked cheaply first: no phrase of n words said twice, so no longer one
        for i in range(len(run) - n + 1):
            gram = tuple(run[i : i + n])
            if gram in seen and not _STOP.issuperset(gram):
                break
            seen.add(gram)
        else:
            continue
        break
    else:
        return []
    found: list[str] = []
    for size in range(max((len(r) for r in runs), default=0), n - 1, -1):
        found += [g for g in _grams(runs, size) if not any(g in f for f in found)]
    return found


def repeated_words(text: str) -> list[str]:
    """Watched adjectives (and their adverbs) said more than once, as 'soft x2'."""
    table = wording()
    families: Counter[str] = Counter()
    names: dict[str, str] = {}
    for word in _WORD.findall(text.casefold()):
        if word in table:
            family = table[word][0]
            families[family] += 1
            names.setdefault(family, word)
    return [f"{names[f]} x{c}" for f, c in families.items() if c > 1]


def _subject_problem(prompt: str, title: str) -> str | None:
    title = " ".join(title.split())
    wanted = title.casefold()
    if not wanted:
        return None
    folded = prompt.casefold()  # searched without a regex: one per title would be compiled for every product
    count = folded.count(wanted)
    if count != 1:
        return f"names {title!r} {count} times (name the product once, then say 'it')"
    if wanted.split(" ", 1)[0] in _ARTICLES:
        return None
    before = folded[: folded.find(wanted)].rstrip().rsplit(" ", 1)[-1].strip("[]:,.")
    return None if before in _ARTICLES else f"names {title!r} without an article ('the {title}')"


def lint_prompt(shot: ShotSpec, rendered: RenderedPrompt, *, rigid: bool = False) -> list[LintFinding]:
    """The director's read of one rendered prompt; `rigid` says the product's category holds its shape."""
    name = rendered.provider
    out: list[LintFinding] = []
    if name in SCRIPT_PROVIDERS:
        return out
    ours = _ours(rendered.prompt, shot.subject, shot.title)
    phrases = repeated_phrases(ours)
    if phrases:
        out.append(_finding("warning", shot, "wording", "repeats " + ", ".join(repr(p) for p in phrases[:4]), name))
    words = repeated_words(ours)
    if words:
        out.append(_finding("warning", shot, "wording", "says " + ", ".join(words) + " (say each once)", name))
    dark, pale = _DARK.search(ours), _PALE.search(ours)
    if dark and pale:
        out.append(_finding("warning", shot, "environment", f"the set contradicts itself: {dark.group(0)!r} and "
                            f"{pale.group(0)!r}", name))
    problem = _subject_problem(rendered.prompt, shot.title)
    if problem:
        out.append(_finding("warning", shot, "subject", problem, name))
    for said in _SECONDS.findall(rendered.prompt):
        if abs(float(said) - rendered.duration_s) > 1e-6:
            out.append(_finding("error", shot, "duration", f"the prompt says {said} seconds but "
                                f"{rendered.duration_s:g} s is sent", name))
    soft = _SOFT_BODY.search(shot.material_physics)
    if rigid and soft:
        out.append(_finding("warning", shot, "material", f"{shot.material_physics!r} moves like cloth ({soft.group(0)!r}) "
                            "but the product holds its shape", name))
    if rigid and shot.motion_effect == "cloth_ripple":
        out.append(_finding("warning", shot, "material", "a rigid product planned with a cloth drape", name))
    pattern = _MOTION_WORDS.get(shot.motion_effect)
    if pattern and not pattern.search(f"{shot.action} {shot.material_physics}"):
        out.append(_finding("warning", shot, "material", f"the local clip moves as {shot.motion_effect!r} but the "
                            "prompt never says so", name))
    return out
