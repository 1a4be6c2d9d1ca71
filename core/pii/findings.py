"""The finding model and how overlapping findings are resolved."""

from __future__ import annotations

import bisect

import msgspec

EMAIL = "email"
PHONE = "phone"
CARD = "card"
IBAN = "iban"
NATIONAL_ID = "national_id"
IP = "ip"
SECRET = "secret"
TYPES = (EMAIL, PHONE, CARD, IBAN, NATIONAL_ID, IP, SECRET)


class Finding(msgspec.Struct, frozen=True, order=True):
    """One detection: `text[start:end]` is the matched span (end exclusive).

    `confidence` is per-mille (0–1000): integers only, as everything on the chain.
    `detail` names the rule (`us_ssn`, `visa`, `aws_access_key_id`, …), never the text.
    """

    start: int
    end: int
    type: str
    confidence: int
    detail: str = ""

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end


def resolve(findings: list[Finding]) -> list[Finding]:
    """Drop findings that overlap a stronger one; the rest in text order.

    Stronger: higher confidence, then the longer span (a JWT beats the high-entropy run
    inside it; a private-key block beats everything within it).
    """
    if len(findings) < 2:
        return list(findings)
    ranked = sorted(findings, key=lambda f: (-f.confidence, -(f.end - f.start), f.start))
    starts: list[int] = []
    kept: list[Finding] = []  # sorted by start, never overlapping
    for f in ranked:
        i = bisect.bisect_left(starts, f.start)
        if i > 0 and kept[i - 1].end > f.start:
            continue
        if i < len(kept) and kept[i].start < f.end:
            continue
        starts.insert(i, f.start)
        kept.insert(i, f)
    return kept
