"""National identity numbers, each validated by its python-stdnum module.

Ids with a strong shape (letters in fixed places, a check letter, dashes where the issuer puts
them) fire on their own. Ids that are a bare run of digits pass a checksum by chance one time in
ten or so, so they need a keyword before them (`SSN`, `BSN`, `Steuer-ID`, `PESEL`, …): without
one a nine- or eleven-digit number is an order or record number.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

from core.pii.checksums import digits_of
from core.pii.context import before, keywords
from core.pii.findings import NATIONAL_ID, Finding
from core.pii.prepared import Prepared


class _Rule:
    __slots__ = ("confidence", "context", "detail", "digits", "module", "shape")

    def __init__(
        self,
        detail: str,
        shape: str,
        module: str,
        digits: tuple[int, ...],
        context: tuple[str, ...] = (),
        confidence: int = 850,
    ) -> None:
        self.detail = detail
        self.shape = re.compile(shape)  # matched against a whole candidate
        self.module = module
        self.digits = digits  # how many digits the id holds
        self.context = keywords(*context) if context else None
        self.confidence = confidence


_SSN_WORDS = ("ssn", "social security", "social sec", "ss#", "ss no", "ss number", "tin", "ssn#")

_RULES: tuple[_Rule, ...] = (
    # United States: area-group-serial, never 000/666/9xx, group 00 or serial 0000
    _Rule("us_ssn", r"\d{3}-\d{2}-\d{4}", "stdnum.us.ssn", (9,)),
    _Rule("us_ssn", r"\d{3} \d{2} \d{4}|\d{9}", "stdnum.us.ssn", (9,), _SSN_WORDS, 800),
    # Spain: DNI (8 digits and a check letter), NIE (X/Y/Z, 7 digits, check letter)
    _Rule("es_dni", r"\d{8}-?[A-HJ-NP-TV-Z]", "stdnum.es.dni", (8,)),
    _Rule("es_nie", r"[XYZ]-?\d{7}-?[A-HJ-NP-TV-Z]", "stdnum.es.nie", (7,)),
    # France: NIR / numéro de sécurité sociale (15 digits, key mod 97)
    _Rule(
        "fr_nir",
        r"[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?\d{2} ?\d{3} ?\d{3} ?\d{2}",
        "stdnum.fr.nir",
        (15,),
    ),
    # Germany: Steuer-Identifikationsnummer (11 digits, ISO 7064 check)
    _Rule(
        "de_idnr",
        r"\d{2} ?\d{3} ?\d{3} ?\d{3}",
        "stdnum.de.idnr",
        (11,),
        (
            "steuer-id",
            "steuerid",
            "steuer id",
            "idnr",
            "identifikationsnummer",
            "steuer-idnr",
            "tax id",
            "tin",
            "steueridentifikationsnummer",
        ),
    ),
    # Netherlands: BSN (9 digits, 11-proof)
    _Rule(
        "nl_bsn",
        r"\d{4}\.?\d{2}\.?\d{3}|\d{9}",
        "stdnum.nl.bsn",
        (9,),
        ("bsn", "burgerservicenummer", "sofinummer", "sofi"),
    ),
    # United Kingdom: NHS number (10 digits, mod 11)
    _Rule("gb_nhs", r"\d{3}[ -]?\d{3}[ -]?\d{4}", "stdnum.gb.nhs", (10,), ("nhs",)),
    # Sweden: personnummer (date and Luhn)
    _Rule(
        "se_personnummer",
        r"(?:19|20)?\d{6}[-+]\d{4}",
        "stdnum.se.personnummer",
        (10, 12),
        confidence=800,
    ),
    # Finland: henkilötunnus (date, century sign, check character)
    _Rule("fi_hetu", r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]", "stdnum.fi.hetu", (9, 10), confidence=900),
    # Denmark: CPR (a date: only with a keyword)
    _Rule("dk_cpr", r"\d{6}-?\d{4}", "stdnum.dk.cpr", (10,), ("cpr", "cpr-nr")),
    # Poland: PESEL (date and check digit)
    _Rule("pl_pesel", r"\d{11}", "stdnum.pl.pesel", (11,), ("pesel",)),
    # Belgium: national number (date and mod 97)
    _Rule(
        "be_nn",
        r"\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}[-. ]?\d{2}",
        "stdnum.be.nn",
        (11,),
        ("rijksregisternummer", "numéro national", "national number", "rrn", "insz"),
    ),
    # Switzerland: AHV/AVS number (756, EAN-13 check)
    _Rule("ch_ahv", r"756\.?\d{4}\.?\d{4}\.?\d{2}", "stdnum.ch.ssn", (13,), confidence=900),
    # Brazil: CPF (two check digits)
    _Rule("br_cpf", r"\d{3}\.\d{3}\.\d{3}-\d{2}", "stdnum.br.cpf", (11,), confidence=900),
    _Rule("br_cpf", r"\d{11}", "stdnum.br.cpf", (11,), ("cpf",)),
    # India: Aadhaar (Verhoeff)
    _Rule(
        "in_aadhaar",
        r"[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}",
        "stdnum.in_.aadhaar",
        (12,),
        ("aadhaar", "aadhar", "uidai"),
    ),
    # Canada: social insurance number (Luhn)
    _Rule(
        "ca_sin",
        r"\d{3}[ -]?\d{3}[ -]?\d{3}",
        "stdnum.ca.sin",
        (9,),
        ("sin", "social insurance", "nas"),
    ),
)
_BY_DIGITS: dict[int, tuple[_Rule, ...]] = {
    n: tuple(r for r in _RULES if n in r.digits) for n in {d for r in _RULES for d in r.digits}
}

# An id-like run: digits with the separators ids are written with, an optional NIE letter
# before and a check character after; a hetu's century letter may sit inside.
_CAND = re.compile(
    r"(?<![\w.\-/+])[XYZ]?-?\d(?:[\d .\-+]|[A-FU-Y](?=\d))*\d(?:-?[A-Z])?(?![\w/]|[.\-]\w)",
    re.ASCII,
)

# Italy: codice fiscale (16 characters, check letter)
_CF = _Rule(
    "it_codice_fiscale",
    r"[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]",
    "stdnum.it.codicefiscale",
    (7,),
    confidence=900,
)

# The UK National Insurance number has no checksum, only a tight shape: two prefix letters
# from a closed set (never BG, GB, NK, KN, TN, NT, ZZ), six digits, suffix A–D.
_NINO = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    re.ASCII,
)

# what precedes a record number, not an id (for ids that need no keyword)
_REF_WORDS = keywords(
    "order",
    "invoice",
    "ticket",
    "build",
    "job",
    "run",
    "ref",
    "tracking",
    "case",
    "issue",
    "pr",
    "commit",
    "version",
    "release",
    "batch",
    "lot",
    "serial",
    "sku",
    "part",
    "item",
    "request",
    "req",
    "txn",
    "transaction",
    "#",
)

_MODULES: dict[str, Any] = {}


def _validator(module: str) -> Any:
    mod = _MODULES.get(module)
    if mod is None:
        mod = _MODULES[module] = importlib.import_module(module)
    return mod


def _valid(rule: _Rule, text: str, start: int, end: int) -> bool:
    if rule.context is not None and not rule.context.search(before(text, start, 40)):
        return False
    try:
        return bool(_validator(rule.module).is_valid(text[start:end].replace(" ", "")))
    except Exception:  # noqa: BLE001 - a validator's internal error is a non-match
        return False


def national_ids(p: Prepared) -> Iterator[Finding]:
    windows = p.clusters()
    if not windows:
        return
    text = p.text
    for lo, hi, digits in windows:
        if digits < 6:
            continue
        for m in _NINO.finditer(text, lo, hi):
            yield Finding(m.start(), m.end(), NATIONAL_ID, 800, "gb_nino")
        if digits >= 7:
            for m in _CAND.finditer(text, lo, hi):
                yield from _candidate(text, m.start(), m.group())


def _candidate(text: str, base: int, cand: str) -> Iterator[Finding]:
    """Every run of whole space-separated chunks of `cand` that has an id's digit count."""
    if " " not in cand:  # one chunk: the common case
        chunks = [(0, len(cand), len(digits_of(cand)))]
    else:
        chunks = []
        pos = 0
        for part in cand.split(" "):
            if part:
                chunks.append((pos, pos + len(part), len(digits_of(part))))
            pos += len(part) + 1
    for i in range(len(chunks)):
        digits = 0
        for j in range(i, min(len(chunks), i + 7)):
            digits += chunks[j][2]
            if digits > 15:
                break
            rules = _BY_DIGITS.get(digits)
            if not rules:
                continue
            s, e = chunks[i][0], chunks[j][1]
            sub = cand[s:e]
            for rule in rules:
                if rule.shape.fullmatch(sub):
                    if rule.context is None and _REF_WORDS.search(before(text, base + s, 16)):
                        continue  # "job 19811218-9876": a record number shaped like an id
                    if _valid(rule, text, base + s, base + e):
                        yield Finding(base + s, base + e, NATIONAL_ID, rule.confidence, rule.detail)


def codice_fiscale(text: str, start: int, end: int) -> Iterator[Finding]:
    """The Italian codice fiscale is mostly letters: it comes from the token pass."""
    if end - start == 16 and _CF.shape.fullmatch(text, start, end):
        if _valid(_CF, text, start, end):
            yield Finding(start, end, NATIONAL_ID, _CF.confidence, _CF.detail)
