"""Every durable I/O call of the engine goes through here.

One small surface (write, sync, rename, truncate, unlink) so a test can swap `backend` for a
simulator that forgets unsynced writes, which is how a power loss is shown: a SIGKILL cannot
show a missing fsync because the page cache survives it.
"""

from __future__ import annotations

import functools
import os
import sys

TYPE_CHECKING = False  # without importing typing; Path only annotates (no pathlib for a view)
if TYPE_CHECKING:
    from pathlib import Path


class RealIO:
    """Plain POSIX calls. Subclassed by the crash simulator in tests."""

    def open(self, path: str, flags: int, mode: int = 0o644) -> int:
        return os.open(path, flags | getattr(os, "O_CLOEXEC", 0), mode)

    def close(self, fd: int) -> None:
        os.close(fd)

    def write(self, fd: int, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        view = memoryview(data)
        while view:
            n = os.pwrite(fd, view, offset)
            view = view[n:]
            offset += n

    def fdatasync(self, fd: int) -> None:
        if sys.platform == "darwin":
            _full_fsync(fd)
        else:
            os.fdatasync(fd)

    def fsync(self, fd: int) -> None:
        if sys.platform == "darwin":
            _full_fsync(fd)
        else:
            os.fsync(fd)

    def ftruncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def rename(self, src: str, dst: str) -> None:
        os.replace(src, dst)

    def unlink(self, path: str) -> None:
        os.unlink(path)

    def mkdir(self, path: str) -> None:
        os.makedirs(path, exist_ok=True)

    def rmdir(self, path: str) -> None:
        os.rmdir(path)

    def syncfs(self, root: str) -> None:
        """Flush the whole file system holding root: one call instead of one per file."""
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fn = _libc_syncfs()
            if fn is not None and fn(fd) == 0:
                return
            self._sync_tree(root)
        finally:
            os.close(fd)

    def _sync_tree(self, root: str) -> None:
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                try:
                    fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    self.fsync(fd)
                finally:
                    os.close(fd)
            dfd = os.open(dirpath, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def preallocate(self, fd: int, size: int) -> None:
        """Reserve blocks up to size without changing the file's size (a hint: may no-op)."""
        fn = _libc_fallocate()
        if fn is not None:
            fn(fd, _FALLOC_FL_KEEP_SIZE, 0, size)

    def fsync_dir(self, path: str) -> None:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# libc is loaded at the first sync (a read never syncs). syncfs, which every flush calls,
# goes through _ctypes, the module ctypes is built on: importing ctypes itself (its ~50 C types,
# structures and their byte orders) costs ~1.5 ms of every one-shot put, for a function taking
# and returning a C int (_ctypes' default conversions). fallocate, whose offsets are 64-bit,
# comes through ctypes: only a writer that keeps the lock for more than one record reserves
# journal blocks (core.write.journal), and a long-lived process pays that import once.
_FALLOC_FL_KEEP_SIZE = 1


class _Libc:
    """What _ctypes reads from a library when it looks a function up: the dlopen handle."""

    def __init__(self, handle: int) -> None:
        self._handle = handle


@functools.cache
def _libc_syncfs():
    """libc's syncfs(int) -> int; None off Linux, or where it cannot be found."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import _ctypes

        class Function(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL  # int arguments and an int result by default

        libc = _Libc(_ctypes.dlopen("libc.so.6"))
        return Function(("syncfs", libc))  # type: ignore[arg-type]  # _handle is all it reads
    except (ImportError, OSError, AttributeError, TypeError):
        return _through_ctypes("syncfs", "c_int")


@functools.cache
def _libc_fallocate():
    if not sys.platform.startswith("linux"):
        return None
    return _through_ctypes("fallocate", "c_int", "c_int", "c_int64", "c_int64")


def _through_ctypes(name: str, *args: str):
    import ctypes

    try:
        # libc.so.6 by name first: ctypes.util.find_library costs ~5 ms of a CLI start-up.
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # another C library (musl names itself otherwise)
        from ctypes import util

        try:
            libc = ctypes.CDLL(util.find_library("c") or "libc.so.6")
        except OSError:
            return None
    fn = getattr(libc, name, None)
    if fn is None:
        return None
    fn.argtypes = [getattr(ctypes, a) for a in args]
    fn.restype = ctypes.c_int
    return fn


def _full_fsync(fd: int) -> None:
    import fcntl

    try:
        fcntl.fcntl(fd, fcntl.F_FULLFSYNC)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        os.fsync(fd)


backend: RealIO = RealIO()


class _DeferredIO(RealIO):
    """`inner`, except that syncs of files and folders under `root` do nothing: the store
    being built there is synced once, as a whole, when it is done (deferred_syncs)."""

    def __init__(self, inner: RealIO, root: str) -> None:
        self.inner = inner
        self.root = os.path.join(os.path.abspath(root), "")
        self.fds: set[int] = set()

    def _mine(self, path: str) -> bool:
        return os.path.join(os.path.abspath(path), "").startswith(self.root)

    def open(self, path: str, flags: int, mode: int = 0o644) -> int:
        fd = self.inner.open(path, flags, mode)
        if self._mine(path):
            self.fds.add(fd)
        return fd

    def close(self, fd: int) -> None:
        self.fds.discard(fd)
        self.inner.close(fd)

    def write(self, fd: int, data: bytes | memoryview) -> None:
        self.inner.write(fd, data)

    def pwrite(self, fd: int, data: bytes, offset: int) -> None:
        self.inner.pwrite(fd, data, offset)

    def fdatasync(self, fd: int) -> None:
        if fd not in self.fds:
            self.inner.fdatasync(fd)

    def fsync(self, fd: int) -> None:
        if fd not in self.fds:
            self.inner.fsync(fd)

    def ftruncate(self, fd: int, size: int) -> None:
        self.inner.ftruncate(fd, size)

    def rename(self, src: str, dst: str) -> None:
        self.inner.rename(src, dst)

    def unlink(self, path: str) -> None:
        self.inner.unlink(path)

    def mkdir(self, path: str) -> None:
        self.inner.mkdir(path)

    def rmdir(self, path: str) -> None:
        self.inner.rmdir(path)

    def syncfs(self, root: str) -> None:
        if not self._mine(root):
            self.inner.syncfs(root)

    def preallocate(self, fd: int, size: int) -> None:
        self.inner.preallocate(fd, size)

    def fsync_dir(self, path: str) -> None:
        if not self._mine(path):
            self.inner.fsync_dir(path)


class deferred_syncs:  # lower case: used like the function it was, `with deferred_syncs(root):`
    """Build a new store at `root`, a private folder nobody opens until the build is done
    and renamed into place (the demo): every sync of a file or folder under it is skipped,
    and one syncfs at the end makes the finished store durable before the caller publishes
    it. If the build fails, the folder is garbage either way. Syncs elsewhere (another store
    open in this process) still happen, and the writer's bytes and order are unchanged.

    A class rather than a contextlib.contextmanager: every command imports this module, and
    contextlib would be one more import (~0.5 ms) for the demo alone."""

    def __init__(self, root: Path | str) -> None:
        self.root = root
        self.outer: RealIO | None = None

    def __enter__(self) -> None:
        global backend
        self.outer = backend
        backend = _DeferredIO(self.outer, str(self.root))

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        global backend
        assert self.outer is not None
        backend = self.outer
        if exc_type is None:
            syncfs(self.root)


# Thin module-level helpers so callers never touch os.* for durable I/O.


def open_fd(path: Path | str, flags: int, mode: int = 0o644) -> int:
    return backend.open(str(path), flags, mode)


def close(fd: int) -> None:
    backend.close(fd)


def write(fd: int, data: bytes | memoryview) -> None:
    backend.write(fd, data)


def pwrite(fd: int, data: bytes, offset: int) -> None:
    backend.pwrite(fd, data, offset)


def fdatasync(fd: int) -> None:
    backend.fdatasync(fd)


def fsync(fd: int) -> None:
    backend.fsync(fd)


def ftruncate(fd: int, size: int) -> None:
    backend.ftruncate(fd, size)


def rename(src: Path | str, dst: Path | str) -> None:
    backend.rename(str(src), str(dst))


def unlink(path: Path | str, missing_ok: bool = True) -> None:
    try:
        backend.unlink(str(path))
    except FileNotFoundError:
        if not missing_ok:
            raise


def remove_durable(path: Path | str) -> bool:
    """Delete a file and sync its folder, so the removal survives a power loss; False when
    there was nothing to delete."""
    if not os.path.lexists(path):
        return False
    unlink(path)
    fsync_dir(os.path.dirname(os.path.abspath(path)))
    return True


def mkdirs(path: Path | str) -> None:
    backend.mkdir(str(path))


def rmdir(path: Path | str) -> None:
    backend.rmdir(str(path))


def syncfs(root: Path | str) -> None:
    backend.syncfs(str(root))


def preallocate(fd: int, size: int) -> None:
    backend.preallocate(fd, size)


def fsync_dir(path: Path | str) -> None:
    backend.fsync_dir(str(path))


def append(path: Path | str, data: bytes) -> None:
    """One unsynced O_APPEND write (access journal, node file)."""
    fd = open_fd(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        write(fd, data)
    finally:
        close(fd)


def write_file(
    path: Path | str, data: bytes, *, durable: bool = False, mode: int | None = None
) -> None:
    """Replace path with data via a temp file and rename.

    durable=True also fsyncs the file and its folder (used outside the journal's protection:
    init, manifest, keys, checkpoint notes). `mode` (a private key: 0o600) is the temp file's
    mode from its creation, before a byte is written: a fresh file (O_EXCL, after removing a
    stale temp a crash left, whose wider mode O_TRUNC would keep), then fchmod so the umask
    cannot change it.
    """
    # Plain strings, not Path: this runs twice per memory written (pathlib costs ~4x).
    path = os.fspath(path)
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.tmp{os.getpid()}")
    if mode is None:
        fd = open_fd(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    else:
        unlink(tmp)
        fd = open_fd(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            write(fd, data)
            if durable:
                fsync(fd)
        finally:
            close(fd)
        rename(tmp, path)
    except Exception:
        # A failed write or rename (a full disk, a folder in the way) leaves no hidden copy:
        # the temp may hold a whole export or a private key, and nothing else knows of it.
        # A simulated power loss is a BaseException, so it leaves what a real one would.
        try:
            unlink(tmp)
        except OSError:
            pass  # the first error is the one to report
        raise
    if durable:
        fsync_dir(folder or ".")
