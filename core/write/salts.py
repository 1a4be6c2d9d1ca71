"""Salts for body commitments, drawn from the CSPRNG in blocks.

PROTOCOL "Rows": every write gets a fresh 32-byte salt from a CSPRNG. Drawing them one
`getrandom` call at a time cost ~3% of a put (and 6% of a batch's commit thread); one call
per BLOCK salts gives the same bytes' quality. A block is never shared: a forked child (its
own pid) draws its own, so no two processes hand out the same salt. An injected RNG (tests,
snapshots) is called exactly as before, one draw per salt, so its sequence is unchanged.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

SALT_BYTES = 32
BLOCK = 64  # salts per draw
_SYSTEM = (secrets.token_bytes, os.urandom)


class Salts:
    def __init__(self, rng: Callable[[int], bytes]) -> None:
        self.rng = rng
        self._pooled = rng in _SYSTEM
        self._buf = b""
        self._off = 0
        self._pid = 0

    def __call__(self, n: int) -> bytes:
        if not self._pooled or n != SALT_BYTES:
            return self.rng(n)
        off = self._off
        if off + SALT_BYTES > len(self._buf) or self._pid != os.getpid():
            self._buf, off, self._pid = self.rng(SALT_BYTES * BLOCK), 0, os.getpid()
        self._off = off + SALT_BYTES
        return self._buf[off : off + SALT_BYTES]
