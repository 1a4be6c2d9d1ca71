"""The hub's PostgreSQL backend (docs/sync.md, "Running the hub on PostgreSQL"): `Storage` on
psycopg 3, for organisations that outgrow one embedded hub.

Isolation: every transaction first runs `set_config('brain.org', org, true)`; the tables' RLS
policy (core.sync.hub.pg_schema) then hides every other org's rows, so even a query without a
`WHERE org = …` cannot leak across orgs. The queries still say `org = …`: it is what the indexes
are keyed on.

Order: an append locks the org's row in `hub_orgs` (`FOR UPDATE`) and holds it until commit, so
appends to one org are serialized and commit in cursor order. A reader's snapshot therefore holds
either all of cursors 1..n or none past n; `read` resumes from the org's head in the same
snapshot, never from a cursor whose transaction might still commit below it.

The app calls storage from a thread pool: connections come from a small pool, one per call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import IsolationLevel
from psycopg.conninfo import conninfo_to_dict

from core.errors import HubDatabaseUnavailable, HubStorageError, NotFound
from core.sync.hub.pg_schema import migrate
from core.sync.hub.storage import Binding, Device, Item, Org, Scope, User

log = logging.getLogger(__name__)
T = TypeVar("T")

# The class rules of core.sync.classes.may_read, for a row aliased `i`.
_MAY_READ = """(
  (i.sync_class = 'personal' AND i.owner = %(user)s)
  OR i.sync_class IN ('shareable', 'team-public')
  OR (i.sync_class = 'org-only' AND %(org_only)s)
)"""
_MAY_READ_E = _MAY_READ.replace("i.", "e.")
# A purge notice reaches whoever could read any version of its path.
_READ = f"""
SELECT i.cur, i.kind, i.origin, i.seq, i.path, i.sync_class, i.owner, i.payload
FROM hub_items i
WHERE i.org = %(org)s AND i.cur > %(after)s AND i.origin <> %(store)s
  AND ({_MAY_READ} OR (i.kind = 'purge' AND EXISTS (
    SELECT 1 FROM hub_items e
    WHERE e.org = i.org AND e.kind = 'envelope' AND e.origin = i.origin AND e.path = i.path
      AND {_MAY_READ_E})))
ORDER BY i.cur
LIMIT %(limit)s
"""
_INSERT_ITEMS = """
INSERT INTO hub_items (org, cur, kind, origin, seq, path, sync_class, owner, payload)
SELECT %s, * FROM unnest(
  %s::bigint[], %s::text[], %s::text[], %s::bigint[], %s::text[], %s::text[], %s::text[],
  %s::bytea[])
ON CONFLICT DO NOTHING
"""


def redact(url: str) -> str:
    """The URL as a person may see it in a message or log: no password."""
    try:
        d = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unparsable database URL)"
    host = str(d.get("host") or "localhost")
    port = f":{d['port']}" if d.get("port") else ""
    user = f"{d['user']}@" if d.get("user") else ""
    return f"postgresql://{user}{host}{port}/{d.get('dbname') or ''}"


class _Pool:
    """At most `size` connections, made on demand, handed to one caller at a time. A connection
    that broke (server restarted, network) is dropped, not returned."""

    def __init__(self, url: str, size: int) -> None:
        self._url, self._size = url, size
        self._idle: list[psycopg.Connection] = []
        self._open = 0
        self._cond = threading.Condition()

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(
                self._url, autocommit=True, connect_timeout=10, application_name="brain-hub"
            )
        except psycopg.OperationalError as e:
            raise HubDatabaseUnavailable(
                f"cannot connect to PostgreSQL at {redact(self._url)}: {' '.join(str(e).split())} — "
                "check that the server is running and reachable there, that the role and its "
                "password are right, and that the database exists"
            ) from e

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._cond:
            while not self._idle and self._open >= self._size:
                self._cond.wait()
            conn = self._idle.pop() if self._idle else None
            self._open += conn is None
        if conn is None:
            try:
                conn = self._connect()
            except BaseException:
                with self._cond:
                    self._open -= 1
                    self._cond.notify()
                raise
        try:
            yield conn
        finally:
            with self._cond:
                if conn.closed or conn.broken:
                    self._open -= 1
                else:
                    self._idle.append(conn)
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for c in idle:
            c.close()


def _item(row: tuple[Any, ...]) -> Item:
    cur, kind, origin, seq, path, sync_class, owner, payload = row
    return Item(int(cur), kind, origin, int(seq), path, sync_class, owner, bytes(payload))


class PgStorage:
    """`Storage` in a PostgreSQL database; the schema is created or upgraded on first use."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self._where = redact(url)
        self._pool = _Pool(url, pool_size)
        with self._pool.connection() as conn:
            migrate(conn, self._where)
            row = conn.execute(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        # A superuser or BYPASSRLS role skips every policy: isolation then rests on the
        # queries alone. Allowed (a DBA may insist), but said loudly.
        self.rls_bypassed = bool(row and row[0])
        if self.rls_bypassed:
            log.warning(
                "the hub's PostgreSQL role at %s is a superuser or has BYPASSRLS: row-level "
                "security does not apply to it; give the hub an ordinary role",
                self._where,
            )

    # -- transactions -------------------------------------------------------------------------
    def _run(self, org: str, fn: Callable[[psycopg.Cursor[Any]], T], snapshot: bool = False) -> T:
        """Run `fn` in one transaction scoped to `org`. A connection that broke under us (the
        server restarted) is replaced and the call tried once more: every write here is
        idempotent, so a commit whose reply was lost is answered as a duplicate the second
        time."""
        for attempt in (1, 2):
            with self._pool.connection() as conn:
                try:
                    conn.isolation_level = (
                        IsolationLevel.REPEATABLE_READ
                        if snapshot
                        else IsolationLevel.READ_COMMITTED
                    )
                    with conn.transaction(), conn.cursor() as cur:
                        cur.execute("SELECT set_config('brain.org', %s, true)", (org,))
                        return fn(cur)
                except psycopg.OperationalError as e:
                    if attempt == 2 or not conn.broken:
                        raise HubDatabaseUnavailable(
                            f"PostgreSQL at {self._where} failed: {' '.join(str(e).split())}"
                        ) from e
                    log.info("hub database connection broke; retrying once: %s", e)
        raise AssertionError("unreachable")

    @staticmethod
    def _lock_head(cur: psycopg.Cursor[Any], org: str) -> int:
        row = cur.execute("SELECT head FROM hub_orgs WHERE org = %s FOR UPDATE", (org,)).fetchone()
        if row is None:
            raise NotFound(f"no org {org!r} at this hub: add it with `brain hub add-org {org}`")
        return int(row[0])

    # -- orgs, users, devices -----------------------------------------------------------------
    def add_org(self, org: str, org_only_roles: tuple[str, ...], now_ns: int) -> Org:
        def fn(cur: psycopg.Cursor[Any]) -> Org:
            cur.execute(
                "INSERT INTO hub_orgs (org, org_only_roles, created_ns) VALUES (%s, %s, %s) "
                "ON CONFLICT (org) DO NOTHING",
                (org, list(org_only_roles), now_ns),
            )
            return self._org(cur, org)  # type: ignore[return-value]

        return self._run(org, fn)

    @staticmethod
    def _org(cur: psycopg.Cursor[Any], org: str) -> Org | None:
        row = cur.execute(
            "SELECT org, org_only_roles, created_ns FROM hub_orgs WHERE org = %s", (org,)
        ).fetchone()
        return Org(row[0], tuple(row[1]), int(row[2])) if row else None

    def get_org(self, org: str) -> Org | None:
        return self._run(org, lambda cur: self._org(cur, org))

    def add_user(self, org: str, user: str, role: str) -> User:
        def fn(cur: psycopg.Cursor[Any]) -> User:
            self._need_org(cur, org)
            cur.execute(
                "INSERT INTO hub_users (org, name, role) VALUES (%s, %s, %s) "
                "ON CONFLICT (org, name) DO NOTHING",
                (org, user, role),
            )
            return self._user(cur, org, user)  # type: ignore[return-value]

        return self._run(org, fn)

    def _need_org(self, cur: psycopg.Cursor[Any], org: str) -> None:
        if self._org(cur, org) is None:
            raise NotFound(f"no org {org!r} at this hub: add it with `brain hub add-org {org}`")

    @staticmethod
    def _user(cur: psycopg.Cursor[Any], org: str, user: str) -> User | None:
        row = cur.execute(
            "SELECT org, name, role, revoked FROM hub_users WHERE org = %s AND name = %s",
            (org, user),
        ).fetchone()
        return User(row[0], row[1], row[2], bool(row[3])) if row else None

    def get_user(self, org: str, user: str) -> User | None:
        return self._run(org, lambda cur: self._user(cur, org, user))

    def add_device(self, org: str, user: str, device: str, jti: str) -> Device:
        def fn(cur: psycopg.Cursor[Any]) -> Device:
            if self._user(cur, org, user) is None:
                raise NotFound(f"no user {user!r} in org {org!r}: add it with `brain hub add-user`")
            cur.execute(
                "INSERT INTO hub_devices (org, name, user_name, jti) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (org, name) DO NOTHING",
                (org, device, user, jti),
            )
            return self._device(cur, org, device)  # type: ignore[return-value]

        return self._run(org, fn)

    @staticmethod
    def _device(cur: psycopg.Cursor[Any], org: str, device: str) -> Device | None:
        row = cur.execute(
            "SELECT org, user_name, name, jti, revoked FROM hub_devices "
            "WHERE org = %s AND name = %s",
            (org, device),
        ).fetchone()
        return Device(row[0], row[1], row[2], row[3], bool(row[4])) if row else None

    def get_device(self, org: str, device: str) -> Device | None:
        return self._run(org, lambda cur: self._device(cur, org, device))

    def revoke(self, org: str, *, user: str | None = None, device: str | None = None) -> int:
        """Revoke a user (and every device of theirs) or one device; how many rows changed."""

        def fn(cur: psycopg.Cursor[Any]) -> int:
            n = 0
            if user is not None:
                cur.execute(
                    "UPDATE hub_users SET revoked = true "
                    "WHERE org = %s AND name = %s AND NOT revoked",
                    (org, user),
                )
                n += cur.rowcount
                cur.execute(
                    "UPDATE hub_devices SET revoked = true "
                    "WHERE org = %s AND user_name = %s AND NOT revoked",
                    (org, user),
                )
                n += cur.rowcount
            if device is not None:
                cur.execute(
                    "UPDATE hub_devices SET revoked = true "
                    "WHERE org = %s AND name = %s AND NOT revoked",
                    (org, device),
                )
                n += cur.rowcount
            return n

        return self._run(org, fn)

    # -- bindings -----------------------------------------------------------------------------
    @staticmethod
    def _binding(cur: psycopg.Cursor[Any], org: str, origin: str) -> Binding | None:
        row = cur.execute(
            "SELECT org, origin, user_name, device, vkeys FROM hub_bindings "
            "WHERE org = %s AND origin = %s",
            (org, origin),
        ).fetchone()
        return Binding(row[0], row[1], row[2], row[3], tuple(row[4])) if row else None

    def binding(self, org: str, origin: str) -> Binding | None:
        return self._run(org, lambda cur: self._binding(cur, org, origin))

    def bind(self, binding: Binding) -> Binding:
        b = binding

        def fn(cur: psycopg.Cursor[Any]) -> Binding:
            # First wins: a concurrent insert of the same origin waits for the first to
            # commit, then does nothing; READ COMMITTED's next statement sees the winner.
            cur.execute(
                "INSERT INTO hub_bindings (org, origin, user_name, device, vkeys) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (org, origin) DO NOTHING",
                (b.org, b.origin, b.user, b.device, list(b.vkeys)),
            )
            held = self._binding(cur, b.org, b.origin)
            if held is None:
                raise HubStorageError(f"binding {b.origin} in org {b.org!r} vanished")
            return held

        return self._run(b.org, fn)

    # -- items --------------------------------------------------------------------------------
    def put_items(self, org: str, items: list[Item]) -> list[bool]:
        if not items:
            return []

        def fn(cur: psycopg.Cursor[Any]) -> list[bool]:
            head = self._lock_head(cur, org)
            # The org lock is held: no other append can slip a key in between this look and
            # the insert, so cursors stay contiguous and ON CONFLICT is only a backstop.
            held = {
                (k, o, int(s))
                for k, o, s in cur.execute(
                    "SELECT kind, origin, seq FROM hub_items WHERE org = %s AND "
                    "(kind, origin, seq) IN (SELECT * FROM unnest(%s::text[], %s::text[], "
                    "%s::bigint[]))",
                    (
                        org,
                        [i.kind for i in items],
                        [i.origin for i in items],
                        [i.seq for i in items],
                    ),
                ).fetchall()
            }
            stored: list[bool] = []
            rows: list[tuple[Any, ...]] = []
            for it in items:
                key = (it.kind, it.origin, it.seq)
                if key in held:
                    stored.append(False)
                    continue
                held.add(key)  # a batch may carry the same item twice
                head += 1
                rows.append((head, *key, it.path, it.sync_class, it.owner, it.payload))
                stored.append(True)
            if rows:
                self._insert(cur, org, rows)
                cur.execute("UPDATE hub_orgs SET head = %s WHERE org = %s", (head, org))
            return stored

        return self._run(org, fn)

    @staticmethod
    def _insert(cur: psycopg.Cursor[Any], org: str, rows: list[tuple[Any, ...]]) -> None:
        cols = list(zip(*rows, strict=True))
        cur.execute(_INSERT_ITEMS, (org, *(list(c) for c in cols)))

    def purge(self, org: str, notice: Item) -> bool:
        def fn(cur: psycopg.Cursor[Any]) -> bool:
            head = self._lock_head(cur, org)
            if cur.execute(
                "SELECT 1 FROM hub_items WHERE org = %s AND kind = %s AND origin = %s AND seq = %s",
                (org, notice.kind, notice.origin, notice.seq),
            ).fetchone():
                return False  # a retried delivery: erased and appended the first time
            # Only versions written before the purge row: the origin may write the path again
            # afterwards, and a late duplicate of this notice must not erase that.
            cur.execute(
                "UPDATE hub_items SET payload = '' WHERE org = %s AND kind = 'envelope' "
                "AND origin = %s AND path = %s AND seq < %s",
                (org, notice.origin, notice.path, notice.seq),
            )
            n = notice
            self._insert(
                cur,
                org,
                [(head + 1, n.kind, n.origin, n.seq, n.path, n.sync_class, n.owner, n.payload)],
            )
            cur.execute("UPDATE hub_orgs SET head = %s WHERE org = %s", (head + 1, org))
            return True

        return self._run(org, fn)

    def read(self, org: str, scope: Scope, after: int, limit: int) -> tuple[list[Item], int]:
        def fn(cur: psycopg.Cursor[Any]) -> tuple[list[Item], int]:
            params = {
                "org": org,
                "after": after,
                "store": scope.store,
                "user": scope.user,
                "org_only": scope.org_only,
                "limit": max(limit, 0),
            }
            items = [_item(r) for r in cur.execute(_READ, params).fetchall()]
            if limit > 0 and len(items) == limit:
                return items, items[-1].cursor
            # Fewer than asked: nothing readable up to the head, in this same snapshot.
            row = cur.execute("SELECT head FROM hub_orgs WHERE org = %s", (org,)).fetchone()
            head = int(row[0]) if row else 0
            return items, max(head, after) if limit > 0 else after

        return self._run(org, fn, snapshot=True)

    def head(self, org: str) -> int:
        def fn(cur: psycopg.Cursor[Any]) -> int:
            row = cur.execute("SELECT head FROM hub_orgs WHERE org = %s", (org,)).fetchone()
            return int(row[0]) if row else 0

        return self._run(org, fn)

    def log_event(self, org: str, user: str, device: str, event: str, detail: str) -> None:
        self._run(
            org,
            lambda cur: cur.execute(
                "INSERT INTO hub_events (org, at_ns, user_name, device, event, detail) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (org, time.time_ns(), user, device, event, detail),
            ),
        )

    def close(self) -> None:
        self._pool.close()


__all__ = ["PgStorage", "redact"]
