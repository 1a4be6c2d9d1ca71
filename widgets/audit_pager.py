"""Which audit rows the tail shows, and how a row index maps to a page fetched by key.

No Textual here: this is the bookkeeping behind the virtual list, kept pure so it can be tested
and benchmarked alone. Pages are always fetched by key (`seq > after`), never by OFFSET:

- unfiltered, row index i is seq i + 1, so page p starts after seq p * size;
- filtered, a background scan walks the matching rows once (by key) and records the seq that
  precedes each page, so page p is `seq > afters[p] LIMIT size` from then on.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models import KINDS, OPS

PAGE_SIZE = 256
SCAN_CHUNK = 2048

_KEYS = {"op": "op", "actor": "actor", "a": "actor", "path": "path_prefix", "p": "path_prefix"}


@dataclass(frozen=True)
class AuditFilter:
    op: str | None = None
    actor: str | None = None
    path_prefix: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.op or self.actor or self.path_prefix)

    def kwargs(self) -> dict[str, str]:
        out = {"op": self.op, "actor": self.actor, "path_prefix": self.path_prefix}
        return {k: v for k, v in out.items() if v}

    def describe(self) -> str:
        parts = [f"op:{self.op}" if self.op else "", f"actor:{self.actor}" if self.actor else ""]
        parts.append(f"path:{self.path_prefix}" if self.path_prefix else "")
        return " ".join(p for p in parts if p)


def parse_filter(text: str) -> AuditFilter:
    """`op:put actor:human:ana path:memories/decisions`; bare words are ops or path prefixes.

    Raises ValueError with a message that says what was wrong and what is accepted.
    """
    found: dict[str, str] = {}
    for token in text.split():
        key, sep, value = token.partition(":")
        if sep and key.lower() in _KEYS:
            name = _KEYS[key.lower()]
        elif token in OPS:
            name, value = "op", token
        elif sep and key not in KINDS and not token.startswith("memories/"):
            raise ValueError(f"unknown filter {key!r}: use op:, actor: or path:")
        else:
            name, value = "path_prefix", token
        if not value:
            raise ValueError(f"{key}: needs a value, e.g. {key}:put")
        if name == "path_prefix" and value.split("/")[0] in KINDS:
            value = "memories/" + value  # `decisions/` means memories/decisions/
        if name == "op" and value not in OPS:
            raise ValueError(f"unknown op {value!r}; ops are: {', '.join(OPS)}")
        if name in found:
            raise ValueError(f"{key}: given twice; one value per field")
        found[name] = value
    return AuditFilter(**found)


class Pager:
    """Row count and page keys for one filter. Mutated only on the UI thread."""

    def __init__(self, filt: AuditFilter, page_size: int = PAGE_SIZE) -> None:
        self.filter = filt
        self.size = page_size
        self.total = 0
        self.afters: list[int] = []  # filtered only: seq before page p
        self.last_seq = 0  # filtered only: the newest matching seq seen by the scan

    @property
    def filtered(self) -> bool:
        return self.filter.active

    def set_head(self, head: int) -> int:
        """Unfiltered: the index now holds rows 1..head. Returns the old total."""
        old = self.total
        if not self.filtered:
            self.total = max(0, head)
        return old

    def page_of(self, index: int) -> int:
        return index // self.size

    def page_after(self, page: int) -> int:
        """The key a page starts after: fetch `seq > page_after(p) LIMIT size`."""
        if not self.filtered:
            return page * self.size
        return self.afters[page]

    def pages_count(self) -> int:
        return (self.total + self.size - 1) // self.size

    def absorb(self, seqs: list[int]) -> None:
        """Filtered scan: append the seqs of newly found matching rows, in ascending order."""
        for seq in seqs:
            if seq <= self.last_seq:
                continue  # a rescan overlapped what we already hold
            if self.total % self.size == 0:
                self.afters.append(self.last_seq)
            self.total += 1
            self.last_seq = seq
