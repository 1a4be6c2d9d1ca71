"""The JSON shapes of a sidecar and a manifest, checked with the stdlib alone.

A one-shot `brain view` reads one sidecar (is the memory there, is it purged) and the store's
manifest; decoding them as msgspec Structs would import msgspec, ~15 ms of that process. Here
they are parsed with `json` and checked against the Structs' field tables (core.models; a test
keeps the tables equal). The check may only say "plainly well-formed" or "not sure": on "not
sure" the caller decodes with msgspec, which has the last word and the precise message, so
this module never accepts a document the Structs would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Callable

# Field name -> the annotation it has on the Struct in core.models (compared by a test).
SIDECAR_FIELDS = {
    "kind": "str",
    "state": "str",
    "seq": "int",
    "title": "str",
    "category": "str",
    "tags": "list[str]",
    "sync_class": "str",
    "classification": "str",
    "created_ns": "int",
    "updated_ns": "int",
    "actor": "str",
    "commit": "str",
    "salt": "str",
    "pii_status": "str",
    "pii_findings": "list[dict[str, Any]]",
    "extra": "dict[str, Any]",
}
SIDECAR_REQUIRED = ("kind",)
MANIFEST_FIELDS = {
    "store_id": "str",
    "protocol": "int",
    "created_ns": "int",
    "settings": "Settings",
    "exports": "list[str]",
}
MANIFEST_REQUIRED = ("store_id", "protocol", "created_ns")
SETTINGS_FIELDS = {
    "checkpoint_every_rows": "int",
    "checkpoint_every_ms": "int",
    "tier_weights": "dict[str, int]",
    "active_project": "str",
    "embed_model": "str",
}


def _settings(v: object) -> bool:
    return type(v) is dict and _fields(v, SETTINGS_FIELDS, (), closed=False)


# bool is not an int here, as in msgspec; JSON object keys are always strings.
_TYPES: dict[str, Callable[[object], bool]] = {
    "str": lambda v: type(v) is str,
    "int": lambda v: type(v) is int,
    "list[str]": lambda v: type(v) is list and all(type(x) is str for x in v),
    "list[dict[str, Any]]": lambda v: type(v) is list and all(type(x) is dict for x in v),
    "dict[str, Any]": lambda v: type(v) is dict,
    "dict[str, int]": lambda v: type(v) is dict and all(type(x) is int for x in v.values()),
    "Settings": _settings,
}


def _fields(obj: dict, fields: dict[str, str], required: tuple[str, ...], *, closed: bool) -> bool:
    if any(name not in obj for name in required):
        return False
    for name, value in obj.items():
        want = fields.get(name)
        if want is None:
            if closed:
                return False  # forbid_unknown_fields
            continue
        if not _TYPES[want](value):
            return False
    return True


def _not_sure(_: str) -> object:
    raise ValueError  # NaN and Infinity: JSON has no such values, msgspec refuses them


def _finite(text: str) -> float:
    value = float(text)
    if value - value != 0:  # inf (a huge exponent), which msgspec refuses as out of range
        raise ValueError
    return value


def _parse(raw: bytes) -> dict | None:
    """The document as a dict, or None when it is not plainly a JSON object: not UTF-8,
    holding a \\u escape (a lone surrogate is one msgspec refuses and json accepts; the engine
    writes none in a sidecar it makes), or anything json refuses."""
    if b"\\u" in raw:
        return None
    try:
        obj = json.loads(raw.decode("utf-8"), parse_constant=_not_sure, parse_float=_finite)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        return None
    return obj if type(obj) is dict else None


def sidecar_state(raw: bytes) -> str | None:
    """The sidecar's state ("active" when absent, as the Struct's default) if `raw` is plainly
    a well-formed sidecar, else None (decode it with msgspec: core.write.file_view)."""
    obj = _parse(raw)
    if obj is None or not _fields(obj, SIDECAR_FIELDS, SIDECAR_REQUIRED, closed=True):
        return None
    return obj.get("state", "active")


def plain_manifest(raw: bytes) -> bool:
    """True if `raw` is plainly a well-formed manifest (else decode it with msgspec)."""
    obj = _parse(raw)
    return obj is not None and _fields(obj, MANIFEST_FIELDS, MANIFEST_REQUIRED, closed=False)
