"""The hub's wire format (`brain-sync/v1`): what a client pushes and pulls, as msgspec Structs.

Everything a member needs to trust a memory travels with it: an `Envelope` is the origin's
`brain-proof/v1` inclusion bundle for the row that wrote this version (leaf = the row's
canonical bytes, audit path, root, the origin's signed checkpoint note, its verifier key), the
body and the sidecar. The hub verifies an envelope before storing it and every puller verifies it
again before its local put: the hub is a relay, never a source of trust (docs/sync.md).
"""

from __future__ import annotations

from typing import Any

import msgspec

VERSION = "brain-sync/v1"
MAX_BATCH = 500  # envelopes per push or pull request; a batch is one request for rate limits


class Envelope(msgspec.Struct, forbid_unknown_fields=True):
    """One memory version from its origin store, with the proof that its row is in the origin's
    signed log. `path` and `sync_class` repeat what the row and sidecar say, so the hub can route
    without parsing; both are checked against them."""

    origin: str  # origin store id (32 lowercase hex)
    seq: int  # origin seq of the row that wrote this version (put or move)
    path: str
    sync_class: str
    proof: dict[str, Any]  # brain-proof/v1 bundle for row `seq` (core.verify.proofbundle)
    body: str  # base64 of the body bytes
    sidecar: str  # the sidecar's canonical JSON text


class PurgeNotice(msgspec.Struct, forbid_unknown_fields=True):
    """The origin purged `path`: its purge row, proved like an envelope's row. Every copy of
    that path from that origin is erased at the hub and at every member that pulled it."""

    origin: str
    seq: int  # origin seq of the purge row
    path: str
    proof: dict[str, Any]


class PushRequest(msgspec.Struct, forbid_unknown_fields=True):
    version: str
    origin: str  # the pushing device's store id; every envelope and purge must name it
    envelopes: list[Envelope] = []
    purges: list[PurgeNotice] = []


class ItemResult(msgspec.Struct, forbid_unknown_fields=True):
    seq: int
    # "accepted" (stored now), "duplicate" (already held: same origin and seq), "refused"
    outcome: str
    reason: str = ""


class PushReply(msgspec.Struct, forbid_unknown_fields=True):
    results: list[ItemResult]
    cursor: int  # the hub's newest cursor for this org after the push


class PullItem(msgspec.Struct, forbid_unknown_fields=True):
    cursor: int  # hub order within the org; strictly increasing
    kind: str  # "envelope" or "purge"
    envelope: Envelope | None = None
    purge: PurgeNotice | None = None


class PullReply(msgspec.Struct, forbid_unknown_fields=True):
    items: list[PullItem]
    cursor: int  # resume after this one
    more: bool  # another page is waiting


class Whoami(msgspec.Struct, forbid_unknown_fields=True):
    hub: str
    org: str
    user: str
    role: str
    device: str
    store: str  # the store id this device pushes as; "" until its first push binds one
    org_only_roles: list[str]
    max_request_bytes: int = 0  # the hub refuses (413) a request body larger than this


class ErrorReply(msgspec.Struct, forbid_unknown_fields=True):
    error: str  # a sentence a person can act on
    code: str  # "unauthenticated", "revoked", "forbidden", "rate-limited", "bad-request", …


__all__ = [
    "MAX_BATCH",
    "VERSION",
    "Envelope",
    "ErrorReply",
    "ItemResult",
    "PullItem",
    "PullReply",
    "PurgeNotice",
    "PushReply",
    "PushRequest",
    "Whoami",
]
