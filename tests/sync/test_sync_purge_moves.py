"""A purge notice reaches the versions pushed before a move (docs/sync.md, "Purges and
moves"): the notice carries the memory's move rows, proved, so the hub and every member erase
the copies under each earlier path too, and nothing the origin wrote there afterwards."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.sync.fleet import ANA, Fleet, hub_items, put

SECRET = "the secret that was purged\n"


@pytest.fixture
def fleet(hub, tmp_path: Path):
    f = Fleet(hub, tmp_path, names=("ana1", "bob1"))
    yield f
    f.close()


def test_a_purge_erases_the_copies_pushed_under_earlier_paths(fleet: Fleet, hub) -> None:
    a, b = fleet["ana1"], fleet["bob1"]
    p0, p1, p2 = "memories/facts/a.md", "memories/facts/b.md", "memories/facts/c.md"
    put(a, p0, SECRET, "shareable")
    fleet.sync("ana1", "bob1")
    a.move(p0, p1, actor=ANA)
    fleet.sync("ana1", "bob1")
    a.move(p1, p2, actor=ANA)
    put(a, p0, "a new memory where the old one was\n", "shareable")  # not the purged one
    fleet.sync("ana1", "bob1")
    assert {p0, p1, p2} <= fleet.paths("bob1")
    a.delete(p2, actor=ANA, mode="purge", reason="user-request")
    rep = a.sync.run()
    assert rep.ok and rep.purges_sent == 1, rep
    secret = base64.b64encode(SECRET.encode())
    assert not any(secret in payload for _c, _p, payload in hub_items(hub))
    assert any(p == p0 and payload for _c, p, payload in hub_items(hub))  # the new memory
    rep = b.sync.run()
    assert rep.ok and rep.purged == 2, rep  # the copies bob held under b.md and c.md
    left = fleet.paths("bob1")
    assert p1 not in left and p2 not in left and p0 in left
    assert (b.root / p0).read_text() == "a new memory where the old one was\n"
    fleet.check_all()


def test_a_purge_of_a_moved_memory_that_was_only_sent_under_its_old_path(fleet: Fleet, hub) -> None:
    a, b = fleet["ana1"], fleet["bob1"]
    p0, p1 = "memories/facts/a.md", "memories/facts/b.md"
    put(a, p0, SECRET, "shareable")
    fleet.sync("ana1", "bob1")
    a.move(p0, p1, actor=ANA)
    a.delete(p1, actor=ANA, mode="purge", reason="user-request")  # before the move was sent
    rep = a.sync.run()
    assert rep.ok and rep.purges_sent == 1, rep
    secret = base64.b64encode(SECRET.encode())
    assert not any(secret in payload for _c, _p, payload in hub_items(hub))
    assert b.sync.run().purged == 1
    assert p0 not in fleet.paths("bob1")


def test_a_puller_that_does_not_ask_for_extensions_gets_the_replies_it_knew(
    fleet: Fleet, hub
) -> None:
    """brain-sync/v1 stays compatible: rotations and purge moves reach only `ext=1` pullers;
    an older client (a strict decoder) sees no unknown field."""
    from tests.sync import hubclient as hc
    from tests.sync.fleet import ORG

    a = fleet["ana1"]
    p0, p1 = "memories/facts/a.md", "memories/facts/b.md"
    put(a, p0, SECRET, "shareable")
    fleet.sync("ana1")
    a.rotate_key()
    a.rotate_key(finish=True)
    a.move(p0, p1, actor=ANA)
    a.delete(p1, actor=ANA, mode="purge", reason="user-request")
    assert a.sync.run().ok
    token = hub.token(ORG, "bob", device="bob-old-client")
    old = hc.pull(hub.url, ORG, token)
    assert old.status == 200 and "rotations" not in old.body
    notices = [it["purge"] for it in old.body["items"] if it["kind"] == "purge"]
    assert notices and all("moves" not in n for n in notices)
    new = hc.call(hub.url, "GET", f"/v1/orgs/{ORG}/pull?after=0&ext=1", token)
    assert len(new.body["rotations"]) == 1
    notices = [it["purge"] for it in new.body["items"] if it["kind"] == "purge"]
    assert len(notices[0]["moves"]) == 1
