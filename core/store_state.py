"""The store's overall state, as the header, `brain state` and the doctor report it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from core.index import queries
from core.models import Row
from core.write import lock

if TYPE_CHECKING:
    from core.store import Store

READY = "READY"
FROZEN_RECOVERABLE = "FROZEN_RECOVERABLE"
FROZEN_HUMAN = "FROZEN_HUMAN"


class StoreState(msgspec.Struct):
    root: str
    store_id: str
    state: str
    head_seq: int
    problem: str | None
    memories: int
    active: int
    tombstoned: int
    index_seq: int
    pending_purges: int
    writer: str | None
    notes: list[str]
    last_checkpoint_size: int | None = None
    last_checkpoint_ns: int | None = None


def compute(store: Store) -> StoreState:
    from core.write import purge_list

    counts = {"memories": 0, "active": 0, "tombstoned": 0}
    index_seq = 0
    last_cp: list[Row] = []
    try:
        store.wait_index()
        counts.update(queries.counts(store.reader.conn))
        index_seq = counts.get("rows", 0)
        last_cp = queries.audit_page(
            store.reader.conn, 2**63 - 1, 1, op="checkpoint", descending=True
        )
    except Exception as e:  # noqa: BLE001 - a broken index is reported, not raised
        if not (store.cannot_write and store.layout.index_dir.is_file()):
            store.notes.append(f"index unreadable: {e}")  # else open's note says what to move
    frozen = store.frozen()
    state = frozen[0] if frozen else READY
    holder = None
    if lock.is_locked(store.layout.lock):
        holder = lock.describe(store.layout.lock)
    return StoreState(
        root=str(store.root),
        store_id=store.manifest.store_id,
        state=state,
        head_seq=store.tip.seq,
        problem=frozen[1] if frozen else None,
        memories=counts["memories"],
        active=counts["active"],
        tombstoned=counts["tombstoned"],
        index_seq=index_seq,
        pending_purges=len(purge_list.read(store.layout.purge_pending).seqs),
        writer=holder,
        notes=list(store.notes) + store.session.notes(),
        last_checkpoint_size=last_cp[0].extra.get("size") if last_cp else None,
        last_checkpoint_ns=last_cp[0].ts_ns if last_cp else None,
    )
