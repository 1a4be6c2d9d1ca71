"""The hub's storage contract (core/sync/hub/storage.py), run against both backends: the embedded
SQLite one and a real PostgreSQL server (tests/sync/pg_server.py). PostgreSQL's row-level
security has its own proofs in test_storage_pg.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.sync.hub.storage import Binding, HubStorageError, Item, Scope, Storage

BACKENDS = ["sqlite", "postgres"]
ROLES = ("admin", "member")


def make_storage(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Storage:
    if backend == "sqlite":
        from core.sync.hub.storage_sqlite import SqliteStorage

        (tmp_path / "hub").mkdir()
        return SqliteStorage(tmp_path / "hub")
    from core.sync.hub.storage_pg import PgStorage

    return PgStorage(request.getfixturevalue("pg_url"))


@pytest.fixture(params=BACKENDS)
def st(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    s = make_storage(request.param, tmp_path, request)
    s.add_org("acme", ROLES, 1)
    s.add_org("other", ROLES, 2)
    yield s
    s.close()


def env(
    origin: str, seq: int, path: str = "notes/a.md", cls: str = "shareable", owner: str = "ann"
):
    return Item(0, "envelope", origin, seq, path, cls, owner, f"{origin}:{seq}".encode())


def notice(origin: str, seq: int, path: str = "notes/a.md", owner: str = "ann") -> Item:
    return Item(0, "purge", origin, seq, path, "shareable", owner, f"purge:{seq}".encode())


def read_all(st: Storage, org: str, scope: Scope, limit: int = 1000) -> list[Item]:
    out: list[Item] = []
    after = 0
    while True:
        page, after = st.read(org, scope, after, limit)
        out += page
        if not page:
            return out


EVERYONE = Scope(user="zed", store="z" * 32, org_only=True)


# -- orgs, users, devices ----------------------------------------------------------------------
def test_orgs(st: Storage) -> None:
    again = st.add_org("acme", ("admin",), 99)  # an org that exists is returned as it is
    assert (again.name, again.org_only_roles, again.created_ns) == ("acme", ROLES, 1)
    assert st.get_org("acme") == again
    assert st.get_org("nobody") is None
    assert [o.name for o in st.list_orgs()] == ["acme", "other"]
    with pytest.raises(HubStorageError, match="not allowed"):
        st.add_org("Bad Name", ROLES, 3)


def test_users_and_devices(st: Storage) -> None:
    ann = st.add_user("acme", "ann", "member")
    assert (ann.org, ann.name, ann.role, ann.revoked) == ("acme", "ann", "member", False)
    assert st.add_user("acme", "ann", "admin").role == "admin"  # a role change
    assert st.get_user("other", "ann") is None  # users are per org
    with pytest.raises(HubStorageError, match="no org"):
        st.add_user("nobody", "ann", "member")
    st.add_user("acme", "bob", "guest")
    assert [u.name for u in st.list_users("acme")] == ["ann", "bob"]

    d = st.add_device("acme", "ann", "laptop", "jti-1")
    assert (d.org, d.user, d.name, d.jti, d.revoked) == ("acme", "ann", "laptop", "jti-1", False)
    assert st.add_device("acme", "ann", "laptop", "jti-2").jti == "jti-2"  # a new token
    assert st.get_device("acme", "laptop") == st.add_device("acme", "ann", "laptop", "jti-2")
    with pytest.raises(HubStorageError, match="belongs to ann"):
        st.add_device("acme", "bob", "laptop", "jti-3")
    with pytest.raises(HubStorageError, match="no user"):
        st.add_device("acme", "carl", "phone", "jti-4")
    assert st.get_device("other", "laptop") is None
    st.add_device("acme", "ann", "phone", "jti-5")
    st.add_device("acme", "bob", "desk", "jti-6")
    assert [x.name for x in st.list_devices("acme")] == ["laptop", "phone", "desk"]


def test_revoke(st: Storage) -> None:
    st.add_user("acme", "ann", "member")
    st.add_user("acme", "bob", "member")
    st.add_device("acme", "ann", "laptop", "j1")
    st.add_device("acme", "ann", "phone", "j2")
    st.add_device("acme", "bob", "desk", "j3")
    assert st.revoke("acme", device="phone") == 1
    assert st.revoke("acme", device="phone") == 0  # already revoked
    assert st.get_device("acme", "phone").revoked  # type: ignore[union-attr]
    with pytest.raises(HubStorageError, match="was revoked"):
        st.add_device("acme", "ann", "phone", "j4")
    assert st.revoke("acme", user="ann") == 2  # the user and the laptop
    assert st.get_user("acme", "ann").revoked  # type: ignore[union-attr]
    assert st.get_device("acme", "laptop").revoked  # type: ignore[union-attr]
    assert not st.get_device("acme", "desk").revoked  # type: ignore[union-attr]
    with pytest.raises(HubStorageError, match="revoked"):
        st.add_user("acme", "ann", "member")
    with pytest.raises(HubStorageError, match="revoked"):
        st.add_device("acme", "ann", "tablet", "j5")
    with pytest.raises(HubStorageError):
        st.revoke("acme", device="nothing")
    with pytest.raises(HubStorageError):
        st.revoke("acme", user="nobody")
    with pytest.raises(HubStorageError):
        st.revoke("acme")


# -- bindings ----------------------------------------------------------------------------------
def test_bind_first_wins_under_concurrency(st: Storage) -> None:
    origin = "a" * 32
    start = threading.Barrier(8)
    won: list[Binding] = []

    def bind(i: int) -> None:
        start.wait()
        won.append(st.bind(Binding("acme", origin, f"user{i}", f"dev{i}", (f"key{i}",))))

    threads = [threading.Thread(target=bind, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 8 and len(set(won)) == 1  # every request sees the one that holds
    held = won[0]
    assert st.binding("acme", origin) == held
    assert st.binding_for_device("acme", held.device) == held
    assert st.binding("other", origin) is None
    # A device binds one origin: a second store on the same device gets the first back.
    assert st.bind(Binding("acme", "b" * 32, held.user, held.device, ("k",))) == held
    assert st.binding("acme", "b" * 32) is None


def test_add_keys_extends_the_pin_and_loses_none_under_concurrency(st: Storage) -> None:
    origin = "c" * 32
    st.bind(Binding("acme", origin, "ann", "laptop", ("old",)))
    start = threading.Barrier(6)

    def add(i: int) -> None:
        start.wait()
        st.add_keys("acme", origin, (f"new{i}", "old"))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    held = st.binding("acme", origin)
    assert held is not None and held.vkeys[0] == "old"
    assert sorted(held.vkeys) == sorted(["old"] + [f"new{i}" for i in range(6)])
    assert st.add_keys("acme", origin, ("new0",)) == held  # already pinned: unchanged
    with pytest.raises(HubStorageError):
        st.add_keys("acme", "d" * 32, ("k",))


# -- items -------------------------------------------------------------------------------------
def test_put_items_idempotent_and_cursors_increase(st: Storage) -> None:
    o = "a" * 32
    assert st.head("acme") == 0
    assert st.put_items("acme", []) == []
    assert st.put_items("acme", [env(o, 1), env(o, 2), env(o, 2)]) == [True, True, False]
    assert st.put_items("acme", [env(o, 2), env(o, 3), notice(o, 3)]) == [False, True, True]
    items = read_all(st, "acme", EVERYONE)
    cursors = [i.cursor for i in items]
    assert cursors == sorted(set(cursors)) and len(cursors) == 4
    assert [(i.kind, i.seq) for i in items] == [
        ("envelope", 1),
        ("envelope", 2),
        ("envelope", 3),
        ("purge", 3),
    ]
    assert items[0].payload == f"{o}:1".encode()
    assert st.head("acme") == cursors[-1]
    assert st.head("other") == 0


def test_read_pages_and_resume_cursor(st: Storage) -> None:
    o = "a" * 32
    st.put_items("acme", [env(o, s) for s in range(1, 8)])
    page, after = st.read("acme", EVERYONE, 0, 3)
    assert [i.seq for i in page] == [1, 2, 3] and after == page[-1].cursor
    page, after = st.read("acme", EVERYONE, after, 10)
    assert [i.seq for i in page] == [4, 5, 6, 7] and after == st.head("acme")
    assert st.read("acme", EVERYONE, after, 10) == ([], after)
    # A reader who may see nothing still moves past what it examined.
    st.put_items("acme", [env(o, 8, cls="personal")])
    page, resume = st.read("acme", Scope("bob", "b" * 32, True), after, 10)
    assert page == [] and resume == st.head("acme") > after


def test_read_stops_a_page_at_max_bytes(st: Storage) -> None:
    """A page ends at the item that brings its payloads to max_bytes; the first item comes
    whatever its size; a page cut short resumes at its last item."""
    o = "a" * 32
    sizes = [40, 40, 40, 200, 10]
    st.put_items(
        "acme",
        [
            Item(0, "envelope", o, i + 1, "notes/a.md", "shareable", "ann", b"x" * n)
            for i, n in enumerate(sizes)
        ],
    )
    page, after = st.read("acme", EVERYONE, 0, 10, max_bytes=100)
    assert [len(i.payload) for i in page] == [40, 40, 40] and after == page[-1].cursor
    page, after = st.read("acme", EVERYONE, after, 10, max_bytes=100)
    assert [len(i.payload) for i in page] == [200] and after == page[-1].cursor
    page, after = st.read("acme", EVERYONE, after, 10, max_bytes=100)
    assert [len(i.payload) for i in page] == [10] and after == st.head("acme")
    page, _ = st.read("acme", EVERYONE, 0, 2, max_bytes=100)  # the count still bounds it
    assert len(page) == 2


def test_read_scope(st: Storage) -> None:
    ann, bob = "a" * 32, "b" * 32  # ann's and bob's stores
    st.put_items(
        "acme",
        [
            env(ann, 1, "p.md", "personal", "ann"),
            env(ann, 2, "s.md", "shareable", "ann"),
            env(ann, 3, "t.md", "team-public", "ann"),
            env(ann, 4, "o.md", "org-only", "ann"),
            env(bob, 1, "bp.md", "personal", "bob"),
        ],
    )

    def seen(user: str, store: str, org_only: bool) -> set[tuple[str, int]]:
        return {(i.origin, i.seq) for i in read_all(st, "acme", Scope(user, store, org_only))}

    # ann's other device: her personal one too, never an echo of its own store's items
    assert seen("ann", "c" * 32, True) == {(ann, 1), (ann, 2), (ann, 3), (ann, 4)}
    assert seen("ann", ann, True) == set()
    assert seen("bob", bob, True) == {(ann, 2), (ann, 3), (ann, 4)}
    assert seen("bob", "d" * 32, True) == {(ann, 2), (ann, 3), (ann, 4), (bob, 1)}
    assert seen("gus", "e" * 32, False) == {(ann, 2), (ann, 3)}  # a guest: no org-only


def test_purge_erases_earlier_paths_below_their_move(st: Storage) -> None:
    """A moved memory's purge: x.md moved to y.md at seq 3, y.md to z.md at 5, purged at 7;
    x.md was written again at 6 (another memory) and stays."""
    o = "a" * 32
    st.put_items(
        "acme",
        [
            env(o, 1, "x.md", "personal"),
            env(o, 2, "x.md", "org-only"),
            env(o, 3, "y.md", "personal"),
            env(o, 4, "y.md", "personal"),
            env(o, 5, "z.md", "personal"),
            env(o, 6, "x.md"),
        ],
    )
    assert st.purge("acme", notice(o, 7, "z.md"), (("y.md", 5), ("x.md", 3)))
    items = read_all(st, "acme", EVERYONE)
    assert [(i.seq, i.path, i.kind) for i in items] == [
        (6, "x.md", "envelope"),
        (7, "z.md", "purge"),
    ]
    assert items[-1].sync_class == "org-only"  # the widest of what it erased, on any path


def test_purge_erases_and_appends_once(st: Storage) -> None:
    o, other = "a" * 32, "b" * 32
    st.put_items(
        "acme",
        [
            env(o, 1, "x.md", "personal"),
            env(o, 2, "x.md", "org-only"),
            env(o, 3, "y.md"),
            env(other, 1, "x.md", owner="bob"),
        ],
    )
    head = st.head("acme")
    assert st.purge("acme", notice(o, 4, "x.md"))
    assert st.head("acme") == head + 1
    assert not st.purge("acme", notice(o, 4, "x.md"))  # a retried delivery
    assert st.head("acme") == head + 1
    items = read_all(st, "acme", EVERYONE)
    # erased envelopes are not served; the other path and the other origin are untouched
    assert [(i.origin, i.seq, i.kind) for i in items] == [
        (o, 3, "envelope"),
        (other, 1, "envelope"),
        (o, 4, "purge"),
    ]
    purge = items[-1]
    assert purge.payload == b"purge:4" and purge.sync_class == "org-only"  # the widest erased
    # A late retry of a purged version is held, erased; a version after the purge is new.
    assert st.put_items("acme", [env(o, 1, "x.md"), env(o, 5, "x.md")]) == [False, True]
    assert st.put_items("acme", [env(o, 0, "x.md")]) == [True]
    items = read_all(st, "acme", EVERYONE)
    assert [(i.seq, i.kind) for i in items if i.origin == o and i.path == "x.md"] == [
        (4, "purge"),
        (5, "envelope"),
    ]
    # the purge notice reaches org-only readers, not guests (nothing of theirs to erase)
    guest = Scope("gus", "g" * 32, False)
    seen = [i.kind for i in read_all(st, "acme", guest) if (i.origin, i.path) == (o, "x.md")]
    assert seen == ["envelope"]


def test_orgs_are_isolated(st: Storage) -> None:
    o = "a" * 32
    st.put_items("acme", [env(o, 1), env(o, 2)])
    st.bind(Binding("acme", o, "ann", "laptop", ("k",)))
    assert read_all(st, "other", EVERYONE) == []
    assert st.head("other") == 0
    assert st.binding("other", o) is None
    # the same origin and seq in another org is another item
    assert st.put_items("other", [env(o, 1)]) == [True]
    assert [i.seq for i in read_all(st, "acme", EVERYONE)] == [1, 2]
    assert st.purge("other", notice(o, 9))  # appended in "other" only
    assert [i.kind for i in read_all(st, "acme", EVERYONE)] == ["envelope", "envelope"]
    st.log_event("acme", "ann", "laptop", "refused", "cross-org token")
    st.log_event("", "", "", "unauthenticated", "no token")
    assert [e.event for e in st.events("acme")] == ["refused"]
    assert [e.detail for e in st.events("")] == ["no token"]
    assert st.events("other") == []


def test_concurrent_appends_lose_and_duplicate_nothing(st: Storage) -> None:
    """8 writers push overlapping batches (every batch is sent twice, as a retry would) while
    a reader pages through: every item is stored once and the reader sees each exactly once."""
    writers, batches, size = 8, 6, 5
    done = threading.Event()
    seen: list[Item] = []
    errors: list[BaseException] = []
    stored: list[bool] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        try:
            origin = f"{w:032x}"
            for b in range(batches):
                batch = [env(origin, b * size + s) for s in range(1, size + 1)]
                first = st.put_items("acme", batch)
                again = st.put_items("acme", batch)
                with lock:
                    stored.extend(first + again)
        except BaseException as e:  # noqa: BLE001 - collected and re-raised below
            errors.append(e)

    def reader() -> None:
        after = 0
        try:
            while True:
                finished = done.is_set()  # look before reading: a last pass after they end
                page, after = st.read("acme", EVERYONE, after, 7)
                seen.extend(page)
                if finished and not page:
                    return
        except BaseException as e:  # noqa: BLE001 - collected and re-raised below
            errors.append(e)

    r = threading.Thread(target=reader)
    ws = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
    r.start()
    for t in ws:
        t.start()
    for t in ws:
        t.join()
    done.set()
    r.join()
    assert not errors, errors
    total = writers * batches * size
    assert stored.count(True) == total and stored.count(False) == total
    keys = [(i.origin, i.seq) for i in seen]
    assert len(keys) == total and len(set(keys)) == total
    cursors = [i.cursor for i in seen]
    assert cursors == sorted(cursors) and len(set(cursors)) == total
    assert st.head("acme") == max(cursors)
    # and each writer's items were appended in its own order
    for w in range(writers):
        mine = [i.seq for i in seen if i.origin == f"{w:032x}"]
        assert mine == sorted(mine)
