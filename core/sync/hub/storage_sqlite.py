"""The embedded hub storage (docs/sync.md, "Storage"): `DIR/hub.sqlite` for orgs, users,
devices and the event log; one file per org, `DIR/orgs/<org>/hub.sqlite`, for its items and
bindings, so one org's data can be backed up, moved or erased on its own.

Safe with several threads and several uvicorn worker processes: every thread has its own
connections, files are in WAL mode with a busy timeout, and every write is one `BEGIN
IMMEDIATE` transaction. SQLite has one writer at a time, so cursors (AUTOINCREMENT rowids) commit
in cursor order: a puller that saw cursor N can never later find an N-1 it skipped.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from core.sync.hub.sqlite_files import BUSY_TIMEOUT_MS, Files
from core.sync.hub.storage import (
    Binding,
    Device,
    Event,
    HubStorageError,
    Item,
    Org,
    Scope,
    User,
    check_name,
    page_end,
    widest_class,
)

MAIN_FILE = "hub.sqlite"

_MAIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS orgs(
  name TEXT PRIMARY KEY, org_only_roles TEXT NOT NULL, created_ns INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users(
  org TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(org, name));
CREATE TABLE IF NOT EXISTS devices(
  org TEXT NOT NULL, name TEXT NOT NULL, user TEXT NOT NULL, jti TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(org, name));
CREATE TABLE IF NOT EXISTS hub_events(
  id INTEGER PRIMARY KEY AUTOINCREMENT, at_ns INTEGER NOT NULL, org TEXT NOT NULL,
  user TEXT NOT NULL, device TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS hub_events_org ON hub_events(org, id);
"""

_ORG_SCHEMA = """
CREATE TABLE IF NOT EXISTS items(
  cursor INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, origin TEXT NOT NULL,
  seq INTEGER NOT NULL, path TEXT NOT NULL, sync_class TEXT NOT NULL, owner TEXT NOT NULL,
  payload BLOB NOT NULL, UNIQUE(kind, origin, seq));
CREATE INDEX IF NOT EXISTS items_path ON items(origin, path, kind, seq);
CREATE TABLE IF NOT EXISTS bindings(
  origin TEXT PRIMARY KEY, user TEXT NOT NULL, device TEXT NOT NULL UNIQUE,
  vkeys TEXT NOT NULL);
"""

# core.sync.classes.may_read, as SQL so a page is filtered where it is read.
_READABLE = """
  AND origin != :store
  AND (kind = 'purge' OR length(payload) > 0)
  AND (sync_class IN ('shareable', 'team-public')
       OR (sync_class = 'personal' AND owner = :user)
       OR (sync_class = 'org-only' AND :org_only))
"""


class SqliteStorage:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise HubStorageError(f"{self.folder} is not a hub folder: run `brain hub init`")
        self._files = Files()
        self._tx = self._files.tx
        self._org_ready: set[str] = set()
        self._main()  # creates the schema

    def _main(self) -> sqlite3.Connection:
        return self._files.connect(self.folder / MAIN_FILE, _MAIN_SCHEMA)

    def _org(self, org: str) -> sqlite3.Connection:
        if org not in self._org_ready:
            if self.get_org(org) is None:
                raise HubStorageError(f"no org {org!r} on this hub: `brain hub add-org {org}`")
            self._org_ready.add(org)
        return self._files.connect(
            self.folder / "orgs" / check_name("org", org) / MAIN_FILE, _ORG_SCHEMA
        )

    def close(self) -> None:
        self._files.close()

    # -- orgs, users, devices -----------------------------------------------------------------

    def add_org(self, org: str, org_only_roles: tuple[str, ...], now_ns: int) -> Org:
        check_name("org", org)
        with self._tx(self._main()) as db:
            db.execute(
                "INSERT OR IGNORE INTO orgs(name, org_only_roles, created_ns) VALUES (?, ?, ?)",
                (org, json.dumps(list(org_only_roles)), now_ns),
            )
        got = self.get_org(org)
        assert got is not None
        self._org(org)  # its file exists from now on
        return got

    def get_org(self, org: str) -> Org | None:
        row = (
            self._main()
            .execute("SELECT name, org_only_roles, created_ns FROM orgs WHERE name = ?", (org,))
            .fetchone()
        )
        return None if row is None else Org(row[0], tuple(json.loads(row[1])), row[2])

    def list_orgs(self) -> list[Org]:
        rows = self._main().execute(
            "SELECT name, org_only_roles, created_ns FROM orgs ORDER BY name"
        )
        return [Org(r[0], tuple(json.loads(r[1])), r[2]) for r in rows]

    def add_user(self, org: str, user: str, role: str) -> User:
        check_name("user", user)
        if self.get_org(org) is None:
            raise HubStorageError(f"no org {org!r} on this hub: `brain hub add-org {org}` first")
        with self._tx(self._main()) as db:
            row = db.execute(
                "SELECT revoked FROM users WHERE org = ? AND name = ?", (org, user)
            ).fetchone()
            if row is not None and row[0]:
                raise HubStorageError(
                    f"user {user} of {org} was revoked; revocation is final, add them under a"
                    " new name"
                )
            db.execute(
                "INSERT INTO users(org, name, role) VALUES (?, ?, ?)"
                " ON CONFLICT(org, name) DO UPDATE SET role = excluded.role",
                (org, user, role),
            )
        got = self.get_user(org, user)
        assert got is not None
        return got

    def get_user(self, org: str, user: str) -> User | None:
        row = (
            self._main()
            .execute("SELECT role, revoked FROM users WHERE org = ? AND name = ?", (org, user))
            .fetchone()
        )
        return None if row is None else User(org, user, row[0], bool(row[1]))

    def list_users(self, org: str) -> list[User]:
        rows = self._main().execute(
            "SELECT name, role, revoked FROM users WHERE org = ? ORDER BY name", (org,)
        )
        return [User(org, r[0], r[1], bool(r[2])) for r in rows]

    def add_device(self, org: str, user: str, device: str, jti: str) -> Device:
        check_name("device", device)
        with self._tx(self._main()) as db:
            urow = db.execute(
                "SELECT revoked FROM users WHERE org = ? AND name = ?", (org, user)
            ).fetchone()
            if urow is None:
                raise HubStorageError(f"no user {user} in {org}: add the user first")
            if urow[0]:
                raise HubStorageError(f"user {user} of {org} is revoked")
            row = db.execute(
                "SELECT user, revoked FROM devices WHERE org = ? AND name = ?", (org, device)
            ).fetchone()
            if row is not None and row[0] != user:
                raise HubStorageError(
                    f"device {device} of {org} belongs to {row[0]}; name this one differently"
                )
            if row is not None and row[1]:
                raise HubStorageError(
                    f"device {device} of {org} was revoked; enrol it under a new device name"
                )
            db.execute(
                "INSERT INTO devices(org, name, user, jti) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(org, name) DO UPDATE SET jti = excluded.jti",
                (org, device, user, jti),
            )
        got = self.get_device(org, device)
        assert got is not None
        return got

    def get_device(self, org: str, device: str) -> Device | None:
        row = (
            self._main()
            .execute(
                "SELECT user, jti, revoked FROM devices WHERE org = ? AND name = ?", (org, device)
            )
            .fetchone()
        )
        return None if row is None else Device(org, row[0], device, row[1], bool(row[2]))

    def list_devices(self, org: str) -> list[Device]:
        rows = self._main().execute(
            "SELECT name, user, jti, revoked FROM devices WHERE org = ? ORDER BY user, name", (org,)
        )
        return [Device(org, r[1], r[0], r[2], bool(r[3])) for r in rows]

    def revoke(self, org: str, *, user: str | None = None, device: str | None = None) -> int:
        if (user is None) == (device is None):
            raise HubStorageError("revoke a user or a device (exactly one of them)")
        with self._tx(self._main()) as db:
            if user is not None:
                if (
                    db.execute(
                        "SELECT 1 FROM users WHERE org = ? AND name = ?", (org, user)
                    ).fetchone()
                    is None
                ):
                    raise HubStorageError(f"no user {user} in {org}")
                n = db.execute(
                    "UPDATE users SET revoked = 1 WHERE org = ? AND name = ? AND revoked = 0",
                    (org, user),
                ).rowcount
                n += db.execute(
                    "UPDATE devices SET revoked = 1 WHERE org = ? AND user = ? AND revoked = 0",
                    (org, user),
                ).rowcount
                return n
            if (
                db.execute(
                    "SELECT 1 FROM devices WHERE org = ? AND name = ?", (org, device)
                ).fetchone()
                is None
            ):
                raise HubStorageError(f"no device {device} in {org}")
            return db.execute(
                "UPDATE devices SET revoked = 1 WHERE org = ? AND name = ? AND revoked = 0",
                (org, device),
            ).rowcount

    # -- bindings -----------------------------------------------------------------------------

    @staticmethod
    def _binding(org: str, row: tuple | None) -> Binding | None:
        if row is None:
            return None
        return Binding(org, row[0], row[1], row[2], tuple(json.loads(row[3])))

    def binding(self, org: str, origin: str) -> Binding | None:
        row = (
            self._org(org)
            .execute("SELECT origin, user, device, vkeys FROM bindings WHERE origin = ?", (origin,))
            .fetchone()
        )
        return self._binding(org, row)

    def binding_for_device(self, org: str, device: str) -> Binding | None:
        row = (
            self._org(org)
            .execute("SELECT origin, user, device, vkeys FROM bindings WHERE device = ?", (device,))
            .fetchone()
        )
        return self._binding(org, row)

    def bind(self, binding: Binding) -> Binding:
        with self._tx(self._org(binding.org)) as db:
            held = db.execute(
                "SELECT origin, user, device, vkeys FROM bindings WHERE origin = ? OR device = ?"
                " ORDER BY origin = ? DESC",
                (binding.origin, binding.device, binding.origin),
            ).fetchone()
            if held is not None:
                got = self._binding(binding.org, held)
                assert got is not None
                return got
            db.execute(
                "INSERT INTO bindings(origin, user, device, vkeys) VALUES (?, ?, ?, ?)",
                (binding.origin, binding.user, binding.device, json.dumps(list(binding.vkeys))),
            )
        return binding

    def add_keys(self, org: str, origin: str, vkeys: tuple[str, ...]) -> Binding:
        with self._tx(self._org(org)) as db:
            row = db.execute(
                "SELECT origin, user, device, vkeys FROM bindings WHERE origin = ?", (origin,)
            ).fetchone()
            if row is None:
                raise HubStorageError(f"origin {origin} is not bound in {org}")
            keys = list(json.loads(row[3]))
            keys += [k for k in vkeys if k not in keys]
            db.execute("UPDATE bindings SET vkeys = ? WHERE origin = ?", (json.dumps(keys), origin))
        got = self.binding(org, origin)
        assert got is not None
        return got

    # -- items --------------------------------------------------------------------------------

    def put_items(self, org: str, items: list[Item]) -> list[bool]:
        out: list[bool] = []
        with self._tx(self._org(org)) as db:
            for it in items:
                # Looked up first rather than INSERT OR IGNORE: an ignored insert still spends
                # an AUTOINCREMENT value, and cursors without gaps are easier to reason about.
                if db.execute(
                    "SELECT 1 FROM items WHERE kind = ? AND origin = ? AND seq = ?",
                    (it.kind, it.origin, it.seq),
                ).fetchone():
                    out.append(False)
                    continue
                payload = it.payload
                if (
                    it.kind == "envelope"
                    and db.execute(
                        "SELECT 1 FROM items WHERE origin = ? AND path = ? AND kind = 'purge'"
                        " AND seq > ?",
                        (it.origin, it.path, it.seq),
                    ).fetchone()
                ):
                    payload = b""  # purged already: keep the seq (a retry is a duplicate)
                db.execute(
                    "INSERT INTO items(kind, origin, seq, path, sync_class, owner, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (it.kind, it.origin, it.seq, it.path, it.sync_class, it.owner, payload),
                )
                out.append(True)
        return out

    def purge(self, org: str, notice: Item, earlier: tuple[tuple[str, int], ...] = ()) -> bool:
        with self._tx(self._org(org)) as db:
            if db.execute(
                "SELECT 1 FROM items WHERE kind = 'purge' AND origin = ? AND seq = ?",
                (notice.origin, notice.seq),
            ).fetchone():
                return False
            where = "WHERE kind = 'envelope' AND origin = ? AND path = ? AND seq < ?"
            classes: list[str] = []
            for path, below in ((notice.path, notice.seq), *earlier):
                key = (notice.origin, path, below)
                classes += [
                    r[0] for r in db.execute(f"SELECT DISTINCT sync_class FROM items {where}", key)
                ]
                db.execute(f"UPDATE items SET payload = x'' {where}", key)
            db.execute(
                "INSERT INTO items(kind, origin, seq, path, sync_class, owner, payload)"
                " VALUES ('purge', ?, ?, ?, ?, ?, ?)",
                (
                    notice.origin,
                    notice.seq,
                    notice.path,
                    widest_class(classes),
                    notice.owner,
                    notice.payload,
                ),
            )
        # The erased payloads may still sit in the WAL until a checkpoint copies the zeroed
        # pages back: do it now (best effort; a reader holding a snapshot delays it).
        db = self._org(org)
        db.execute("PRAGMA busy_timeout=2000")  # never hold the push for long over it
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return True

    def read(
        self, org: str, scope: Scope, after: int, limit: int, max_bytes: int | None = None
    ) -> tuple[list[Item], int]:
        db = self._org(org)
        args = {
            "after": after,
            "limit": limit,
            "store": scope.store,
            "user": scope.user,
            "org_only": 1 if scope.org_only else 0,
        }
        with self._files.snapshot(db):  # the head and the page agree
            head = db.execute("SELECT coalesce(max(cursor), 0) FROM items").fetchone()[0]
            args["head"] = head
            # The sizes first, so payloads past the page's end are never loaded.
            sizes = db.execute(
                "SELECT cursor, length(payload) FROM items"
                f" WHERE cursor > :after AND cursor <= :head {_READABLE}"
                " ORDER BY cursor LIMIT :limit",
                args,
            ).fetchall()
            args["last"], full = page_end(sizes, limit, max_bytes)
            rows = db.execute(
                "SELECT cursor, kind, origin, seq, path, sync_class, owner, payload FROM items"
                f" WHERE cursor > :after AND cursor <= :last {_READABLE} ORDER BY cursor",
                args,
            ).fetchall()
        items = [Item(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bytes(r[7])) for r in rows]
        # A short page examined everything up to the head; a full one stops at its last item.
        resume = items[-1].cursor if full else max(head, after)
        return items, resume

    def head(self, org: str) -> int:
        return self._org(org).execute("SELECT coalesce(max(cursor), 0) FROM items").fetchone()[0]

    # -- events -------------------------------------------------------------------------------

    def log_event(self, org: str, user: str, device: str, event: str, detail: str) -> None:
        with self._tx(self._main()) as db:
            db.execute(
                "INSERT INTO hub_events(at_ns, org, user, device, event, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (time.time_ns(), org, user, device, event, detail[:2000]),
            )

    def events(self, org: str, after: int = 0, limit: int = 1000) -> list[Event]:
        rows = self._main().execute(
            "SELECT id, at_ns, org, user, device, event, detail FROM hub_events"
            " WHERE org = ? AND id > ? ORDER BY id LIMIT ?",
            (org, after, limit),
        )
        return [Event(*r) for r in rows]


__all__ = ["MAIN_FILE", "SqliteStorage"]
