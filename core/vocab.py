"""The protocol's closed vocabularies (kinds, states, ops, ...) and constants, as plain tuples.

Apart from core.models so that code needing only these names (path and argument checks, a
one-shot `brain view`) does not import msgspec: its import costs a one-shot CLI call ~15 ms.
core.models re-exports every name.
"""

from __future__ import annotations

KINDS = ("decisions", "facts", "people", "projects", "preferences", "drift", "refinements")
# Proposals live here; their `status:` tag changes only beside a `proposal.decided` row.
PROPOSALS = "memories/refinements/proposals/"
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
# The sidecar `extra` keys an import or a pull records (where the memory came from): the
# engine's, not a writer's text.
PROVENANCE = frozenset({"imported_from", "foreign_chain"})
TOMBSTONE_STUB = b"<!-- tombstoned -->\n"
