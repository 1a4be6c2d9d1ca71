"""One pass over the binlog that every log-based invariant reads.

Unlike the engine's reader, the walk does not stop at the first problem: it records what is
wrong (per invariant id), resynchronises on the next frame where the length field allows it,
and goes on, so one report names every kind of damage. Rows are checked exactly as the
protocol says: CRC-32C, header vs payload, canonical bytes (all nine fields), seq +1, ts_ns
not decreasing, op in the closed list, prev_chain link and chain hash.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from core import paths
from core.log import canonical
from core.log.binlog import Binlog
from core.log.crc import crc32c
from core.log.frames import HEADER, HEADER_SIZE, MAX_PAYLOAD
from core.log.hashing import GENESIS_CHAIN, chain_hash
from core.models import OPS, Row
from core.verify.proofs import leaf_hash
from core.write import lock


def _no_float(text: str):
    raise ValueError(f"a float ({text}) where canonical JSON allows integers only")


_decoder = msgspec.json.Decoder(Row, float_hook=_no_float)
_encoder = msgspec.json.Encoder(order="sorted")
_OPS = frozenset(OPS)
_MEMORY_OPS = frozenset({"put", "move", "delete"})
MAX_PROBLEMS = 100
CHAIN_IDS = (
    "chain.frame_crc",
    "chain.seq_monotonic",
    "chain.continuity",
    "chain.hash",
    "chain.op_enum",
    "chain.journal",
)


@dataclass
class RowInfo:
    op: str
    path: str
    commit: str
    extra: dict


@dataclass
class LogFacts:
    start: int = 0  # seq the walk started after (0, or the anchor checkpoint in quick mode)
    head: int = 0  # seq of the last row read
    head_hint: int | None = None  # HEAD, read before the log
    head_file_size: int = -1  # HEAD's byte length (-1: absent)
    first_journal_seq: int | None = None
    rows: int = 0
    leaves: list[bytes] = field(default_factory=list)  # leaf hashes after `start`, log order
    clean_leaves: int = -1  # leaves before the first chain problem (-1: no problem)
    by_seq: dict[int, RowInfo] = field(default_factory=dict)  # put / move / delete rows
    pii: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, op, path) of pii.*
    latest: dict[str, tuple[int, bool]] = field(default_factory=dict)  # path -> (seq, here)
    touched: set[str] = field(default_factory=set)
    purges: list[tuple[int, str, str]] = field(default_factory=list)  # seq, path, destroyed
    bad_paths: list[tuple[int, str]] = field(default_factory=list)
    abs_strings: list[tuple[int, str]] = field(default_factory=list)
    problems: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id -> (detail, path)
    counts: dict[str, int] = field(default_factory=dict)
    frame_at: dict[int, tuple[str, int, int]] = field(
        default_factory=dict
    )  # cp size -> file,start,end
    last_ts: int = 0
    last_chain: str = GENESIS_CHAIN
    in_flight: str = ""  # a torn tail a live writer is still appending
    snapshot: int = 0  # bytes of current.binlog read
    anchor_note: str = ""  # why quick mode fell back to a full walk, if it did
    start_peaks: list[bytes] = field(default_factory=list)  # MMR peaks at `start` (quick)

    def add(self, inv: str, detail: str, path: str) -> None:
        lst = self.problems.setdefault(inv, [])
        self.counts[inv] = self.counts.get(inv, 0) + 1
        if len(lst) < MAX_PROBLEMS:
            lst.append((detail, path))
        if inv in CHAIN_IDS and self.clean_leaves < 0:
            self.clean_leaves = len(self.leaves)

    @property
    def damaged(self) -> bool:
        return self.clean_leaves >= 0


@dataclass
class _State:
    seq: int
    ts: int
    chain: str | None  # None: unknown (the previous frame was unreadable)


def journal_first_seq(journal: Path) -> int | None:
    """First seq of the journal's first record (the synced region ends before it)."""
    try:
        with open(journal, "rb") as f:
            head = f.read(HEADER_SIZE)
    except FileNotFoundError:
        return None
    if len(head) < HEADER_SIZE:
        return None if not head else 0
    if head.count(head[0]) == len(head) and head[0] in (0, 0xFF):
        return None  # filler a writer reserved (or zeros): no record
    return HEADER.unpack(head)[2]


def read_head_file(path: Path) -> tuple[int | None, int]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, -1
    return (int.from_bytes(data, "little") if len(data) == 8 else None), len(data)


def walk_log(ctx) -> LogFacts:
    from core.doctor.anchor import find_anchor

    layout = ctx.layout
    facts = LogFacts()
    facts.head_hint, facts.head_file_size = read_head_file(layout.head)
    facts.first_journal_seq = journal_first_seq(layout.journal)
    binlog = Binlog(layout.audit)
    facts.snapshot = binlog.current_size()
    sizes = _checkpoint_sizes(layout)
    state = _State(0, 0, GENESIS_CHAIN)
    sealed = [p for _first, p in binlog.sealed()]
    files: list[tuple[Path, int]] = [(p, 0) for p in sealed]
    files.append((binlog.current, _current_start(binlog) if sealed else 0))
    if not ctx.full:
        anchor = find_anchor(ctx, facts)
        if anchor is not None:
            facts.start = anchor.size
            facts.start_peaks = anchor.peaks
            state = _State(anchor.size, anchor.ts, anchor.chain)
            facts.frame_at[anchor.size] = (ctx.rel(anchor.file), anchor.start, anchor.offset)
            i = next(i for i, (p, _o) in enumerate(files) if p == anchor.file)
            files = [(anchor.file, anchor.offset), *files[i + 1 :]]
    held = _lock_held(ctx)
    for i, (path, offset) in enumerate(files):
        rel = ctx.rel(path)
        if path == binlog.current:
            data = binlog.current_bytes(offset)[: max(0, facts.snapshot - offset)]
        else:
            data = binlog.read_segment(path)[offset:]
        last = i == len(files) - 1
        if not _walk_file(ctx, facts, state, data, offset, rel, sizes, last, held):
            break
    facts.head = state.seq
    facts.last_ts = state.ts
    facts.last_chain = state.chain or ""
    return facts


def _current_start(binlog: Binlog) -> int:
    """Where current.binlog's own rows start: past rows a consolidation sealed but a crash
    kept it from cutting (the next writer cuts them; they are in the segment already)."""
    from core.log.tip import start_tip

    try:
        return start_tip(binlog).offset
    except Exception:  # noqa: BLE001 - an unreadable segment is reported by the walk
        return 0


def _checkpoint_sizes(layout) -> set[int]:
    from core.verify import checkpoints

    return set(checkpoints.sizes(layout))


def _lock_held(ctx) -> bool:
    return ctx.store.session.held or lock.is_locked(ctx.layout.lock)


def _unsynced(facts: LogFacts, state: _State) -> bool:
    fj = facts.first_journal_seq
    return fj is not None and state.seq + 1 >= fj


def _walk_file(ctx, facts, state, data, base, rel, sizes, last, held) -> bool:
    """Walk one file's frames; False when reading cannot go on past a damaged frame."""
    mv = memoryview(data)
    n = len(mv)
    off = 0
    while off < n:
        facts.rows += 1
        ctx.tick(facts.rows)
        at = base + off
        if n - off < HEADER_SIZE:
            return _torn(facts, state, rel, at, "a frame header is cut short", last, held)
        length, crc, hseq, hts = HEADER.unpack_from(mv, off)
        end = off + HEADER_SIZE + length
        if length > MAX_PAYLOAD:
            facts.add(
                "chain.frame_crc",
                f"frame at byte {at} claims {length} bytes (over the 1 MiB limit); nothing after"
                f" seq {state.seq} can be read",
                rel,
            )
            return False
        if end > n:
            return _torn(facts, state, rel, at, "a frame's payload is cut short", last, held)
        payload = bytes(mv[off + HEADER_SIZE : end])
        off = end
        if crc32c(payload) != crc:
            _frame_problem(facts, state, rel, f"CRC-32C mismatch in the frame at byte {at}")
            facts.leaves.append(leaf_hash(payload))
            state.seq, state.chain = hseq, None
            continue
        why, row = _decode(payload, hseq, hts)
        if row is None or why:
            _frame_problem(facts, state, rel, f"frame at byte {at} (seq {hseq}): {why}")
            facts.leaves.append(leaf_hash(payload))
            state.seq, state.chain = hseq, (row.chain if row is not None else None)
            continue
        _check_row(facts, state, row, payload, rel, at)
        facts.leaves.append(leaf_hash(payload))
        _note_row(facts, row, payload)
        state.seq, state.ts, state.chain = row.seq, max(state.ts, row.ts_ns), row.chain
        if row.seq in sizes:
            facts.frame_at[row.seq] = (rel, at, base + end)
    return True


def _torn(facts, state, rel, at, what, last, held) -> bool:
    if last and _unsynced(facts, state):
        facts.add("chain.journal", f"{what} at byte {at}, after the synced region", rel)
    elif last and held:
        facts.in_flight = f"{what} at byte {at}: a live writer is appending"
    else:
        facts.add(
            "chain.frame_crc",
            f"{what} at byte {at}, after seq {state.seq}, in the synced part of the log",
            rel,
        )
    return False


def _frame_problem(facts, state, rel, detail) -> None:
    inv = "chain.journal" if _unsynced(facts, state) else "chain.frame_crc"
    facts.add(inv, detail, rel)


def _decode(payload: bytes, hseq: int, hts: int) -> tuple[str, Row | None]:
    try:
        row = _decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as e:
        return f"payload is not a row ({e})", None
    if row.seq != hseq or row.ts_ns != hts:
        return "header seq/ts_ns differ from the payload's", row
    if _encoder.encode(row) != payload:
        return "payload is not the row's canonical JSON (all nine fields, sorted)", row
    # Floats were refused while decoding and ASCII text is NFC, so the full (slow) check is
    # needed only for non-ASCII rows; integers are range-checked here.
    if not (0 <= row.seq <= canonical.U64_MAX and 0 <= row.ts_ns <= canonical.U64_MAX):
        return "seq or ts_ns is outside the u64 range", row
    if row.extra and not _ints_in_range(row.extra):
        return "payload is not canonical: an integer outside the u64 range", row
    if not payload.isascii():
        try:
            canonical.validate(msgspec.to_builtins(row))
        except canonical.CanonicalError as e:
            return f"payload is not canonical: {e}", row
    return "", row


def _ints_in_range(v) -> bool:
    t = type(v)
    if t is int:
        return -canonical.U64_MAX <= v <= canonical.U64_MAX
    if t is dict:
        return all(_ints_in_range(x) for x in v.values())
    if t is list:
        return all(_ints_in_range(x) for x in v)
    return True


def _check_row(facts, state, row: Row, payload: bytes, rel: str, at: int) -> None:
    if row.seq != state.seq + 1:
        facts.add(
            "chain.seq_monotonic",
            f"seq {row.seq} follows seq {state.seq} at byte {at} (expected {state.seq + 1})",
            rel,
        )
    elif row.ts_ns < state.ts:
        facts.add("chain.seq_monotonic", f"seq {row.seq}: ts_ns goes backwards", rel)
    if row.op not in _OPS:
        facts.add("chain.op_enum", f"seq {row.seq}: op {row.op!r} is not in the closed list", rel)
    if state.chain is not None and row.prev_chain != state.chain:
        facts.add(
            "chain.continuity",
            f"seq {row.seq}: prev_chain does not match the chain of the row before it"
            f" (seq {state.seq})",
            rel,
        )
    body = payload.replace(f'"chain":"{row.chain}"'.encode(), b'"chain":""', 1)
    try:
        good = chain_hash(body, row.prev_chain) == row.chain
    except ValueError:
        good = False
    if not good:
        facts.add("chain.hash", f"seq {row.seq}: chain hash does not match the row's bytes", rel)


def _note_row(facts: LogFacts, row: Row, payload: bytes) -> None:
    op, path = row.op, row.path
    if path:
        facts.touched.add(path)
        try:
            paths.validate(path)
        except Exception:  # noqa: BLE001 - any refusal is the finding
            facts.bad_paths.append((row.seq, path))
    if op in ("pii.held", "pii.resolved"):
        facts.pii.append((row.seq, op, path))
    if op in _MEMORY_OPS:
        facts.by_seq[row.seq] = RowInfo(op, path, row.commit, row.extra)
        facts.latest[path] = (row.seq, True)
        if op == "move":
            src = row.extra.get("from", "")
            if isinstance(src, str) and src:
                facts.latest[src] = (row.seq, False)
                facts.touched.add(src)
                try:
                    paths.validate(src)
                except Exception:  # noqa: BLE001
                    facts.bad_paths.append((row.seq, src))
        elif op == "delete" and row.extra.get("mode") == "purge":
            facts.purges.append((row.seq, path, str(row.extra.get("destroyed", ""))))
    if b'"/' in payload or b'"~/' in payload or b":\\\\" in payload or b"file:" in payload:
        for s in _strings(msgspec.to_builtins(row)):
            if looks_absolute(s):
                facts.abs_strings.append((row.seq, s))


def _strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from _strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from _strings(x)


def looks_absolute(s: str) -> bool:
    """An absolute or machine-specific path: '/…', '~/…', 'C:\\…', 'file:…'."""
    if s.startswith(("/", "~/", "file:")):
        return True
    return len(s) > 2 and s[0].isalpha() and s[1] == ":" and s[2] in "\\/"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
