"""The writer lock: an exclusive flock on `.lock`; the file's JSON only names the holder.

The kernel drops a flock when its holder dies, so there is no stale lease to take over.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from core import fsio
from core.errors import BrainError, LeaseHeld
from core.models import LockHolder

_NETWORK_FS = {
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "afs",
    "9p",
    "fuse.sshfs",
    "ceph",
    "glusterfs",
}


class WriterLock:
    def __init__(self, root: Path, program: str = "brain", timeout_s: float = 5.0) -> None:
        self.path = root / ".lock"
        self.program = program
        self.timeout_s = timeout_s
        self._fd: int | None = None
        self.acquired_at = 0.0

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + self.timeout_s
        delay = 0.001
        waiting = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    waiting = _signal_waiting(fd)
                if time.monotonic() >= deadline:
                    os.close(fd)  # closing drops the waiting signal too
                    raise LeaseHeld(
                        f"the store at {self.path.parent} is being written by {describe(self.path)};"
                        f" waited {self.timeout_s:g} s for its lock. Retry when it is idle,"
                        " or stop that process."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.005)
        if waiting:
            _clear_waiting(fd)
        holder = LockHolder(
            pid=os.getpid(),
            host=hostname(),
            program=self.program,
            since_ns=time.time_ns(),
        )
        self._fd = fd  # held from here on: whatever fails below, release() can drop it
        self.acquired_at = time.monotonic()
        # The holder note is advisory (for messages), so it is written without a sync, and a
        # full disk that refuses it must not leave the lock held by an fd nobody owns.
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, msgspec.json.encode(holder), 0)
        except OSError:
            pass

    def contended(self) -> bool:
        """Is another process waiting for the lock? (It holds a POSIX read lock on byte 0.)"""
        if self._fd is None:
            return False
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
        except OSError:
            return True
        fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, 0)
        return False

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            # Clear the holder note first: a note left by a holder that released cleanly would
            # read as a stale lease (the doctor warns about notes naming dead processes).
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


# flock is not fair and says nothing about waiters, so a contender also takes a POSIX (fcntl)
# read lock on byte 0 of the same file while it polls: the holder probes it after holding for a
# while and lets go only when someone is waiting. flock and POSIX locks do not interact on Linux.


def _signal_waiting(fd: int) -> bool:
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, 0)
        return True
    except OSError:
        return False


def _clear_waiting(fd: int) -> None:
    try:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)
    except OSError:
        pass


def read_holder(lock_path: Path) -> LockHolder | None:
    try:
        return msgspec.json.decode(lock_path.read_bytes(), type=LockHolder)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def describe(lock_path: Path) -> str:
    h = read_holder(lock_path)
    if h is None:
        return "another process"
    return f"{h.program} (pid {h.pid} on {h.host})"


def is_locked(lock_path: str | os.PathLike[str]) -> bool:
    """True when some process holds the flock right now (probe without waiting)."""
    try:
        fd = os.open(lock_path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def refuse_network_fs(root: Path) -> None:
    """flock over NFS/SMB is not a real exclusion: refuse to write there."""
    if not sys.platform.startswith("linux"):
        return
    fstype = _fs_type(root.resolve())
    if fstype in _NETWORK_FS:
        raise BrainError(
            f"the store at {root} is on a network file system ({fstype}); writing there is"
            " refused because its locks do not exclude other machines. Move the store to a"
            " local disk."
        )


def _fs_type(path: Path) -> str:
    best, fstype = "", ""
    try:
        with open("/proc/self/mounts", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                mnt = parts[1].replace("\\040", " ")
                if (str(path) == mnt or str(path).startswith(mnt.rstrip("/") + "/")) and len(
                    mnt
                ) > len(best):
                    best, fstype = mnt, parts[2]
    except OSError:
        return ""
    return fstype


class ProgramLock:
    """One program per store for a long-lived loop (capture, sync): an flock on `path` the
    kernel drops when the holder dies; the file's text only names the holder. `busy(who)` makes
    the error raised when another process holds it."""

    def __init__(self, path: Path, program: str, busy: Callable[[str], BrainError]) -> None:
        self.path = path
        self.program = program
        self._busy = busy
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fsio.mkdirs(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:  # permissions, a file where the folder goes: say which, no trace
            raise BrainError(
                f"cannot take the {self.program} lock at {self.path} ({e.strerror or e});"
                " check that this user may write there"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._busy(program_holder(self.path)) from None
        self._fd = fd
        note = f"{os.getpid()} {hostname()} {self.program}".encode()
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, note, 0)
        except OSError:
            pass

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)


def program_holder(path: Path) -> str:
    """Who holds a ProgramLock, as its file says ("holder unknown" when it cannot say)."""
    try:
        pid, host, program = path.read_text().split(" ", 2)
        return f"{program}, pid {pid} on {host}"
    except (OSError, ValueError):
        return "holder unknown"


def hostname() -> str:
    """socket.gethostname() without importing socket (~3 ms of a one-shot `brain put`): both
    are the kernel's node name."""
    try:
        return os.uname().nodename
    except AttributeError:  # no os.uname (Windows)
        import socket

        return socket.gethostname()
