"""SHA-256 that does not load OpenSSL for the small inputs of a one-shot command; BLAKE2b for
the long ones.

`hashlib.sha256` is OpenSSL's: importing `hashlib` loads `_hashlib` and libcrypto, ~3 ms of a
cold `brain put`, the largest single import on its path. CPython's own SHA-256 (`_sha256`,
`_sha2` from 3.12) loads for nothing and is as quick on the 60-300 bytes of tree nodes, chain
links and rows, but ~5x slower on large inputs. So: OpenSSL once anything in the process has
loaded it (the long-lived writer soon does) or for inputs of `LARGE` bytes and more; the builtin
otherwise. The digests are the same either way.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a `brain view`)
if TYPE_CHECKING:
    from hashlib import _Hash
    from typing import Any, Protocol

    class Hasher(Protocol):
        """What a streamed digest offers: SHA-256's and BLAKE2b's objects alike."""

        def update(self, data: bytes, /) -> None: ...
        def digest(self) -> bytes: ...
        def hexdigest(self) -> str: ...
        def copy(self) -> Hasher: ...


def _builtin_sha256() -> Any | None:
    try:
        from _sha256 import sha256  # CPython 3.11

        return sha256
    except ImportError:  # pragma: no cover - the module's name from 3.12 on
        pass
    try:
        from _sha2 import sha256  # type: ignore[import-not-found, unused-ignore]

        return sha256
    except ImportError:  # pragma: no cover - a Python built without it
        return None


_builtin = _builtin_sha256()
# Where loading OpenSSL (~3 ms) costs less than hashing with the builtin (~3 ms a MiB slower).
LARGE = 256 * 1024


def sha256(data: bytes = b"", *, size: int = 0) -> _Hash:
    """A SHA-256 object fed `data`; `size` is how many bytes it will take in all, when more
    follows through update() (a streamed file range)."""
    if "hashlib" not in sys.modules and _builtin is not None and max(len(data), size) < LARGE:
        return _builtin(data)
    import hashlib

    return hashlib.sha256(data)


def blake2b_256() -> Hasher:
    """A BLAKE2b object with a 32-byte digest, CPython's own (`_blake2`, no OpenSSL), for a
    digest nobody else computes (open's record of the log's tail it verified, up to a MiB):
    about twice the builtin SHA-256's speed, where OpenSSL's would cost its ~3 ms import."""
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b
    return blake2b(digest_size=32)
