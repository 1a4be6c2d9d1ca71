"""The protocol's hash constructions: body and sidecar commitments and the row chain."""

from __future__ import annotations

from typing import Any, Protocol

from core.digest import sha256
from core.log import canonical

GENESIS_CHAIN = "0" * 64
_BODY_DOMAIN = b"brain/body\x00"
_META_DOMAIN = b"brain/meta\x00"
# The sidecar's governing fields, committed by `put` and `move` rows as `extra.meta`: an edited
# `sync_class` would otherwise leak a private memory through export or sync (PROTOCOL "Rows").
META_FIELDS = ("category", "classification", "kind", "sync_class", "tags", "title")


def commitment(salt: bytes, body: bytes) -> str:
    """commit = SHA-256("brain/body" || 0x00 || salt || body), lowercase hex."""
    return sha256(_BODY_DOMAIN + salt + body).hexdigest()


class _HasMeta(Protocol):
    category: str
    classification: str
    kind: str
    sync_class: str
    tags: list[str]
    title: str


def meta_fields(side: _HasMeta) -> dict[str, Any]:
    """The governing fields of a sidecar (or anything shaped like one), as committed."""
    return {name: getattr(side, name) for name in META_FIELDS}


def meta_commitment(salt: bytes, fields: dict[str, Any]) -> str:
    """meta = SHA-256("brain/meta" || 0x00 || salt || canonical(fields)), lowercase hex.

    `fields` must hold exactly META_FIELDS; the salt is the body commitment's."""
    if sorted(fields) != list(META_FIELDS):
        raise ValueError(f"meta fields must be exactly {', '.join(META_FIELDS)}")
    return sha256(_META_DOMAIN + salt + canonical.encode(fields)).hexdigest()


def sidecar_meta(side: _HasMeta, salt_hex: str) -> str:
    """The meta commitment of a sidecar under its own salt ("" when it has none)."""
    if not salt_hex:
        return ""
    return meta_commitment(bytes.fromhex(salt_hex), meta_fields(side))


def chain_hash(canonical_without_chain: bytes, prev_chain_hex: str) -> str:
    """chain = SHA-256(canonical(row with chain = "") || raw prev_chain)."""
    return sha256(canonical_without_chain + bytes.fromhex(prev_chain_hex)).hexdigest()
