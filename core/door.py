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
put (the store's root, path, body, actor, metadata, as `brain put` or a hook writes it), or
`who` (which process serves); the reply is the put's result or its error's message. The
server checks the peer's uid and that the request names its own store (its path, and the
folder's device and inode: a store replaced at the same path is another store); the client
checks the server's uid. A put_if is never sent (see cmd_put).

A put is written only while its client still waits for it. The server answers a put request
with ACCEPTED and writes it only once the client says GO; the request carries a deadline
(wall clock) past which the server's writer refuses to start it. So a client that gave up (no
ACCEPTED within ACCEPT_TIMEOUT_S: a host stopped or too busy to answer; or no reply by its
deadline) can write the put itself without a late copy from the door landing on top of later
writes. Whatever goes wrong before a reply arrives (no socket, a stale one, a server that dies
or is closing), the client writes the put itself: a put of the same body and metadata again is
a no-op ("unchanged"), so a put the dying server did commit is not written twice. Left open: a
host stopped between planning the put and its commit point (milliseconds) that resumes after
the client gave up commits it late.
"""

from __future__ import annotations

import binascii
import os
import struct
import time
from typing import Any  # free: msgspec imports typing itself

import msgspec

from core import limits
from core.errors import BrainError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import socket

# 2: a put carries `extra` and `parse_frontmatter` (the hooks' puts). 3: the store's identity,
# a deadline, and the ACCEPTED/GO exchange before a put is written.
VERSION = 3
DISABLE_ENV = "BRAIN_DOOR"  # "0": every put writes itself (and no process opens a door)
# A request carries at most one body of the put limit, plus its path, actor and root.
MAX_REQUEST = limits.MAX_BODY_BYTES + (64 << 10)
MAX_REPLY = 1 << 20
# The put's deadline: the server's put may wait up to its lock timeout (5 s) for another
# process's writer, or behind a long task of its own (an export), then commit. Past it the
# server's writer does not start the put, and GRACE_S later the client writes it itself.
REPLY_TIMEOUT_S = 60.0
GRACE_S = 5.0
# A live server reads a request and answers ACCEPTED at once; one that does not within this
# (stopped, hung) is walked past: it will not write the put, which waits for GO.
ACCEPT_TIMEOUT_S = 5.0
ACCEPTED = b"brain-door-accepted"
GO = b"go"
_LEN = struct.Struct(">I")


FIELDS = ("title", "category", "tags", "sync_class", "classification")  # a put's metadata flags


class PutRequest(msgspec.Struct, tag="put", forbid_unknown_fields=True):
    """Store.put's arguments as `brain put` or a hook (`brain hook claude-code|git`) gives
    them; the metadata None where not given."""

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
    extra: dict[str, Any] | None = None
    parse_frontmatter: bool = True
    store: str = ""  # identity(root) as the client saw it
    deadline_ns: int = 0  # wall clock (time.time_ns) past which the put must not start


class WhoRequest(msgspec.Struct, tag="who", forbid_unknown_fields=True):
    """Which process serves this store's door (`brain status`); writes nothing."""

    v: int
    root: str
    store: str = ""


Request = PutRequest | WhoRequest


class Reply(msgspec.Struct, forbid_unknown_fields=True):
    """ok: `result` is the put's Result as JSON (what `brain put --json` prints; empty for
    `who`). Not ok: `error` is the BrainError the put raised (the client raises it in turn),
    or, with `retry`, why the server did not try (the client writes the put itself)."""

    ok: bool
    result: bytes = b""
    error: str = ""
    retry: bool = False
    pid: int = 0
    program: str = ""


class PutResult(msgspec.Struct):
    """What `brain put` prints of a Result, read from Reply.result (the rest is left out)."""

    seq: int
    path: str
    commit: str
    changed: bool = True
    notes: list[str] = []


class Expired(BrainError):
    """A door's put not started by its deadline: its client writes it itself (or did)."""


def identity(root: str) -> str:
    """The store folder's device and inode: a store replaced at the same path differs."""
    st = os.stat(root)
    return f"{st.st_dev}:{st.st_ino}"


def result_of(reply: Reply) -> PutResult:
    """The put's result; its error (a BrainError) when the put failed."""
    if not reply.ok:
        raise BrainError(reply.error)
    return msgspec.json.decode(reply.result, type=PutResult)


def enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "1") != "0" and os.name == "posix"


def socket_path(root: str, *, create: bool = False) -> str | None:
    """Where the door of the store at root (a real path) is, or None when the folder for doors
    is missing (a server makes it: `create`) or not this user's alone (then nobody opens or
    uses one)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    folder = f"{runtime}/brain-door" if runtime else f"/tmp/brain-door-{os.getuid()}"
    if not _private_folder(folder, create):
        return None
    # Named by checksums of the path (no hashlib: OpenSSL's import is a tenth of the put); a
    # collision only sends the client to a server whose root differs, which refuses.
    raw = os.fsencode(root)
    return f"{folder}/{binascii.crc32(raw):08x}{adler32(raw):08x}.sock"


def adler32(data: bytes) -> int:
    """zlib.adler32 (the door's name since it has had one), for a path: zlib is ~0.3 ms of
    imports, and binascii, which has the CRC, is loaded anyway."""
    a, b = 1, 0
    for byte in data:
        a = (a + byte) % 65521
        b = (b + a) % 65521
    return (b << 16) | a


def _private_folder(folder: str, create: bool) -> bool:
    if create:
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
    root: str,
    path: str,
    body: bytes,
    actor: str,
    fields: dict[str, Any] | None = None,
    *,
    wait_s: float = REPLY_TIMEOUT_S,
) -> Reply | None:
    """Hand a put to the store's live writer; `fields` are PutRequest's optional fields
    (FIELDS, `extra`, `parse_frontmatter`). None when there is no door or no reply came (the
    caller writes the put itself); a reply with `error` when the put failed there. `wait_s`:
    the put's deadline (a hook, which must not keep its tool waiting, gives a short one)."""
    real = os.path.realpath(root)
    req = PutRequest(VERSION, real, path, body, actor, **(fields or {}))
    return _ask(real, req, timeout=wait_s)


def who(root: str) -> Reply | None:
    """The process serving the door of the store at root (its pid and program), or None."""
    real = os.path.realpath(root)
    return _ask(real, WhoRequest(VERSION, real), timeout=2.0)


def _ask(real: str, req: Request, timeout: float = REPLY_TIMEOUT_S) -> Reply | None:
    if not enabled():
        return None
    where = socket_path(real)
    if where is None or not os.path.exists(where):
        return None  # no door (a put that writes itself does not even import socket)
    try:
        req.store = identity(real)
    except OSError:
        return None  # no store there: the caller's own open says why
    import socket

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(1.0)
        try:
            s.connect(where)
        except OSError:
            return None  # no door, a stale socket, a full backlog
        if not same_user(s):
            return None  # a socket another user put there: never hand it a body
        try:
            if isinstance(req, PutRequest):
                raw = _put_exchange(s, req, timeout)
            else:
                s.settimeout(timeout)
                send(s, msgspec.msgpack.encode(req))
                raw = recv(s, MAX_REPLY)
        except (OSError, BrainError):  # a timeout, a reset, a reply over its limit
            return None
        if raw is None:
            return None  # the server closed or died before replying
        try:
            reply = msgspec.msgpack.decode(raw, type=Reply)
        except msgspec.DecodeError:
            return None  # another version's server
        return None if reply.retry else reply
    finally:
        s.close()


def _put_exchange(s: socket.socket, req: PutRequest, wait_s: float) -> bytes | None:
    """Request, ACCEPTED, GO, reply: the server writes the put only after GO, and not after
    the deadline (wait_s from now), so once this gives up (None) no late copy can land."""
    req.deadline_ns = time.time_ns() + int(wait_s * 1e9)
    s.settimeout(min(ACCEPT_TIMEOUT_S, wait_s))
    send(s, msgspec.msgpack.encode(req))
    first = recv(s, MAX_REPLY)
    if first != ACCEPTED:
        return first  # a refusal (retry), or None: the server hung up
    send(s, GO)
    grace = min(GRACE_S, wait_s)  # for a put started just before the deadline to finish
    s.settimeout(max(0.001, (req.deadline_ns - time.time_ns()) / 1e9 + grace))
    return recv(s, MAX_REPLY)


def same_user(s: socket.socket) -> bool:
    """The peer runs as this user (Linux's SO_PEERCRED; elsewhere the private folder is the
    guard)."""
    import socket

    opt = getattr(socket, "SO_PEERCRED", None)
    if opt is None:
        return True
    creds = s.getsockopt(socket.SOL_SOCKET, opt, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def send(s: socket.socket, payload: bytes) -> None:
    s.sendall(_LEN.pack(len(payload)) + payload)


def recv(s: socket.socket, limit: int) -> bytes | None:
    """One frame, or None when the peer closed first. A frame over limit is refused."""
    n = recv_length(s, limit)
    return None if n is None else recv_exact(s, n)


def recv_length(s: socket.socket, limit: int) -> int | None:
    """A frame's length (None when the peer closed first); over limit is refused."""
    head = recv_exact(s, _LEN.size)
    if head is None:
        return None
    (n,) = _LEN.unpack(head)
    if n > limit:
        raise BrainError(f"a door message of {n:,} bytes is over its limit of {limit:,}")
    return n


def recv_exact(s: socket.socket, n: int, deadline: float | None = None) -> bytes | None:
    """n bytes, or None when the peer closed first; by `deadline` (time.monotonic) if given,
    however slowly they trickle in."""
    buf = bytearray()
    while len(buf) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the door message did not arrive in time")
            s.settimeout(left)
        chunk = s.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)
