"""Who is writing through MCP, and the session rows that bracket their writes.

Every write's actor is `agent:<client name>@<host>`, the client name taken from the client's
initialize info (`clientInfo.name`) unless the server was started with a fixed actor. A session
is one client connection (or the id the client names): its first write is preceded by a
`session.start` row, and when the connection ends (or the server stops, or the session idles
out) a `session.end` row closes it with the seqs it wrote. A session that only read writes no
rows at all. Rows carry no body text (PROTOCOL): the session rows hold ids, names and counts.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.write.intents import Intent, Note

if TYPE_CHECKING:
    from core.store import Store
    from core.write.planner import Result

PROGRAM = "brain mcp"
MAX_SEQS = 1000  # seqs listed on a session.end row; past that only first/last/count
_UNSAFE = re.compile(r"[^\w.+=#~-]")
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def host_name() -> str:
    # os.uname, not socket.gethostname: the same name, without importing socket (hooks are
    # on an agent's hot path).
    host = os.uname().nodename.split(".")[0] or "localhost"
    return _UNSAFE.sub("-", host)[:48] or "localhost"


def agent_actor(client_name: str | None, host: str | None = None) -> str:
    """`agent:<client>@<host>`, the client name reduced to the actor grammar."""
    name = _UNSAFE.sub("-", (client_name or "").strip().lower()).strip("-")[:48] or "mcp-client"
    return f"agent:{name}@{host or host_name()}"


def clean_session_id(raw: object) -> str | None:
    """A client-given session id, if it is a plain token; anything else is ignored."""
    if isinstance(raw, str) and _SESSION_ID.fullmatch(raw):
        return raw
    return None


def new_session_id() -> str:
    import secrets

    return secrets.token_hex(8)


@dataclass
class Session:
    id: str
    actor: str
    client: str
    client_version: str
    transport: str
    # Whose it is: the transport's session (HTTP's Mcp-Session-Id) or this connection. A
    # client names its session id itself, so another client naming the same id gets a session
    # of its own, never this one's actor and rows.
    owner: str = ""
    started_seq: int = 0  # 0: no session.start row yet (nothing written)
    seqs: list[int] = field(default_factory=list)
    writes: int = 0
    last_used: float = field(default_factory=time.monotonic)
    ended: bool = False
    gate: threading.Lock = field(default_factory=threading.Lock)  # one first write at a time


class SessionBook:
    """The open sessions of one server process. Thread-safe: tool calls run on worker threads."""

    def __init__(self, store: Store, *, fixed_actor: str | None = None) -> None:
        self.store = store
        self.fixed_actor = fixed_actor
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str, str], Session] = {}  # by (owner, id)

    def get(
        self,
        session_id: str,
        *,
        client: str | None,
        client_version: str | None,
        transport: str,
        owner: str = "",
    ) -> Session:
        with self._lock:
            s = self._sessions.get((owner, session_id))
            if s is None or s.ended:
                s = Session(
                    session_id,
                    self.fixed_actor or agent_actor(client),
                    client or "",
                    client_version or "",
                    transport,
                    owner,
                )
                self._sessions[(owner, session_id)] = s
            s.last_used = time.monotonic()
            return s

    def open_sessions(self) -> list[Session]:
        with self._lock:
            return [s for s in self._sessions.values() if not s.ended]

    def _start_note(self, s: Session) -> Note:
        extra = {
            "session": s.id,
            "program": PROGRAM,
            "client": s.client[:200],
            "transport": s.transport,
        }
        if s.client_version:
            extra["client_version"] = s.client_version[:100]
        return Note("session.start", extra=extra)

    def write(self, s: Session, intent: Intent) -> Result:
        """Commit one write of the session; its first goes in one request with the
        session.start row, so a write that fails leaves no session behind either."""
        if not s.started_seq:
            with s.gate:
                if not s.started_seq:
                    start, res = self.store.batch([self._start_note(s), intent], s.actor)
                    s.started_seq = start.seq
                    return res
        return self.store.batch([intent], s.actor)[0]

    def before_write(self, s: Session) -> None:
        """The session.start row on its own (for a put_if, whose failure is itself a row)."""
        with s.gate:
            if not s.started_seq:
                note = self._start_note(s)
                s.started_seq = self.store.note(note.op, actor=s.actor, extra=note.extra).seq

    def wrote(self, s: Session, seq: int, changed: bool) -> None:
        if not changed:
            return
        with self._lock:
            s.writes += 1
            if len(s.seqs) < MAX_SEQS:
                s.seqs.append(seq)
            else:
                s.seqs[-1] = seq  # keep the last one; first and count stay exact

    def end(self, s: Session, reason: str) -> int | None:
        """Close a session: a session.end row if it ever wrote. Returns that row's seq."""
        with self._lock:
            if s.ended:
                return None
            s.ended = True
            self._sessions.pop((s.owner, s.id), None)
        if not s.started_seq:
            return None
        extra: dict[str, object] = {
            "session": s.id,
            "program": PROGRAM,
            "reason": reason,
            "start": s.started_seq,
            "writes": s.writes,
            "seqs": list(s.seqs),
        }
        if s.writes > len(s.seqs):
            extra["seqs_truncated"] = True
        return self.store.note("session.end", actor=s.actor, extra=extra).seq

    def end_all(self, reason: str) -> None:
        for s in self.open_sessions():
            try:
                self.end(s, reason)
            except Exception:  # noqa: BLE001 - shutting down: close every session we can
                continue

    def end_idle(self, idle_s: float) -> None:
        now = time.monotonic()
        for s in self.open_sessions():
            if now - s.last_used > idle_s:
                try:
                    self.end(s, "idle")
                except Exception:  # noqa: BLE001 - writes refused (frozen): the session is dropped
                    continue
