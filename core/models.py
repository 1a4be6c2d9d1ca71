"""On-disk and wire types (msgspec Structs). Field sets are closed unless named `extra`."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

# The vocabularies live in core.vocab (no msgspec there) and are part of the models too.
from core.vocab import (  # noqa: F401
    CATEGORIES,
    CLASSIFICATIONS,
    KINDS,
    OPS,
    PROTOCOL_VERSION,
    PURGE_REASONS,
    STATES,
    SYNC_CLASSES,
    TOMBSTONE_STUB,
)


class Row(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """One audit row. All nine fields are always present.

    gc=False: a row holds only JSON values (no cycle can run through it), and the index holds
    a busy writer's rows back for seconds (core.index.applier): tracked, they brought on full
    collections of 20-40 ms in the middle of a burst of puts."""

    seq: int
    ts_ns: int
    op: str
    path: str
    actor: str
    commit: str
    prev_chain: str
    chain: str
    extra: dict[str, Any] = {}


class Sidecar(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=False):
    """`<slug>.meta.json`: everything about a memory except its body."""

    kind: str
    state: str = "active"
    seq: int = 0
    title: str = ""
    category: str = ""
    tags: list[str] = []
    sync_class: str = "private"
    classification: str = "internal"
    created_ns: int = 0
    updated_ns: int = 0
    actor: str = ""
    commit: str = ""
    salt: str = ""
    pii_status: str = "clean"
    pii_findings: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}


class Settings(msgspec.Struct, omit_defaults=False):
    checkpoint_every_rows: int = 1000
    checkpoint_every_ms: int = 10_000
    tier_weights: dict[str, int] = {}
    active_project: str = ""
    embed_model: str = ""  # semantic search model: a local folder; "" = packaged MiniLM


class Manifest(msgspec.Struct, forbid_unknown_fields=False):
    store_id: str
    protocol: int
    created_ns: int
    settings: Settings = msgspec.field(default_factory=Settings)
    exports: list[str] = []


class LockHolder(msgspec.Struct):
    """What `.lock` says about its holder; the flock itself is the lease."""

    pid: int
    host: str
    program: str
    since_ns: int


class MemoryMeta(msgspec.Struct):
    """What view/list return: a sidecar plus its path."""

    path: str
    sidecar: Sidecar


class Memory(msgspec.Struct):
    path: str
    body: bytes
    sidecar: Sidecar

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


DeleteMode = Literal["tombstone", "purge"]
