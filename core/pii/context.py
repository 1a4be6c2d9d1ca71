"""Keyword windows: what precedes a candidate decides some detections."""

from __future__ import annotations

import re


def before(text: str, start: int, width: int = 40) -> str:
    """The lower-cased text in the `width` characters before `start`, on the same line."""
    lo = max(0, start - width)
    chunk = text[lo:start]
    nl = chunk.rfind("\n")
    if nl >= 0:
        chunk = chunk[nl + 1 :]
    return chunk.lower()


def keywords(*words: str) -> re.Pattern[str]:
    """A pattern that finds any of `words` as whole words (case already lowered)."""
    return re.compile(r"(?<![a-z])(?:" + "|".join(words) + r")(?![a-z])")
