"""One push request at the hub (docs/sync.md, "Wire"): decode, bind the origin on first use,
verify every envelope and purge notice, store what verified.

Trust on first use, as import does: the key that signed the first verifying item's checkpoint
is pinned to the origin, and every later item must verify with a pinned key, so a second store
claiming the same id (another key) is refused item by item. Binding is also one store per
device: a push for a store bound to another device is refused whole (403).

Runs in the threadpool: verification and storage block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from core.sync.envelope import (
    EnvelopeRefused,
    purge_erasures,
    verify,
    verify_purge,
    verify_rotation,
)
from core.sync.hub.errors import HubError
from core.sync.hub.storage import Binding, Item
from core.sync.wire import (
    MALFORMED,
    MAX_BATCH,
    VERSION,
    ItemResult,
    PushReply,
    PushRequest,
    is_store_id,
)

if TYPE_CHECKING:
    from core.sync.hub.app import Hub
    from core.sync.hub.auth import Claims

_request = msgspec.json.Decoder(PushRequest)


def decode(body: bytes) -> PushRequest:
    try:
        req = _request.decode(body)
    except MALFORMED as e:
        raise HubError(
            400, "bad-request", f"the body is not a {VERSION} PushRequest: {e}"
        ) from None
    if req.version != VERSION:
        raise HubError(400, "bad-request", f"version {req.version!r} is not {VERSION}")
    if not is_store_id(req.origin):
        raise HubError(400, "bad-request", f"origin {req.origin!r} is not a store id (32 hex)")
    if len(req.envelopes) + len(req.purges) + len(req.rotations) > MAX_BATCH:
        raise HubError(413, "too-large", f"more than {MAX_BATCH} items in one push; split it")
    return req


class _Pin:
    """The origin's binding as this request learns it: None until the first item verifies."""

    def __init__(self, hub: Hub, claims: Claims, origin: str) -> None:
        self.hub, self.claims, self.origin = hub, claims, origin
        self.binding = hub.storage.binding(claims.org, origin)
        if self.binding is None:
            mine = hub.storage.binding_for_device(claims.org, claims.device)
            if mine is not None:
                self.forbid(f"device {claims.device} already pushes store {mine.origin}")
        else:
            self.check(self.binding)

    @property
    def keys(self) -> list[str] | None:
        return list(self.binding.vkeys) if self.binding else None

    def forbid(self, why: str) -> None:
        c = self.claims
        msg = f"{why}; one store per device: push from the device that holds it"
        self.hub.refuse(c.org, c.user, c.device, "forbidden", f"push of {self.origin}: {msg}")
        raise HubError(403, "forbidden", msg)

    def check(self, held: Binding) -> None:
        if held.origin != self.origin:
            self.forbid(f"device {self.claims.device} already pushes store {held.origin}")
        if held.device != self.claims.device or held.user != self.claims.user:
            self.forbid(f"store {self.origin} is bound to device {held.device} of {held.user}")

    def learn(self, vkey: str) -> str | None:
        """After an item verified with no pin: pin its key. A refusal reason when another
        request pinned a different key meanwhile."""
        if self.binding is not None:
            return None if vkey in self.binding.vkeys else "signed by a key not pinned"
        c = self.claims
        held = self.hub.storage.bind(Binding(c.org, self.origin, c.user, c.device, (vkey,)))
        self.check(held)
        self.binding = held
        return None if vkey in held.vkeys else "signed by a key not pinned to this origin"

    def rotate(self, vouched_by: str, new: str) -> str | None:
        """A verified rotation: pin the vouching key on first use, then add the new key. A
        refusal reason when the vouching key is not (or no longer) the pinned one."""
        if (why := self.learn(vouched_by)) is not None:
            return why  # another request pinned a different key meanwhile
        assert self.binding is not None
        if new not in self.binding.vkeys:
            self.binding = self.hub.storage.add_keys(self.claims.org, self.origin, (new,))
        return None


def push(hub: Hub, claims: Claims, body: bytes) -> PushReply:
    req = decode(body)
    pin = _Pin(hub, claims, req.origin)
    results: dict[tuple[str, int], ItemResult] = {}
    order: list[tuple[str, int]] = []
    refused: list[str] = []

    def refuse(kind: str, seq: int, reason: str) -> None:
        results[(kind, seq)] = ItemResult(seq=seq, outcome="refused", reason=reason)
        refused.append(f"{kind} {seq}: {reason}")

    # Rotations first: envelopes signed by the new key in this same request then verify.
    rotations: list[ItemResult] = []
    for rot in req.rotations:
        if rot.origin != req.origin:
            reason = f"names origin {rot.origin}, the push is {req.origin}"
            rotations.append(ItemResult(rot.seq, "refused", reason))
            refused.append(f"rotation {rot.seq}: {reason}")
            continue
        try:
            vouching, new_key = verify_rotation(rot, pin.keys)
            if (why := pin.rotate(vouching, new_key)) is not None:
                raise EnvelopeRefused(why)
        except EnvelopeRefused as e:
            rotations.append(ItemResult(rot.seq, "refused", str(e)))
            refused.append(f"rotation {rot.seq}: {e}")
            continue
        assert pin.binding is not None
        # Kept as an item, so members learn the new key in order, before its first envelope.
        item = Item(
            0,
            "rotation",
            rot.origin,
            rot.seq,
            "",
            "shareable",  # a public key: every member may need it to verify what follows
            pin.binding.user,
            msgspec.json.encode(rot),
        )
        kept = hub.storage.put_items(claims.org, [item])[0]
        rotations.append(ItemResult(rot.seq, "accepted" if kept else "duplicate"))

    staged: list[Item] = []
    for env in req.envelopes:
        order.append(("envelope", env.seq))
        if env.origin != req.origin:
            refuse("envelope", env.seq, f"names origin {env.origin}, the push is {req.origin}")
            continue
        try:
            v = verify(env, pin.keys)
        except EnvelopeRefused as e:
            refuse("envelope", env.seq, str(e))
            continue
        if (why := pin.learn(v.vkey)) is not None:
            refuse("envelope", env.seq, why)
            continue
        assert pin.binding is not None
        payload = msgspec.json.encode(env)
        staged.append(
            Item(
                0,
                "envelope",
                env.origin,
                env.seq,
                env.path,
                env.sync_class,
                pin.binding.user,
                payload,
            )
        )
    if staged:
        stored = hub.storage.put_items(claims.org, staged)
        for it, new in zip(staged, stored, strict=True):
            results[("envelope", it.seq)] = ItemResult(it.seq, "accepted" if new else "duplicate")

    # Purges after envelopes: a purge in the same batch erases the versions just stored.
    for notice in req.purges:
        order.append(("purge", notice.seq))
        if notice.origin != req.origin:
            refuse("purge", notice.seq, f"names origin {notice.origin}, the push is {req.origin}")
            continue
        try:
            verify_purge(notice, pin.keys)
            erasures = purge_erasures(notice, pin.keys)
        except EnvelopeRefused as e:
            refuse("purge", notice.seq, str(e))
            continue
        if (why := pin.learn(notice.proof.public_key)) is not None:
            refuse("purge", notice.seq, why)
            continue
        assert pin.binding is not None
        item = Item(
            0,
            "purge",
            notice.origin,
            notice.seq,
            notice.path,
            "",
            pin.binding.user,
            msgspec.json.encode(notice),
        )
        new = hub.storage.purge(claims.org, item, tuple(erasures[1:]))
        results[("purge", notice.seq)] = ItemResult(notice.seq, "accepted" if new else "duplicate")

    if refused:
        # One event per request (one write, however many items a batch had refused).
        shown = "; ".join(refused[:20]) + (
            f"; and {len(refused) - 20} more" if len(refused) > 20 else ""
        )
        detail = f"{req.origin}: {len(refused)} refused: {shown}"
        hub.refuse(claims.org, claims.user, claims.device, "push.refused", detail)
    return PushReply(
        results=[results[k] for k in order],
        cursor=hub.storage.head(claims.org),
        rotations=rotations,
    )


__all__ = ["decode", "push"]
