"""What callers ask the writer to do. One request holds one or more intents.

These, and the write path's other records (frames, the tip, journal records, plans, results,
requests), are msgspec Structs rather than dataclasses: msgspec is loaded on every write
anyway, and a Struct class is made in ~20 µs where a dataclass takes ~0.3-0.7 ms (it
generates and execs its methods), which 16 of them made ~7 ms of every one-shot `brain put`.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Put(msgspec.Struct):
    path: str
    body: bytes
    title: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    sync_class: str | None = None
    classification: str | None = None
    extra: dict[str, Any] | None = None
    row_extra: dict[str, Any] | None = None  # goes on the audit row (e.g. imported_from)
    expect: str | None = None  # put_if: the commitment that must be current ("" = absent)
    pii_scan: list[dict[str, Any]] | None = None  # set by the PII gate only (core.write.pii_gate)


class Move(msgspec.Struct):
    src: str
    dst: str


class Delete(msgspec.Struct):
    path: str
    mode: str = "tombstone"
    reason: str | None = None
    ticket: str | None = None


class Note(msgspec.Struct):
    """A row that changes no memory file (session.*, checkpoint, tier.changed, repair, …)."""

    op: str
    path: str = ""
    commit: str = ""
    extra: dict[str, Any] = msgspec.field(default_factory=dict)


Intent = Put | Move | Delete | Note
