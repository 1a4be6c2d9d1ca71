"""Canonical JSON: sorted keys, no whitespace, integers only, NFC strings.

msgspec produces the bytes; this module adds the validation msgspec does not do.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import msgspec

from core.errors import CanonicalError

U64_MAX = 2**64 - 1
_encoder = msgspec.json.Encoder(order="sorted")


def validate(value: Any, where: str = "$") -> None:
    """Raise CanonicalError if value has a float, an out-of-range int or a non-NFC string."""
    if _plainly_valid(value):
        return  # the common case, without building a path per value (rows, proofs, envelopes)
    _validate(value, where)


def _plainly_valid(v: Any) -> bool:
    """True only for plain JSON values that are certainly canonical; anything else (a float,
    a Struct, a subclass, a bad value) goes to `_validate`, which decides and names where."""
    t = type(v)
    if t is str:
        return unicodedata.is_normalized("NFC", v)
    if t is int:
        return -U64_MAX <= v <= U64_MAX
    if t is bool or v is None:
        return True
    if t is dict:
        return all(
            type(k) is str and unicodedata.is_normalized("NFC", k) and _plainly_valid(x)
            for k, x in v.items()
        )
    if t is list or t is tuple:
        return all(_plainly_valid(x) for x in v)
    return False


def _validate(value: Any, where: str) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if not -U64_MAX <= value <= U64_MAX:
            raise CanonicalError(f"{where}: integer {value} is outside the u64 range")
        return
    if isinstance(value, float):
        raise CanonicalError(f"{where}: floats are not allowed in canonical JSON (use integers)")
    if isinstance(value, str):
        if not unicodedata.is_normalized("NFC", value):
            raise CanonicalError(f"{where}: string is not NFC-normalised")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise CanonicalError(f"{where}: object keys must be strings")
            _validate(k, where)
            _validate(v, f"{where}.{k}")
        return
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _validate(v, f"{where}[{i}]")
        return
    if isinstance(value, msgspec.Struct):
        _validate(msgspec.to_builtins(value), where)
        return
    raise CanonicalError(f"{where}: {type(value).__name__} has no canonical JSON form")


def encode(value: Any, *, check: bool = True) -> bytes:
    """Canonical bytes of value; check=False skips validation for values built internally."""
    if check:
        validate(value)
    return _encoder.encode(value)


def decode(data: bytes) -> Any:
    return msgspec.json.decode(data)


def is_canonical(data: bytes) -> bool:
    try:
        return encode(decode(data)) == data
    except (msgspec.DecodeError, CanonicalError):
        return False
