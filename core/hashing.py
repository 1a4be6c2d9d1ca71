"""The protocol's hash constructions: body commitments and the row chain."""

from __future__ import annotations

import hashlib

GENESIS_CHAIN = "0" * 64
_BODY_DOMAIN = b"brain/body\x00"


def commitment(salt: bytes, body: bytes) -> str:
    """commit = SHA-256("brain/body" || 0x00 || salt || body), lowercase hex."""
    return hashlib.sha256(_BODY_DOMAIN + salt + body).hexdigest()


def chain_hash(canonical_without_chain: bytes, prev_chain_hex: str) -> str:
    """chain = SHA-256(canonical(row with chain = "") || raw prev_chain)."""
    return hashlib.sha256(canonical_without_chain + bytes.fromhex(prev_chain_hex)).hexdigest()
