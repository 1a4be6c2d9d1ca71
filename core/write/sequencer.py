"""Assigns seq, ts_ns and chain to rows, in order, with a rollback mark for failed requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.errors import BrainError
from core.log import canonical, frames
from core.log.hashing import chain_hash
from core.models import OPS, Row


class Sequencer:
    def __init__(self, seq: int, ts_ns: int, chain: str, clock: Callable[[], int]) -> None:
        self.seq = seq
        self.ts_ns = ts_ns
        self.chain = chain
        self.clock = clock
        self.rows: list[Row] = []
        self.payloads: list[bytes] = []

    def row(self, op: str, path: str, actor: str, commit: str, extra: dict[str, Any]) -> Row:
        if op not in OPS:
            raise BrainError(f"unknown op {op!r}: the op list is closed ({', '.join(OPS)})")
        canonical.validate(extra, "extra")
        ts = max(self.clock(), self.ts_ns)
        row = Row(self.seq + 1, ts, op, path, actor, commit, self.chain, "", extra)
        row.chain = chain_hash(canonical.encode(row, check=False), self.chain)
        payload = canonical.encode(row, check=False)
        if len(payload) > frames.MAX_PAYLOAD:
            raise BrainError(f"row {row.seq} would exceed the 1 MiB frame limit")
        self.seq, self.ts_ns, self.chain = row.seq, ts, row.chain
        self.rows.append(row)
        self.payloads.append(payload)
        return row

    def mark(self) -> tuple[int, int, str, int]:
        return (self.seq, self.ts_ns, self.chain, len(self.rows))

    def reset(self, mark: tuple[int, int, str, int]) -> None:
        self.seq, self.ts_ns, self.chain, n = mark
        del self.rows[n:]
        del self.payloads[n:]

    def take(self) -> tuple[list[Row], list[bytes]]:
        rows, payloads = self.rows, self.payloads
        self.rows, self.payloads = [], []
        return rows, payloads
