"""`brain backup DIR`: a consistent, verified snapshot of the store.

Taken on the commit loop with the writer lock held (after a flush, so the journal is empty and
every applied row is durable; and after a checkpoint if rows other than `checkpoint` rows lie
beyond the newest one, so the snapshot verifies). Immutable files, sealed segments
`audit/<seq>.binlog[.zst]` and checkpoint notes, are hard-linked (copied when DIR is on another
file system); everything else is copied, private keys, `local/` and `conflicts/` included (a
backup restores this store on this machine). Not copied: `.lock`, `index/` (derived: rebuilt on
open), `exports/` (outputs, not state), `audit/journal.wal` (empty after the flush) and temp
files. Then the snapshot is verified as a stranger would (`core.foreign.verify`: every frame,
the chain, every note and root, every memory against the log), checked to end at the same seq
and chain as the store, and opened read-only.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core import checkpoints, fsio, paths, verifiable
from core.binlog import _SEGMENT
from core.errors import BrainError
from core.export import _uncovered
from core.foreign import DirSource, verify
from core.ledger_state import Tip

if TYPE_CHECKING:
    from core.store import Store

_SKIP_TOP = {".lock", "index", "exports"}
_SKIP_AUDIT = {"journal.wal"}


@dataclass
class BackupResult:
    dest: str
    linked: int  # immutable files hard-linked
    copied: int
    bytes_copied: int
    head_seq: int
    checkpoint: int | None
    verified: bool = False
    notes: list[str] = field(default_factory=list)


def backup(store: Store, dest: Path, *, allow_temp: bool | None = None) -> BackupResult:
    from core.store import Store

    dest = Path(os.path.abspath(dest))
    if allow_temp is None:  # a store in a temp folder was opened with the opt-in
        allow_temp = paths.is_temp_root(store.root)
    paths.check_root_allowed(dest, allow_temp)
    root = Path(os.path.abspath(store.root))
    if dest == root or root in dest.parents:
        raise BrainError(f"{dest} is inside the store; back up to a folder outside it")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BrainError(f"{dest} exists and is not an empty folder; choose a new one")
    store._start_writer_checked()
    w = store._writer
    assert w is not None
    res = w.run_locked(lambda: _copy_locked(store, root, dest))
    assert isinstance(res, tuple)
    result, tip = res
    src = DirSource(dest)
    try:
        foreign = verify(src)
    except BrainError as e:
        raise BrainError(f"the backup at {dest} does not verify: {e}") from None
    if (foreign.head, foreign.head_chain) != (tip.seq, tip.chain):
        raise BrainError(
            f"the backup at {dest} ends at seq {foreign.head}, not at the store's seq {tip.seq}"
        )
    with Store.open(dest, read_only=True, allow_temp=allow_temp) as b:
        if b.problem is not None or b.tip.seq != tip.seq:
            raise BrainError(f"the backup at {dest} does not open cleanly: {b.problem}")
    result.verified = True
    return result


def _copy_locked(store: Store, root: Path, dest: Path) -> tuple[BackupResult, Tip]:
    w = store._writer
    assert w is not None
    if w.tip.seq and _uncovered(store):
        verifiable.checkpoint_locked(store)
    w.flush()
    result = BackupResult(str(dest), 0, 0, 0, w.tip.seq, None)
    cross_device = False
    _mkdir_like(root, dest)
    for dirpath, dirs, files in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        if rel_dir == ".":
            dirs[:] = [d for d in dirs if d not in _SKIP_TOP]
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d in dirs:
            if os.path.islink(os.path.join(dirpath, d)):
                raise BrainError(f"{rel_dir}/{d} is a symlink; the store allows none")
            _mkdir_like(Path(dirpath) / d, dest / rel_dir / d)
        for name in sorted(files):
            if name.startswith(".") or (rel_dir == "audit" and name in _SKIP_AUDIT):
                continue
            src, dst = Path(dirpath) / name, dest / rel_dir / name
            if src.is_symlink():
                raise BrainError(f"{rel_dir}/{name} is a symlink; the store allows none")
            if _immutable(rel_dir, name) and not cross_device:
                try:
                    os.link(src, dst)
                    result.linked += 1
                    continue
                except OSError as e:
                    if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                        raise
                    cross_device = True
                    result.notes.append(
                        f"hard links are not possible here ({e.strerror}): immutable files copied"
                    )
            shutil.copy2(src, dst, follow_symlinks=False)
            result.copied += 1
            result.bytes_copied += dst.stat().st_size
    fsio.syncfs(dest)
    sizes = checkpoints.sizes(store.layout)
    result.checkpoint = sizes[-1] if sizes else None
    return result, w.tip


def _immutable(rel_dir: str, name: str) -> bool:
    if rel_dir == "audit":
        return bool(_SEGMENT.match(name))
    return rel_dir == "audit/checkpoints" and name.endswith(".note")


def _mkdir_like(src: Path, dst: Path) -> None:
    fsio.mkdirs(dst)
    os.chmod(dst, os.stat(src).st_mode & 0o777)  # keys/ stays 0700
