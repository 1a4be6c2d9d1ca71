"""libc's syncfs through _ctypes (ctypes itself is ~1.5 ms of every one-shot put), ctypes where
_ctypes cannot serve; fallocate through ctypes, reserved only by a tenure of two records on."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from core import fsio
from core.write import journal

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux libc")


@pytest.fixture(autouse=True)
def _fresh_cache():
    fsio._libc_syncfs.cache_clear()
    yield
    fsio._libc_syncfs.cache_clear()


def _check_syncfs(tmp_path) -> None:
    """syncfs flushes (returns 0); a bad descriptor reads as a failure (-1), not an error."""
    syncfs = fsio._libc_syncfs()
    assert syncfs is not None
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        assert syncfs(fd) == 0
    finally:
        os.close(fd)
    assert syncfs(-1) == -1


def test_syncfs_through_ctypes_core(tmp_path) -> None:
    _check_syncfs(tmp_path)
    assert type(fsio._libc_syncfs()).__module__ == "core.fsio"


def test_ctypes_serves_where_ctypes_core_cannot(tmp_path, monkeypatch) -> None:
    import _ctypes
    import ctypes

    monkeypatch.delattr(_ctypes, "FUNCFLAG_CDECL")  # as if _ctypes were another runtime's
    _check_syncfs(tmp_path)
    assert isinstance(fsio._libc_syncfs(), ctypes._CFuncPtr)


def test_fallocate_reserves_blocks_and_keeps_the_size(tmp_path) -> None:
    fd = os.open(tmp_path / "j", os.O_RDWR | os.O_CREAT)
    try:
        fsio.RealIO().preallocate(fd, 1 << 20)
        st = os.fstat(fd)
        assert st.st_size == 0 and st.st_blocks * 512 >= 1 << 20
    finally:
        os.close(fd)


def test_only_a_tenure_of_two_records_reserves_journal_blocks(tmp_path) -> None:
    """A one-shot put's single record changes the file's size anyway: nothing is reserved (no
    fallocate, no ctypes). From the second record on, blocks and the filler are."""
    j = journal.Journal(tmp_path / "journal.wal")
    try:
        j.commit(journal.Record(frames=[b"x" * 100]))
        assert os.fstat(j._fd).st_blocks * 512 < journal.PREALLOCATE
        j.commit(journal.Record(frames=[b"y" * 100]))
        st = os.fstat(j._fd)
        assert st.st_blocks * 512 >= journal.PREALLOCATE and st.st_size > journal.RESERVE
        j.cut(0)  # the flush: blocks given back, reserved again by the next tenure's second
        assert os.fstat(j._fd).st_blocks == 0
    finally:
        j.close()


def test_a_one_shot_put_imports_no_ctypes(tmp_path) -> None:
    code = (
        "import sys\n"
        "from core.store import Store\n"
        f"s = Store.init({str(tmp_path / 's')!r}, allow_temp=True)\n"
        "s.close()\n"
        "sys.modules.pop('ctypes', None)\n"  # init signs with cryptography, which loads it
        f"s = Store.open({str(tmp_path / 's')!r}, allow_temp=True)\n"
        "s.put('memories/facts/a.md', b'body', actor='agent:t@h')\n"
        "s.close()\n"
        "print('ctypes' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]


def test_a_c_library_not_named_libc_so_6_is_found(tmp_path, monkeypatch) -> None:
    """musl and others name theirs otherwise: ctypes.util.find_library finds it (here, as if
    libc.so.6 were not a name the loader knew)."""
    import _ctypes
    import ctypes
    from ctypes import util

    real_cdll, real_dlopen = ctypes.CDLL, _ctypes.dlopen

    def no_libc_so_6(name, *a, **kw):
        if name == "libc.so.6":
            raise OSError("libc.so.6: cannot open shared object file")
        return real_cdll(name, *a, **kw)

    def dlopen(name, *a):
        if name == "libc.so.6":
            raise OSError("libc.so.6: cannot open shared object file")
        return real_dlopen(name, *a)

    monkeypatch.setattr(ctypes, "CDLL", no_libc_so_6)
    monkeypatch.setattr(_ctypes, "dlopen", dlopen)
    with open("/proc/self/maps") as maps:  # where this process's C library really is
        path = next(line.split()[-1] for line in maps if "/libc.so" in line)
    asked = []
    monkeypatch.setattr(util, "find_library", lambda n: asked.append(n) or path)
    _check_syncfs(tmp_path)
    assert asked == ["c"]
