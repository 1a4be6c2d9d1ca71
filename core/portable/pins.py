"""Origin key pinning for import (PROTOCOL "Import and sync identity"): trust on first use.

The first import from an origin store id pins the verifier keys that signed its newest
checkpoint, in `local/origin-keys.json` (per machine; never exported or synced):
`{"origins": {<store id>: {"keys": [<vkey>, ...], "pinned_ns": n}}}`. A later source claiming
that id must have its newest checkpoint signed by a pinned key, checked against the pinned
public key itself (never against whatever `keys/` the source ships). A new key is accepted only
when the source's log holds a `key.rotated` row (phase "start") whose `old` keys include a
pinned one, and a checkpoint covering that row is signed by a key already trusted: the pinned
key then vouches for the row that names its successor, and the successor joins the pin.
Anything else is refused: a store made with a victim's id and another key cannot overwrite
what was imported from the victim.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from core import fsio
from core.errors import BrainError
from core.portable.foreign import Foreign
from core.portable.foreign_source import ImportRefused
from core.verify.signed_note import Verifier, verify_note

PINS = "origin-keys.json"  # under local/


def _path(root: Path) -> Path:
    return Path(root) / "local" / PINS


def load(root: Path) -> dict[str, dict]:
    """{origin store id: {"keys": [vkey...], "pinned_ns": n}}; {} when none is pinned yet. A
    damaged file is an error (silently forgetting pins would re-open trust on first use)."""
    try:
        doc = msgspec.json.decode(_path(root).read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, msgspec.DecodeError) as e:
        raise BrainError(f"{_path(root)}: cannot read the pinned origin keys ({e})") from None
    origins = doc.get("origins") if isinstance(doc, dict) else None
    if not isinstance(origins, dict):
        raise BrainError(f"{_path(root)}: not an origin-keys file; repair or remove it")
    return {
        k: v for k, v in origins.items() if isinstance(v, dict) and isinstance(v.get("keys"), list)
    }


def save(root: Path, pins: dict[str, dict]) -> None:
    fsio.mkdirs(Path(root) / "local")
    data = msgspec.json.encode({"origins": pins}, order="sorted") + b"\n"
    fsio.write_file(_path(root), data, durable=True)


def _signed_by(text: str, keys: list[Verifier], origin: str) -> list[Verifier]:
    """The keys among `keys` whose valid signature the note carries."""
    out = []
    for v in keys:
        try:
            verify_note(text, [v], origin=origin)
        except BrainError:
            continue
        out.append(v)
    return out


def _parse(vkey: object) -> Verifier | None:
    try:
        return Verifier.parse(vkey) if isinstance(vkey, str) else None
    except BrainError:
        return None


def trusted_keys(foreign: Foreign, pinned: list[str] | None, label: str) -> tuple[list[str], str]:
    """(the vkeys to pin after this import, what happened: "first use", "pinned", "rotated").
    Raises ImportRefused when the source is not signed by the pinned key or a rotation it
    vouched for."""
    origin = f"brain/{foreign.store_id}"
    if not foreign.notes:
        return list(pinned or []), "pinned" if pinned else "nothing to pin"
    newest = foreign.notes[-1][1]
    if pinned is None:
        first = _signed_by(newest, foreign.verifiers, origin)
        return [v.vkey() for v in first], "first use"
    trusted = [v for v in map(_parse, pinned) if v is not None]
    rotated = False
    for seq, extra in foreign.rotations:
        new = _parse(extra.get("new")) if extra.get("phase") == "start" else None
        old = extra.get("old")
        if new is None or new in trusted or not isinstance(old, list):
            continue
        if not any(v.vkey() in old for v in trusted):
            continue
        if any(size >= seq and _signed_by(text, trusted, origin) for size, text in foreign.notes):
            trusted.append(new)
            rotated = True
    if not _signed_by(newest, trusted, origin):
        pinned_labels = ", ".join(v.label for v in trusted) or "none"
        raise ImportRefused(
            f"{label}: origin store {foreign.store_id} is pinned to key {pinned_labels} (trusted"
            f" when it was first imported here), but this source's newest checkpoint is signed"
            f" by {', '.join(foreign.signers) or 'another key'} and no key.rotated row"
            " checkpointed by the pinned key introduces that key. Refused: it may be another"
            " store using the same id. If the origin really replaced its key, remove its entry"
            f" from local/{PINS} and import again"
        )
    return [v.vkey() for v in trusted], "rotated" if rotated else "pinned"


__all__ = ["PINS", "load", "save", "trusted_keys"]
