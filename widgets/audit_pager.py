"""Which audit rows the tail shows, and how a row index maps to a page fetched by key.

No Textual here: this is the bookkeeping behind the virtual list, kept pure so it can be tested
and benchmarked alone. Pages are always fetched by key (`seq > after`), never by OFFSET:

- unfiltered, row index i is seq i + 1, so page p starts after seq p * size;
- filtered, a background scan walks the matching rows once (by key) and records the seq that
  precedes each page, so page p is `seq > afters[p] LIMIT size` from then on.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from core.models import KINDS, OPS, Row

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

    def absorb(self, seqs: list[int]) -> None:
        """Filtered scan: append the seqs of newly found matching rows, in ascending order."""
        for seq in seqs:
            if seq <= self.last_seq:
                continue  # a rescan overlapped what we already hold
            if self.total % self.size == 0:
                self.afters.append(self.last_seq)
            self.total += 1
            self.last_seq = seq


class PageCache:
    """Fetched pages (rows, and the row count they were asked for at), least recently used
    dropped first. A page only grows: a slower fetch from before the tail moved never
    replaces a longer copy."""

    def __init__(self, page_size: int = PAGE_SIZE, capacity: int = 64) -> None:
        self.size = page_size
        self.capacity = capacity
        self._pages: OrderedDict[int, tuple[list[Row], int]] = OrderedDict()

    def get(self, page: int) -> tuple[list[Row], int] | None:
        hit = self._pages.get(page)
        if hit is not None:
            self._pages.move_to_end(page)
        return hit

    def put(self, page: int, rows: list[Row], total: int) -> bool:
        """Keep rows as the page (True), unless a longer copy is here."""
        hit = self._pages.get(page)
        if hit is not None and len(hit[0]) > len(rows):
            return False
        self._pages[page] = (rows, total)
        self._pages.move_to_end(page)
        while len(self._pages) > self.capacity:
            self._pages.popitem(last=False)
        return True

    def row(self, index: int) -> Row | None:
        page = index // self.size
        hit = self.get(page)
        if hit is None:
            return None
        rows = hit[0]
        offset = index - page * self.size
        return rows[offset] if offset < len(rows) else None

    def seed(self, head: int, rows: list[Row]) -> bool:
        """Unfiltered: the newest rows, from a page boundary up to head (row i is seq i + 1),
        read by someone else; False when they are not that."""
        if not rows or rows[-1].seq != head or (rows[0].seq - 1) % self.size:
            return False
        for start in range(0, len(rows), self.size):
            chunk = rows[start : start + self.size]
            self.put((chunk[0].seq - 1) // self.size, chunk, head)
        return True

    def clear(self) -> None:
        self._pages.clear()

    def __contains__(self, page: int) -> bool:
        return page in self._pages
