"""What the hub keeps, behind one interface with two backends (docs/sync.md, "Storage"):
`storage_sqlite.SqliteStorage` (embedded, under the hub folder) and `storage_pg.PgStorage`
(PostgreSQL, row-level security per org). The same test suite runs against both.

The app (core.sync.hub.app) verifies envelopes and decides who may do what; storage only keeps
and returns. Every org-scoped call names its org, and a backend must never return another
org's rows (PostgreSQL enforces it with RLS as well).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Org:
    name: str
    org_only_roles: tuple[str, ...]
    created_ns: int


@dataclass(frozen=True)
class User:
    org: str
    name: str
    role: str  # admin | member | guest
    revoked: bool


@dataclass(frozen=True)
class Device:
    org: str
    user: str
    name: str
    jti: str  # the id of the token issued for it
    revoked: bool


@dataclass(frozen=True)
class Binding:
    """An origin store, bound to the device that first pushed it, pinned to its key."""

    org: str
    origin: str
    user: str
    device: str
    vkeys: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    """One stored envelope or purge notice, in org order. `payload` is the wire Struct's JSON
    (an Envelope, or a PurgeNotice); a purged envelope's payload is b"" (erased)."""

    cursor: int
    kind: str  # "envelope" | "purge"
    origin: str
    seq: int
    path: str
    sync_class: str
    owner: str  # the user the origin store is bound to
    payload: bytes


@dataclass(frozen=True)
class Scope:
    """Who is reading: the rows they may pull (core.sync.classes.may_read, in the query)."""

    user: str
    store: str  # their own store id: its items are never returned (no echoes)
    org_only: bool  # their role is in the org's org_only_roles


class Storage(Protocol):
    def add_org(self, org: str, org_only_roles: tuple[str, ...], now_ns: int) -> Org: ...
    def get_org(self, org: str) -> Org | None: ...
    def add_user(self, org: str, user: str, role: str) -> User: ...
    def get_user(self, org: str, user: str) -> User | None: ...
    def add_device(self, org: str, user: str, device: str, jti: str) -> Device: ...
    def get_device(self, org: str, device: str) -> Device | None: ...
    def revoke(self, org: str, *, user: str | None = None, device: str | None = None) -> int: ...

    def binding(self, org: str, origin: str) -> Binding | None: ...
    def bind(self, binding: Binding) -> Binding:
        """Bind an origin on first push; returns the binding that holds (the existing one when
        another request bound it first)."""
        ...

    def put_items(self, org: str, items: list[Item]) -> list[bool]:
        """Append in order, each at the org's next cursor; True when stored, False when an
        item with the same (kind, origin, seq) was already held (a duplicate delivery)."""
        ...

    def purge(self, org: str, notice: Item) -> bool:
        """Erase the payloads of every envelope of (notice.origin, notice.path) and append the
        notice; False when this notice was already held."""
        ...

    def read(self, org: str, scope: Scope, after: int, limit: int) -> tuple[list[Item], int]:
        """Items after `after` that `scope` may read, oldest first, at most `limit`; and the
        cursor to resume from (the last cursor examined, which may be past the last item)."""
        ...

    def head(self, org: str) -> int: ...
    def log_event(self, org: str, user: str, device: str, event: str, detail: str) -> None: ...
    def close(self) -> None: ...


__all__ = ["Binding", "Device", "Item", "Org", "Scope", "Storage", "User"]
