"""The store's verifiable side: checkpoints (signing, rotation) and proofs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.errors import BrainError, NotFound, ProofError
from core.index import queries
from core.log import canonical
from core.verify import checkpoints
from core.verify.mmr import MMR, leaf_hash
from core.write.intents import Note

if TYPE_CHECKING:
    from core.layout import Layout
    from core.store import Store
    from core.verify import signed_note
    from core.write.writer import Writer

# core.verify.keys, signed_note and proofbundle load cryptography (~20 ms): they are imported by
# the functions that sign, prove or read keys, so a writable open of a store with no checkpoint
# yet never loads it.

SYSTEM_ACTOR = "system:brain"


class Checkpointer:
    """Signs tree heads for the writer that holds the lock; owns the signing keys (loaded on
    first use: a read-only command never loads cryptography)."""

    def __init__(
        self,
        layout: Layout,
        store_id: str,
        passphrase: str | None,
        clock: Callable[[], int],
        rng: Callable[[int], bytes],
    ) -> None:
        self.layout = layout
        self.store_id = store_id
        self.passphrase = passphrase
        self.clock = clock
        self.rng = rng
        self._signers: list[signed_note.Signer] | None = None

    def signers(self) -> list[signed_note.Signer]:
        from core.verify import keys

        if self._signers is None:
            self._signers = keys.load_signers(self.layout.keys, self.passphrase)
        if not self._signers:
            raise BrainError(f"no signing key in {self.layout.keys}; checkpoints cannot be signed")
        return self._signers

    def sign(self, w: Writer) -> str:
        """On the commit loop with the lock held: sign the durable tree head, then log it."""
        size = w.tip.seq
        if size == 0:
            raise BrainError("the log is empty: there is nothing to checkpoint yet")
        existing = checkpoints.sizes(self.layout)
        if existing and existing[-1] == size:
            return checkpoints.read_note(self.layout, size)
        assert w.mmr is not None
        text = checkpoints.make(self.layout, self.store_id, w.mmr, size, self.signers())
        root = w.mmr.root(size)
        w.write_now([Note("checkpoint", "", "", {"root": root.hex(), "size": size})], SYSTEM_ACTOR)
        checkpoints.record_witness(self.store_id, size, root)
        return text

    def rotate(self, w: Writer, *, finish: bool) -> dict[str, Any]:
        """Under the lock: start a rotation (a new key; both sign during the overlap) or
        finish it (retire the old keys), log it and checkpoint."""
        from core.verify import keys

        current = self.signers()
        extra: dict[str, Any]
        if finish:
            if len(current) < 2:
                raise BrainError("no rotation in progress: there is only one active key")
            keep = current[-1]
            for old in current[:-1]:
                keys.retire(self.layout.keys, old.verifier.key_id.hex())
            self._signers = [keep]
            extra = {
                "phase": "finish",
                "active": keep.verifier.vkey(),
                "retired": [o.verifier.vkey() for o in current[:-1]],
            }
        elif len(current) > 1:
            # A second start would add a third signer to every checkpoint and a rotation row
            # vouched for by a key that is itself still in its overlap: one rotation at a time.
            raise BrainError(
                f"a key rotation is already in progress: {len(current)} keys sign, the new one"
                f" is {current[-1].verifier.vkey()}; finish it with `brain rotate-key --finish`"
                " before starting another"
            )
        else:
            new = keys.generate(
                self.layout.keys,
                checkpoints.origin_of(self.store_id),
                passphrase=self.passphrase,
                clock_ns=self.clock(),
                rng=self.rng,
            )
            self._signers = [*current, new]
            extra = {
                "phase": "start",
                "new": new.verifier.vkey(),
                "old": [o.verifier.vkey() for o in current],
            }
        w.write_now([Note("key.rotated", "", "", extra)], SYSTEM_ACTOR)
        self.sign(w)
        return extra


def checkpoint(store: Store) -> str:
    # The checkpoint row is this caller's write too: reads that wait for the caller's own
    # acknowledged rows (tail, search) must see it (the session records it).
    return store.session.run(store.session.checkpointer.sign)


def _mmr(store: Store) -> MMR:
    """A node file view for proofs: the writer's while it holds the lock (nobody else can
    append), else a fresh read-only handle (another process may have appended since; the
    writer's own handle may not be open yet)."""
    held = store.session.locked_mmr()
    if held is not None:
        return held
    store.refresh()
    return MMR.open(store.layout.mmr_nodes, readonly=True)


def _vkey_for(store: Store, note: str) -> str:
    from core.verify import keys, signed_note

    _cp, sigs = signed_note.parse_note(note)
    by_id = {(v.name, v.key_id): v for v in keys.load_verifiers(store.layout.keys)}
    for name, kid, _sig in sigs:
        v = by_id.get((name, kid))
        if v is not None:
            return v.vkey()
    raise ProofError("no verifier key in keys/ matches the checkpoint's signatures")


def _covering(store: Store, size: int) -> int:
    """The newest checkpoint size, making one first when none covers `size` rows."""
    sizes = checkpoints.sizes(store.layout)
    if not sizes or sizes[-1] < size:
        checkpoint(store)
        sizes = checkpoints.sizes(store.layout)
    return sizes[-1]


def prove(store: Store, seq: int) -> dict[str, Any]:
    from core.verify import proofbundle

    head = store.refresh()
    if not 1 <= seq <= head:
        raise NotFound(f"seq {seq} is not in the log (it holds rows 1..{head})")
    size = _covering(store, seq)
    mmr = _mmr(store)
    try:
        store.wait_index()
        rows = queries.audit_page(store.reader.conn, seq - 1, 1)
        payload = canonical.encode(rows[0], check=False) if rows and rows[0].seq == seq else b""
        if leaf_hash(payload) != mmr.leaf(seq - 1):
            payload = store.rows(seq)[0][1]  # the index disagrees: the log wins
        note = checkpoints.read_note(store.layout, size)
        return proofbundle.inclusion_bundle(
            seq,
            payload,
            mmr.inclusion_proof(seq - 1, size),
            mmr.root(size),
            note,
            _vkey_for(store, note),
        )
    finally:
        if mmr is not store.session.writer_mmr():
            mmr.close()


def prove_many(store: Store, seqs: list[int]) -> dict[int, dict[str, Any]]:
    """`prove` for many rows at once (a sync push batch): one covering checkpoint, one node
    file handle, one note and key lookup, instead of one of each per row."""
    from core.verify import proofbundle

    if not seqs:
        return {}
    head = store.refresh()
    for seq in seqs:
        if not 1 <= seq <= head:
            raise NotFound(f"seq {seq} is not in the log (it holds rows 1..{head})")
    size = _covering(store, max(seqs))
    mmr = _mmr(store)
    try:
        store.wait_index()
        note = checkpoints.read_note(store.layout, size)
        vkey = _vkey_for(store, note)
        root = mmr.root(size)
        out = {}
        for seq in seqs:
            rows = queries.audit_page(store.reader.conn, seq - 1, 1)
            payload = canonical.encode(rows[0], check=False) if rows and rows[0].seq == seq else b""
            if leaf_hash(payload) != mmr.leaf(seq - 1):
                payload = store.rows(seq)[0][1]  # the index disagrees: the log wins
            out[seq] = proofbundle.inclusion_bundle(
                seq, payload, mmr.inclusion_proof(seq - 1, size), root, note, vkey, size
            )
        return out
    finally:
        if mmr is not store.session.writer_mmr():
            mmr.close()


def prove_rotation(store: Store, seq: int) -> dict[str, Any]:
    """`prove` for key.rotated row `seq` (phase "start"), against the first checkpoint that
    covers it and carries a signature of one of the keys the row replaces (`rotate` signs one
    right after the row, while both keys sign), so a verifier that pins the old key can trust
    the new one (sync; core/portable/pins.py does the same from a whole store)."""
    from core.log import frames
    from core.log.tip import decode_row
    from core.verify import proofbundle, signed_note

    store.refresh()
    frame = next(iter(store.binlog.iter_frames(seq)), None)
    if frame is None or isinstance(frame, frames.BadFrame):
        raise NotFound(f"row {seq} cannot be read from the log")
    payload = frame.payload
    row = decode_row(payload)
    if row.seq != seq or row.op != "key.rotated" or row.extra.get("phase") != "start":
        raise NotFound(f"row {seq} is not the start of a key rotation")
    old = [v for v in row.extra.get("old", []) if isinstance(v, str)]
    origin = checkpoints.origin_of(store.manifest.store_id)
    for size in checkpoints.sizes(store.layout):
        if size < seq:
            continue
        note = checkpoints.read_note(store.layout, size)
        for vkey in old:
            try:
                signed_note.verify_note(note, [signed_note.Verifier.parse(vkey)], origin=origin)
            except BrainError:
                continue
            mmr = _mmr(store)
            try:
                return proofbundle.inclusion_bundle(
                    seq, payload, mmr.inclusion_proof(seq - 1, size), mmr.root(size), note, vkey
                )
            finally:
                if mmr is not store.session.writer_mmr():
                    mmr.close()
    raise ProofError(f"no checkpoint covering row {seq} is signed by a key it replaces")


def consistency(store: Store, size1: int, size2: int) -> dict[str, Any]:
    from core.verify import proofbundle

    sizes = checkpoints.sizes(store.layout)
    for s in (size1, size2):
        if s not in sizes:
            raise NotFound(
                f"no checkpoint of size {s} (have: {', '.join(map(str, sizes[-8:])) or 'none'})"
            )
    if size1 > size2:
        raise ProofError("the first checkpoint must not be larger than the second")
    mmr = _mmr(store)
    try:
        n1 = checkpoints.read_note(store.layout, size1)
        n2 = checkpoints.read_note(store.layout, size2)
        return proofbundle.consistency_bundle(
            size1,
            size2,
            mmr.root(size1),
            mmr.root(size2),
            mmr.consistency_proof(size1, size2),
            n1,
            n2,
            _vkey_for(store, n2),
        )
    finally:
        if mmr is not store.session.writer_mmr():
            mmr.close()


def rotate_key(store: Store, *, finish: bool = False) -> dict[str, Any]:
    """Start a rotation (new key; both sign during the overlap) or finish it (retire old keys)."""
    cp = store.session.checkpointer
    return store.session.run(lambda w: cp.rotate(w, finish=finish))  # the rows are ours
