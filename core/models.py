"""On-disk and wire types (msgspec Structs). Field sets are closed unless named `extra`."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

KINDS = ("decisions", "facts", "people", "projects", "preferences", "drift", "refinements")
CATEGORIES = (
    "bug-fix",
    "debugging",
    "architecture",
    "code-solution",
    "learning",
    "project-context",
)
CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
SYNC_CLASSES = ("private", "personal", "shareable", "team-public", "org-only")
STATES = ("active", "tombstoned", "purged")
PURGE_REASONS = ("legal-erasure", "user-request", "pii-leak", "retention", "other")
OPS = (
    "put",
    "move",
    "delete",
    "put_if.rejected",
    "session.start",
    "session.end",
    "checkpoint",
    "key.rotated",
    "repair",
    "pii.held",
    "pii.resolved",
    "proposal.filed",
    "proposal.decided",
    "pattern.outcome",
    "tier.changed",
    "sync.pushed",
    "sync.pulled",
    "sync.conflict",
    "purge.propagated",
)
PROTOCOL_VERSION = 1
TOMBSTONE_STUB = b"<!-- tombstoned -->\n"


class Row(msgspec.Struct, forbid_unknown_fields=True):
    """One audit row. All nine fields are always present."""

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
