"""The entry points: `scan(text)` for a body, `scan_path(path)` for a memory path."""

from __future__ import annotations

from functools import lru_cache

from core.pii.contact import emails, phones
from core.pii.financial import cards, ibans
from core.pii.findings import Finding, resolve
from core.pii.national_ids import national_ids
from core.pii.network import ips
from core.pii.prepared import Prepared
from core.pii.secrets import secrets

_DETECTORS = (secrets, emails, cards, ibans, national_ids, phones, ips)


def scan(text: str) -> list[Finding]:
    """Every PII and secret finding in `text`, in text order, none overlapping another."""
    p = Prepared(text)
    found: list[Finding] = []
    for detect in _DETECTORS:
        found.extend(detect(p))
    return resolve(found)


def scan_path(path: str) -> list[Finding]:
    """Findings in a memory path's segments; spans index into `path` itself.

    Each `/`-separated segment is scanned on its own, without its `.md` extension, with `_`
    read as a space (slugs join words with it), so `notes/alice@example.com.md` and
    `people/ssn_078-05-1121` are caught and a finding never spans two segments.
    """
    out: list[Finding] = []
    pos = 0
    for seg in path.split("/"):
        stem = seg[:-3] if seg.endswith(".md") else seg
        if stem:
            for f in _segment(stem):
                out.append(Finding(f.start + pos, f.end + pos, f.type, f.confidence, f.detail))
        pos += len(seg) + 1
    return out


@lru_cache(maxsize=4096)
def _segment(stem: str) -> tuple[Finding, ...]:
    # The same folders (`memories`, `facts`, a project's name) lead most paths: scan each once.
    # Findings are frozen, so sharing them between calls is safe.
    return tuple(scan(stem.replace("_", " ")))
