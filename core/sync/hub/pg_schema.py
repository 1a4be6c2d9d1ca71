"""The hub's PostgreSQL schema, as numbered migrations applied on first use (docs/sync.md,
"Running the hub on PostgreSQL").

Every org-scoped table carries `org`, has row-level security ENABLEd and FORCEd (so the owning
role obeys it too) and one policy: a row is visible and writable only while the transaction's
`brain.org` setting names its org. `core.sync.hub.storage_pg` sets it at the start of every
transaction, so a query that forgot its `WHERE org = …` still cannot see another org's rows.
"""

from __future__ import annotations

import psycopg

from core.sync.hub.storage import HubStorageError

# Tables guarded by the org policy. The others: `hub_schema` (the migration counter) and
# `hub_directory` (org names only).
ORG_TABLES = ("hub_orgs", "hub_users", "hub_devices", "hub_bindings", "hub_items", "hub_events")

_RLS = "\n".join(
    f"""
ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {t} FORCE ROW LEVEL SECURITY;
CREATE POLICY {t}_org ON {t}
  USING (org = current_setting('brain.org', true))
  WITH CHECK (org = current_setting('brain.org', true));
"""
    for t in ORG_TABLES
)

MIGRATIONS: tuple[str, ...] = (
    # 1: the whole hub
    """
-- The names of the orgs, for `brain hub` listings: the one table without the org policy (an
-- org's name is in every URL of it; nothing else about it is here).
CREATE TABLE hub_directory (org text PRIMARY KEY);
CREATE TABLE hub_orgs (
  org text PRIMARY KEY,
  org_only_roles text[] NOT NULL,
  created_ns bigint NOT NULL,
  -- the org's newest cursor. Appends lock this row (SELECT … FOR NO KEY UPDATE) until they
  -- commit, so cursors are handed out and committed in order: a reader never sees cursor n+1
  -- without n, and never moves past an item that commits later.
  head bigint NOT NULL DEFAULT 0
);
CREATE TABLE hub_users (
  org text NOT NULL REFERENCES hub_orgs (org),
  name text NOT NULL,
  role text NOT NULL,
  revoked boolean NOT NULL DEFAULT false,
  PRIMARY KEY (org, name)
);
CREATE TABLE hub_devices (
  org text NOT NULL,
  name text NOT NULL,
  user_name text NOT NULL,
  jti text NOT NULL,
  revoked boolean NOT NULL DEFAULT false,
  PRIMARY KEY (org, name),
  FOREIGN KEY (org, user_name) REFERENCES hub_users (org, name)
);
CREATE TABLE hub_bindings (
  org text NOT NULL REFERENCES hub_orgs (org),
  origin text NOT NULL,
  user_name text NOT NULL,
  device text NOT NULL,
  vkeys text[] NOT NULL,
  PRIMARY KEY (org, origin),
  UNIQUE (org, device)  -- one origin store per device
);
CREATE TABLE hub_items (
  org text NOT NULL REFERENCES hub_orgs (org),
  cur bigint NOT NULL,
  kind text NOT NULL,
  origin text NOT NULL,
  seq bigint NOT NULL,
  path text NOT NULL,
  sync_class text NOT NULL,
  owner text NOT NULL,
  payload bytea NOT NULL,
  PRIMARY KEY (org, cur),
  UNIQUE (org, kind, origin, seq)
);
-- A purge finds its path's envelopes, a push finds the purges of its paths. Path leads, after
-- org: led by origin, these would look as good as the unique key for a push's duplicate check
-- to a planner without statistics (before the first ANALYZE), which then scanned all of the
-- origin's items on every push.
CREATE INDEX hub_items_envelope_path ON hub_items (org, path, origin) WHERE kind = 'envelope';
CREATE INDEX hub_items_purge_path ON hub_items (org, path, origin, seq) WHERE kind = 'purge';
CREATE TABLE hub_events (
  id bigserial PRIMARY KEY,
  org text NOT NULL,
  at_ns bigint NOT NULL,
  user_name text NOT NULL,
  device text NOT NULL,
  event text NOT NULL,
  detail text NOT NULL
);
CREATE INDEX hub_events_org ON hub_events (org, id);
"""
    + _RLS,
)

# Any constant works; it only has to be the same in every hub process sharing the database.
_MIGRATION_LOCK = 0x6272_6169_6E68_7562  # "brainhub"


def migrate(conn: psycopg.Connection, what: str) -> int:
    """Bring the schema to the newest version; returns it. Safe to run from several hub
    processes at once: an advisory lock makes them take turns, and each step commits with
    its version number."""
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS hub_schema (version integer NOT NULL)")
            row = conn.execute("SELECT max(version) FROM hub_schema").fetchone()
            version = int(row[0]) if row and row[0] is not None else 0
            for n, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                conn.execute(sql.encode())
                conn.execute("INSERT INTO hub_schema (version) VALUES (%s)", (n,))
                version = n
            return version
    except psycopg.errors.InsufficientPrivilege as e:
        raise HubStorageError(
            f"the hub cannot create its tables in {what}: {e.diag.message_primary}. The hub's "
            "role must own its tables: make it the database owner, or GRANT CREATE ON SCHEMA "
            "public to it (docs/sync.md, 'Running the hub on PostgreSQL')"
        ) from e


__all__ = ["MIGRATIONS", "ORG_TABLES", "migrate"]
