"""The writer's door: a one-shot `brain put` hands its write to a process that already has the
store open for writing (the TUI, `brain mcp`, the capture daemon) instead of starting an engine.

Why: a one-shot put spends most of its time starting up (importing the engine, opening SQLite,
taking the lock from the live writer, which then fences and re-reads what it wrote). Through the
door the live writer commits the put in its running commit loop, grouped with its own work: the
write is as durable when the reply comes (the same commit point) and there is one writer less
contending for the lock.

The door is a Unix socket in a folder only this user can enter (`$XDG_RUNTIME_DIR/brain-door`,
else `/tmp/brain-door-<uid>`), named after the store's real path; of the hosts that open one
on a store, the holder of the socket's flock serves and the others stand by. A request is one
put (the store's root, path, body, actor, metadata flags), or `who` (which process serves); the
reply is the put's result or its error's message. The server checks the peer's uid and that
the request names its own store. A put_if is never sent (see cmd_put). Whatever goes wrong
before a reply arrives (no socket, a stale one, a server that dies or is closing), the client
writes the put itself: a put of the same body and metadata again is a no-op ("unchanged"), so a
put the dying server did commit is not written twice.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import zlib

import msgspec

from core import limits
from core.errors import BrainError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from core.write.planner import Result

VERSION = 1
DISABLE_ENV = "BRAIN_DOOR"  # "0": every put writes itself (and no process opens a door)
# A request carries at most one body of the put limit, plus its path, actor and root.
MAX_REQUEST = limits.MAX_BODY_BYTES + (64 << 10)
MAX_REPLY = 1 << 20
MAX_CLIENTS = 16  # connections served at once; more are closed (their clients write themselves)
READ_TIMEOUT_S = 10.0  # a client that stops sending mid-request
STANDBY_S = 1.0  # how often a standing-by process tries to take over the door
# The client's wait for the reply: the server's put may wait up to its lock timeout (5 s) for
# another process's writer, then commit. Past this the client writes the put itself.
REPLY_TIMEOUT_S = 60.0
_LEN = struct.Struct(">I")


class PutRequest(msgspec.Struct, tag="put", forbid_unknown_fields=True):
    """`brain put`'s arguments; the metadata as its flags give it (None: not given)."""

    v: int
    root: str
    path: str
    body: bytes
    actor: str
    title: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    sync_class: str | None = None
    classification: str | None = None


class WhoRequest(msgspec.Struct, tag="who", forbid_unknown_fields=True):
    """Which process serves this store's door (`brain status`); writes nothing."""

    v: int
    root: str


Request = PutRequest | WhoRequest


class PutReply(msgspec.Struct, forbid_unknown_fields=True):
    """ok: the put's result. Not ok: `error` is the BrainError the put raised (the client raises
    it in turn), or, with `retry`, why the server did not try (the client writes itself)."""

    ok: bool
    seq: int = 0
    path: str = ""
    commit: str = ""
    changed: bool = True
    notes: list[str] = []
    result_json: bytes = b""  # the Result as `brain put --json` prints it
    error: str = ""
    retry: bool = False
    pid: int = 0
    program: str = ""


def enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "1") != "0" and hasattr(socket, "AF_UNIX")


def socket_path(root: str) -> str | None:
    """Where the door of the store at root (a real path) is, or None when the folder for doors
    is not this user's alone (then nobody opens or uses one)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = f"{runtime}/brain-door" if runtime else f"/tmp/brain-door-{os.getuid()}"
    if not _private_folder(folder):
        return None
    # Named by checksums of the path (no hashlib: OpenSSL's import is a tenth of the put); a
    # collision only sends the client to a server whose root differs, which refuses.
    raw = os.fsencode(root)
    return f"{folder}/{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}.sock"


def _private_folder(folder: str) -> bool:
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    try:
        st = os.lstat(folder)
    except OSError:
        return False
    import stat

    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077


# -- client -----------------------------------------------------------------------------------


def put(
    root: str, path: str, body: bytes, actor: str, fields: dict[str, Any] | None = None
) -> PutReply | None:
    """Hand a put (with `fields`: title, category, tags, sync_class, classification) to the
    store's live writer. None when there is no door or no reply came (the caller writes the
    put itself); a reply with `error` when the put failed there."""
    real = os.path.realpath(root)
    return _ask(real, PutRequest(VERSION, real, path, body, actor, **(fields or {})))


def who(root: str) -> PutReply | None:
    """The process serving the door of the store at root (its pid and program), or None."""
    real = os.path.realpath(root)
    return _ask(real, WhoRequest(VERSION, real), timeout=2.0)


def _ask(real: str, req: Request, timeout: float = REPLY_TIMEOUT_S) -> PutReply | None:
    if not enabled():
        return None
    where = socket_path(real)
    if where is None:
        return None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(1.0)
        try:
            s.connect(where)
        except OSError:
            return None  # no door, a stale socket, a full backlog
        s.settimeout(timeout)
        try:
            _send(s, msgspec.msgpack.encode(req))
            raw = _recv(s, MAX_REPLY)
        except (OSError, BrainError):  # a timeout, a reset, a reply over its limit
            return None
        if raw is None:
            return None  # the server closed or died before replying
        try:
            reply = msgspec.msgpack.decode(raw, type=PutReply)
        except msgspec.DecodeError:
            return None  # another version's server
        return None if reply.retry else reply
    finally:
        s.close()


def raise_if_failed(reply: PutReply) -> None:
    if not reply.ok:
        raise BrainError(reply.error)


# -- server -----------------------------------------------------------------------------------


class Door:
    """The server: an accepting thread and one thread per client (at most MAX_CLIENTS).
    `put` is the store's put (path, body, actor and the metadata fields as keywords).

    Of the processes that open a door on one store, the one holding an flock on the socket's
    `.lock` file serves; the others stand by and try the lock every STANDBY_S, so when the
    server exits or is killed (the kernel drops its flock) one of them takes over. Only the
    lock's holder unlinks or binds the socket path. `close` stops accepting, lets the puts in
    progress finish, removes the socket, then lets the lock go."""

    def __init__(self, root: str, put: Callable[..., Result], program: str) -> None:
        self.root = os.path.realpath(root)
        self._put = put
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

    @property
    def serving(self) -> bool:
        return self._sock is not None

    def open(self) -> str | None:
        """Serve, or stand by while another process serves this store. The socket's path when
        this process serves now; None when it stands by, or when doors are off, the folder is
        not private or the socket cannot be made (then it does neither)."""
        if not enabled():
            return None
        where = socket_path(self.root)
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
        while s is not None and not self._closing:
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
                if not _same_user(conn):
                    return
                conn.settimeout(READ_TIMEOUT_S)
                with self._mu:
                    self._reading.add(conn)
                try:
                    raw = _recv(conn, MAX_REQUEST)
                except (OSError, BrainError):
                    return
                finally:
                    with self._mu:
                        self._reading.discard(conn)
                if raw is None:
                    return
                reply = self._answer(raw)
                try:
                    _send(conn, msgspec.msgpack.encode(reply))
                except OSError:
                    pass  # the client went away; its put stands (a retry finds it unchanged)
        finally:
            with self._mu:
                self._clients.discard(threading.current_thread())
            self._slots.release()

    def _answer(self, raw: bytes) -> PutReply:
        reply = self._run(raw)
        reply.pid, reply.program = os.getpid(), self._program
        return reply

    def _run(self, raw: bytes) -> PutReply:
        try:
            req = msgspec.msgpack.decode(raw, type=Request)
        except msgspec.DecodeError as e:
            return PutReply(False, retry=True, error=f"unreadable request ({e})")
        if req.v != VERSION or req.root != self.root or self._closing:
            return PutReply(False, retry=True)
        if isinstance(req, WhoRequest):
            return PutReply(True)
        try:
            res = self._put(
                req.path,
                req.body,
                actor=req.actor,
                title=req.title,
                category=req.category,
                tags=req.tags,
                sync_class=req.sync_class,
                classification=req.classification,
            )
        except BrainError as e:
            if self._closing:
                return PutReply(False, retry=True)  # "the store is closed"
            return PutReply(False, error=str(e))
        except Exception as e:  # noqa: BLE001 - told to the client, which reports it
            return PutReply(False, error=f"{type(e).__name__}: {e}")
        notes, encoded = list(res.notes), msgspec.json.encode(res)
        return PutReply(True, res.seq, res.path, res.commit, res.changed, notes, encoded)


def _same_user(conn: socket.socket) -> bool:
    """The peer runs as this user (Linux's SO_PEERCRED; elsewhere the private folder is the
    guard)."""
    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def _send(s: socket.socket, payload: bytes) -> None:
    s.sendall(_LEN.pack(len(payload)) + payload)


def _recv(s: socket.socket, limit: int) -> bytes | None:
    """One frame, or None when the peer closed first. A frame over limit is refused."""
    head = _recv_exact(s, _LEN.size)
    if head is None:
        return None
    (n,) = _LEN.unpack(head)
    if n > limit:
        raise BrainError(f"a door message of {n:,} bytes is over its limit of {limit:,}")
    return _recv_exact(s, n)


def _recv_exact(s: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)
