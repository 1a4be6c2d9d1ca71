"""`audit/journal.wal`: one record per commit group; its fdatasync is the commit point.

A record is a frame (PROTOCOL "Frames": header with the seq and ts_ns of its first row) around
a payload holding the group's frames, file writes, version moves and removals. Records are
written in the binary layout below (PROTOCOL allows it: the journal is local and transient);
the canonical-JSON layout of PROTOCOL is still read, so a journal an older writer left behind
replays. The two are told apart by the first payload byte (`{` for JSON). Binary layout, all
integers big-endian, every string UTF-8 with a u32 byte length before it:

    b"BJR1"
    u32 n, then n times: u32 length, an encoded binlog frame
    u32 n, then n times: path, u8 has_body, [u32 length, body], u32 length, sidecar JSON
    u32 n, then n times: from path, to path, u64 seq
    u32 n, then n times: path
"""

from __future__ import annotations

import binascii
import os
import struct
import threading
from _queue import SimpleQueue  # queue's own class: that module (with heapq) is ~0.4 ms
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from core import fsio
from core.errors import CorruptLog
from core.log import canonical, frames
from core.log.tip import Tip, decode_row, verify_row

if TYPE_CHECKING:
    from core.log.binlog import Binlog
    from core.models import Row

BINARY_MAGIC = b"BJR1"
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


class Write(msgspec.Struct):
    path: str
    body: bytes | None  # None: only the sidecar is written (a purge stub)
    sidecar: dict[str, Any]
    # The sidecar's file bytes, encoded once for the journal record, the staged file and the
    # index's hand-off (bytes, not the dict: rows the index holds back cost the GC nothing).
    encoded: bytes | None = None

    def sidecar_json(self) -> bytes:
        if self.encoded is None:
            self.encoded = _encode_sidecar(self.sidecar)
        return self.encoded


class VersionMove(msgspec.Struct):
    src: str
    dst: str
    seq: int


class Record(msgspec.Struct):
    frames: list[bytes] = msgspec.field(default_factory=list)  # encoded binlog frames, in seq order
    writes: list[Write] = msgspec.field(default_factory=list)
    versions: list[VersionMove] = msgspec.field(default_factory=list)
    removes: list[str] = msgspec.field(default_factory=list)
    first_seq: int = 0
    first_ts: int = 0
    last_seq: int = 0

    def encode(self) -> bytes:
        """The record as one journal frame, in the binary layout."""
        out = bytearray(BINARY_MAGIC)
        u32 = _U32.pack
        out += u32(len(self.frames))
        for f in self.frames:
            out += u32(len(f))
            out += f
        out += u32(len(self.writes))
        for w in self.writes:
            _put_str(out, w.path)
            if w.body is None:
                out += b"\x00"
            else:
                out += b"\x01"
                out += u32(len(w.body))
                out += w.body
            side = w.sidecar_json()
            out += u32(len(side))
            out += side
        out += u32(len(self.versions))
        for v in self.versions:
            _put_str(out, v.src)
            _put_str(out, v.dst)
            out += _U64.pack(v.seq)
        out += u32(len(self.removes))
        for rel in self.removes:
            _put_str(out, rel)
        return frames.encode(self.first_seq, self.first_ts, bytes(out), limit=None)

    def encode_json(self) -> bytes:
        """PROTOCOL's canonical-JSON layout (read by every version; written by tests only)."""
        obj = {
            "frames": [_b64(f) for f in self.frames],
            "writes": [
                {
                    "path": w.path,
                    "body_b64": None if w.body is None else _b64(w.body),
                    "sidecar": w.sidecar,
                }
                for w in self.writes
            ],
            "versions": [{"from": v.src, "to": v.dst, "seq": v.seq} for v in self.versions],
            "removes": self.removes,
        }
        return frames.encode(
            self.first_seq, self.first_ts, canonical.encode(obj, check=False), limit=None
        )


def _b64(b: bytes) -> str:
    # binascii is what base64.b64encode calls; importing base64 too costs a cold put ~0.2 ms
    return binascii.b2a_base64(b, newline=False).decode("ascii")


_encode_sidecar = msgspec.json.Encoder(order="sorted").encode
_decode_sidecar = msgspec.json.decode


def _put_str(out: bytearray, s: str) -> None:
    b = s.encode("utf-8")
    out += _U32.pack(len(b))
    out += b


class _Reader:
    __slots__ = ("buf", "off")

    def __init__(self, buf: bytes, off: int) -> None:
        self.buf, self.off = buf, off

    def u32(self) -> int:
        (n,) = _U32.unpack_from(self.buf, self.off)
        self.off += 4
        return n

    def u64(self) -> int:
        (n,) = _U64.unpack_from(self.buf, self.off)
        self.off += 8
        return n

    def u8(self) -> int:
        n = self.buf[self.off]
        self.off += 1
        return n

    def raw(self) -> bytes:
        n = self.u32()
        end = self.off + n
        if end > len(self.buf):
            raise ValueError("a length runs past the record")
        b = self.buf[self.off : end]
        self.off = end
        return b

    def str(self) -> str:
        return self.raw().decode("utf-8")


def _decode_binary(frame: frames.Frame) -> Record:
    r = _Reader(frame.payload, len(BINARY_MAGIC))
    rec = Record(first_seq=frame.seq, first_ts=frame.ts_ns)
    rec.frames = [r.raw() for _ in range(r.u32())]
    for _ in range(r.u32()):
        path = r.str()
        body = r.raw() if r.u8() else None
        side = r.raw()
        rec.writes.append(Write(path, body, _decode_sidecar(side), side))
    for _ in range(r.u32()):
        src, dst = r.str(), r.str()
        rec.versions.append(VersionMove(src, dst, r.u64()))
    rec.removes = [r.str() for _ in range(r.u32())]
    if r.off != len(frame.payload):
        raise ValueError(f"{len(frame.payload) - r.off} bytes after the record's content")
    return rec


def _decode(frame: frames.Frame) -> Record:
    """A record in either layout. A complete frame (its CRC holds) that does not decode was
    written by a broken or newer writer: never cut it as if torn."""
    try:
        if frame.payload.startswith(BINARY_MAGIC):
            rec = _decode_binary(frame)
        else:
            rec = _decode_json(frame)
    except (ValueError, KeyError, TypeError, IndexError, struct.error, msgspec.DecodeError) as e:
        raise CorruptLog(
            f"journal record at byte {frame.offset} (seq {frame.seq}) is complete but does not"
            f" decode ({e}); run `brain doctor`"
        ) from None
    if rec.frames:
        last = frames.HEADER.unpack_from(rec.frames[-1], 0)
        rec.last_seq = last[2]
    return rec


def _decode_json(frame: frames.Frame) -> Record:
    obj = canonical.decode(frame.payload)
    rec = Record(first_seq=frame.seq, first_ts=frame.ts_ns)
    rec.frames = [binascii.a2b_base64(f) for f in obj["frames"]]
    rec.writes = [
        Write(
            w["path"],
            None if w["body_b64"] is None else binascii.a2b_base64(w["body_b64"]),
            w["sidecar"],
        )
        for w in obj["writes"]
    ]
    rec.versions = [VersionMove(v["from"], v["to"], v["seq"]) for v in obj["versions"]]
    rec.removes = list(obj["removes"])
    return rec


# What to do about a journal that is not this log's: replaying it is never right, and only a
# person knows where it came from (and whose writes it may hold).
STRAY_ADVICE = (
    "Nothing was replayed from it. It may be a copy from a backup or from another copy of this"
    " store (a restore, a sync tool): move audit/journal.wal out of the store (keep it until you"
    " know whose writes it holds), then run"
    ' `brain doctor --repair --reason "moved a stray journal.wal out"`'
)


def check_fit(records: list[Record], binlog: Binlog, at: Tip) -> bool:
    """Whether the journal's records belong to the log beside it; asked before anything is
    replayed from them. A journal.wal restored from a backup or synced in from another copy of
    the store must never be replayed: recovery would cut the log back to its first seq and
    write its bodies over the memories.

    `at` is the verified tip recovery keeps (its scan stops before the journal's first seq, at
    a damaged frame of the unsynced tail, or at a writer's tip already past the first seq);
    the log past it is rebuilt from the journal. A crashed holder's journal holds every row the
    log has from its first seq on (the frames past `at` are its own, whole or torn) and its
    rows chain onto the log. True: the log already holds every row of the journal, byte for
    byte, and goes on past it (a stale copy: replaying its files would write old bodies over
    newer ones). False: it replays. Raises CorruptLog, saying where they part, otherwise."""
    rows: list[tuple[Row, bytes]] = []
    prev: Tip | None = None
    for rec in records:
        if not rec.frames:  # a writer never commits a record without rows
            raise _stray(f"its record at seq {rec.first_seq} holds no row")
        for fr in rec.frames:
            found, bad = frames.scan(fr)
            try:
                if bad is not None or len(found) != 1:
                    raise ValueError(bad.reason if bad is not None else "not one frame")
                row = decode_row(found[0].payload)
            except (ValueError, msgspec.DecodeError) as e:
                raise _stray(
                    f"a row of its record at seq {rec.first_seq} does not read ({e})"
                ) from None
            why = None
            if prev is None and row.seq != rec.first_seq:
                why = f"its record at seq {rec.first_seq} starts with row {row.seq}"
            elif prev is not None:
                why = verify_row(row, found[0].payload, prev)
            if why:
                raise _stray(f"its own rows do not chain ({why})")
            rows.append((row, found[0].payload))
            prev = Tip(row.seq, row.ts_ns, row.chain)
    first, last = rows[0][0].seq, rows[-1][0].seq
    if at.seq < first - 1:
        raise CorruptLog(
            f"the journal starts at seq {first} but the log ends at seq {at.seq}: either"
            " audit/journal.wal does not belong to this log, or rows are missing from the synced"
            f" part of the log. {STRAY_ADVICE}; if it was not copied in, run `brain doctor`"
        )
    if at.seq == first - 1:
        why = verify_row(rows[0][0], rows[0][1], at)
        if why:
            raise _stray(f"its first row does not follow the log's row {at.seq} ({why})")
    elif at.seq <= last:
        # Both chains are verified: rows with the same chain value at one seq are the same
        # rows, byte for byte, down to the journal's first seq.
        if rows[at.seq - first][0].chain != at.chain:
            raise _stray(f"its row {at.seq} differs from the log's row {at.seq}")
    else:
        # The log went on past the journal: never a crashed holder's (every row past the
        # synced region goes through the journal first). Skipped only if it is the log's own.
        n = 0
        for item in binlog.iter_frames(first):
            if isinstance(item, frames.BadFrame) or item.seq > last:
                break
            if item.seq != first + n or item.payload != rows[n][1]:
                raise _stray(f"its row {first + n} differs from the log's row {first + n}")
            n += 1
        if n != len(rows):
            raise _stray(f"the log's rows {first}..{last} do not read")
        return True
    # The unsynced tail past `at`, which recovery cuts and rebuilds from the journal: every
    # whole frame there must be the journal's own, or cutting it would drop a row of the log.
    expect = at.seq + 1
    for item in frames.iter_frames(binlog.current_bytes(at.offset)):
        if isinstance(item, frames.BadFrame):
            break  # torn or never written: rebuilt from the journal
        if item.seq > last and item.seq == expect:
            return True
        if item.seq != expect:
            raise _stray(f"the log's frame after seq {expect - 1} is seq {item.seq}")
        if item.payload != rows[item.seq - first][1]:
            raise _stray(f"its row {expect} differs from the log's row {expect}")
        expect += 1
    return False


def _stray(why: str) -> CorruptLog:
    return CorruptLog(f"audit/journal.wal does not belong to this log: {why}. {STRAY_ADVICE}")


# Blocks reserved past the end (the file's size is unchanged) once a lock tenure writes its
# second record, with the filler below: an append that needs a new block makes fdatasync also
# write allocation metadata, which more than doubled its cost on ext4 here. A one-shot put's
# single record changes the file's size anyway, and reserves nothing (fallocate comes through
# ctypes: ~1.5 ms of imports).
PREALLOCATE = 8 << 20
# Within one lock tenure, from its second record on, the writer also writes RESERVE bytes of
# FILL past its records: later records overwrite them in place, so the file's size stays put
# and their fdatasync writes data only, no inode (~130 instead of ~175 µs a sync here). The
# flush still truncates the file to 0, so between tenures the journal is empty as PROTOCOL
# says, and a one-shot put (one record a tenure) never writes the filler. 0xFF, not zeros: a
# reader (this one, or an older one after a crash) reads its header as a length past the end
# of the file, a torn tail to cut, never a complete record that does not decode. Zeros past
# the records (a file system's crash leftovers) also read as the end.
RESERVE = 1 << 20
FILL = 0xFF


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        created = not path.exists()
        self._fd = fsio.open_fd(path, os.O_RDWR | os.O_CREAT)
        if created:
            # fdatasync makes the contents durable, not the name: without this a power loss
            # before the first flush loses the journal file and every write it acknowledged.
            fsio.fsync_dir(path.parent)
        # size: where the next record goes (the end of the records); end: the file's size,
        # past size only by the filler reserved ahead of the records.
        self.size = self.end = os.fstat(self._fd).st_size
        self._preallocated = False  # since the file was opened or last cut
        self._helper: Helper | None = None

    def helper(self) -> Helper | None:
        """The staging thread on the real backend; None under a test backend, where staging
        runs inline (`commit`'s `during`) so the call order stays deterministic."""
        if type(fsio.backend) is not fsio.RealIO:
            return None
        if self._helper is None:
            self._helper = Helper()
        return self._helper

    def commit(
        self,
        record: Record,
        during: Callable[[], None] | None = None,
        *,
        staging: Helper | None = None,
    ) -> None:
        """Append and fdatasync: once this returns, the group survives a power loss.

        `during` runs before the sync (under a test backend); `staging`, the helper the
        writer queued the group's staging on (the real backend), is waited for after the
        sync. If either fails, the error is raised after both ended (the sync's first): the
        caller decides whether the record stands."""
        data = record.encode()
        at = self.size
        helper = staging
        try:
            fsio.pwrite(self._fd, data, at)
            self.size = at + len(data)
            if self.size > self.end:
                self.end = self.size
                if at:  # not the tenure's first record: more are likely to follow
                    self._reserve()
            if helper is not None:
                fsio.fdatasync(self._fd)
        except BaseException:
            if helper is not None:
                # Never return while it still writes: the caller removes what it staged, and
                # an error it met belongs to this group, not to the next one.
                helper.wait(quiet=True)
            raise
        if helper is not None:
            helper.wait()
            return
        if during is not None:
            during()
        fsio.fdatasync(self._fd)

    def _reserve(self) -> None:
        """Write the filler past the records. Only a speed-up: if the disk refuses it (full),
        the record stands and later ones append; the part written reads as filler."""
        if not self._preallocated:
            fsio.preallocate(self._fd, PREALLOCATE)
            self._preallocated = True
        try:
            fsio.pwrite(self._fd, bytes((FILL,)) * RESERVE, self.end)
        except OSError:
            self.end = max(self.end, os.fstat(self._fd).st_size)
            return
        self.end += RESERVE

    def read(self) -> tuple[list[Record], int, int]:
        return self.read_path(self.path)

    @staticmethod
    def read_path(path: Path) -> tuple[list[Record], int, int]:
        """(complete records, the byte length they span, torn bytes): what follows the
        records is either filler reserved for more (or zeros), not torn, or a torn record,
        never acknowledged, whose length (to the end of the file) is the third value."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return [], 0, 0
        records, good_end = [], 0
        for item in frames.iter_frames(data, check_rows=False, limit=None):
            if isinstance(item, frames.BadFrame) or not (item.seq or item.payload):
                break  # a bad frame (the filler is one), or zeros (an empty frame at seq 0)
            records.append(_decode(item))
            good_end = item.end
        tail = len(data) - good_end
        blank = data.count(FILL, good_end) + data.count(0, good_end)
        return records, good_end, tail if blank < tail else 0

    def reload(self) -> None:
        """Another holder of the lock may have left records (it died after a commit point)."""
        self.size = self.end = os.fstat(self._fd).st_size

    def replaced(self) -> bool:
        """Is another file at the path now (a restore or a sync tool renamed one over it)? A
        writer keeping this one would commit to a file that no recovery reads."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return True
        own = os.fstat(self._fd)
        return (st.st_dev, st.st_ino) != (own.st_dev, own.st_ino)

    def cut(self, size: int, *, durable: bool = False) -> None:
        # The flush's cut is not synced (PROTOCOL): replay is idempotent and skips records the
        # binlog already holds, so a truncation lost to a power cut only costs a replay.
        fsio.ftruncate(self._fd, size)
        # Before the sync, which may fail: the next record goes where the file now ends (a
        # stale size would leave a hole of zeros that reads as the end, cutting that record).
        self.size = self.end = size
        if durable:
            fsio.fdatasync(self._fd)
        self._preallocated = False  # truncation gave the blocks back

    def close(self) -> None:
        if self._helper is not None:
            self._helper.stop()
            self._helper = None
        fsio.close(self._fd)


class Helper:
    """One helper thread that creates a group's files under temp names while the committing
    thread plans the rest of the group and waits in the journal's fdatasync (creating small
    files costs about as much as the sync). Work is queued in order; `wait` returns once all
    of it ran and raises the first error (what follows an error is skipped). When the work
    is done before the sync returns (the common case), `wait` costs no thread wake-up."""

    def __init__(self) -> None:
        self._q: SimpleQueue[Callable[[], None] | None] = SimpleQueue()
        self._mu = threading.Lock()  # guards _pending and _waiting
        self._pending = 0  # submitted, not yet run
        self._waiting = False  # the committing thread waits on _done
        self._done = threading.Lock()
        self._done.acquire()  # released for a waiting committer when _pending reaches 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="brain-journal-stage", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], None]) -> None:
        with self._mu:
            self._pending += 1
        self._q.put(fn)

    def wait(self, *, quiet: bool = False) -> None:
        with self._mu:
            self._waiting = self._pending > 0
        if self._waiting:
            self._done.acquire()
            self._waiting = False
        error, self._error = self._error, None
        if error is not None and not quiet:
            raise error

    def stop(self) -> None:
        self._q.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            fn = self._q.get()
            if fn is None:
                return
            if self._error is None:
                try:
                    fn()
                except BaseException as e:  # noqa: BLE001 - raised in the committing thread
                    self._error = e
            with self._mu:
                self._pending -= 1
                if not self._pending and self._waiting:
                    self._done.release()
