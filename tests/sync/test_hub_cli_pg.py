"""`brain hub` on PostgreSQL, run as an operator would: the URL given once at init is remembered
in the hub folder; a database out of reach is named without its password."""

from __future__ import annotations

import json
from pathlib import Path

from tests.sync.pg_server import PgServer
from tests.sync.test_hub_cli import brain, ok


def test_init_once_with_db_then_every_command_uses_it(tmp_path: Path, pg_url: str) -> None:
    hub = str(tmp_path / "hub")
    ok("hub", "init", "--hub", hub, "--db", pg_url)
    ok("hub", "add-org", "acme", "--hub", hub)
    ok("hub", "add-user", "acme", "ana", "--device", "laptop", "--hub", hub)
    (acme,) = json.loads(ok("hub", "list", "--json", "--hub", hub))
    assert acme["org"] == "acme" and [u["user"] for u in acme["users"]] == ["ana"]
    # the data is in the database, not the folder
    assert not (Path(hub) / "orgs").exists()


def test_a_database_out_of_reach_is_named_without_its_password(
    tmp_path: Path, pg_server: PgServer
) -> None:
    bad = pg_server.url("postgres").replace(pg_server.password, "not-the-password")
    p = brain("hub", "init", "--hub", str(tmp_path / "hub"), "--db", bad)
    assert p.returncode == 1
    assert f"postgresql://brain_hub@127.0.0.1:{pg_server.port}/postgres" in p.stderr
    assert "not-the-password" not in p.stderr and "password are right" in p.stderr
