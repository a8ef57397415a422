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
from functools import lru_cache

from skureel.domain import LintFinding, ShotSpec
from skureel.prompts import RenderedPrompt, wording

SCRIPT_PROVIDERS = ("heygen", "did")  # their "prompt" is the presenter's script, not a scene
_BREAK = re.compile(r"[^\w\s'-]+")  # punctuation: a phrase never runs across it
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")  # as prompts.vary_wording reads words: "soft-touch" is not "soft"
_STOP = frozenset("a an the of in on to and with as its it at from for by is into over while then or but".split())
_ARTICLES = ("the", "a", "an", "our", "this", "each")
_SECONDS = re.compile(r"\b(\d+(?:\.\d+)?)[- ]?(?:seconds?|secs?)\b", re.I)
_SET_NOUN = r"(?:set|backdrop|background|sweep|wall|walls|cyclorama|room)"
# each tone's words, as the set rule reads them (a word followed by up to two more, then a set noun); the regexes are
# the rule, the literal starts only say where a match can begin (see _first_match)
_DARK_WORDS = ("dark", "darker", "black", "graphite", "charcoal", "midnight", r"deep \w+", "low-key")
_PALE_WORDS = ("pale", "white", "cream", "ivory", "bright", r"light \w+", "high-key")


def _tone(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(words) + r")\s+(?:[\w-]+\s+){0,2}?" + _SET_NOUN + r"\b", re.I)


def _starts(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({w.split(" ")[0].split("\\")[0] for w in words}))


_DARK, _PALE = _tone(_DARK_WORDS), _tone(_PALE_WORDS)
_DARK_STARTS, _PALE_STARTS = _starts(_DARK_WORDS), _starts(_PALE_WORDS)
_SOFT_BODY = re.compile(r"\b(supple|creas(?:e|es|ing)|drap(?:e|es|ing)|sway(?:s|ing)?|rippl(?:e|es|ing)|"
                        r"flutter(?:s|ing)?|folds|squash|bounc(?:e|es|ing)|compress(?:es)?|springs? back|snaps? back|"
                        r"bends?)\b", re.I)
# the words that tell a model what the local renderer's motion does (render/effects.py material_motion), matched
# anywhere (a word's start is enough: "drap" is drape, draped, draping)
_MOTION_LITERALS: dict[str, tuple[str, ...]] = {
    "light_sweep": ("highlight", "sweep", "sheen", "glint", "sparkle", "catch", "glide", "reflection", "raking",
                    "light moves", "light travels"),
    "cloth_ripple": ("drap", "sway", "rippl", "fold", "flutter", "breeze", "settle", "hangs"),
    "shimmer": ("pour", "drip", "swirl", "shimmer", "droplet", "splash", "wobble", "meniscus"),
    "reveal": ("lid", "reveal", "rises", "open"),
}
_MOTION_WORDS = {effect: re.compile("|".join(map(re.escape, words)), re.I) for effect, words in _MOTION_LITERALS.items()}


def _first_match(pattern: re.Pattern[str], starts: tuple[str, ...], text: str) -> re.Match[str] | None:
    """`pattern.search(text)`, without scanning every position of a 600-character prompt: on ASCII text (where
    re.I is plain lower-casing) a match can only begin where one of its literal starts does, so it is tried there
    alone, leftmost first. Other text goes to the regex as it is (re.I folds a few letters lower() does not)."""
    if not text.isascii():
        return pattern.search(text)
    lowered = text.lower()
    found: list[int] = []
    for start in starts:
        at = lowered.find(start)
        while at >= 0:
            found.append(at)
            at = lowered.find(start, at + 1)
    for at in sorted(set(found)):
        match = pattern.match(text, at)  # \b still sees the character before `at`
        if match:
            return match
    return None


def _says_motion(effect: str, text: str) -> bool:
    """Whether `text` says one of the motion's words (as `_MOTION_WORDS[effect].search`, found by substring)."""
    if not text.isascii():
        return _MOTION_WORDS[effect].search(text) is not None
    lowered = text.lower()
    return any(word in lowered for word in _MOTION_LITERALS[effect])


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


def _counts(runs: list[list[str]], n: int) -> Counter[tuple[str, ...]]:
    counts: Counter[tuple[str, ...]] = Counter()
    for run in runs:
        counts.update(tuple(run[i : i + n]) for i in range(len(run) - n + 1))
    return counts


def _grams(runs: list[list[str]], n: int) -> dict[str, int]:
    return {" ".join(g): c for g, c in _counts(runs, n).items() if c > 1 and not _STOP.issuperset(g)}


def repeated_phrases(text: str, n: int = 3) -> list[str]:
    """Phrases of n or more words said more than once (not across punctuation, not made only of small words),
    longest first: "from the upper left" once, not also "from the upper" and "the upper left"."""
    folded = text.casefold()
    # the usual case, checked cheaply first (in C): no n words said twice in a row anywhere, so no phrase either;
    # punctuation becomes a mark word, so a phrase across it may only send a text on to the full count below
    marked = _BREAK.sub(" \x00 ", folded).split()
    grams = list(zip(*(marked[i:] for i in range(n)), strict=False))  # the shorter tails end it
    if len(set(grams)) == len(grams):
        return []
    runs = [run.split() for run in _BREAK.split(folded)]
    if not any(c > 1 and not _STOP.issuperset(g) for g, c in _counts(runs, n).items()):
        return []
    found: list[str] = []
    for size in range(max((len(r) for r in runs), default=0), n - 1, -1):
        found += [g for g in _grams(runs, size) if not any(g in f for f in found)]
    return found


def repeated_words(text: str) -> list[str]:
    """Watched adjectives (and their adverbs) said more than once, as 'soft x2'."""
    table = wording()
    said = [word for word in _WORD.findall(text.casefold()) if word in table]
    if len(said) < 2:
        return []
    families = Counter(table[word][0] for word in said)
    if len(families) == len(said):
        return []  # the usual case: each watched word said once
    names: dict[str, str] = {}
    for word in said:
        names.setdefault(table[word][0], word)
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


@lru_cache(maxsize=4096)
def _read_ours(ours: str) -> tuple[tuple[str, ...], tuple[str, ...], str | None, str | None]:
    """The rules that read only our own words (repeated phrases and words, the set's tone), once per distinct text:
    with the catalog text left out, the shots of a catalog share a few dozen texts (66 for bench/plan.py's 12,857)."""
    dark, pale = _first_match(_DARK, _DARK_STARTS, ours), _first_match(_PALE, _PALE_STARTS, ours)
    return (tuple(repeated_phrases(ours)), tuple(repeated_words(ours)), dark.group(0) if dark else None,
            pale.group(0) if pale else None)


def clear_cache() -> None:
    """Forget the texts read so far (benchmarks measure a cold run; the wording table is read once per process)."""
    _read_ours.cache_clear()


def lint_prompt(shot: ShotSpec, rendered: RenderedPrompt, *, rigid: bool = False) -> list[LintFinding]:
    """The director's read of one rendered prompt; `rigid` says the product's category holds its shape."""
    name = rendered.provider
    out: list[LintFinding] = []
    if name in SCRIPT_PROVIDERS:
        return out
    phrases, words, dark, pale = _read_ours(_ours(rendered.prompt, shot.subject, shot.title))
    if phrases:
        out.append(_finding("warning", shot, "wording", "repeats " + ", ".join(repr(p) for p in phrases[:4]), name))
    if words:
        out.append(_finding("warning", shot, "wording", "says " + ", ".join(words) + " (say each once)", name))
    if dark and pale:
        out.append(_finding("warning", shot, "environment", f"the set contradicts itself: {dark!r} and {pale!r}", name))
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
    if shot.motion_effect in _MOTION_WORDS and not _says_motion(shot.motion_effect,
                                                                f"{shot.action} {shot.material_physics}"):
        out.append(_finding("warning", shot, "material", f"the local clip moves as {shot.motion_effect!r} but the "
                            "prompt never says so", name))
    return out
