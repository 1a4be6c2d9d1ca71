"""What only the PostgreSQL backend promises: row-level security per org, proved on raw
connections that bypass PgStorage's own `WHERE org = …`; clear messages when the database is
out of reach; a schema that several hub processes can create at once."""

from __future__ import annotations

import threading

import psycopg
import pytest

from core.sync.hub.pg_pool import HubDatabaseUnavailable, redact
from core.sync.hub.pg_schema import MIGRATIONS, ORG_TABLES
from core.sync.hub.storage import Binding, HubStorageError, Item, Scope
from core.sync.hub.storage_pg import PgStorage
from tests.sync.pg_server import PgServer

ROLES = ("admin", "member")


def fill(url: str) -> None:
    """Two orgs with a row in every org-scoped table."""
    st = PgStorage(url)
    for org in ("acme", "beta"):
        st.add_org(org, ROLES, 1)
        st.add_user(org, f"{org}-ann", "member")
        st.add_device(org, f"{org}-ann", f"{org}-laptop", "jti")
        st.bind(Binding(org, f"{org}-store", f"{org}-ann", f"{org}-laptop", ("k",)))
        items = [Item(0, "envelope", f"{org}-store", 1, "a.md", "team-public", "ann", b"x")]
        st.put_items(org, items)
        st.log_event(org, f"{org}-ann", f"{org}-laptop", "refused", "why")
    st.close()


def test_rls_hides_other_orgs_even_without_a_where(pg_url: str) -> None:
    fill(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for table in ORG_TABLES:
            with conn.transaction():
                conn.execute("SELECT set_config('brain.org', 'acme', true)")
                orgs = {r[0] for r in conn.execute(f"SELECT org FROM {table}")}  # no WHERE
            assert orgs == {"acme"}, table
            # outside a scoped transaction the setting is empty: nothing at all
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
        # and no write can place a row in another org
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("SELECT set_config('brain.org', 'acme', true)")
            conn.execute(
                "INSERT INTO hub_events (org, at_ns, user_name, device, event, detail) "
                "VALUES ('beta', 0, 'x', 'x', 'forged', 'x')"
            )
        with conn.transaction():
            conn.execute("SELECT set_config('brain.org', 'acme', true)")
            conn.execute("UPDATE hub_items SET payload = 'gone'")  # no WHERE: acme's only
            conn.execute("DELETE FROM hub_events")  # no WHERE: acme's only
    st = PgStorage(pg_url)
    everyone = Scope("zed", "z" * 32, True)
    assert [i.payload for i in st.read("beta", everyone, 0, 10)[0]] == [b"x"]
    assert [i.payload for i in st.read("acme", everyone, 0, 10)[0]] == [b"gone"]
    assert [e.event for e in st.events("beta")] == ["refused"]
    assert st.events("acme") == []
    st.close()


def test_rls_is_forced_on_every_org_table(pg_server: PgServer, pg_url: str) -> None:
    """FORCE: the hub's role owns the tables, and owners obey the policy too."""
    PgStorage(pg_url).close()
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_server.admin_url(dbname)) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "pg_get_userbyid(c.relowner), "
            "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) "
            "FROM pg_class c WHERE c.relname = ANY(%s)",
            (list(ORG_TABLES),),
        ).fetchall()
    assert sorted(r[0] for r in rows) == sorted(ORG_TABLES)
    for name, enabled, forced, owner, policies in rows:
        assert (enabled, forced, owner, policies) == (True, True, "brain_hub", 1), name


def test_an_ordinary_role_is_bound_and_a_superuser_is_flagged(
    pg_server: PgServer, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    st = PgStorage(pg_url)
    assert not st.rls_bypassed
    st.close()
    with caplog.at_level("WARNING"):
        su = PgStorage(pg_server.admin_url(pg_url.rsplit("/", 1)[1]))
    assert su.rls_bypassed
    assert "row-level security does not apply" in caplog.text
    su.close()


def test_migrations_run_once_from_many_processes_at_once(pg_url: str) -> None:
    got: list[PgStorage] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        try:
            got.append(PgStorage(pg_url, pool_size=1))
        except BaseException as e:  # noqa: BLE001 - re-raised by the assert below
            errors.append(e)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with psycopg.connect(pg_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM hub_schema ORDER BY 1")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    for st in got:
        st.close()


def test_unreachable_database_says_where_without_the_password(pg_server: PgServer) -> None:
    url = pg_server.url("postgres").replace(pg_server.password, "wrong-secret")
    with pytest.raises(HubDatabaseUnavailable) as e:
        PgStorage(url)
    msg = str(e.value)
    assert "wrong-secret" not in msg and pg_server.password not in msg
    assert f"postgresql://brain_hub@127.0.0.1:{pg_server.port}/postgres" in msg
    assert "password" in msg  # what to check
    assert isinstance(e.value, HubStorageError)
    assert redact("host=h port=5 user=u password=p dbname=d") == "postgresql://u@h:5/d"


def test_a_restarted_server_is_reconnected(pg_server: PgServer, pg_url: str) -> None:
    """Pooled connections die with the server's backends; the next call opens a fresh one."""
    st = PgStorage(pg_url)
    st.add_org("acme", ROLES, 1)
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_server.admin_url(dbname), autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE usename = 'brain_hub' AND datname = %s",
            (dbname,),
        )
    assert st.get_org("acme") is not None
    st.close()


def test_a_reader_never_moves_past_a_push_still_committing(
    pg_server: PgServer, pg_url: str
) -> None:
    """A push in flight holds its org's cursor lock: a reader meanwhile resumes from the last
    committed head (not past the pending cursor), and a second push waits and takes the next
    cursor. Proved with a raw transaction standing in for the first push, held open while the
    second push is seen waiting on its lock in pg_locks (no sleeps, no timing)."""
    st = PgStorage(pg_url)
    st.add_org("acme", ROLES, 1)
    everyone = Scope("zed", "z" * 32, True)
    st.put_items("acme", [Item(0, "envelope", "a" * 32, 1, "a.md", "shareable", "ann", b"1")])
    head = st.head("acme")
    dbname = pg_url.rsplit("/", 1)[1]
    second: list[list[bool]] = []
    with psycopg.connect(pg_url, autocommit=True) as first:
        with first.transaction():
            first.execute("SELECT set_config('brain.org', 'acme', true)")
            first.execute("SELECT head FROM hub_orgs WHERE org = 'acme' FOR NO KEY UPDATE")
            first.execute(
                "INSERT INTO hub_items (org, cur, kind, origin, seq, path, sync_class, owner, "
                "payload) VALUES ('acme', %s, 'envelope', %s, 1, 'b.md', 'shareable', 'bob', "
                "'2')",
                (head + 1, "b" * 32),
            )
            first.execute("UPDATE hub_orgs SET head = %s WHERE org = 'acme'", (head + 1,))
            assert st.read("acme", everyone, head, 10) == ([], head)  # not head + 1

            item = Item(0, "envelope", "c" * 32, 1, "c.md", "shareable", "cy", b"3")
            t = threading.Thread(target=lambda: second.append(st.put_items("acme", [item])))
            t.start()
            with psycopg.connect(pg_server.admin_url(dbname), autocommit=True) as admin:
                # a row lock is waited on as the holder's transaction id: wait_event_type Lock
                while not admin.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND wait_event_type = 'Lock'",
                    (dbname,),
                ).fetchone()[0]:  # type: ignore[index]
                    assert t.is_alive(), "the second push did not wait for the first"
            assert st.read("acme", everyone, head, 10) == ([], head)
        t.join()
    assert second == [[True]]
    page, resume = st.read("acme", everyone, head, 10)
    assert [(i.cursor, i.origin[0]) for i in page] == [(head + 1, "b"), (head + 2, "c")]
    assert resume == head + 2
    st.close()
