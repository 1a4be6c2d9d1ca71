"""The BRAIN ledger engine: the public API.

`Store` is the one facade (open once per process); every error is a `BrainError` subclass;
on-disk and wire types are msgspec Structs in `core.models`. Names load on first use, so
`import core` stays cheap for the CLI. Packages by concern (see docs/architecture.md):
`core.log` (the chained log's bytes), `core.write` (the single writer), `core.verify` (Merkle
ranges, proofs, signed notes, keys), `core.index` (the derived SQLite index), `core.search`,
`core.portable` (export, import, backup, consolidate), `core.doctor` (invariants and repair).
"""

from __future__ import annotations

import importlib

from core import lean_imports

lean_imports.install()

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2 ms of `brain view`)

_EXPORTS = {
    "Store": "core.store",
    "resolve_root": "core.layout",
    "StoreState": "core.store_state",
    "BrainError": "core.errors",
    "CorruptLog": "core.errors",
    "Frozen": "core.errors",
    "InvalidMeta": "core.errors",
    "InvalidPath": "core.errors",
    "LeaseHeld": "core.errors",
    "NotFound": "core.errors",
    "PreconditionFailed": "core.errors",
    "ProofError": "core.errors",
    "ReadOnly": "core.errors",
    "StoreExists": "core.errors",
    "StoreNotFound": "core.errors",
    "Memory": "core.models",
    "Row": "core.models",
    "Sidecar": "core.models",
}
__all__ = [
    "BrainError",
    "CorruptLog",
    "Frozen",
    "InvalidMeta",
    "InvalidPath",
    "LeaseHeld",
    "Memory",
    "NotFound",
    "PreconditionFailed",
    "ProofError",
    "ReadOnly",
    "Row",
    "Sidecar",
    "Store",
    "StoreExists",
    "StoreNotFound",
    "StoreState",
    "resolve_root",
]

if TYPE_CHECKING:
    from typing import Any

    from core.errors import (
        BrainError,
        CorruptLog,
        Frozen,
        InvalidMeta,
        InvalidPath,
        LeaseHeld,
        NotFound,
        PreconditionFailed,
        ProofError,
        ReadOnly,
        StoreExists,
        StoreNotFound,
    )
    from core.layout import resolve_root
    from core.models import Memory, Row, Sidecar
    from core.store import Store
    from core.store_state import StoreState


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
