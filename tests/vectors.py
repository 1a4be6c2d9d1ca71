"""Where the shared test vectors live, and one clear failure when they are missing.

The spec checkout (`PROTOCOL.md`, `DESIGN.md`, `vectors/`) sits beside the repository as
`../shared`, not inside it. A test that needs a vector fails (never skips) when it is absent:
a suite that silently skips its byte-for-byte checks would pass on any encoding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
VECTORS = SHARED / "vectors"


def missing_message(path: Path) -> str:
    return (
        f"test vector {path} is missing: the suite needs the shared spec folder beside the "
        f"repository ({SHARED}, with vectors/brain and vectors/rfc6962); see README.md, 'Tests'"
    )


def vector_file(rel: str) -> Path:
    """The path of `../shared/vectors/REL`; fails the calling test when it is not a file."""
    path = VECTORS / rel
    if not path.is_file():
        pytest.fail(missing_message(path), pytrace=False)
    return path


def vector_dir(rel: str) -> Path:
    """The path of the folder `../shared/vectors/REL`; fails the calling test when absent."""
    path = VECTORS / rel
    if not path.is_dir():
        pytest.fail(missing_message(path), pytrace=False)
    return path
