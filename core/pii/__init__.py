"""PII and secret detection (issue 14): `scan(text)` and `scan_path(path)` return `Finding`s.

Each finding names a type (`TYPES`), a span of the scanned string, a confidence in per-mille
(rows and sidecars carry no floats) and a `detail` (which rule fired: `us_ssn`,
`aws_access_key_id`, …). A finding never leaves this package with the matched text: callers
that record findings keep types, spans and counts only (PROTOCOL: rows never carry matched PII).

Modules by concern: `findings` (the model and overlap resolution), `checksums` (Luhn, mod-97,
entropy), `context` (keyword windows), `contact` (e-mail, phone), `financial` (cards, IBAN),
`network` (IP addresses), `national_ids` (python-stdnum validators), `secrets` (tokens, keys,
password assignments, high-entropy strings), `scan` (the entry points). Heavy libraries
(phonenumbers, stdnum) load on first use; nothing in core imports this package at import time.
"""

from __future__ import annotations

from core.pii.findings import TYPES, Finding
from core.pii.scan import scan, scan_path

__all__ = ["TYPES", "Finding", "scan", "scan_path"]
