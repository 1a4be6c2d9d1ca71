"""Recovery at every acquisition of the lock (PROTOCOL "Durability"): replay the records a
crashed holder committed, catch up with the rows other processes wrote, and bring the node
file and HEAD back in step with the log. The writer runs it under the lock, before its first
group of each tenure."""

from __future__ import annotations

from collections.abc import Callable

from core.errors import CorruptLog
from core.layout import Layout
from core.log import frames
from core.log.binlog import Binlog
from core.log.head import read_head
from core.log.tip import Scan, Tip, decode_row, require_clean, scan_from
from core.models import Row
from core.verify.mmr import MMR, leaf_hash
from core.write import purge_list
from core.write.apply_files import apply_files
from core.write.journal import Journal, Record, check_fit
from core.write.seal import finish_seal


class Recovery:
    """One acquisition's recovery. `tip` follows the log as recovery goes (also when it
    stops on an error: the writer keeps the last consistent tip, never one past a cut)."""

    def __init__(
        self,
        layout: Layout,
        journal: Journal,
        binlog: Binlog,
        mmr: MMR,
        tip: Tip,
        dirs: set[str],
    ) -> None:
        self.layout = layout
        self.journal = journal
        self.binlog = binlog
        self.mmr = mmr
        self.tip = tip
        self.dirs = dirs  # the writer's cache of folders it made (replay may make more)
        self.notes: list[str] = []  # what was repaired (the store reports them as info)

    def run(self, *, flush: Callable[[], None], accept_short_log: bool) -> list[Row]:
        """Replay, catch up and check HEAD; returns the rows this process had not seen (other
        processes' and the replayed ones), in log order. `flush` makes a replay durable and
        empties the journal; `accept_short_log`: a person accepts a log shorter than HEAD."""
        notes = self.notes
        records, good_end, torn = self.journal.read()
        if torn:
            notes.append(f"cut a torn journal record ({torn} bytes)")
            self.journal.cut(good_end, durable=True)
        elif good_end < self.journal.size:
            self.journal.cut(good_end)  # filler a crashed holder reserved past its records
        first_j = records[0].first_seq if records else None
        sealed = None
        if self.binlog.sealed():  # only a consolidated log can hold an interrupted seal
            sealed = finish_seal(self.binlog)  # a consolidation a crash interrupted
        if sealed:
            notes.append(sealed)
            base = self.binlog.base_tip()
            self.tip = base if self.tip.seq >= base.seq else self.tip
        # From the tip across sealed segments (another process consolidated) or from genesis
        # (the log was rewritten under us: a restored backup).
        scan = scan_from(self.binlog, self.tip, stop_seq=first_j)
        synced_ok = first_j is None or scan.tip.seq >= first_j - 1
        if (scan.bad or scan.broken) and (first_j is None or not synced_ok):
            require_clean(scan, str(self.layout.root))
        if records:
            records, scan = self._drop_stale(records, scan)
            first_j = records[0].first_seq if records else None
        unseen = [r for r, _p, _o in scan.rows]
        if scan.tip.offset < self.binlog.current_size() and first_j is not None:
            notes.append(
                f"rebuilt the log after seq {scan.tip.seq} from the journal"
                f" ({self.binlog.current_size() - scan.tip.offset} bytes replaced)"
            )
            self.binlog.truncate(scan.tip.offset)
        self.tip = scan.tip
        if self.mmr.size != self.tip.seq:
            self._resync_nodes()
        if not self._leaves_match(scan.rows):
            notes.append(
                "rebuilt audit/mmr.nodes: its leaves disagreed with rows another process wrote"
            )
            self.mmr.truncate(0)
            self._resync_nodes()
        if records:
            replayed = self._replay(records)
            unseen.extend(replayed)
            notes.append(f"replayed {len(records)} journal record(s), {len(replayed)} row(s)")
            flush()
        self._check_head(accept_short_log)
        return unseen

    def _drop_stale(self, records: list[Record], scan: Scan) -> tuple[list[Record], Scan]:
        """Before anything is cut or written: a journal.wal copied in from a backup or from
        another copy of the store (a restore, a sync tool) must not be replayed."""
        try:
            stale = check_fit(records, self.binlog, scan.tip)
        except CorruptLog as e:
            raise CorruptLog(f"{self.layout.root}: {e}") from None
        if not stale:
            return records, scan
        rest = scan_from(self.binlog, scan.tip)  # no journal covers the rest: synced
        if rest.bad or rest.broken:
            require_clean(rest, str(self.layout.root))
        self.notes.append(
            f"skipped audit/journal.wal: the log already holds its {len(records)}"
            f" record(s) (seqs {records[0].first_seq}..{records[-1].last_seq}) byte for byte"
            " and goes on past them (a stale copy); emptied it without replaying its files"
        )
        self.journal.cut(0, durable=True)
        return [], Scan(rest.tip, scan.rows + rest.rows, None, None)

    def _check_head(self, accept_short_log: bool) -> None:
        head = read_head(self.layout)
        if head is None or head <= self.tip.seq:
            return
        if accept_short_log:
            self.notes.append(
                f"HEAD said seq {head}; the log, accepted as it is, ends at {self.tip.seq}"
            )
            return
        # Under the lock HEAD is only written after the frames it counts, and replay has
        # restored every committed row: a larger HEAD means the log lost synced rows.
        raise CorruptLog(
            f"{self.layout.root}: HEAD says seq {head} but the log ends at seq"
            f" {self.tip.seq} after replay; rows are missing. Run `brain doctor`."
        )

    def _replay(self, records: list[Record]) -> list[Row]:
        rows: list[Row] = []
        purges: list[int] = []
        for rec in records:
            # Rows first: a record whose rows do not chain onto the log writes no file
            # (check_fit said they do; this is what replaying relies on).
            new: list[tuple[bytes, Row, bytes]] = []
            chain = self.tip.chain
            for fr in rec.frames:
                (item,) = frames.scan(fr)[0]
                row = decode_row(item.payload)
                if row.seq <= self.tip.seq:
                    continue
                if row.prev_chain != chain:
                    raise CorruptLog(
                        f"{self.layout.root}: audit/journal.wal row {row.seq} does not chain onto"
                        " the log; nothing was replayed from its record. Run `brain doctor`."
                    )
                chain = row.chain
                new.append((fr, row, item.payload))
            apply_files(self.layout.root, rec, self.dirs, replay=True)
            for fr, row, _payload in new:
                rows.append(row)
                self.binlog.append(fr)
                self.tip = Tip(row.seq, row.ts_ns, row.chain, self.tip.offset + len(fr))
                if row.op == "delete" and row.extra.get("mode") == "purge":
                    purges.append(row.seq)
            self.mmr.append([leaf_hash(p) for _fr, _row, p in new])
        if purges:
            purge_list.add(self.layout.purge_pending, purges)
        return rows

    def _leaves_match(self, rows: list[tuple[Row, bytes, int]]) -> bool:
        """Do the node file's leaves for the rows read at this fence hash their payloads?
        (Cheap: one read per new row. A mismatch would have every later checkpoint sign a
        root the log does not have.)"""
        mmr = self.mmr
        return all(
            mmr.leaf(row.seq - 1) == leaf_hash(payload)
            for row, payload, _off in rows
            if row.seq <= mmr.size
        )

    def _resync_nodes(self) -> None:
        """The node file is derived: cut it back or extend it from the log."""
        if self.mmr.size > self.tip.seq:
            self.mmr.truncate(self.tip.seq)
            return
        missing = [
            leaf_hash(f.payload)
            for f in self.binlog.iter_frames(self.mmr.size + 1)
            if isinstance(f, frames.Frame) and f.seq <= self.tip.seq
        ]
        self.mmr.append(missing)
