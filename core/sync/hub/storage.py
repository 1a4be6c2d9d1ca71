"""What the hub keeps, behind one interface with two backends (docs/sync.md, "Storage"):
`storage_sqlite.SqliteStorage` (embedded, under the hub folder) and `storage_pg.PgStorage`
(PostgreSQL, row-level security per org). The same test suite runs against both.

The app (core.sync.hub.app) verifies envelopes and decides who may do what; storage only keeps
and returns. Every org-scoped call names its org, and a backend must never return another
org's rows (PostgreSQL enforces it with RLS as well).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from core.errors import BrainError


class HubStorageError(BrainError):
    """An admin action that storage cannot do as asked (an unknown org, a device of another
    user, a revoked user re-added…); the message says what to do instead."""


class StorageUnavailable(HubStorageError):
    """The backend cannot be reached now (a database down or refusing logins): the app answers
    503 with Retry-After, since waiting may help and the request itself was fine."""


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
    kind: str  # "envelope" | "purge" | "rotation" (a RotationProof; path "")
    origin: str
    seq: int
    path: str
    sync_class: str
    owner: str  # the user the origin store is bound to
    payload: bytes


@dataclass(frozen=True)
class Event:
    """One logged refusal or admin action (`hub_events`)."""

    id: int
    at_ns: int
    org: str
    user: str
    device: str
    event: str
    detail: str


@dataclass(frozen=True)
class Scope:
    """Who is reading: the rows they may pull (core.sync.classes.may_read, in the query)."""

    user: str
    store: str  # their own store id: its items are never returned (no echoes)
    org_only: bool  # their role is in the org's org_only_roles


class Storage(Protocol):
    # -- orgs, users, devices (the admin's; the app only reads them) ------------------------
    def add_org(self, org: str, org_only_roles: tuple[str, ...], now_ns: int) -> Org:
        """Create an org; an org that exists is returned as it is (idempotent)."""
        ...

    def get_org(self, org: str) -> Org | None: ...
    def list_orgs(self) -> list[Org]: ...

    def add_user(self, org: str, user: str, role: str) -> User:
        """Create a user, or change an existing user's role. HubStorageError for an unknown
        org or a revoked user (revocation is final: add the person under a new name)."""
        ...

    def get_user(self, org: str, user: str) -> User | None: ...
    def list_users(self, org: str) -> list[User]: ...

    def add_device(self, org: str, user: str, device: str, jti: str) -> Device:
        """Create a device, or record a new token id for an existing one of the same user
        (the old token stops checking). HubStorageError for an unknown user, a device of
        another user, or a revoked device."""
        ...

    def get_device(self, org: str, device: str) -> Device | None: ...
    def list_devices(self, org: str) -> list[Device]: ...

    def revoke(self, org: str, *, user: str | None = None, device: str | None = None) -> int:
        """Revoke a device, or a user and every device of theirs; the number of users and
        devices newly revoked."""
        ...

    # -- bindings (one origin store per device, pinned to its first key) --------------------
    def binding(self, org: str, origin: str) -> Binding | None: ...
    def binding_for_device(self, org: str, device: str) -> Binding | None: ...

    def bind(self, binding: Binding) -> Binding:
        """Bind an origin on first push; returns the binding that holds (the existing one when
        another request bound it first). A device binds one origin only: when the device
        already holds another origin, that binding is returned (the app refuses the push)."""
        ...

    def add_keys(self, org: str, origin: str, vkeys: tuple[str, ...]) -> Binding:
        """Add verifier keys to an origin's pin (a rotation the pinned key vouched for: the
        app checks it); keys already pinned are kept once. Returns the binding as it holds
        now. HubStorageError when the origin is not bound."""
        ...

    # -- items ------------------------------------------------------------------------------
    def put_items(self, org: str, items: list[Item]) -> list[bool]:
        """Append in order, each at the org's next cursor; True when stored, False when an
        item with the same (kind, origin, seq) was already held (a duplicate delivery). An
        envelope older than a purge notice already held for its (origin, path) is stored with
        an empty payload (a late retry must not bring back what was purged)."""
        ...

    def purge(self, org: str, notice: Item, earlier: tuple[tuple[str, int], ...] = ()) -> bool:
        """Erase the payloads of every envelope of (notice.origin, notice.path) with a seq below
        the notice's, and of each (path, seq) in `earlier` (the memory's paths before its
        moves: versions of that path below that move's seq), and append the notice; False
        when this notice was already held. The
        stored notice's `sync_class` is the widest class of the envelopes it erased (personal
        when none), so it reaches everyone who could have pulled a copy:
        shareable/team-public > org-only > personal (`widest_class`)."""
        ...

    def read(
        self, org: str, scope: Scope, after: int, limit: int, max_bytes: int | None = None
    ) -> tuple[list[Item], int]:
        """Items after `after` that `scope` may read, oldest first, at most `limit`, and none
        after the one whose payload brings the page to `max_bytes` (the first always comes);
        and the cursor to resume from (the last cursor examined, which may be past the last
        item). Erased envelopes (empty payload) and the scope's own store's items are
        skipped. Payloads past the page's end are never loaded (`page_end`)."""
        ...

    def head(self, org: str) -> int: ...

    # -- the audit of refusals --------------------------------------------------------------
    def log_event(self, org: str, user: str, device: str, event: str, detail: str) -> None: ...
    def events(self, org: str, after: int = 0, limit: int = 1000) -> list[Event]:
        """Logged events of `org` ("" for those before an org was known), oldest first."""
        ...

    def close(self) -> None: ...


def page_end(sizes: list[tuple[int, int]], limit: int, max_bytes: int | None) -> tuple[int, bool]:
    """Where a page ends, from its candidates' (cursor, payload size), oldest first, at most
    `limit`: the cursor of its last item, and whether the page is full (it stopped at `limit`
    items or at `max_bytes`, so it resumes at that item; a page that is not full examined
    everything up to the head). The item that reaches `max_bytes` is the last one: a page is
    under `max_bytes` plus one item, and never empty while an item waits."""
    total = 0
    for cursor, size in sizes:
        total += size
        if max_bytes is not None and total >= max_bytes:
            return cursor, True
    if not sizes:
        return 0, False
    return sizes[-1][0], len(sizes) >= limit


_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def check_name(what: str, value: str) -> str:
    """Org, user and device names: lowercase letters, digits, `.`, `_`, `-`; at most 64; they
    name folders (an org's file under the hub folder) and appear in logs, so nothing else."""
    if not isinstance(value, str) or not _NAME.fullmatch(value) or ".." in value:
        raise HubStorageError(
            f"{what} name {value!r} is not allowed: use 1-64 lowercase letters, digits, '.', '_'"
            " or '-', starting with a letter or digit"
        )
    return value


_WIDTH = {"personal": 0, "org-only": 1, "shareable": 2, "team-public": 2}


def widest_class(classes: list[str]) -> str:
    """Which class a purge notice travels under: the one readable by the most members."""
    return max(classes, key=lambda c: _WIDTH.get(c, 0), default="personal")


__all__ = [
    "StorageUnavailable",
    "Binding",
    "Device",
    "Event",
    "HubStorageError",
    "Item",
    "Org",
    "Scope",
    "Storage",
    "User",
    "check_name",
    "page_end",
    "widest_class",
]
