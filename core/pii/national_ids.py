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

from core.pii.context import before, keywords
from core.pii.findings import NATIONAL_ID, Finding


class _Rule:
    __slots__ = ("confidence", "context", "detail", "module", "pattern")

    def __init__(
        self,
        detail: str,
        pattern: str,
        module: str,
        context: tuple[str, ...] = (),
        confidence: int = 850,
    ) -> None:
        self.detail = detail
        self.pattern = re.compile(pattern)
        self.module = module
        self.context = keywords(*context) if context else None
        self.confidence = confidence


_B = r"(?<![\w.\-/])"  # not inside a longer token
_E = r"(?![\w/]|[.\-]\w)"

_SSN_WORDS = ("ssn", "social security", "social sec", "ss#", "ss no", "ss number", "tin", "ssn#")

_RULES: tuple[_Rule, ...] = (
    # United States: area-group-serial, never 000/666/9xx, group 00 or serial 0000
    _Rule("us_ssn", _B + r"\d{3}-\d{2}-\d{4}" + _E, "stdnum.us.ssn", confidence=850),
    _Rule("us_ssn", _B + r"\d{3} \d{2} \d{4}" + _E, "stdnum.us.ssn", _SSN_WORDS, 850),
    _Rule("us_ssn", _B + r"\d{9}" + _E, "stdnum.us.ssn", _SSN_WORDS, 800),
    # Spain: DNI (8 digits and a check letter), NIE (X/Y/Z, 7 digits, check letter)
    _Rule("es_dni", _B + r"\d{8}-?[A-HJ-NP-TV-Z]" + _E, "stdnum.es.dni"),
    _Rule("es_nie", _B + r"[XYZ]-?\d{7}-?[A-HJ-NP-TV-Z]" + _E, "stdnum.es.nie"),
    # Italy: codice fiscale (16 characters, check letter)
    _Rule(
        "it_codice_fiscale",
        r"\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b",
        "stdnum.it.codicefiscale",
        confidence=900,
    ),
    # France: NIR / numéro de sécurité sociale (15 digits, key mod 97)
    _Rule(
        "fr_nir",
        _B
        + r"[12][ ]?\d{2}[ ]?(?:0[1-9]|1[0-2]|[2-9]\d)[ ]?(?:\d{2}|2[AB])[ ]?\d{3}[ ]?\d{3}[ ]?\d{2}"
        + _E,
        "stdnum.fr.nir",
        confidence=850,
    ),
    # Germany: Steuer-Identifikationsnummer (11 digits, ISO 7064 check)
    _Rule(
        "de_idnr",
        _B + r"\d{2}[ ]?\d{3}[ ]?\d{3}[ ]?\d{3}" + _E,
        "stdnum.de.idnr",
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
        _B + r"\d{4}\.?\d{2}\.?\d{3}|" + _B + r"\d{9}" + _E,
        "stdnum.nl.bsn",
        ("bsn", "burgerservicenummer", "sofinummer", "sofi"),
    ),
    # United Kingdom: NHS number (10 digits, mod 11)
    _Rule(
        "gb_nhs",
        _B + r"\d{3}[ -]?\d{3}[ -]?\d{4}" + _E,
        "stdnum.gb.nhs",
        ("nhs", "nhs no", "nhs number"),
    ),
    # Sweden: personnummer (date and Luhn)
    _Rule(
        "se_personnummer",
        _B + r"(?:19|20)?\d{6}[-+]\d{4}" + _E,
        "stdnum.se.personnummer",
        confidence=800,
    ),
    # Finland: henkilötunnus (date, century sign, check character)
    _Rule(
        "fi_hetu", _B + r"\d{6}[-+ABCDEFUVWXY]\d{3}[0-9A-Y]" + _E, "stdnum.fi.hetu", confidence=900
    ),
    # Denmark: CPR (a date: only with a keyword)
    _Rule("dk_cpr", _B + r"\d{6}-?\d{4}" + _E, "stdnum.dk.cpr", ("cpr", "cpr-nr", "personnummer")),
    # Poland: PESEL (date and check digit)
    _Rule("pl_pesel", _B + r"\d{11}" + _E, "stdnum.pl.pesel", ("pesel",)),
    # Belgium: national number (date and mod 97)
    _Rule(
        "be_nn",
        _B + r"\d{2}\.?\d{2}\.?\d{2}[-. ]?\d{3}[-. ]?\d{2}" + _E,
        "stdnum.be.nn",
        ("rijksregisternummer", "numéro national", "national number", "rrn", "nn", "insz"),
    ),
    # Switzerland: AHV/AVS number (756, EAN-13 check)
    _Rule("ch_ahv", _B + r"756\.?\d{4}\.?\d{4}\.?\d{2}" + _E, "stdnum.ch.ssn", confidence=900),
    # Brazil: CPF (two check digits)
    _Rule("br_cpf", _B + r"\d{3}\.\d{3}\.\d{3}-\d{2}" + _E, "stdnum.br.cpf", confidence=900),
    _Rule("br_cpf", _B + r"\d{11}" + _E, "stdnum.br.cpf", ("cpf",)),
    # India: Aadhaar (Verhoeff)
    _Rule(
        "in_aadhaar",
        _B + r"[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}" + _E,
        "stdnum.in_.aadhaar",
        ("aadhaar", "aadhar", "uidai", "uid"),
    ),
    # Canada: social insurance number (Luhn)
    _Rule(
        "ca_sin",
        _B + r"\d{3}[ -]?\d{3}[ -]?\d{3}" + _E,
        "stdnum.ca.sin",
        ("sin", "social insurance", "nas"),
    ),
)

# The UK National Insurance number has no checksum, only a tight shape: two prefix letters
# from a closed set (never BG, GB, NK, KN, TN, NT, ZZ), six digits, suffix A–D.
_NINO = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)

_MODULES: dict[str, Any] = {}


def _validator(module: str) -> Any:
    mod = _MODULES.get(module)
    if mod is None:
        mod = _MODULES[module] = importlib.import_module(module)
    return mod


def national_ids(text: str) -> Iterator[Finding]:
    if not any(c.isdigit() for c in text):
        return
    for rule in _RULES:
        for m in rule.pattern.finditer(text):
            if rule.context is not None and not rule.context.search(before(text, m.start(), 40)):
                continue
            try:
                ok = _validator(rule.module).is_valid(m.group())
            except Exception:  # noqa: BLE001 - a validator's internal error is a non-match
                ok = False
            if ok:
                yield Finding(m.start(), m.end(), NATIONAL_ID, rule.confidence, rule.detail)
    for m in _NINO.finditer(text):
        yield Finding(m.start(), m.end(), NATIONAL_ID, 800, "gb_nino")
