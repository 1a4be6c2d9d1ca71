"""Key rotation through sync (PROTOCOL "Import and sync identity"; docs/sync.md, "Key
rotation"): after `brain rotate-key` the origin's new versions are accepted at the hub and at
members because the old, pinned key vouched for the new one; a rotation the pinned key did not
vouch for is refused at both."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from core.portable import pins
from core.sync.hub import admin
from core.sync.hub.storage import Item
from core.sync.wire import VERSION, ProofBundle, PushRequest, RotationProof
from tests.sync.fleet import ORG, Fleet, hub_items, put


@pytest.fixture
def fleet(hub, tmp_path: Path):
    f = Fleet(hub, tmp_path, names=("ana1", "bob1"))
    yield f
    f.close()


def _rotate(store) -> tuple[int, str, str]:
    """Start and finish a rotation; (the key.rotated start row's seq, old key, new key)."""
    start = store.rotate_key()
    store.rotate_key(finish=True)
    seq = next(
        r.seq
        for r in store.tail(1, 10_000)
        if r.op == "key.rotated" and r.extra.get("phase") == "start"
    )
    return seq, start["old"][0], start["new"]


def test_a_rotated_key_reaches_the_hub_and_the_members(fleet: Fleet, hub) -> None:
    a, b = fleet["ana1"], fleet["bob1"]
    origin = a.manifest.store_id
    put(a, "memories/facts/before.md", "before\n", "shareable")
    fleet.sync("ana1", "bob1")
    assert pins.load(b.root)[origin]["keys"] != []
    _seq, old, new = _rotate(a)
    put(a, "memories/facts/after.md", "signed by the new key only\n", "shareable")
    rep = a.sync.run()
    assert rep.ok and rep.pushed == 1 and not rep.refused, rep
    storage = admin.open_storage(hub.folder, hub.db_url)
    try:
        binding = storage.binding(ORG, origin)
        assert binding is not None and set(binding.vkeys) == {old, new}
    finally:
        storage.close()
    rep = b.sync.run()
    assert rep.ok and rep.imported == 1 and not rep.refused_rotations, rep
    assert "memories/facts/after.md" in fleet.paths("bob1")
    assert set(pins.load(b.root)[origin]["keys"]) == {old, new}
    # A pass that pulls the same rotation again changes nothing.
    assert b.sync.run().ok
    fleet.check_all()


def test_a_member_that_first_hears_of_the_origin_after_its_rotation(fleet: Fleet) -> None:
    a, b = fleet["ana1"], fleet["bob1"]
    put(a, "memories/facts/before.md", "before\n", "shareable")
    _rotate(a)
    put(a, "memories/facts/after.md", "after\n", "shareable")
    fleet.sync("ana1")
    rep = b.sync.run()
    assert rep.ok and rep.imported == 2, rep
    assert {"memories/facts/before.md", "memories/facts/after.md"} <= fleet.paths("bob1")


def _forged(a) -> RotationProof:
    """The origin's own rotation row, proved against the newest checkpoint: signed by the new
    key alone, so nothing the old key signed vouches for the new one."""
    seq = next(
        r.seq
        for r in a.tail(1, 10_000)
        if r.op == "key.rotated" and r.extra.get("phase") == "start"
    )
    proof = msgspec.convert(a.prove(seq), ProofBundle)
    return RotationProof(origin=a.manifest.store_id, seq=seq, proof=proof)


def test_a_rotation_the_pinned_key_did_not_vouch_for_is_refused_at_the_hub(
    fleet: Fleet, hub
) -> None:
    from core.sync.client import HubClient

    a = fleet["ana1"]
    origin = a.manifest.store_id
    put(a, "memories/facts/before.md", "before\n", "shareable")
    fleet.sync("ana1")
    _seq, old, _new = _rotate(a)
    forged = _forged(a)
    cfg = a.sync.config()
    assert cfg is not None
    client = HubClient(cfg.hub, cfg.org, cfg.token)
    try:
        reply = client.push(PushRequest(VERSION, origin, rotations=[forged]))
    finally:
        client.close()
    assert [r.outcome for r in reply.rotations] == ["refused"]
    storage = admin.open_storage(hub.folder, hub.db_url)
    try:
        binding = storage.binding(ORG, origin)
        assert binding is not None and binding.vkeys == (old,)
    finally:
        storage.close()


def test_a_rotation_the_pinned_key_did_not_vouch_for_is_refused_by_a_member(
    fleet: Fleet, hub
) -> None:
    """A hub that relays a forged rotation (and takes the new key itself) convinces nobody."""
    a, b = fleet["ana1"], fleet["bob1"]
    origin = a.manifest.store_id
    put(a, "memories/facts/before.md", "before\n", "shareable")
    fleet.sync("ana1", "bob1")
    _seq, old, new = _rotate(a)
    forged = _forged(a)
    storage = admin.open_storage(hub.folder, hub.db_url)
    try:
        storage.add_keys(ORG, origin, (new,))  # the hub is in on it
        payload = msgspec.json.encode(forged)
        storage.put_items(
            ORG, [Item(0, "rotation", origin, forged.seq, "", "shareable", "ana", payload)]
        )
    finally:
        storage.close()
    # The origin's own rotation, pushed now, is a duplicate of the forged item the hub holds
    # (same origin and seq): members only ever see the forgery.
    put(a, "memories/facts/after.md", "after\n", "shareable")
    assert a.sync.run().pushed == 1
    rep = b.sync.run()
    assert rep.refused_rotations, rep
    assert rep.imported == 0, (rep, hub_items(hub))
    assert "memories/facts/after.md" not in fleet.paths("bob1")
    assert pins.load(b.root)[origin]["keys"] == [old], hub_items(hub)
