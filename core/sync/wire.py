"""The hub's wire format (`brain-sync/v1`): what a client pushes and pulls, as msgspec Structs.

Everything a member needs to trust a memory travels with it: an `Envelope` is the origin's
`brain-proof/v1` inclusion bundle for the row that wrote this version (leaf = the row's
canonical bytes, audit path, root, the origin's signed checkpoint note, its verifier key), the
body and the sidecar. The hub verifies an envelope before storing it and every puller verifies it
again before its local put: the hub is a relay, never a source of trust (docs/sync.md).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from core import limits
from core.paths import is_store_id

VERSION = "brain-sync/v1"
MAX_BATCH = 500  # envelopes per push or pull request; a batch is one request for rate limits
MAX_AUDIT_PATH = 64  # an RFC 6962 audit path has at most one hash per level of a 2^64 tree

# What a message that is not brain-sync/v1 raises while it is decoded. RecursionError: JSON
# nested deeper than the interpreter's stack (a few thousand `[`), which msgspec does not turn
# into a DecodeError.
MALFORMED = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)

_Hash = Annotated[str, Meta(max_length=44)]  # base64 of a SHA-256 hash


class ProofBundle(msgspec.Struct, forbid_unknown_fields=True):
    """A `brain-proof/v1` inclusion bundle (core.verify.proofbundle.inclusion_bundle) as it
    travels: exactly its fields, each bounded, so an envelope cannot carry anything the
    verifier ignores (a member could otherwise pad one with megabytes that the hub stores and
    relays to every member)."""

    format: Annotated[str, Meta(max_length=32)]
    seq: int
    leaf_index: int
    tree_size: int
    leaf: Annotated[str, Meta(max_length=(limits.MAX_FRAME_PAYLOAD + 2) // 3 * 4)]  # a row
    leaf_hash: _Hash
    proof: Annotated[list[_Hash], Meta(max_length=MAX_AUDIT_PATH)]
    root: _Hash
    checkpoint: Annotated[str, Meta(max_length=limits.MAX_NOTE_BYTES)]  # the signed note
    public_key: Annotated[str, Meta(max_length=1024)]  # a verifier key: name+id+base64 key


class Envelope(msgspec.Struct, forbid_unknown_fields=True):
    """One memory version from its origin store, with the proof that its row is in the origin's
    signed log. `path` and `sync_class` repeat what the row and sidecar say, so the hub can route
    without parsing; both are checked against them."""

    origin: str  # origin store id (32 lowercase hex)
    seq: int  # origin seq of the row that wrote this version (put or move)
    path: str
    sync_class: str
    proof: ProofBundle  # for row `seq`
    body: str  # base64 of the body bytes
    sidecar: str  # the sidecar's canonical JSON text


class PurgeNotice(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The origin purged `path`: its purge row, proved like an envelope's row. Every copy of
    that path from that origin is erased at the hub and at every member that pulled it; and,
    when the memory had moved, every copy pushed under an earlier path (`moves`)."""

    origin: str
    seq: int  # origin seq of the purge row
    path: str
    proof: ProofBundle
    # brain-proof/v1 bundles of the memory's move rows, newest first: the first moved it to
    # `path`, each next one to the previous one's `extra.from`. Versions of each `from` with
    # a seq below that move are erased too. Omitted when empty; the hub strips it for pullers
    # that do not ask for extensions (`pull?…&ext=1`).
    moves: Annotated[list[ProofBundle], Meta(max_length=MAX_BATCH)] = []


class RotationProof(msgspec.Struct, forbid_unknown_fields=True):
    """The origin started a key rotation: its `key.rotated` row (phase "start", extra `old`
    and `new`), proved against a checkpoint signed by one of the `old` keys (the overlap's
    checkpoint, which both keys sign). A hub or member that pins one of the `old` keys adds
    `new` to the pin (PROTOCOL "Import and sync identity"); nothing else extends a pin."""

    origin: str
    seq: int  # origin seq of the key.rotated row
    proof: ProofBundle  # `public_key` is the old key that vouches


class PushRequest(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    version: str
    origin: str  # the pushing device's store id; every envelope and purge must name it
    envelopes: list[Envelope] = []
    purges: list[PurgeNotice] = []
    # Checked first, so envelopes signed by the new key in the same request verify. Omitted
    # when empty: a request without rotations is what every brain-sync/v1 hub reads.
    rotations: list[RotationProof] = []


class ItemResult(msgspec.Struct, forbid_unknown_fields=True):
    seq: int
    # "accepted" (stored now), "duplicate" (already held: same origin and seq), "refused"
    outcome: str
    reason: str = ""


class PushReply(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    results: list[ItemResult]
    cursor: int  # the hub's newest cursor for this org after the push
    rotations: list[ItemResult] = []  # one per PushRequest.rotations, by the row's seq


class PullItem(msgspec.Struct, forbid_unknown_fields=True):
    cursor: int  # hub order within the org; strictly increasing
    kind: str  # "envelope" or "purge"
    envelope: Envelope | None = None
    purge: PurgeNotice | None = None


class PullReply(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    items: list[PullItem]
    cursor: int  # resume after this one
    more: bool  # another page is waiting
    # The key rotations the hub holds among this page's cursors, to a puller that asks
    # (`pull?…&ext=1`; omitted otherwise, so older clients read the same replies). The
    # puller checks them against its pins before it verifies the page's envelopes.
    rotations: list[RotationProof] = []


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
    "MALFORMED",
    "MAX_AUDIT_PATH",
    "MAX_BATCH",
    "VERSION",
    "Envelope",
    "ErrorReply",
    "ItemResult",
    "ProofBundle",
    "PullItem",
    "PullReply",
    "PurgeNotice",
    "PushReply",
    "PushRequest",
    "RotationProof",
    "Whoami",
    "is_store_id",
]
