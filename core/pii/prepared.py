"""One cheap pass over a body, shared by every detector.

Running each detector's regular expressions over a whole 10 KB body costs a few hundred
microseconds apiece; two dozen of them blow the 2 ms budget. Instead a few passes find where
anything could be: numeric clusters (phones, cards, ids, IPv4), long tokens (keys, JWTs,
high-entropy strings), lines that hold a secret keyword, and the characters that gate the rest
(`@`, `::`, `-----BEGIN`). Detectors then run their patterns only inside those windows, with
`pattern.finditer(text, lo, hi)` so that lookbehinds still see the real text before a window.
"""

from __future__ import annotations

import re

# Seven or more characters of digits and the separators numbers are written with.
_CLUSTER = re.compile(r"\d[\d \-./()]{5,}\d", re.ASCII)
# Long runs of the characters keys and tokens are made of.
_TOKEN = re.compile(r"[A-Za-z0-9+/_.~%-]{15,}={0,2}")

_NON_DIGITS = re.compile(r"\D+", re.ASCII)
_ASCII_LOWER = {c: c + 32 for c in range(65, 91)}

LEFT = 5  # room before a cluster for "+", "(", "00", a country code, an id's letter prefix
RIGHT = 6  # room after it for a check letter and the two characters a lookahead reads


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


class Prepared:
    """A body and its candidate windows, computed on first use."""

    __slots__ = ("_clusters", "_low", "_tokens", "n", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.n = len(text)
        self._low: str | None = None
        self._clusters: list[tuple[int, int, int]] | None = None
        self._tokens: list[tuple[int, int]] | None = None

    @property
    def low(self) -> str:
        if self._low is None:
            low = self.text.lower()
            if len(low) != self.n:  # "İ" lowers to two code points: keep offsets aligned
                low = self.text.translate(_ASCII_LOWER)
            self._low = low
        return self._low

    def clusters(self) -> list[tuple[int, int, int]]:
        """Merged windows around numeric clusters: (lo, hi, digits in the window)."""
        if self._clusters is None:
            n = self.n
            spans = [
                (max(0, m.start() - LEFT), min(n, m.end() + RIGHT))
                for m in _CLUSTER.finditer(self.text)
            ]
            text = self.text
            self._clusters = [
                (lo, hi, len(_NON_DIGITS.sub("", text[lo:hi]))) for lo, hi in merge(spans)
            ]
        return self._clusters

    def tokens(self) -> list[tuple[int, int]]:
        if self._tokens is None:
            text = self.text
            spans = []
            for m in _TOKEN.finditer(text):
                s, e = m.span()
                while text[e - 1] in ".-~%" and e - s > 15:
                    e -= 1  # a full stop after a key is the sentence's
                spans.append((s, e))
            self._tokens = spans
        return self._tokens

    def around(
        self, needle: str, left: int, right: int, low: bool = False
    ) -> list[tuple[int, int]]:
        """Merged windows around every occurrence of `needle`."""
        hay = self.low if low else self.text
        spans = []
        i = hay.find(needle)
        while i >= 0:
            spans.append((max(0, i - left), min(self.n, i + len(needle) + right)))
            i = hay.find(needle, i + 1)
        return merge(spans)

    def lines_with(self, words: tuple[str, ...]) -> list[tuple[int, int]]:
        """The lines (start, end) whose lower-cased text holds any of `words`."""
        low = self.low
        text = self.text
        spans = []
        for w in words:
            i = low.find(w)
            while i >= 0:
                ls = text.rfind("\n", 0, i) + 1
                le = text.find("\n", i)
                if le < 0:
                    le = self.n
                spans.append((ls, le))
                i = low.find(w, le)
        return merge(spans)
