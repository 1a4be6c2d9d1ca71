"""SHA-256 that does not load OpenSSL for the small inputs of a one-shot command.

`hashlib.sha256` is OpenSSL's: importing `hashlib` loads `_hashlib` and libcrypto, ~3 ms of a
cold `brain put`, the largest single import on its path. CPython's own SHA-256 (`_sha256`,
`_sha2` from 3.12) loads for nothing and is as quick on the 60-300 bytes of tree nodes, chain
links and rows, but ~5x slower on large inputs. So: OpenSSL once anything in the process has
loaded it (the long-lived writer soon does) or for inputs of `LARGE` bytes and more; the builtin
otherwise. The digests are the same either way.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import _Hash

try:
    from _sha256 import sha256 as _builtin  # CPython 3.11
except ImportError:  # pragma: no cover - the module's name from 3.12 on, or a Python without it
    try:
        from _sha2 import sha256 as _builtin  # type: ignore[import-not-found,no-redef]
    except ImportError:
        _builtin = None  # type: ignore[assignment]

# Where loading OpenSSL (~3 ms) costs less than hashing with the builtin (~3 ms a MiB slower).
LARGE = 256 * 1024


def sha256(data: bytes = b"", *, size: int = 0) -> _Hash:
    """A SHA-256 object fed `data`; `size` is how many bytes it will take in all, when more
    follows through update() (a streamed file range)."""
    lib = sys.modules.get("hashlib")
    if lib is None and _builtin is not None and max(len(data), size) < LARGE:
        return _builtin(data)
    if lib is None:
        import hashlib as lib
    return lib.sha256(data)
