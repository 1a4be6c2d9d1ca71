"""What callers ask the writer to do. One request holds one or more intents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Put:
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


@dataclass(slots=True)
class Move:
    src: str
    dst: str


@dataclass(slots=True)
class Delete:
    path: str
    mode: str = "tombstone"
    reason: str | None = None
    ticket: str | None = None


@dataclass(slots=True)
class Note:
    """A row that changes no memory file (session.*, checkpoint, tier.changed, repair, …)."""

    op: str
    path: str = ""
    commit: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


Intent = Put | Move | Delete | Note
