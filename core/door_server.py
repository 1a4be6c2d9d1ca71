"""The door's server (core/door.py has the client, the wire types and where the socket is).

Of the processes that open a door on one store, the one holding an flock on the socket's
`.lock` file serves; the others stand by and try the lock every STANDBY_S, so when the server
exits or is killed (the kernel drops its flock) one of them takes over. Only the lock's holder
unlinks or binds the socket path.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import msgspec

from core.door import (
    ACCEPTED,
    FIELDS,
    GO,
    MAX_REQUEST,
    VERSION,
    Expired,
    PutRequest,
    Reply,
    Request,
    WhoRequest,
    enabled,
    identity,
    recv,
    recv_exact,
    recv_length,
    same_user,
    send,
    socket_path,
)
from core.errors import BrainError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from core.write.planner import Result

MAX_CLIENTS = 16  # connections served at once; more are closed (their clients write themselves)
READ_TIMEOUT_S = 10.0  # a whole request must arrive within this, however it trickles in
# Request bytes held at once across clients (each request is read whole before it is decoded):
# past it a connection is closed unread and its client writes the put itself.
MAX_BUFFERED = 2 * MAX_REQUEST
STANDBY_S = 1.0  # how often a standing-by process tries to take over the door


class Door:
    """An accepting thread and one thread per client (at most MAX_CLIENTS), or a standby
    thread. `put` is the store's put (path, body, actor and the metadata fields as keywords).
    `close` stops accepting, lets the puts in progress finish, removes the socket, then lets
    the lock go."""

    def __init__(self, root: str, put: Callable[..., Result], program: str) -> None:
        self.root = os.path.realpath(root)
        self._store = identity(self.root)  # the folder this host has open, moved or not
        self._put = put
        self._buffered = 0  # request bytes being read (MAX_BUFFERED)
        self._program = program
        self._closing = False
        self._slots = threading.BoundedSemaphore(MAX_CLIENTS)
        self._clients: set[threading.Thread] = set()
        self._reading: set[socket.socket] = set()  # connections whose request is not in yet
        self._mu = threading.Lock()
        self._sock: socket.socket | None = None
        self._lock_fd: int | None = None
        self.path: str | None = None
        self._thread: threading.Thread | None = None
        self._standby: threading.Thread | None = None
        self._stop = threading.Event()
        self.served = 0  # puts written for clients (the workstation shows it)

    @property
    def serving(self) -> bool:
        return self._sock is not None and not self._closing

    def open(self) -> str | None:
        """Serve, or stand by while another process serves this store. The socket's path when
        this process serves now; None when it stands by, or when doors are off, the folder is
        not private or the socket cannot be made (then it does neither)."""
        if not enabled():
            return None
        where = socket_path(self.root, create=True)
        if where is None:
            return None
        try:
            self._lock_fd = os.open(
                where.removesuffix(".sock") + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600
            )
        except OSError:
            return None
        self.path = where
        if self._try_serve():
            return where
        if self._lock_fd is not None:  # another process serves: stand by
            self._standby = threading.Thread(
                target=self._stand_by, name="brain-door-standby", daemon=True
            )
            self._standby.start()
        return None

    def _try_serve(self) -> bool:
        """Take the lock and serve. False when another holds it; a socket that cannot be made
        gives the lock back and ends this door (no standby)."""
        import fcntl

        assert self._lock_fd is not None and self.path is not None
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                os.unlink(self.path)  # a socket left by a server that died: the lock was free
            except FileNotFoundError:
                pass
            s.bind(self.path)
            os.chmod(self.path, 0o600)
            s.listen(MAX_CLIENTS)
        except OSError:
            s.close()
            self._release_lock()
            return False
        self._sock = s
        self._thread = threading.Thread(target=self._accept, name="brain-door", daemon=True)
        self._thread.start()
        return True

    def _stand_by(self) -> None:
        while not self._stop.wait(STANDBY_S):
            if self._lock_fd is None or self._try_serve():
                return

    def _release_lock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # drops the flock

    def close(self) -> None:
        self._stop.set()
        if self._standby is not None:
            self._standby.join()
            self._standby = None
        s, self._sock = self._sock, None
        if s is not None:
            self._closing = True
            try:
                if self.path is not None:
                    os.unlink(self.path)  # ours: we hold the lock
            except OSError:
                pass
            try:
                s.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            except OSError:
                pass
            s.close()
            if self._thread is not None:
                self._thread.join()
            with self._mu:
                clients = list(self._clients)
                for conn in self._reading:  # a client that sends nothing must not hold us up
                    try:
                        conn.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            for t in clients:
                t.join()
        self._release_lock()

    def _accept(self) -> None:
        s = self._sock
        assert s is not None
        while not self._closing:
            try:
                conn, _ = s.accept()
            except OSError:
                return  # closed
            if not self._slots.acquire(blocking=False):
                conn.close()  # busy: the client writes the put itself
                continue
            t = threading.Thread(target=self._serve, args=(conn,), name="brain-door-client")
            t.daemon = True
            with self._mu:
                self._clients.add(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn:
                if not same_user(conn):
                    return
                raw = self._read(conn)
                if raw is None:
                    return
                req, refusal = self._decode(raw)
                if req is None or isinstance(req, WhoRequest):
                    self._reply(conn, refusal or Reply(True))
                    return
                # Written only while its client still waits: it says GO after ACCEPTED (one
                # that gave up, or whose request is read late, after a stop, never does).
                send(conn, ACCEPTED)
                conn.settimeout(READ_TIMEOUT_S)
                if recv(conn, len(GO)) != GO:
                    return
                self._reply(conn, self._write(req))
        except Exception:  # noqa: BLE001 - never end the host (the TUI) with a traceback
            pass  # the client went away (a put it said GO to stands: a retry is unchanged)
        finally:
            with self._mu:
                self._clients.discard(threading.current_thread())
            self._slots.release()

    def _read(self, conn: socket.socket) -> bytes | None:
        """The request, read whole within READ_TIMEOUT_S; None when it is not (the peer closed,
        it trickles, it is over MAX_REQUEST, or too many bytes are being read already)."""
        deadline = time.monotonic() + READ_TIMEOUT_S
        with self._mu:
            self._reading.add(conn)
        n = 0
        try:
            conn.settimeout(READ_TIMEOUT_S)
            size = recv_length(conn, MAX_REQUEST)
            if size is None:
                return None
            with self._mu:
                if self._buffered + size > MAX_BUFFERED:
                    return None
                n = size
                self._buffered += n
            return recv_exact(conn, size, deadline)
        except (OSError, BrainError):
            return None
        finally:
            with self._mu:
                self._reading.discard(conn)
                self._buffered -= n

    def _reply(self, conn: socket.socket, reply: Reply) -> None:
        reply.pid, reply.program = os.getpid(), self._program
        send(conn, msgspec.msgpack.encode(reply))

    def _decode(self, raw: bytes) -> tuple[Request | None, Reply | None]:
        """The request, or a refusal (retry: the client writes the put itself)."""
        try:
            req = msgspec.msgpack.decode(raw, type=Request)
        except (msgspec.DecodeError, RecursionError) as e:
            return None, Reply(False, retry=True, error=f"unreadable request ({e})")
        if (
            req.v != VERSION
            or req.root != self.root
            or req.store != self._store  # the path now names another store folder
            or self._closing
        ):
            return None, Reply(False, retry=True)
        return req, None

    def _write(self, req: PutRequest) -> Reply:
        try:
            fields = {f: getattr(req, f) for f in FIELDS}
            if req.extra is not None:
                fields["extra"] = req.extra
            res = self._put(
                req.path,
                req.body,
                actor=req.actor,
                parse_frontmatter=req.parse_frontmatter,
                deadline_ns=req.deadline_ns,
                **fields,
            )
        except Expired:
            return Reply(False, retry=True)  # not started: its client writes it itself
        except BrainError as e:
            if self._closing:
                return Reply(False, retry=True)  # "the store is closed"
            return Reply(False, error=str(e))
        except Exception as e:  # noqa: BLE001 - told to the client, which reports it
            return Reply(False, error=f"{type(e).__name__}: {e}")
        with self._mu:  # client threads answer at once
            self.served += 1
        return Reply(True, msgspec.json.encode(res))
