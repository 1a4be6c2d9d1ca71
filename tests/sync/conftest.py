"""A real hub on loopback for every sync test (docs/sync.md, "Tests").

The fixture `hub` is parametrized over the storage backends; each test gets a fresh hub folder
(key, settings) and a server process (`brain hub serve`) it may kill and restart on the same
port and data. Adding a backend: put its name in BACKENDS and return its database URL from
`db_url_for`.

PostgreSQL is a real server: one throwaway cluster per test session (each pytest-xdist worker
starts its own, tests/sync/pg_server.py) and a fresh database per test, owned by an ordinary
role so row-level security applies as in production. Without PostgreSQL the postgres tests fail
with what to install: they are never skipped.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.sync.hub import admin
from core.sync.hub.auth import HubKey
from core.sync.hub.storage import Event
from tests.sync.pg_server import PgServer, PgServerError

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", "postgres"]
START_TIMEOUT_S = 60.0


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """This session's PostgreSQL server. Missing or broken PostgreSQL fails the tests that
    need it, saying what to do: never a skip."""
    try:
        server = PgServer().start()
    except PgServerError as e:
        pytest.fail(f"the postgres backend's tests need a real PostgreSQL: {e}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh database owned by the hub's ordinary (row-level-security-bound) role."""
    return pg_server.new_database()


def db_url_for(backend: str, request: pytest.FixtureRequest) -> str | None:
    """The database a backend's hub keeps its data in (None: the embedded files)."""
    if backend == "sqlite":
        return None
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    raise ValueError(f"no such hub backend {backend!r}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HubHandle:
    """One hub: `url`, tokens for members (added as needed), revocations, kill and restart."""

    def __init__(self, folder: Path, db_url: str | None, port: int, rate: int = 100) -> None:
        self.folder = folder
        self.db_url = db_url
        self.port = port
        self.rate = rate
        # These take effect at the next start():
        self.max_request_mb = 32
        self.workers = 1
        self.tls: tuple[Path, Path] | None = None  # (cert, key)
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = folder / "serve.out"

    # -- admin, in this process, on the same storage the server reads ---------------------------

    def _storage(self):
        return admin.open_storage(self.folder, self.db_url)

    def token(
        self,
        org: str,
        user: str,
        role: str = "member",
        device: str | None = None,
        *,
        org_only_roles: tuple[str, ...] = ("admin", "member"),
        ttl_s: int | None = None,
    ) -> str:
        storage = self._storage()
        try:
            if storage.get_org(org) is None:
                admin.add_org(storage, org, org_only_roles)
            return admin.add_user(
                storage,
                HubKey.load(self.folder),
                org,
                user,
                role=role,
                device=device or f"{user}-dev",
                ttl_s=ttl_s,
            )
        finally:
            storage.close()

    def revoke(self, org: str, *, user: str | None = None, device: str | None = None) -> int:
        storage = self._storage()
        try:
            return admin.revoke(storage, org, user=user, device=device)
        finally:
            storage.close()

    def events(self, org: str) -> list[Event]:
        storage = self._storage()
        try:
            return storage.events(org)
        finally:
            storage.close()

    # -- the server process ---------------------------------------------------------------------

    def start(self) -> None:
        assert self.proc is None, "the hub is already running"
        cmd = [
            sys.executable,
            "-m",
            "brain_tui.cli.main",
            "hub",
            "serve",
            "--hub",
            str(self.folder),
        ]
        cmd += ["--bind", f"127.0.0.1:{self.port}", "--rate", str(self.rate)]
        cmd += ["--max-request-mb", str(self.max_request_mb), "--workers", str(self.workers)]
        if self.tls:
            cmd += ["--cert", str(self.tls[0]), "--key", str(self.tls[1])]
        scheme = "https" if self.tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        if self.db_url:
            cmd += ["--db", self.db_url]
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            cmd, stdout=out, stderr=out, env=env, cwd=REPO, start_new_session=True
        )
        out.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                raise RuntimeError(f"the hub exited at start:\n{self.log.read_text()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the hub did not listen on {self.url}:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Kill the server (SIGKILL: no graceful shutdown, as a crash would), with its
        workers: they share its process group."""
        if self.proc is None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.proc = None


@pytest.fixture(params=BACKENDS)
def hub(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HubHandle]:
    monkeypatch.setenv("BRAIN_ALLOW_TEMP_STORE", "1")
    db_url = db_url_for(request.param, request)
    folder = tmp_path / "hub"
    admin.init(folder, db_url)
    handle = HubHandle(folder, db_url, free_port())
    handle.start()
    try:
        yield handle
    finally:
        handle.stop()
