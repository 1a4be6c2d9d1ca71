"""`brain backup DIR`: a consistent, verified snapshot of the store.

Two passes: a bulk copy without the lock, then, on the commit loop with the writer lock held
(after a checkpoint if rows other than `checkpoint` rows lie beyond the newest one, and after a
flush, so the journal is empty and every applied row is durable), a pass that re-copies only
what changed and removes what went. The snapshot is therefore exactly the store at one moment,
and writers wait only for a stat per file. Immutable files, sealed segments
`audit/<seq>.binlog[.zst]` and checkpoint notes, are hard-linked (copied when DIR is on another
file system); everything else is copied, private keys, `local/` and `conflicts/` included (a
backup restores this store on this machine). Not copied: `.lock`, `index/` (derived: rebuilt on
open), `exports/` (outputs, not state), `audit/journal.wal` (empty after the flush) and temp
files. Then the snapshot is verified as a stranger would (`core.portable.foreign.verify`: every frame,
the chain, every note and root, every memory against the log), checked to end at the same seq
and chain as the store, and opened read-only.

All of that happens in a hidden folder beside DIR (`.<name>.<random>.backup-partial`), renamed
to DIR only once it verifies: a backup that fails at any step leaves no partial copy (and no
copy of the private keys) behind.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core import fsio, paths
from core.errors import BrainError
from core.log.binlog import SEGMENT_NAME
from core.log.tip import Tip
from core.portable.export import uncovered
from core.portable.foreign import DirSource, verify
from core.verify import checkpoints

if TYPE_CHECKING:
    from core.store import Store
    from core.write.writer import Writer

_SKIP_TOP = {".lock", "index", "exports"}
_SKIP_AUDIT = {"journal.wal"}
PARTIAL = ".backup-partial"  # suffix of the folder a backup is built in, beside DIR


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
    """Build the snapshot in a hidden folder beside `dest`, verify it there, then rename it to
    `dest` in one step: a backup that fails at any point (a file that cannot be copied, a copy
    that does not verify, an interrupted run) leaves no partial copy behind, keys included."""
    dest = Path(os.path.abspath(dest))
    if allow_temp is None:  # a store in a temp folder was opened with the opt-in
        allow_temp = paths.is_temp_root(store.root)
    paths.check_root_allowed(dest, allow_temp)
    root = Path(os.path.abspath(store.root))
    # Compared after resolving links too: a DIR reached through a link into the store
    # (`lnk/versions/bk`, lnk -> the store) would put the private keys among the memories,
    # where the next export would pick them up.
    if _within(dest, root) or _within(dest.resolve(), root.resolve()):
        raise BrainError(f"{dest} is inside the store; back up to a folder outside it")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BrainError(f"{dest} exists and is not an empty folder; choose a new one")
    store.session.checked()
    fsio.mkdirs(dest.parent)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=PARTIAL, dir=dest.parent))
    try:
        result = _build(store, work, allow_temp)
        try:
            fsio.rename(work, dest)  # replaces dest only if it is (still) an empty folder
        except OSError as e:
            raise BrainError(f"{dest}: cannot move the finished backup into place ({e})") from None
        fsio.fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    result.dest = str(dest)
    return result


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _build(store: Store, work: Path, allow_temp: bool) -> BackupResult:
    """Copy, under the lock bring up to date, sync, verify and open the snapshot at `work`."""
    from core.store import Store

    copier = _Copier(Path(os.path.abspath(store.root)), work)
    copier.sync(locked=False)  # the bulk, without holding writers up
    result, tip = store.session.run(lambda w: _finish_locked(store, w, copier))
    try:
        # Every memory is verified; no body is kept (a backup writes nothing from them).
        foreign = verify(DirSource(work), lambda *_: "not kept")
    except BrainError as e:
        raise BrainError(f"the backup does not verify: {e}") from None
    if (foreign.head, foreign.head_chain) != (tip.seq, tip.chain):
        raise BrainError(f"the backup ends at seq {foreign.head}, not at the store's seq {tip.seq}")
    with Store.open(work, read_only=True, allow_temp=allow_temp) as b:
        if b.problem is not None or b.tip.seq != tip.seq:
            raise BrainError(f"the backup does not open cleanly: {b.problem}")
    result.verified = True
    return result


def _finish_locked(store: Store, w: Writer, copier: _Copier) -> tuple[BackupResult, Tip]:
    """Under the lock: bring the copy up to date with what changed since the first pass."""
    if w.tip.seq and uncovered(store, w):
        store.session.checkpointer.sign(w)
    w.flush()
    copier.sync(locked=True)
    fsio.syncfs(copier.dest)
    sizes = checkpoints.sizes(store.layout)
    result = BackupResult(
        str(copier.dest),
        linked=sum(1 for k in copier.how.values() if k == "link"),
        copied=sum(1 for k in copier.how.values() if k == "copy"),
        bytes_copied=copier.bytes,
        head_seq=w.tip.seq,
        checkpoint=sizes[-1] if sizes else None,
        notes=copier.notes,
    )
    return result, w.tip


class _Copier:
    """Two passes, rsync-like: a first one without the lock, then one under it that copies
    again only the files whose (inode, size, mtime, ctime) changed and drops those that went.
    Writers replace files by rename (a new inode) or append to them (a new size), so the
    second pass sees every change; it costs a stat per file instead of a copy."""

    def __init__(self, root: Path, dest: Path) -> None:
        self.root, self.dest = root, dest
        self.sig: dict[str, tuple[int, int, int, int]] = {}
        self.how: dict[str, str] = {}
        self.bytes = 0
        self.notes: list[str] = []
        self.cross_device = False

    def sync(self, *, locked: bool) -> None:
        seen: set[str] = set()
        _mkdir_like(self.root, self.dest)
        for dirpath, dirs, files in os.walk(self.root):
            rel_dir = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            if rel_dir == ".":
                dirs[:] = [d for d in dirs if d not in _SKIP_TOP]
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for d in dirs:
                if os.path.islink(os.path.join(dirpath, d)):
                    raise BrainError(f"{rel_dir}/{d} is a symlink; the store allows none")
                _mkdir_like(Path(dirpath) / d, self.dest / rel_dir / d)
            for name in files:
                if name.startswith(".") or (rel_dir == "audit" and name in _SKIP_AUDIT):
                    continue
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                try:
                    self._one(rel, _immutable(rel_dir, name))
                except FileNotFoundError:
                    if locked:
                        raise
                    continue  # replaced meanwhile: the locked pass copies what is there then
                seen.add(rel)
        if locked:
            for rel in set(self.sig) - seen:
                fsio.unlink(self.dest / rel)
                del self.sig[rel], self.how[rel]

    def _one(self, rel: str, immutable: bool) -> None:
        src, dst = self.root / rel, self.dest / rel
        st = os.lstat(src)
        if not stat.S_ISREG(st.st_mode):
            raise BrainError(f"{rel} is not a regular file (a symlink?); the store allows none")
        sig = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if self.sig.get(rel) == sig:
            return
        fsio.unlink(dst)
        if immutable and not self.cross_device:
            try:
                os.link(src, dst)
                self.sig[rel], self.how[rel] = sig, "link"
                return
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                self.cross_device = True
                self.notes.append(
                    f"hard links are not possible here ({e.strerror}): immutable files copied"
                )
        shutil.copy2(src, dst, follow_symlinks=False)
        self.sig[rel], self.how[rel] = sig, "copy"
        self.bytes += st.st_size


def _immutable(rel_dir: str, name: str) -> bool:
    if rel_dir == "audit":
        return bool(SEGMENT_NAME.match(name))
    return rel_dir == "audit/checkpoints" and name.endswith(".note")


def _mkdir_like(src: Path, dst: Path) -> None:
    fsio.mkdirs(dst)
    os.chmod(dst, os.stat(src).st_mode & 0o777)  # keys/ stays 0700
