"""Connections to the hub's PostgreSQL database: a small pool, and the URL as a person may see it.

The app calls storage from a thread pool; each call borrows one connection for one transaction
and gives it back. A connection that broke (the server restarted, the network dropped) is
dropped, not handed out again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict

from core.sync.hub.storage import HubStorageError, StorageUnavailable


class HubDatabaseUnavailable(StorageUnavailable):
    """The hub cannot reach, or log in to, its PostgreSQL database."""


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        d = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unparsable database URL)"
    host = str(d.get("host") or "localhost")
    port = f":{d['port']}" if d.get("port") else ""
    user = f"{d['user']}@" if d.get("user") else ""
    return f"postgresql://{user}{host}{port}/{d.get('dbname') or ''}"


def one_line(e: BaseException) -> str:
    return " ".join(str(e).split())


class Pool:
    """At most `size` connections, opened on demand, each lent to one caller at a time."""

    def __init__(self, url: str, size: int) -> None:
        self._url, self._size = url, size
        self._idle: list[psycopg.Connection] = []
        self._open = 0
        self._closed = False
        self._cond = threading.Condition()

    def _connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(
                self._url, autocommit=True, connect_timeout=10, application_name="brain-hub"
            )
        except psycopg.OperationalError as e:
            raise HubDatabaseUnavailable(
                f"cannot connect to PostgreSQL at {redact(self._url)}: {one_line(e)} — check "
                "that the server is running and reachable there, that the role and its "
                "password are right, and that the database exists"
            ) from e

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._cond:
            if self._closed:
                raise HubStorageError("the hub's database connections are closed")
            while not self._idle and self._open >= self._size:
                self._cond.wait()
            conn = self._idle.pop() if self._idle else None
            if conn is None:
                self._open += 1  # reserved now, opened below outside the lock
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
                if conn.closed or conn.broken or self._closed:
                    self._open -= 1
                    conn.close()
                else:
                    self._idle.append(conn)
                self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for c in idle:
            c.close()


__all__ = ["HubDatabaseUnavailable", "Pool", "one_line", "redact"]
