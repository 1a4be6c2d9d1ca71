"""The one capture path: every capture surface (the watched-folder loop, `brain capture`, and
later the agents' hooks) builds `Item`s and calls `capture_many`.

What a capture is: a text body, valid UTF-8, stored byte-exact (frontmatter in a captured file
is content, never metadata: a note saying `sync_class: team-public` must not widen itself),
at a path naming.py derives, with the source's defaults (sync class `private` unless the
watched folder says otherwise) and the tag `source:capture`. The store's idempotent put makes
capturing unchanged content a no-op (no row).

The write-time PII hold (issue 14, item 3) plugs in here, between building the intents and
committing them: items whose sync class is not `private` are scanned and a held one gets its
`pii.held` row; nothing else in capture changes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import BrainError, CorruptLog, Frozen, KeyError_, LeaseHeld, ReadOnly

if TYPE_CHECKING:
    from core.store import Store

TAG = "source:capture"
BATCH = 64  # intents per store request: one journal record, one device sync
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
TITLE_CHARS = 120

# Failures that say nothing about the item: the store is busy or refusing writes. The caller
# keeps the item and retries later (a capture is delayed, never dropped).
RETRYABLE = (LeaseHeld, Frozen, ReadOnly, CorruptLog, KeyError_)


@dataclass
class Item:
    path: str  # the memory's path (naming.py)
    body: bytes
    title: str = ""
    sync_class: str = "private"
    classification: str = ""  # "" = the store's default
    # The surface ("watch", "cli", "hook:<name>"), for the gate; not stored (the row's actor
    # names who captured, and the same file captured by two surfaces stays one memory).
    origin: str = ""


@dataclass
class Captured:
    item: Item
    seq: int = 0
    commit: str = ""
    changed: bool = False
    error: str = ""  # set when this item alone was refused (bad body, a rule it breaks)


def title_of(text: str) -> str:
    """A one-line title from a name or a first line: NFC (macOS names are NFD; rows and
    sidecars take NFC only), control characters and undecodable bytes dropped."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = unicodedata.normalize("NFC", text)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _CONTROL.sub(" ", line).strip().lstrip("#").strip()
    return line[:TITLE_CHARS] or "capture"


def _intent(item: Item):
    from core.store import Store

    fields: dict = {
        "title": item.title or "capture",
        "tags": [TAG],
        "sync_class": item.sync_class or "private",
    }
    if item.classification:
        fields["classification"] = item.classification
    return Store.put_intent(item.path, item.body, False, None, **fields)


def capture_many(store: Store, items: list[Item], *, actor: str) -> list[Captured]:
    """Commit captures in groups of BATCH; a group with a bad item falls back to one request
    per item so only that item fails. Raises RETRYABLE errors (nothing of the failing group
    was written; groups before it were)."""
    out: list[Captured] = []
    for i in range(0, len(items), BATCH):
        out.extend(_group(store, items[i : i + BATCH], actor))
    return out


def capture(store: Store, item: Item, *, actor: str) -> Captured:
    res = capture_many(store, [item], actor=actor)[0]
    if res.error:
        raise BrainError(res.error)
    return res


def _group(store: Store, items: list[Item], actor: str) -> list[Captured]:
    done: list[Captured] = []
    intents = []
    for it in items:
        try:
            it.body.decode("utf-8")
            intents.append(_intent(it))
            done.append(Captured(it))
        except UnicodeDecodeError:
            done.append(Captured(it, error=f"{it.path}: the body is not UTF-8 text"))
        except BrainError as e:
            done.append(Captured(it, error=str(e)))
    good = [c for c in done if not c.error]
    if not good:
        return done
    try:
        results = store.batch(intents, actor)
    except RETRYABLE:
        raise
    except BrainError as e:
        if len(good) == 1:
            good[0].error = str(e)
            return done
        # One bad item spoils its group (a request is all or nothing): retry them one by one.
        for c, intent in zip(good, intents, strict=True):
            try:
                r = store.batch([intent], actor)[0]
            except RETRYABLE:
                raise
            except BrainError as e1:
                c.error = str(e1)
                continue
            c.seq, c.commit, c.changed = r.seq, r.commit, r.changed
        return done
    for c, r in zip(good, results, strict=True):
        c.seq, c.commit, c.changed = r.seq, r.commit, r.changed
    return done
