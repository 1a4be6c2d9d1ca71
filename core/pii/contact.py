"""E-mail addresses and phone numbers.

Phone numbers are validated with `phonenumbers` (libphonenumber's metadata), but only for
candidates that look like a phone number to a reader: an international `+` prefix, a phone
keyword before it (`tel`, `mobile`, `Telefon`, …), or the grouping people write numbers in
(`(415) 555-2671`, `020 7946 0958`). A bare run of digits without a keyword is an order or
record number, not a phone; so is anything a reference keyword (`order`, `invoice`, `#`) precedes.
Dates and dotted quads are never phones.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from core.pii.checksums import digits_of
from core.pii.context import before, keywords
from core.pii.findings import EMAIL, PHONE, Finding
from core.pii.prepared import Prepared

_EMAIL = re.compile(
    r"(?<![\w.%+-])[\w][\w.%+-]{0,63}@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])"
)
# `icon@2x.png`, `pkg@1.2.js`: a file name, not an address.
_NOT_TLD = frozenset(
    "png jpg jpeg gif svg webp ico bmp tif tiff js mjs ts tsx jsx css scss py rb go rs java "
    "json yaml yml toml lock txt md html htm xml pdf zip gz tar".split()
)
_SSH_USERS = frozenset({"git", "hg", "svn"})


def emails(p: Prepared) -> Iterator[Finding]:
    text = p.text
    for lo, hi in p.around("@", 66, 260):
        yield from _emails(text, lo, hi)


def _emails(text: str, lo: int, hi: int) -> Iterator[Finding]:
    for m in _EMAIL.finditer(text, lo, hi):
        s = m.group()
        local, _, domain = s.rpartition("@")
        tld = domain.rsplit(".", 1)[-1].lower()
        if tld in _NOT_TLD or local.endswith("."):
            continue
        if local.lower() in _SSH_USERS and text.startswith(":", m.end()):
            continue  # git@github.com:org/repo.git is a remote, not a person
        ws = max(text.rfind(" ", 0, m.start()), text.rfind("\n", 0, m.start()))
        if "://" in text[ws + 1 : m.start()]:
            continue  # user:password@host in a URL: the password is the secret, not an address
        yield Finding(m.start(), m.end(), EMAIL, 950, "email")


# A run of digits with the separators people write phone numbers with, on one line.
_PHONE = re.compile(
    r"(?<![\w#@/=.+-])(?:\+[ ]?|\b00[ ]?)?(?:\(\d{1,5}\)[ ]?)?\d[\d \t().-]{4,22}\d(?![\w@/]|[.-]\d)",
    re.ASCII,
)
_DATE = re.compile(
    r"\d{4}[-./ ]\d{1,2}[-./ ]\d{1,2}|\d{1,2}[-./ ]\d{1,2}[-./ ]\d{2,4}$|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}",
    re.ASCII,
)
_NOT_PHONE = re.compile(r"[ .-]{2}|\.\d+\.\d+\.\d+\.", re.ASCII)
_THOUSANDS = re.compile(r"\d{1,3}(?:([.,'])\d{3})(?:\1\d{3})*", re.ASCII)  # 12.345.678
_QUAD = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}", re.ASCII)
_PHONE_WORDS = keywords(
    "phone",
    "tel",
    "tél",
    "tfno",
    "telephone",
    "téléphone",
    "telefon",
    "telefono",
    "teléfono",
    "telefoon",
    "mobile",
    "mobil",
    "mob",
    "móvil",
    "cellulare",
    "portable",
    "handy",
    "cell",
    "fax",
    "call",
    "ring",
    "text",
    "sms",
    "whatsapp",
    "signal",
    "contact",
    "reach",
    "dial",
    "hotline",
    "ph",
    "[mtfp][.:]",
)
_REF_WORDS = keywords(
    "order",
    "invoice",
    "ticket",
    "ref",
    "reference",
    "id",
    "no",
    "nr",
    "num",
    "account",
    "acct",
    "tracking",
    "po",
    "sku",
    "serial",
    "build",
    "version",
    "isbn",
    "case",
    "customer",
    "transaction",
    "txn",
    "batch",
    "lot",
    "bestellung",
    "rechnung",
    "commande",
    "facture",
    "pedido",
    "iban",
    "card",
    "ssn",
    "bsn",
)
# Numbers written nationally: with a leading trunk 0 (or Italy's kept 0), or without one.
_TRUNK_REGIONS = (
    "GB",
    "DE",
    "FR",
    "NL",
    "CH",
    "AT",
    "BE",
    "SE",
    "IE",
    "AU",
    "IN",
    "IT",
    "FI",
    "NZ",
)
_PLAIN_REGIONS = ("US", "ES", "IT", "PL", "PT", "DK", "NO")
_LENGTHS: dict[str, frozenset[int]] = {}


def _possible(region: str, digits: str) -> bool:
    """Whether a national number of this many digits can be valid in `region` at all."""
    lengths = _LENGTHS.get(region)
    if lengths is None:
        pn = _phonenumbers()
        meta = pn.PhoneMetadata.metadata_for_region(region)
        lengths = _LENGTHS[region] = frozenset(meta.general_desc.possible_length or ())
    n = len(digits)
    if region == "US" and n == 11 and digits.startswith("1"):
        n = 10
    elif digits.startswith("0") and region != "IT":
        n -= 1
    return n in lengths


def _valid(number: str, regions: tuple[str | None, ...]) -> bool:
    pn = _phonenumbers()
    digits = digits_of(number)
    for region in regions:
        if region is not None and not _possible(region, digits):
            continue
        try:
            parsed = pn.parse(number, region)
        except pn.NumberParseException:
            continue
        if pn.is_valid_number(parsed):
            return True
    return False


_PN: Any = None


def _phonenumbers() -> Any:
    global _PN
    if _PN is None:
        import phonenumbers

        _PN = phonenumbers
    return _PN


def phones(p: Prepared) -> Iterator[Finding]:
    text = p.text
    for lo, hi, digits in p.clusters():
        if digits >= 7:
            yield from _phones(text, lo, hi)


def _phones(text: str, lo: int, hi: int) -> Iterator[Finding]:
    for m in _PHONE.finditer(text, lo, hi):
        s = m.group().rstrip(" \t(.-")
        start = m.start()
        end = start + len(s)
        if s.startswith("(") and ")" not in s:
            s = s[1:]
            start += 1
        if s.count("(") != s.count(")") or "\t" in s:
            continue
        digits = len(digits_of(s))
        if digits < 7 or digits > 15:
            continue
        if _DATE.fullmatch(s) or _DATE.match(s) or _QUAD.fullmatch(s):
            continue
        if _NOT_PHONE.search(s) or _THOUSANDS.fullmatch(s):
            continue
        intl = s.startswith("+") or s.startswith("00")
        ctx = before(text, start, 32)
        keyword = bool(_PHONE_WORDS.search(ctx))
        if not intl and _REF_WORDS.search(ctx[-16:]) and not keyword:
            continue
        grouped = bool(re.search(r"\d[ .-]\d|\(\d", s))
        if intl:
            if _valid(s, (None,)) or (s.startswith("00") and _valid("+" + s[2:].lstrip(), (None,))):
                yield Finding(start, end, PHONE, 900, "phone")
            continue
        if not (keyword or grouped):
            continue
        first = s.lstrip("(")
        regions = _TRUNK_REGIONS if first.startswith("0") else _PLAIN_REGIONS
        if _valid(s, regions):
            yield Finding(start, end, PHONE, 850 if keyword else 750, "phone")
