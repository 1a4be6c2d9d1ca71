"""The hub's PostgreSQL backend (docs/sync.md, "Running the hub on PostgreSQL"): `Storage` on
psycopg 3, for organisations that outgrow one embedded hub.

Isolation: every transaction first runs `set_config('brain.org', org, true)`; the tables' RLS
policy (core.sync.hub.pg_schema) then hides every other org's rows, so even a query that forgot
its `WHERE org = …` cannot leak across orgs. The queries still say `org = …`: the indexes are
keyed on it.

Order: an append locks the org's row in `hub_orgs` (`FOR NO KEY UPDATE`) and holds it until
commit, so appends to one org are serialized and commit in cursor order. A reader's snapshot
therefore holds all of cursors 1..n or none past n; `read` resumes from the org's head in that
same snapshot, never past a cursor whose transaction might still commit below it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg import IsolationLevel

from core.sync.hub.pg_members import Cur, PgMembers, one
from core.sync.hub.pg_pool import HubDatabaseUnavailable, Pool, one_line, redact
from core.sync.hub.pg_schema import migrate
from core.sync.hub.storage import (
    Binding,
    HubStorageError,
    Item,
    Scope,
    Storage,
    page_end,
    widest_class,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# core.sync.classes.may_read in SQL, so a page is filtered where it is read. A purge notice
# carries the widest class of what it erased, so the same rule routes it.
_READABLE = """
WHERE org = %(org)s AND cur > %(after)s AND origin <> %(store)s
  AND (kind = 'purge' OR length(payload) > 0)
  AND (sync_class IN ('shareable', 'team-public')
       OR (sync_class = 'personal' AND owner = %(user)s)
       OR (sync_class = 'org-only' AND %(org_only)s))
"""
# The sizes first (length() reads a TOASTed value's header, not the value), so payloads past
# the page's end are never loaded; then the page, in the same snapshot.
_SIZES = f"SELECT cur, length(payload) FROM hub_items {_READABLE} ORDER BY cur LIMIT %(limit)s"
_READ = f"""
SELECT cur, kind, origin, seq, path, sync_class, owner, payload FROM hub_items
{_READABLE} AND cur <= %(last)s ORDER BY cur
"""
_INSERT_ITEMS = """
INSERT INTO hub_items (org, cur, kind, origin, seq, path, sync_class, owner, payload)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_BINDING = "SELECT org, origin, user_name, device, vkeys FROM hub_bindings WHERE org = %s"


def _binding(r: Any) -> Binding:
    return Binding(r[0], r[1], r[2], r[3], tuple(r[4]))


def _item(r: Any) -> Item:
    return Item(int(r[0]), r[1], r[2], int(r[3]), r[4], r[5], r[6], bytes(r[7]))


class PgStorage(PgMembers):
    """`Storage` in a PostgreSQL database; the schema is created or upgraded on first use."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.where = redact(url)
        self._pool = Pool(url, pool_size)
        with self._pool.connection() as conn:
            migrate(conn, self.where)
            row = conn.execute(
                "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        # A superuser or BYPASSRLS role skips every policy: isolation then rests on the
        # queries alone. Allowed (a DBA may insist), but said loudly.
        self.rls_bypassed = bool(row and row[0])
        if self.rls_bypassed:
            log.warning(
                "the hub's PostgreSQL role at %s is a superuser or has BYPASSRLS, so row-level "
                "security does not apply to it: give the hub an ordinary role",
                self.where,
            )

    # -- transactions -------------------------------------------------------------------------
    def _run(self, org: str, fn: Callable[[Cur], T], snapshot: bool = False) -> T:
        """`fn` in one transaction scoped to `org`. A connection that broke under us (the server
        restarted) is replaced and the call tried once more: every write here is idempotent,
        so a commit whose reply was lost is answered as a duplicate the second time."""
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
                            f"PostgreSQL at {self.where} failed: {one_line(e)}"
                        ) from e
                    log.info("hub database connection broke, trying once more: %s", e)
        raise AssertionError("unreachable")

    # -- bindings -----------------------------------------------------------------------------
    def binding(self, org: str, origin: str) -> Binding | None:
        sql = _BINDING + " AND origin = %s"
        return self._run(org, lambda cur: one(cur, _binding, sql, (org, origin)))

    def binding_for_device(self, org: str, device: str) -> Binding | None:
        sql = _BINDING + " AND device = %s"
        return self._run(org, lambda cur: one(cur, _binding, sql, (org, device)))

    def bind(self, binding: Binding) -> Binding:
        b = binding

        def fn(cur: Cur) -> Binding:
            self._need_org(cur, b.org)
            # First wins: a concurrent insert of the same origin (or device) waits for the
            # first to commit, then does nothing; READ COMMITTED's next statement sees it.
            cur.execute(
                "INSERT INTO hub_bindings (org, origin, user_name, device, vkeys) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (b.org, b.origin, b.user, b.device, list(b.vkeys)),
            )
            held = one(
                cur,
                _binding,
                _BINDING + " AND (origin = %s OR device = %s) ORDER BY origin = %s DESC",
                (b.org, b.origin, b.device, b.origin),
            )
            assert held is not None
            return held

        return self._run(b.org, fn)

    def add_keys(self, org: str, origin: str, vkeys: tuple[str, ...]) -> Binding:
        def fn(cur: Cur) -> Binding:
            # One statement: concurrent rotations each append what is missing, none is lost.
            cur.execute(
                "UPDATE hub_bindings SET vkeys = vkeys || ARRAY(SELECT k FROM unnest(%s::text[])"
                " AS k WHERE NOT k = ANY(vkeys)) WHERE org = %s AND origin = %s",
                (list(vkeys), org, origin),
            )
            if cur.rowcount == 0:
                raise HubStorageError(f"origin {origin} is not bound in {org}")
            held = one(cur, _binding, _BINDING + " AND origin = %s", (org, origin))
            assert held is not None
            return held

        return self._run(org, fn)

    # -- items --------------------------------------------------------------------------------
    def put_items(self, org: str, items: list[Item]) -> list[bool]:
        if not items:
            return []

        def fn(cur: Cur) -> list[bool]:
            head = self._need_org(cur, org, lock=True)
            # The org lock is held: no other append can slip a key in between this look and
            # the insert, so cursors stay contiguous.
            held, purged = self._held(cur, org, items)
            stored: list[bool] = []
            rows: list[tuple[Any, ...]] = []
            for it in items:
                key = (it.kind, it.origin, it.seq)
                if key in held:
                    stored.append(False)
                    continue
                held.add(key)  # a batch may carry the same item twice
                payload = it.payload
                if it.kind == "envelope" and purged.get((it.origin, it.path), -1) > it.seq:
                    payload = b""
                head += 1
                rows.append((head, *key, it.path, it.sync_class, it.owner, payload))
                stored.append(True)
            if rows:
                self._append(cur, org, rows)
            return stored

        return self._run(org, fn)

    @staticmethod
    def _held(
        cur: Cur, org: str, items: list[Item]
    ) -> tuple[set[tuple[str, str, int]], dict[tuple[str, str], int]]:
        """Which of `items` are already held, and the newest purge held per (origin, path).
        One query per (kind, origin): a push names one origin. The seq range keeps the lookup
        on the unique key whatever the planner's statistics say (without it, before the first
        ANALYZE, the planner scanned all of the origin's items)."""
        held: set[tuple[str, str, int]] = set()
        purged: dict[tuple[str, str], int] = {}
        groups: dict[tuple[str, str], list[Item]] = {}
        for it in items:
            groups.setdefault((it.kind, it.origin), []).append(it)
        for (kind, origin), group in groups.items():
            seqs = [i.seq for i in group]
            held.update(
                (kind, origin, int(s))
                for (s,) in cur.execute(
                    "SELECT seq FROM hub_items WHERE org = %s AND kind = %s AND origin = %s "
                    "AND seq BETWEEN %s AND %s AND seq = ANY(%s)",
                    (org, kind, origin, min(seqs), max(seqs), seqs),
                )
            )
            if kind != "envelope":
                continue
            # A late retry of a version older than a purge already held comes back erased.
            for p, s in cur.execute(
                "SELECT path, max(seq) FROM hub_items WHERE org = %s AND kind = 'purge' "
                "AND origin = %s AND path = ANY(%s) GROUP BY path",
                (org, origin, sorted({i.path for i in group})),
            ):
                purged[(origin, p)] = int(s)
        return held, purged

    @staticmethod
    def _append(cur: Cur, org: str, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows whose cursors follow the locked head, and move the head to the last.
        executemany pipelines the rows: faster here than one INSERT … SELECT unnest(…)."""
        cur.executemany(_INSERT_ITEMS, [(org, *r) for r in rows])
        cur.execute("UPDATE hub_orgs SET head = %s WHERE org = %s", (rows[-1][0], org))

    def purge(self, org: str, notice: Item, earlier: tuple[tuple[str, int], ...] = ()) -> bool:
        n = notice

        def fn(cur: Cur) -> bool:
            head = self._need_org(cur, org, lock=True)
            if cur.execute(
                "SELECT 1 FROM hub_items WHERE org = %s AND kind = 'purge' AND origin = %s "
                "AND seq = %s",
                (org, n.origin, n.seq),
            ).fetchone():
                return False  # a retried delivery: erased and appended the first time
            # Only versions before the purge row: the origin may write the path again later,
            # and those are new memories, not what was purged.
            erased: list[Any] = []
            for path, below in ((n.path, n.seq), *earlier):  # earlier: paths before moves
                erased += cur.execute(
                    "UPDATE hub_items SET payload = '' WHERE org = %s AND kind = 'envelope' "
                    "AND origin = %s AND path = %s AND seq < %s RETURNING sync_class",
                    (org, n.origin, path, below),
                ).fetchall()
            cls = widest_class(sorted({r[0] for r in erased}))
            self._append(
                cur, org, [(head + 1, "purge", n.origin, n.seq, n.path, cls, n.owner, n.payload)]
            )
            return True

        return self._run(org, fn)

    def read(
        self, org: str, scope: Scope, after: int, limit: int, max_bytes: int | None = None
    ) -> tuple[list[Item], int]:
        args = {
            "org": org,
            "after": after,
            "store": scope.store,
            "user": scope.user,
            "org_only": scope.org_only,
            "limit": max(limit, 0),
        }

        def fn(cur: Cur) -> tuple[list[Item], int]:
            sizes = [(int(r[0]), int(r[1])) for r in cur.execute(_SIZES, args)]
            last, full = page_end(sizes, limit, max_bytes)
            items = [_item(r) for r in cur.execute(_READ, dict(args, last=last))] if sizes else []
            if full:
                return items, items[-1].cursor
            # A short page examined everything up to the head of this same snapshot.
            row = cur.execute("SELECT head FROM hub_orgs WHERE org = %s", (org,)).fetchone()
            return items, max(int(row[0]) if row else 0, after)

        if limit <= 0:
            return [], after
        return self._run(org, fn, snapshot=True)

    def head(self, org: str) -> int:
        return self._run(org, lambda cur: self._need_org(cur, org))

    def close(self) -> None:
        self._pool.close()


def _conforms(storage: PgStorage) -> Storage:
    return storage  # mypy checks here that PgStorage implements every Storage method


__all__ = ["HubDatabaseUnavailable", "PgStorage"]
