"""A power-loss simulator for `core.fsio`: what would be left on disk if the power went out now.

`PowerLossIO` replaces `core.fsio.backend` in a test. It performs every file operation for real,
so the engine sees ordinary files, and keeps a shadow of what the disk is *promised* to hold:

- every inode (file or folder) under the store root gets a shadow node;
- a file's durable contents are what it held at its last `fsync`/`fdatasync` of an fd on it, or
  at the last `syncfs`; a file created through fsio is durably empty until then;
- a folder's durable entries (name -> node) are what it listed at its last `fsync_dir` or
  `syncfs`; a folder created through fsio is durably empty until then. So a create, rename or
  unlink is durable only once its folder is synced (a rename across folders: both), and
  fsyncing a file does not make its name durable. POSIX promises no more; real file systems
  often give more, which is why a SIGKILL test cannot find a missing sync and this one can.

Every backend call is counted; `arm(k)` makes call number k raise `SimulatedCrash` (a
BaseException, so `except Exception` in the engine cannot swallow it) *before* it does anything,
and every later call raises too: after a power loss nothing reaches the disk. `close` of an fd
still works after the crash (it moves no data) so a dead store can be torn down.

`materialise(dest)` writes the post-crash tree: from the root's durable entries down, each file
with its durable contents ("drop every unsynced write"). With `rng` it models a partial
writeback instead, which a real power loss can also leave: the namespace changes not yet
synced reach the disk as a prefix in the order they were made (as a journaling file system
commits them; a rename is one change, never half of one), and each file independently holds its
durable contents, its current contents, or, when it grew, any prefix in between (a torn append).

Real syncs are skipped (the shadow is the model; a real fsync would only slow the test down).
Reads bypass fsio and see the real files, as they should: reading is not durability.
"""

from __future__ import annotations

import os
import random
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core import fsio


class SimulatedCrash(BaseException):
    """The power went out at this call. A BaseException so the engine cannot swallow it."""


@dataclass(eq=False)
class _Node:
    is_dir: bool
    data: bytes = b""  # durable contents (files)
    entries: dict[str, _Node] = field(default_factory=dict)  # durable entries (folders)
    # Namespace changes since the folder was last synced: (change number, name, node or None).
    pending: list[tuple[int, str, _Node | None]] = field(default_factory=list)


class PowerLossIO(fsio.RealIO):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(root)
        self.calls = 0
        self.crash_at: int | None = None
        self.crash_on: str | None = None  # or: crash at the first call whose label starts so
        self.before_crash: Callable[[], None] | None = None  # runs in the crashing thread
        self.crashed = False
        self.crash_op = ""
        self.ops: list[str] = []  # call number - 1 -> what it was (for failure messages)
        self._lock = threading.RLock()
        self._live: dict[tuple[int, int], _Node] = {}  # (st_dev, st_ino) -> node, linked now
        self._fds: dict[int, _Node | None] = {}  # every fd opened through us (None: outside)
        self._changes = 0  # namespace changes made so far (their order, for partial writeback)
        os.makedirs(self.root, exist_ok=True)
        self._top = self._adopt(os.lstat(self.root))
        self._sync_tree()  # whatever is there already counts as durable

    # -- crash control --------------------------------------------------------------------

    def arm(self, k: int | None = None, *, op: str | None = None) -> None:
        """Crash at the k-th call from now (1 = the very next one), or at the first call whose
        label (e.g. "syncfs", "rename audit/") starts with op; neither disarms."""
        self.crash_at = None if k is None else self.calls + k
        self.crash_on = op

    def _tick(self, what: str, path: str = "") -> None:
        self.calls += 1
        label = f"{what} {os.path.relpath(path, self.root)}" if path else what
        self.ops.append(label)
        if self.crashed:
            raise SimulatedCrash(f"call {self.calls} ({label}) after the power went out")
        if self.calls == self.crash_at or (self.crash_on and label.startswith(self.crash_on)):
            if self.before_crash is not None:
                self.before_crash()
            self.crashed = True
            self.crash_op = label
            raise SimulatedCrash(f"power lost at call {self.calls} ({label})")

    def release_fds(self) -> None:
        """Close fds a crash left open (the dead engine never got to close them)."""
        with self._lock:
            for fd in list(self._fds):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._fds.clear()

    # -- the backend ----------------------------------------------------------------------

    def open(self, path: str, flags: int, mode: int = 0o644) -> int:
        with self._lock:
            self._tick("open", path)
            existed = os.path.lexists(path)
            if flags & os.O_ACCMODE == os.O_WRONLY:
                # Read access lets fsync capture what it makes durable; the engine can't tell.
                flags = flags & ~os.O_ACCMODE | os.O_RDWR
            fd = super().open(path, flags, mode)
            node = None
            if self._inside(path):
                st = os.fstat(fd)
                if existed:
                    node = self._node(st)
                else:
                    node = self._adopt(st)
                    self._change([(path, node)])
            self._fds[fd] = node
            return fd

    def close(self, fd: int) -> None:
        with self._lock:
            if not self.crashed:
                self._tick("close")
            self._fds.pop(fd, None)
            super().close(fd)

    def write(self, fd: int, data: bytes | memoryview) -> None:
        with self._lock:
            self._tick("write")
            super().write(fd, data)

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        with self._lock:
            self._tick("pwrite")
            super().pwrite(fd, data, offset)

    def ftruncate(self, fd: int, size: int) -> None:
        with self._lock:
            self._tick("ftruncate")
            super().ftruncate(fd, size)

    def fdatasync(self, fd: int) -> None:
        with self._lock:
            self._tick("fdatasync")
            self._sync_fd(fd)

    def fsync(self, fd: int) -> None:
        with self._lock:
            self._tick("fsync")
            self._sync_fd(fd)

    def rename(self, src: str, dst: str) -> None:
        with self._lock:
            self._tick("rename", dst)
            moved, victim = os.lstat(src), _lstat(dst)
            super().rename(src, dst)
            if self._inside(src) and self._inside(dst):
                self._change([(src, None), (dst, self._node(moved))])
            if victim is not None and _key(victim) != _key(moved):
                self._forget(victim)

    def unlink(self, path: str) -> None:
        with self._lock:
            self._tick("unlink", path)
            st = _lstat(path)
            super().unlink(path)
            if st is not None:
                self._change([(path, None)])
                self._forget(st)

    def mkdir(self, path: str) -> None:
        with self._lock:
            self._tick("mkdir", path)
            missing, p = [], os.path.abspath(path)
            while not os.path.lexists(p):
                missing.append(p)
                p = os.path.dirname(p)
            super().mkdir(path)
            for p in reversed(missing):
                if self._inside(p) and p != self.root:
                    self._change([(p, self._adopt(os.lstat(p)))])

    def rmdir(self, path: str) -> None:
        with self._lock:
            self._tick("rmdir", path)
            st = _lstat(path)
            super().rmdir(path)
            if st is not None:
                self._change([(path, None)])
                self._forget(st)

    def syncfs(self, root: str) -> None:
        with self._lock:
            self._tick("syncfs", root)
            self._sync_tree()

    def fsync_dir(self, path: str) -> None:
        with self._lock:
            self._tick("fsync_dir", path)
            if self._inside(path):
                node = self._node(os.lstat(path))
                node.entries = self._current_entries(path)
                node.pending.clear()

    # -- shadow bookkeeping ---------------------------------------------------------------

    def _inside(self, path: str) -> bool:
        p = os.path.abspath(path)
        return p == self.root or p.startswith(self.root + os.sep)

    def _adopt(self, st: os.stat_result) -> _Node:
        """A new inode: nothing about it is durable yet."""
        node = _Node(is_dir=stat.S_ISDIR(st.st_mode))
        self._live[_key(st)] = node
        return node

    def _node(self, st: os.stat_result) -> _Node:
        # Inodes made outside fsio (the lock file, SQLite's files) are adopted on first sight.
        return self._live.get(_key(st)) or self._adopt(st)

    def _forget(self, st: os.stat_result) -> None:
        # The inode number may be reused by a later create; the node lives on in any durable
        # folder entry that still names it.
        if st.st_nlink <= 1 or stat.S_ISDIR(st.st_mode):
            self._live.pop(_key(st), None)

    def _change(self, parts: list[tuple[str, _Node | None]]) -> None:
        """One namespace change (a rename has two parts, in two folders maybe): not durable
        until each folder is synced; in partial writeback it lands whole or not at all."""
        self._changes += 1
        for path, node in parts:
            parent = self._node(os.lstat(os.path.dirname(os.path.abspath(path))))
            parent.pending.append((self._changes, os.path.basename(path), node))

    def _sync_fd(self, fd: int) -> None:
        node = self._fds.get(fd)
        if node is not None:
            node.data = _read_fd(fd)

    def _current_entries(self, path: str) -> dict[str, _Node]:
        out = {}
        for name in sorted(os.listdir(path)):
            try:
                out[name] = self._node(os.lstat(os.path.join(path, name)))
            except FileNotFoundError:
                continue
        return out

    def _sync_tree(self) -> None:
        """syncfs: every folder's entries and every file's contents under root are durable."""
        for node, path, files in self._walk_current():
            node.entries = self._current_entries(path)
            node.pending.clear()
            for name in files:
                child = node.entries.get(name)
                if child is not None and not child.is_dir:
                    child.data = _read_path(os.path.join(path, name))

    def _walk_current(self):
        for dirpath, _dirs, files in os.walk(self.root):
            yield self._node(os.lstat(dirpath)), dirpath, files

    # -- after the crash ------------------------------------------------------------------

    def materialise(
        self,
        dest: str | os.PathLike[str],
        *,
        skip: tuple[str, ...] = ("index",),
        rng: random.Random | None = None,
    ) -> None:
        """Write the tree a power loss now would leave into dest (which must not exist).

        skip: top-level names treated as volatile and left out (the SQLite index does its own
        I/O outside fsio; the engine rebuilds it). rng: model a partial writeback (see module).
        """
        with self._lock:
            current: dict[int, bytes] = {}
            cut = 0
            if rng is not None:
                cut = rng.randint(0, self._changes)
                for _node, path, files in self._walk_current():
                    for name in files:
                        p = os.path.join(path, name)
                        current[id(self._node(os.lstat(p)))] = _read_path(p)
            os.makedirs(dest)
            self._emit(self._top, Path(dest), skip, rng, cut, current, set())

    def _emit(self, node, dest, skip, rng, cut, current, seen) -> None:
        if id(node) in seen:
            return  # a folder reachable from itself through unsynced renames: stop
        seen = seen | {id(node)}
        entries = dict(node.entries)
        for n, name, child in node.pending:
            if n <= cut:  # this change reached the disk before the power went out
                if child is None:
                    entries.pop(name, None)
                else:
                    entries[name] = child
        for name in sorted(entries):
            if name in skip:
                continue
            child = entries[name]
            if child.is_dir:
                (dest / name).mkdir()
                self._emit(child, dest / name, (), rng, cut, current, seen)
            else:
                (dest / name).write_bytes(_pick(child.data, current.get(id(child)), rng))


def _pick(durable: bytes, current: bytes | None, rng: random.Random | None) -> bytes:
    if rng is None or current is None or current == durable:
        return durable
    roll = rng.random()
    if roll < 1 / 3:
        return durable
    if roll < 2 / 3 or not current.startswith(durable):
        return current
    return current[: rng.randint(len(durable), len(current))]  # a torn append


def _key(st: os.stat_result) -> tuple[int, int]:
    return (st.st_dev, st.st_ino)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _read_fd(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks, off = [], 0
    while off < size:
        b = os.pread(fd, size - off, off)
        if not b:
            break
        chunks.append(b)
        off += len(b)
    return b"".join(chunks)


def _read_path(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""
