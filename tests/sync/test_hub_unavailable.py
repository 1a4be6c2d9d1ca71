"""A hub whose PostgreSQL refuses connections answers 503 with Retry-After (the client waits
and retries), names no database host or role to the client, and serves again once the database
is back."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import psycopg
import pytest

from tests.sync.pg_server import PgServer


def _whoami(url: str, org: str, token: str) -> tuple[int, dict[str, str], dict]:
    req = urllib.request.Request(
        f"{url}/v1/orgs/{org}/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, json.loads(e.read())


def _refuse_logins(pg_server: PgServer, dbname: str, limit: int) -> None:
    with psycopg.connect(pg_server.admin_url(dbname), autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{dbname}" CONNECTION LIMIT {limit}')
        if limit == 0:  # and drop the hub's pooled connections, so it must log in again
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE usename = 'brain_hub' AND datname = %s",
                (dbname,),
            )


@pytest.mark.parametrize("hub", ["postgres"], indirect=True)
def test_a_database_that_refuses_logins_is_a_503_with_retry_after(hub, pg_server) -> None:
    token = hub.token("acme", "ana", device="ana-laptop")
    assert _whoami(hub.url, "acme", token)[0] == 200
    dbname = hub.db_url.rsplit("/", 1)[1]
    _refuse_logins(pg_server, dbname, 0)
    try:
        status, headers, body = _whoami(hub.url, "acme", token)
        assert status == 503, body
        assert body["code"] == "unavailable"
        assert int(headers["retry-after"]) > 0
        assert "brain_hub" not in body["error"] and "127.0.0.1" not in body["error"]
    finally:
        _refuse_logins(pg_server, dbname, -1)
    assert _whoami(hub.url, "acme", token)[0] == 200
