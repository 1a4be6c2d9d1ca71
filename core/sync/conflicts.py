"""Resolving a sync conflict (docs/sync.md): a pulled version that could not take its path
waits under `conflicts/<origin>/<path>` (body and sidecar) beside the local memory, with a
`sync.conflict` row. A person compares them side by side, then:

- `mine`: the local memory stays; the copy is deleted;
- `theirs`: the incoming version is written to the path as the pull would have written it
  (a put carrying its `imported_from` and `foreign_chain`, so later versions from that origin
  follow it), then the copy is deleted.

Either way the inbox rows of that conflict are settled, so it leaves `brain sync status`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from core import fsio, paths
from core.errors import BrainError, NotFound
from core.layout import sidecar_path
from core.models import Sidecar
from core.sync.wire import is_store_id

if TYPE_CHECKING:
    from core.store import Store
    from core.sync.queue import Queue

CHOICES = ("mine", "theirs")


def resolve(store: Store, q: Queue, path: str, origin: str, take: str, actor: str) -> int:
    """Returns the seq of the put `theirs` wrote (0 for `mine`)."""
    from core.write.intents import Put

    if take not in CHOICES:
        raise BrainError(f"resolve a conflict with one of {', '.join(CHOICES)}, not {take!r}")
    path = paths.validate(path)
    if not is_store_id(origin):
        raise BrainError(f"origin {origin!r} is not a store id (32 lowercase hex)")
    copy = f"conflicts/{origin}/{path}"
    body_file, side_file = store.root / copy, store.root / sidecar_path(copy)
    try:
        body = body_file.read_bytes()
        side = msgspec.json.decode(side_file.read_bytes(), type=Sidecar)
    except FileNotFoundError:
        raise NotFound(f"no conflict copy {copy} (already resolved, or purged)") from None
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as e:
        raise BrainError(f"{copy}: the conflict copy is unreadable ({e})") from None
    seq = 0
    if take == "theirs":
        key = side.extra.get("imported_from")
        chain = side.extra.get("foreign_chain")
        if not isinstance(key, dict) or key.get("store") != origin:
            raise BrainError(f"{copy}: its sidecar does not say it came from {origin}")
        put = Put(
            path,
            body,
            title=side.title,
            category=side.category,
            tags=list(side.tags),
            sync_class=side.sync_class,
            classification=side.classification,
            extra=dict(side.extra),
            row_extra={"foreign_chain": chain, "imported_from": key},
        )
        # Not through Store.batch: row_extra is the importer's (validate.intent), and this
        # is the importer's put, decided by a person instead of by the path's state.
        done = store.session.run(lambda w: w.write_now([put], actor))
        seq = done[0].seq
    fsio.unlink(body_file)
    fsio.unlink(side_file)
    fsio.fsync_dir(body_file.parent)
    q.settle_conflict(origin, path, "imported" if take == "theirs" else "skipped", take)
    return seq


__all__ = ["CHOICES", "resolve"]
