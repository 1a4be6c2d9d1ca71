"""Random bytes for salts, read from the kernel ahead of need.

`os.urandom` is one getrandom(2) call, and CPython releases the GIL around it: with other
threads waiting for the GIL (producers of a busy group), every call is a thread switch and back.
Reading 2 KiB at a time makes that one call per 64 salts. The bytes are the kernel's CSPRNG
output either way; a forked child drops what its parent read ahead, so no two processes ever
use the same bytes.
"""

from __future__ import annotations

import os
import threading

BLOCK = 2048


class ReadAhead:
    def __init__(self) -> None:
        self._buf = b""
        self._mu = threading.Lock()
        os.register_at_fork(after_in_child=self._drop)

    def __call__(self, n: int) -> bytes:
        if n > BLOCK // 4:
            return os.urandom(n)
        with self._mu:
            if len(self._buf) < n:
                self._buf = os.urandom(BLOCK)
            out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _drop(self) -> None:
        self._buf = b""
        self._mu = threading.Lock()  # a lock a parent's thread held at the fork stays held


urandom = ReadAhead()
