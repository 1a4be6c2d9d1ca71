"""Sync end to end through a real hub (docs/sync.md): who gets what, held and reclassed
memories, echoes, conflicts, tampering and purges. After each: every store's doctor passes
and the counts are exact."""

from __future__ import annotations

import base64
from pathlib import Path

import msgspec
import pytest

from core.errors import NotFound
from tests.sync.fleet import ANA, BOB, Fleet, hub_items, hub_set_payload, put

P = "memories/facts/{}.md"
CLASSES = ("private", "personal", "shareable", "team-public", "org-only")


@pytest.fixture
def fleet(hub, tmp_path: Path):
    f = Fleet(hub, tmp_path)
    yield f
    f.close()


def test_class_matrix_no_echoes(fleet: Fleet) -> None:
    a = fleet["ana1"]
    for c in CLASSES:
        put(a, P.format(c), f"a {c} memory\n", c)
    rep = fleet.sync("ana1")["ana1"]
    assert (rep.pushed, rep.duplicates, rep.refused) == (4, 0, [])  # private never leaves
    reps = fleet.sync("ana2", "bob1", "bob2", "gus", "ana1")
    assert reps["ana1"].pulled == 0  # its own items never come back
    want = {
        "ana2": {"personal", "shareable", "team-public", "org-only"},
        "bob1": {"shareable", "team-public", "org-only"},
        "bob2": {"shareable", "team-public", "org-only"},
        "gus": {"shareable", "team-public"},  # a guest is not in org_only_roles
    }
    for name, classes in want.items():
        assert fleet.paths(name) == {P.format(c) for c in classes}, name
        assert reps[name].imported == len(classes)
        for c in classes:
            m = fleet[name].view(P.format(c))
            assert m.body == f"a {c} memory\n".encode()
            assert m.sidecar.sync_class == c
            assert m.sidecar.extra["imported_from"]["store"] == a.manifest.store_id
            assert fleet[name].sync.state_of(P.format(c)) == "imported"
    assert a.sync.state_of(P.format("private")) == "private"
    assert a.sync.state_of(P.format("shareable")) == "confirmed"
    st = a.sync.status()
    assert st.outbox["confirmed"] == 4 and st.outbox["pending-push"] == 0
    assert len(a.tail(1, 1000, op="sync.pushed")) == 1
    # A second round moves nothing (pulled memories are never pushed again).
    again = fleet.sync()
    assert all(r.pushed == r.pulled == r.imported == 0 for r in again.values())
    sessions = fleet["bob1"].tail(1, 1000, op="session.start")
    assert [r.extra["purpose"] for r in sessions] == ["sync"]
    fleet.check_all()


def test_pii_held_is_not_pushed_until_resolved(fleet: Fleet) -> None:
    a = fleet["ana1"]
    path = "memories/people/contractor.md"
    put(a, path, "# Contractor\n\nE-mail: jane.roe@example.org\n", "shareable")
    assert a.sync.state_of(path) == "held"
    rep = fleet.sync("ana1")["ana1"]
    assert rep.pushed == 0
    assert fleet.sync("bob1")["bob1"].imported == 0
    a.pii.resolve(path, "release", actor=ANA, reason="consented")
    assert fleet.sync("ana1")["ana1"].pushed == 1
    assert fleet.sync("bob1")["bob1"].imported == 1
    assert fleet.paths("bob1") == {path}
    fleet.check_all()


def test_reclass_to_private_is_not_pushed_again(fleet: Fleet) -> None:
    a = fleet["ana1"]
    early, late = P.format("early"), P.format("late")
    put(a, early, "v1\n", "shareable")
    fleet.sync("ana1")
    put(a, early, "v2\n", "shareable")
    put(a, late, "never shared\n", "shareable")
    for path in (early, late):  # brain reclass: a put of the same body, now private
        a.put(path, a.view(path).body, actor=ANA, sync_class="private")
    assert fleet.sync("ana1")["ana1"].pushed == 0
    fleet.sync("bob1")
    assert fleet.paths("bob1") == {early}  # what the hub had before stays until purged
    assert fleet["bob1"].view(early).body == b"v1\n"
    assert a.sync.state_of(early) == "private"
    fleet.check_all()


def test_only_the_current_version_travels(fleet: Fleet) -> None:
    a = fleet["ana1"]
    for i in range(3):
        put(a, P.format("x"), f"v{i}\n", "shareable")
    assert fleet.sync("ana1")["ana1"].pushed == 1
    fleet.sync("bob1")
    assert fleet["bob1"].view(P.format("x")).body == b"v2\n"
    put(a, P.format("x"), "v3\n", "shareable")
    fleet.sync("ana1")
    assert fleet.sync("bob1")["bob1"].imported == 1
    assert fleet["bob1"].view(P.format("x")).body == b"v3\n"
    assert len(fleet["bob1"].history(P.format("x"))) == 2
    fleet.check_all()


def test_conflict_goes_to_conflicts_with_a_row(fleet: Fleet) -> None:
    a, b = fleet["ana1"], fleet["bob1"]
    path = P.format("shared-name")
    put(b, path, "bob's own\n", "private", actor=BOB)
    put(a, path, "ana's version\n", "shareable")
    fleet.sync("ana1")
    rep = fleet.sync("bob1")["bob1"]
    copy = f"conflicts/{a.manifest.store_id}/{path}"
    assert rep.conflicts == [copy] and rep.imported == 0
    assert b.view(path).body == b"bob's own\n"
    assert (b.root / copy).read_bytes() == b"ana's version\n"
    rows = b.tail(1, 1000, op="sync.conflict")
    assert len(rows) == 1 and rows[0].extra["copy"] == copy
    st = b.sync.status()
    assert [(c.path, c.origin, c.copy) for c in st.conflicts] == [(path, a.manifest.store_id, copy)]
    assert st.inbox["conflict"] == 1
    assert fleet.sync("bob1")["bob1"].conflicts == []  # recorded once
    fleet.check_all()


def test_a_tampered_payload_is_refused_at_pull(fleet: Fleet) -> None:
    a = fleet["ana1"]
    put(a, P.format("t"), "the truth\n", "shareable")
    put(a, P.format("u"), "untouched\n", "shareable")
    fleet.sync("ana1")
    # Someone with the hub's disk edits the stored body (the hub is a relay, never trusted).
    cur, raw = next((c, b) for c, p, b in hub_items(fleet.hub) if p == P.format("t"))
    env = msgspec.json.decode(raw)
    env["body"] = base64.b64encode(b"a lie\n").decode()
    hub_set_payload(fleet.hub, cur, msgspec.json.encode(env))
    rep = fleet.sync("bob1")["bob1"]
    assert rep.imported == 1 and rep.skipped == 1
    assert fleet.paths("bob1") == {P.format("u")}
    assert fleet["bob1"].sync.status().inbox["skipped"] == 1
    with pytest.raises(NotFound):
        fleet["bob1"].view(P.format("t"))
    fleet.check_all()


def test_purge_propagates_to_members_that_pulled(fleet: Fleet) -> None:
    a = fleet["ana1"]
    path = P.format("secret-ish")
    put(a, path, "erase me everywhere\n", "shareable")
    put(a, P.format("keep"), "stays\n", "shareable")
    fleet.sync("ana1", "bob1", "ana2")
    assert path in fleet.paths("bob1") and path in fleet.paths("ana2")
    a.delete(path, actor=ANA, mode="purge", reason="user-request")
    rep = fleet.sync("ana1")["ana1"]
    assert rep.purges_sent == 1
    reps = fleet.sync("bob1", "ana2", "bob2")
    for name in ("bob1", "ana2"):
        assert reps[name].purged == 1
        s = fleet[name]
        rows = s.tail(1, 1000, op="purge.propagated")
        assert [r.path for r in rows] == [path]
        assert rows[0].extra["origin"] == a.manifest.store_id
        assert not (s.root / path).exists()
        assert fleet.paths(name) == {P.format("keep")}
    assert fleet.paths("bob2") == {P.format("keep")}  # never saw it
    held = b"".join(b for _, _, b in hub_items(fleet.hub))
    assert base64.b64encode(b"erase me everywhere\n") not in held
    gone = (b"erase me everywhere", base64.b64encode(b"erase me everywhere\n"))
    for name in ("bob1", "ana2", "bob2"):  # the members: bodies, sidecars, index, sync queue
        for f in fleet[name].root.rglob("*"):
            if f.is_file() and f.suffix != ".binlog":
                data = f.read_bytes()
                assert not any(g in data for g in gone), f
    fleet.check_all()


@pytest.mark.parametrize("take", ["mine", "theirs"])
def test_a_conflict_is_resolved_mine_or_theirs(fleet: Fleet, take: str) -> None:
    a, b = fleet["ana1"], fleet["bob1"]
    path = P.format("both")
    put(b, path, "bob's own\n", "private", actor=BOB)
    put(a, path, "ana's v1\n", "shareable")
    fleet.sync("ana1", "bob1")
    origin = a.manifest.store_id
    seq = b.sync.resolve_conflict(path, origin, take, actor=BOB)
    assert not (b.root / "conflicts" / origin / path).exists()
    st = b.sync.status()
    assert st.conflicts == [] and st.inbox["conflict"] == 0
    want = b"bob's own\n" if take == "mine" else b"ana's v1\n"
    assert b.view(path).body == want and (seq == 0) == (take == "mine")
    put(a, path, "ana's v2\n", "shareable")  # the origin's next version
    fleet.sync("ana1")
    rep = fleet.sync("bob1")["bob1"]
    if take == "theirs":  # it follows the origin now
        assert rep.imported == 1 and b.view(path).body == b"ana's v2\n"
        assert b.sync.state_of(path) == "imported"
    else:  # still bob's: the new version is another conflict
        assert rep.conflicts == [f"conflicts/{origin}/{path}"]
    with pytest.raises(NotFound):
        b.sync.resolve_conflict(P.format("none"), origin, "mine", actor=BOB)
    fleet.check_all()


def test_an_edit_on_another_device_is_that_devices_version(fleet: Fleet) -> None:
    """A pulled memory edited locally is this store's own version (no inherited
    imported_from): it is pushed, and its origin keeps its own copy and gets a conflict."""
    a, a2 = fleet["ana1"], fleet["ana2"]
    path = P.format("plans")
    put(a, path, "v1 from the laptop\n", "personal")
    fleet.sync("ana1", "ana2")
    assert a2.sync.state_of(path) == "imported"
    same = a2.put(path, "v1 from the laptop\n", actor=ANA, sync_class="personal")
    assert not same.changed  # the same body and fields: no new (local) version
    assert a2.sync.state_of(path) == "imported"
    a2.put(path, "v2 from the desk\n", actor=ANA, sync_class="personal")
    side = a2.view(path).sidecar
    assert "imported_from" not in side.extra and "foreign_chain" not in side.extra
    assert a2.history(path)[-1].extra.get("imported_from") is None
    assert fleet.sync("ana2")["ana2"].pushed == 1
    rep = fleet.sync("ana1")["ana1"]
    copy = f"conflicts/{a2.manifest.store_id}/{path}"
    assert rep.conflicts == [copy] and a.view(path).body == b"v1 from the laptop\n"
    a.sync.resolve_conflict(path, a2.manifest.store_id, "theirs", actor=ANA)
    assert a.view(path).body == b"v2 from the desk\n"
    fleet.check_all()
