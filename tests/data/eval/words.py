"""Content words: what the paraphrase property ("no content word shared with the target")
compares. Stopwords are English function words; stemming is deliberately simple and strict
(suffix stripping, plus: a stem of five letters or more that begins another counts as shared)."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing don done down during each either few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once one only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up us
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves get got s t also
    """.split()
)
_SUFFIXES = (
    "ational",
    "ations",
    "ation",
    "ments",
    "ment",
    "ingly",
    "edly",
    "ness",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
)
_TOKEN = re.compile(r"[a-z0-9]+")


def stem(word: str) -> str:
    w = word.lower()
    for suf in _SUFFIXES:
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            w = w[: -len(suf)]
            break
    if w.endswith("e") and len(w) > 3:
        w = w[:-1]
    if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "aeiou":
        w = w[:-1]  # stopped -> stop
    return w


def content_stems(text: str) -> set[str]:
    return {stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS}


def shared(query: str, target: str) -> set[tuple[str, str]]:
    """Pairs of (query stem, target stem) that count as one content word."""
    q, t = content_stems(query), content_stems(target)
    out = set()
    for a in q:
        for b in t:
            short, long_ = sorted((a, b), key=len)
            if a == b or (len(short) >= 5 and long_.startswith(short)):
                out.add((a, b))
    return out
