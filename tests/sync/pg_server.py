"""A real PostgreSQL server for the hub tests (docs/sync.md, "Tests").

One throwaway cluster per test session (per pytest-xdist worker: each worker process starts its
own on its own port): `initdb` into a temp folder, a free loopback port, the unix socket in the
same folder, durability off (a test cluster is deleted at the end, so fsync buys nothing). The hub
connects as a role that is neither superuser nor BYPASSRLS, so row-level security applies exactly
as in production; each test asks for a fresh database owned by that role.

PostgreSQL refuses to run as root. When the tests run as root (containers, CI images) the server
runs as the `postgres` system user that Debian's package creates, through `runuser`.

Nothing is skipped: when PostgreSQL cannot be found or started, `PgServer.start` raises
`PgServerError` with what to install or check, and the tests that need it fail.
"""

from __future__ import annotations

import atexit
import glob
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg

APP_ROLE = "brain_hub"  # the role the hub connects as: no superuser, no BYPASSRLS
SUPERUSER = "brain_admin"  # the cluster's bootstrap superuser, used only here over the socket


class PgServerError(RuntimeError):
    """PostgreSQL is missing or did not start; the message says what to do."""


def find_bindir() -> Path:
    """The folder holding initdb, pg_ctl and postgres: $BRAIN_PG_BINDIR, Debian's
    /usr/lib/postgresql/<newest>/bin, `pg_config --bindir`, or initdb on PATH."""
    env = os.environ.get("BRAIN_PG_BINDIR")
    candidates: list[Path] = [Path(env)] if env else []
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += [Path(p) for p in debian]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for c in candidates:
        if (c / "initdb").is_file() and (c / "pg_ctl").is_file():
            return c
    raise PgServerError(
        "PostgreSQL is not installed: the hub tests run a real server. `./dev test` installs "
        "Debian's package (apt-get install -y --no-install-recommends postgresql); elsewhere "
        "install PostgreSQL 13+ and put its bin folder on PATH or in BRAIN_PG_BINDIR"
    )


def as_postgres(cmd: list[str]) -> list[str]:
    """`cmd` run as the `postgres` system user (we are root): runuser, or su where it is
    missing."""
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "-s", "/bin/sh", "postgres", "-c", shlex.join(cmd)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A throwaway cluster. `start()`, then `new_database()` per test, `stop()` at the end."""

    def __init__(self, *, durable: bool = False) -> None:
        self.bindir = find_bindir()
        # durable: fsync and synchronous commits on, as a production hub would run (benchmarks)
        self.durable = durable
        self.root: Path | None = None
        self.port = 0
        self.password = secrets.token_hex(12)
        self._as_postgres = os.geteuid() == 0
        self._dbs = 0
        self._reaper: subprocess.Popen[bytes] | None = None

    # -- running the server's tools as the right OS user --------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = as_postgres(cmd)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise PgServerError(
                f"{' '.join(args[:2])} failed (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()[-2000:]}" + self._log_tail()
            )
        return proc

    def _log_tail(self) -> str:
        log = self.root / "server.log" if self.root else None
        if log and log.exists():
            return "\nserver log:\n" + log.read_text(errors="replace")[-2000:]
        return ""

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None
        return self.root

    def start(self) -> PgServer:
        if self._as_postgres:
            try:
                import pwd

                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise PgServerError(
                    "running as root, and PostgreSQL refuses root: the tests run the server as "
                    "the `postgres` system user, which does not exist here. Install Debian's "
                    "postgresql package (it creates the user) or run the tests as a normal user"
                ) from None
        # A folder directly under the system temp dir: pytest's own tmp folders are 0700 and
        # owned by root, which the postgres user could not enter (nor a root-only $TMPDIR).
        where = "/tmp" if self._as_postgres and os.path.isdir("/tmp") else None
        self.root = Path(tempfile.mkdtemp(prefix="brain-pg-", dir=where))
        atexit.register(self.stop)
        data = self.root / "data"
        if self._as_postgres:
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            "--auth-local=trust",  # the socket lives in our private folder
            "--auth-host=scram-sha-256",  # the hub's TCP connection logs in with a password
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        # A port can be taken between probing and binding: try a few.
        last = ""
        for _ in range(5):
            self.port = _free_port()
            opts = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={self.root} "
                "-c max_connections=200 -c shared_buffers=32MB"
            )
            if not self.durable:
                opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            proc = self._run(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(data),
                "-l",
                str(self.root / "server.log"),
                "-o",
                opts,
                check=False,
            )
            if proc.returncode == 0:
                break
            last = (proc.stderr or proc.stdout).strip() + self._log_tail()
        else:
            raise PgServerError(f"PostgreSQL did not start from {self.bindir}: {last}")
        self._watch()
        with self._admin() as conn:
            conn.execute(
                f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE "
                f"PASSWORD '{self.password}'"
            )
        return self

    def _watch(self) -> None:
        """A reaper in its own session: when this process dies without stop() (SIGKILL, a CI
        timeout), it stops the server and deletes the folder, so no cluster outlives its
        tests. stop() ends it first."""
        assert self.root is not None
        pg_ctl = [
            str(self.bindir / "pg_ctl"),
            "stop",
            "-m",
            "immediate",
            "-D",
            str(self.root / "data"),
        ]
        if self._as_postgres:
            pg_ctl = as_postgres(pg_ctl)
        script = (
            'while kill -0 "$1" 2>/dev/null; do sleep 1; done; shift; "$@" >/dev/null 2>&1; '
            f"rm -rf {shlex.quote(str(self.root))}"
        )
        self._reaper = subprocess.Popen(
            ["sh", "-c", script, "reaper", str(os.getpid()), *pg_ctl],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _admin(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=SUPERUSER,
            dbname=dbname,
            autocommit=True,
        )

    def url(self, dbname: str) -> str:
        return f"postgresql://{APP_ROLE}:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def admin_url(self, dbname: str) -> str:
        """The superuser, over the socket: for tests that must look past row-level security."""
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def new_database(self) -> str:
        """A fresh, empty database owned by the hub's role; its URL (with the password)."""
        self._dbs += 1
        name = f"hub_{os.getpid()}_{self._dbs}"
        with self._admin() as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {APP_ROLE} TEMPLATE template0")
        return self.url(name)

    def stop(self) -> None:
        if self.root is None:
            return
        root, self.root = self.root, None
        if self._reaper is not None:
            self._reaper.kill()
            self._reaper.wait()
            self._reaper = None
        data = root / "data"
        if (data / "postmaster.pid").exists():
            cmd = [str(self.bindir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(data)]
            if self._as_postgres:
                cmd = as_postgres(cmd)
            subprocess.run(cmd, capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


__all__ = ["APP_ROLE", "PgServer", "PgServerError", "find_bindir"]
