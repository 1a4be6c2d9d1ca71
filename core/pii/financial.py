"""Payment cards (issuer prefix, length and Luhn) and IBANs (country format and mod-97)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from core.pii.checksums import luhn_ok, mod97_ok
from core.pii.context import before, keywords
from core.pii.findings import CARD, IBAN, Finding
from core.pii.prepared import Prepared

# 13–19 digits, optionally grouped by single spaces or dashes; not inside a longer number,
# a decimal or an identifier.
_CARD = re.compile(r"(?<![\w.,/-])\d(?:[ -]?\d){12,18}(?![\w]|[.,-]\d)", re.ASCII)

# (name, prefix ranges as (low, high) over the leading digits, allowed lengths)
_ISSUERS: tuple[tuple[str, tuple[tuple[int, int], ...], tuple[int, ...]], ...] = (
    ("amex", ((34, 34), (37, 37)), (15,)),
    ("visa", ((4, 4),), (13, 16, 19)),
    ("mastercard", ((51, 55), (2221, 2720)), (16,)),
    ("discover", ((6011, 6011), (644, 649), (65, 65)), (16, 19)),
    ("jcb", ((3528, 3589),), (16, 17, 18, 19)),
    ("diners", ((300, 305), (36, 36), (38, 39)), (14, 16, 19)),
    ("unionpay", ((62, 62),), (16, 17, 18, 19)),
    (
        "maestro",
        ((5018, 5018), (5020, 5020), (5038, 5038), (5893, 5893), (6304, 6304)),
        (12, 13, 16, 19),
    ),
    ("mir", ((2200, 2204),), (16,)),
)


def issuer(digits: str) -> str | None:
    for name, ranges, lengths in _ISSUERS:
        if len(digits) not in lengths:
            continue
        for lo, hi in ranges:
            width = len(str(lo))
            if lo <= int(digits[:width]) <= hi:
                return name
    return None


def cards(p: Prepared) -> Iterator[Finding]:
    text = p.text
    for lo, hi, digits in p.clusters():
        if digits >= 13:
            yield from _cards(text, lo, hi)


def _cards(text: str, lo: int, hi: int) -> Iterator[Finding]:
    for m in _CARD.finditer(text, lo, hi):
        s = m.group()
        seps = {c for c in s if not c.isdigit()}
        if len(seps) > 1:
            continue
        digits = s.replace(" ", "").replace("-", "")
        if seps:
            groups = [len(g) for g in re.split(r"[ -]", s)]
            # 4-4-4-4(-3), Amex 4-6-5, Diners 4-6-4; anything else is some other number
            if not (
                all(g == 4 for g in groups[:-1])
                and 1 <= groups[-1] <= 4
                or groups in ([4, 6, 5], [4, 6, 4])
            ):
                continue
        if len(set(digits)) < 2 or not luhn_ok(digits):
            continue
        name = issuer(digits)
        if name is None:
            continue
        if not seps and _BARCODE_WORDS.search(before(text, m.start(), 24)):
            continue  # an EAN or tracking number that happens to pass Luhn
        yield Finding(m.start(), m.end(), CARD, 950 if seps else 900, name)


# The first letter before the lookbehind, so the engine can skip ahead to capitals.
_IBAN = re.compile(r"[A-Z](?<![\w][A-Z])[A-Z]\d{2}(?:[ ]?[A-Z0-9]){10,32}\b", re.ASCII)
_BARCODE_WORDS = keywords(
    "ean", "gtin", "upc", "isbn", "sku", "barcode", "tracking", "order", "invoice", "imei", "serial"
)


def _iban_is_valid(compact: str) -> bool:
    if not mod97_ok(compact):
        return False
    from stdnum import iban as stdnum_iban  # country lengths and BBAN formats

    return bool(stdnum_iban.is_valid(compact))


def ibans(p: Prepared) -> Iterator[Finding]:
    text = p.text
    for m in _IBAN.finditer(text):
        s = m.group()
        # The greedy match may run into the next word ("… 00 EUR"): try each group end,
        # longest first.
        ends = [i + 1 for i, c in enumerate(s) if c != " " and (i + 1 == len(s) or s[i + 1] == " ")]
        for e in reversed(ends):
            compact = s[:e].replace(" ", "")
            if len(compact) < 15:
                break
            if len(compact) <= 34 and _iban_is_valid(compact):
                yield Finding(m.start(), m.start() + e, IBAN, 950, compact[:2].lower())
                break


def iban_token(text: str, start: int, end: int) -> Finding | None:
    """A compact IBAN written in lower case (the upper-case pass does not see it)."""
    tok = text[start:end]
    if 15 <= len(tok) <= 34 and tok.isalnum() and tok[:2].isalpha() and tok[2:4].isdigit():
        if tok[:2].islower() and _iban_is_valid(tok.upper()):
            return Finding(start, end, IBAN, 800, tok[:2])
    return None
