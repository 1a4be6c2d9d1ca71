"""The Store facade's write and read operations against real files and a real SQLite index."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from core.errors import BrainError, InvalidMeta, InvalidPath, NotFound, PreconditionFailed
from core.log.binlog import Binlog
from core.log.hashing import commitment
from core.log.head import read_head
from core.log.tip import Tip, scan_current
from core.models import TOMBSTONE_STUB
from core.store import Store
from core.write.intents import Delete, Put

ANA = "human:ana@laptop"
BOT = "agent:claude-code@laptop"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Checkpoint witnesses live outside the store: keep them out of the real home.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path):
    s = Store.init(root, allow_temp=True)
    yield s
    s.close()


def _verified_chain(root: Path) -> Tip:
    scan = scan_current(Binlog(root / "audit"), Tip())
    assert scan.bad is None and scan.broken is None
    return scan.tip


def _sidecar(root: Path, rel: str) -> dict:
    return json.loads((root / (rel[:-3] + ".meta.json")).read_bytes())


# -- put ---------------------------------------------------------------------------------------


def test_put_writes_body_sidecar_and_row(store: Store, root: Path) -> None:
    r = store.put("memories/facts/a.md", "# Alpha\nfirst body\n", actor=ANA, tags=["x"])
    assert r.seq == 1 and r.changed
    assert (root / "memories/facts/a.md").read_bytes() == b"# Alpha\nfirst body\n"
    side = _sidecar(root, "memories/facts/a.md")
    assert side["seq"] == 1 and side["state"] == "active" and side["title"] == "Alpha"
    assert side["tags"] == ["x"] and side["actor"] == ANA
    assert commitment(bytes.fromhex(side["salt"]), b"# Alpha\nfirst body\n") == r.commit
    m = store.view("memories/facts/a.md")
    assert m.body == b"# Alpha\nfirst body\n" and m.sidecar.commit == r.commit
    assert read_head(store.layout) == 1
    assert _verified_chain(root).seq == 1


def test_idempotent_put_adds_no_row(store: Store) -> None:
    a = store.put("memories/facts/a.md", "same\n", actor=ANA, tags=["t"])
    b = store.put("memories/facts/a.md", "same\n", actor=BOT, tags=["t"])
    assert not b.changed and b.seq == a.seq and b.commit == a.commit
    c = store.put("memories/facts/a.md", "same\n", actor=ANA, tags=["u"])  # metadata differs
    assert c.changed and c.seq == 2 and c.commit != a.commit  # fresh salt per write
    assert [r.op for r in store.history("memories/facts/a.md")] == ["put", "put"]


def test_overwrite_keeps_versions(store: Store, root: Path) -> None:
    a = store.put("memories/facts/a.md", "v1\n", actor=ANA)
    b = store.put("memories/facts/a.md", "v2\n", actor=ANA)
    assert (root / "versions/facts/a/00000000000000000001.md").read_bytes() == b"v1\n"
    old = store.version("memories/facts/a.md", a.seq)
    assert old.body == b"v1\n" and old.sidecar.commit == a.commit
    assert store.view("memories/facts/a.md").sidecar.commit == b.commit


def test_put_if_success_and_mismatch(store: Store) -> None:
    p = "memories/decisions/d.md"
    first = store.put_if(p, "one\n", "", actor=ANA)  # "" = must be absent
    second = store.put_if(p, "two\n", first.commit, actor=ANA)
    assert second.changed and second.seq == 2
    with pytest.raises(PreconditionFailed, match="expected commitment"):
        store.put_if(p, "three\n", first.commit, actor=BOT)
    with pytest.raises(PreconditionFailed):
        store.put_if(p, "three\n", "", actor=BOT)
    assert store.view(p).body == b"two\n"
    rejected = [r for r in store.history(p) if r.op == "put_if.rejected"]
    assert [r.extra for r in rejected] == [{"expected": first.commit}, {"expected": ""}]
    assert all(r.commit == "" and r.actor == BOT for r in rejected)
    assert _verified_chain(store.root).seq == 4


def test_put_if_rejected_row_names_the_failing_intent(store: Store) -> None:
    a = store.put("memories/facts/a.md", "a\n", actor=ANA)
    store.put("memories/facts/b.md", "b\n", actor=ANA)
    with pytest.raises(PreconditionFailed, match="b.md"):
        store.batch(
            [
                Put("memories/facts/a.md", b"a2\n", expect=a.commit),  # fine
                Put("memories/facts/b.md", b"b2\n", expect="0" * 64),  # stale
            ],
            BOT,
        )
    (rej,) = [r for r in store.tail(1) if r.op == "put_if.rejected"]
    assert rej.path == "memories/facts/b.md" and rej.extra == {"expected": "0" * 64}
    assert store.view("memories/facts/a.md").body == b"a\n"  # the request failed as a whole


# -- move, tombstone, purge --------------------------------------------------------------------


def test_move_carries_body_sidecar_and_versions(store: Store, root: Path) -> None:
    src, dst = "memories/projects/old/plan.md", "memories/projects/new/plan.md"
    v1 = store.put(src, "v1\n", actor=ANA)
    v2 = store.put(src, "v2\n", actor=ANA)
    mv = store.move(src, dst, actor=BOT)
    assert mv.commit == v2.commit and mv.row is not None
    # A move repeats the meta commitment of the version it moves (PROTOCOL "Rows").
    assert mv.row.extra == {"from": src, "meta": v2.row.extra["meta"]}
    assert not (root / src).exists() and not (root / (src[:-3] + ".meta.json")).exists()
    assert not (root / "versions/projects/old/plan").exists()
    assert (root / "versions/projects/new/plan/00000000000000000001.md").read_bytes() == b"v1\n"
    m = store.view(dst)
    assert m.body == b"v2\n"
    # Only seq and updated_ns change; the salt travels, so the commitment still checks.
    assert m.sidecar.seq == mv.seq and m.sidecar.commit == v2.commit
    assert commitment(bytes.fromhex(m.sidecar.salt), m.body) == v2.commit
    assert store.version(dst, v1.seq).body == b"v1\n"
    assert [(r.op, r.path) for r in store.history(dst)] == [
        ("put", src),
        ("put", src),
        ("move", dst),
    ]
    with pytest.raises(NotFound):
        store.view(src)


def test_move_refuses_existing_target_and_kind_change(store: Store) -> None:
    store.put("memories/facts/a.md", "a\n", actor=ANA)
    store.put("memories/facts/b.md", "b\n", actor=ANA)
    with pytest.raises(BrainError, match="already exists"):
        store.move("memories/facts/a.md", "memories/facts/b.md", actor=ANA)
    with pytest.raises(BrainError, match="keeps the kind"):
        store.move("memories/facts/a.md", "memories/people/a.md", actor=ANA)
    with pytest.raises(NotFound):
        store.move("memories/facts/zz.md", "memories/facts/c.md", actor=ANA)


def test_tombstone_writes_stub_and_keeps_versions(store: Store, root: Path) -> None:
    p = "memories/facts/t.md"
    a = store.put(p, "content\n", actor=ANA)
    d = store.delete(p, actor=ANA)
    assert d.commit == "" and d.row is not None and d.row.extra == {"mode": "tombstone"}
    assert (root / p).read_bytes() == TOMBSTONE_STUB
    side = _sidecar(root, p)
    assert side["state"] == "tombstoned" and side["commit"] == "" and side["salt"] == ""
    kept = store.version(p, a.seq)
    assert kept.body == b"content\n" and kept.sidecar.commit == a.commit
    with pytest.raises(BrainError, match="already tombstoned"):
        store.delete(p, actor=ANA)
    assert store.view(p).sidecar.state == "tombstoned"
    # Writing again revives it as a new version.
    again = store.put(p, "back\n", actor=ANA)
    assert store.view(p).body == b"back\n" and again.seq == 3


def test_purge_requires_a_reason(store: Store) -> None:
    p = "memories/facts/x.md"
    store.put(p, "x\n", actor=ANA)
    for reason in (None, "", "because I said so"):
        with pytest.raises(InvalidMeta, match="reason"):
            store.delete(p, actor=ANA, mode="purge", reason=reason)
    with pytest.raises(BrainError, match="unknown"):
        store.delete(p, actor=ANA, mode="shred")
    assert store.view(p).body == b"x\n"
    r = store.delete(p, actor=ANA, mode="purge", reason="user-request", ticket="T-1")
    assert r.row is not None and r.row.extra["reason"] == "user-request"
    assert r.row.extra["ticket"] == "T-1"


# -- batch and concurrency ---------------------------------------------------------------------


def test_batch_is_all_or_nothing(store: Store, root: Path) -> None:
    store.put("memories/facts/keep.md", "keep\n", actor=ANA)
    good = [Put(f"memories/facts/b{i}.md", f"body {i}\n".encode()) for i in range(5)]
    bad = Put("memories/facts/bad.md", b"x\n", tags=["type:lesson", "status:pending"])
    with pytest.raises(InvalidMeta, match="type:lesson carries no status"):
        store.batch([*good, bad], ANA)
    with pytest.raises(NotFound):
        store.batch([*good, Delete("memories/facts/missing.md")], ANA)
    assert not any((root / f"memories/facts/b{i}.md").exists() for i in range(5))
    assert _verified_chain(root).seq == 1
    results = store.batch(good, ANA)
    assert [r.seq for r in results] == [2, 3, 4, 5, 6]
    assert _verified_chain(root).seq == 6


def test_four_threads_of_puts(store: Store, root: Path) -> None:
    errors: list[BaseException] = []
    results: list[int] = []
    lock = threading.Lock()

    def producer(t: int) -> None:
        try:
            for i in range(200):
                r = store.put(f"memories/facts/t{t}/m{i % 50}.md", f"t{t} i{i}\n", actor=BOT)
                with lock:
                    results.append(r.seq)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=producer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert sorted(results) == list(range(1, 801))
    tip = _verified_chain(root)
    assert tip.seq == 800 and store.mmr.size == 800 and read_head(store.layout) == 800
    for t in range(4):
        assert store.view(f"memories/facts/t{t}/m49.md").body == f"t{t} i199\n".encode()


# -- refusals ----------------------------------------------------------------------------------


def test_case_fold_collision_refused(store: Store) -> None:
    store.put("memories/people/Ana.md", "a\n", actor=ANA)
    with pytest.raises(InvalidPath, match="letter case"):
        store.put("memories/people/ana.md", "b\n", actor=ANA)
    store.put("memories/projects/Alpha/x.md", "x\n", actor=ANA)
    with pytest.raises(InvalidPath, match="letter case"):
        store.put("memories/projects/alpha/y.md", "y\n", actor=ANA)
    store.put("memories/people/Ana.md", "same path, same case\n", actor=ANA)


def test_case_fold_name_freed_by_a_move(store: Store) -> None:
    store.put("memories/people/Bob.md", "a\n", actor=ANA)
    store.move("memories/people/Bob.md", "memories/people/robert.md", actor=ANA)
    # Bob.md is gone: bob.md no longer collides with anything.
    store.put("memories/people/bob.md", "b\n", actor=ANA)
    assert store.view("memories/people/bob.md").body == b"b\n"


def test_symlink_escape_refused(store: Store, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("secret\n")
    os.symlink(outside, root / "memories/facts/evil")
    with pytest.raises(InvalidPath, match="symbolic link"):
        store.put("memories/facts/evil/x.md", "pwned\n", actor=ANA)
    assert not (outside / "x.md").exists()
    os.symlink(outside / "secret.md", root / "memories/facts/link.md")
    with pytest.raises(InvalidPath, match="symbolic link"):
        store.put("memories/facts/link.md", "pwned\n", actor=ANA)
    assert (outside / "secret.md").read_text() == "secret\n"
    with pytest.raises((InvalidPath, NotFound)):
        store.view("memories/facts/evil/secret.md")


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"tags": ["type:lesson", "status:pending"]}, "type:lesson carries no status"),
        ({"tags": ["type:proposal"]}, "must carry a status"),
        ({"tags": ["type:decision", "status:accepted"]}, "type:decision carries no status"),
        ({"tags": [f"t{i}" for i in range(11)]}, "at most 10"),
        ({"tags": ["Upper"]}, "uppercase"),
        ({"tags": ["colour:red"]}, "unknown prefix"),
        ({"category": "gossip"}, "category"),
        ({"classification": "secret"}, "classification"),
        ({"sync_class": "everyone"}, "sync_class"),
    ],
)
def test_field_rules_refused_at_write_time(store: Store, root: Path, fields, rule) -> None:
    with pytest.raises(InvalidMeta, match=rule):
        store.put("memories/facts/m.md", "body\n", actor=ANA, **fields)
    assert not (root / "memories/facts/m.md").exists()
    assert _verified_chain(root).seq == 0


def test_tags_in_frontmatter_refused_naming_rule(store: Store) -> None:
    text = "---\ntags: [type:proposal]\n---\nbody\n"
    with pytest.raises(InvalidMeta, match="frontmatter line 2.*status"):
        store.put("memories/facts/m.md", text, actor=ANA)


@pytest.mark.parametrize(
    "bad",
    ["../etc/passwd", "/memories/facts/a.md", "memories/facts/../a.md", "memories/nope/a.md"],
)
def test_bad_paths_refused(store: Store, bad: str) -> None:
    with pytest.raises(InvalidPath):
        store.put(bad, "x\n", actor=ANA)


def test_view_missing_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="no such memory"):
        store.view("memories/facts/nothing.md")
    with pytest.raises(NotFound):
        store.version("memories/facts/nothing.md", 3)


def test_every_write_needs_an_actor(store: Store) -> None:
    with pytest.raises(BrainError, match="actor"):
        store.put("memories/facts/a.md", "x\n", actor="")


def test_non_utf8_body_refused(store: Store) -> None:
    with pytest.raises(InvalidMeta, match="UTF-8"):
        store.put("memories/facts/a.md", b"\xff\xfe", actor=ANA)


# -- frontmatter, search, reindex --------------------------------------------------------------


def test_frontmatter_goes_to_sidecar_and_is_stripped(store: Store, root: Path) -> None:
    text = (
        "---\n"
        "title: Hashing choice\n"
        "category: architecture\n"
        "tags: [type:decision, hashing]\n"
        "classification: confidential\n"
        "sync-class: personal\n"
        "owner: ana\n"
        "---\n"
        "We use SHA-256.\n"
    )
    store.put("memories/decisions/hash.md", text, actor=ANA)
    assert (root / "memories/decisions/hash.md").read_bytes() == b"We use SHA-256.\n"
    side = _sidecar(root, "memories/decisions/hash.md")
    assert side["title"] == "Hashing choice" and side["category"] == "architecture"
    assert side["tags"] == ["type:decision", "hashing"]
    assert side["classification"] == "confidential" and side["sync_class"] == "personal"
    assert side["extra"] == {"owner": "ana"}
    with pytest.raises(BrainError, match="kind"):
        store.put("memories/facts/x.md", "---\nkind: people\n---\nbody\n", actor=ANA)


def _corpus(store: Store) -> None:
    words = ["merkle", "sqlite", "tombstone", "journal", "salt", "frame", "chain", "purge"]
    for i in range(40):
        text = f"# Note {i}\n{words[i % 8]} {words[(i * 3) % 8]} detail {i}\n"
        store.put(f"memories/facts/n{i:02d}.md", text, actor=BOT, tags=[words[i % 8]])
    store.delete("memories/facts/n03.md", actor=ANA)
    store.move("memories/facts/n04.md", "memories/facts/moved.md", actor=ANA)


def _hits(store: Store) -> list[tuple]:
    out = []
    for q in ("merkle", "journal salt", "chain", "detail 17", "tombstone"):
        out.append([(h.path, h.title, h.snippet) for h in store.search(q, limit=50)])
    return out


def test_search_finds_and_ranks(store: Store) -> None:
    _corpus(store)
    hits = store.search("merkle", limit=50)
    assert hits and all("merkle" in (h.snippet + " ".join(h.tags)).lower() for h in hits)
    assert "memories/facts/n03.md" not in [h.path for h in store.search("tombstone", limit=50)]
    assert "memories/facts/moved.md" in [h.path for h in store.search("detail 4", limit=50)]


def test_reindex_gives_identical_results(root: Path) -> None:
    with Store.init(root, allow_temp=True) as s:
        _corpus(s)
        before = _hits(s)
        assert s.reindex() == 40
        assert _hits(s) == before
    shutil.rmtree(root / "index")
    with Store.open(root, allow_temp=True) as s:
        assert any("rebuilt the index" in n for n in s.notes)
        assert _hits(s) == before
        assert len(s.tail(1, limit=1000)) == 42


def test_read_only_open_never_writes(root: Path) -> None:
    with Store.init(root, allow_temp=True) as s:
        s.put("memories/facts/a.md", "a\n", actor=ANA)
    snapshot = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    with Store.open(root, allow_temp=True, read_only=True) as s:
        assert s.view("memories/facts/a.md").body == b"a\n"
        with pytest.raises(BrainError, match="read-only"):
            s.put("memories/facts/b.md", "b\n", actor=ANA)
    after = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    assert {p: t for p, t in after.items() if "index" not in p.parts} == {
        p: t for p, t in snapshot.items() if "index" not in p.parts
    }


# -- several operations on one path close together ----------------------------------------------


def test_reusing_a_path_after_a_move_pruned_its_versions(store: Store, root: Path) -> None:
    """A move prunes the source's versions folder: a later overwrite there must recreate it."""
    p, q = "memories/facts/p.md", "memories/facts/q.md"
    store.put(p, "one\n", actor=ANA)
    store.put(p, "two\n", actor=ANA)
    store.move(p, q, actor=ANA)
    assert not (root / "versions/facts/p").exists()
    store.put(p, "three\n", actor=ANA)
    store.put(p, "four\n", actor=ANA)  # keeps "three" under versions/facts/p/
    assert store.view(p).body == b"four\n" and store.view(q).body == b"two\n"
    assert store.state().state == "READY"


@pytest.mark.parametrize(
    "intents",
    [
        "put put",  # the second version is the first put's file, not yet on disk
        "new-put put",
        "put delete",
        "move put-dst",
        "move delete-dst",
        "move put-src",  # the move's removal of src must not delete the new src
        "move move-back",
    ],
)
def test_one_request_touching_a_path_twice(store: Store, root: Path, intents: str) -> None:
    from core.write.intents import Move

    p, q = "memories/facts/p.md", "memories/facts/q.md"
    if intents != "new-put put":
        store.put(p, "zero\n", actor=ANA)
    steps = {
        "put put": [Put(p, b"one\n"), Put(p, b"two\n")],
        "new-put put": [Put(p, b"one\n"), Put(p, b"two\n")],
        "put delete": [Put(p, b"one\n"), Delete(p)],
        "move put-dst": [Move(p, q), Put(q, b"two\n")],
        "move delete-dst": [Move(p, q), Delete(q)],
        "move put-src": [Move(p, q), Put(p, b"two\n")],
        "move move-back": [Move(p, q), Move(q, p)],
    }[intents]
    results = store.batch(steps, ANA)
    assert store.state().state == "READY"
    tip = _verified_chain(root)
    assert tip.seq == results[-1].seq
    # Every put row's body is still checkable from the current file or a kept version.
    seen = set()
    for side in [*root.glob("memories/facts/*.meta.json"), *root.glob("versions/**/*.meta.json")]:
        meta = json.loads(side.read_bytes())
        if meta["state"] == "active":
            body = side.with_name(side.name.replace(".meta.json", ".md")).read_bytes()
            assert commitment(bytes.fromhex(meta["salt"]), body) == meta["commit"]
            seen.add(meta["commit"])
    puts = [r.commit for r in store.tail(1) if r.op == "put"]
    assert set(puts) <= seen
    # And the files say what the log says.
    with Store.open(root, allow_temp=True, read_only=True) as ro:
        for path in (p, q):
            try:
                cur = ro.view(path).sidecar
            except NotFound:
                cur = None
            last = [r for r in ro.tail(1) if r.path == path or r.extra.get("from") == path]
            if not last or (last[-1].op == "move" and last[-1].path != path):
                assert cur is None, path
            else:
                assert cur is not None and cur.seq == last[-1].seq, path


def test_two_threads_on_one_path(store: Store) -> None:
    p = "memories/facts/shared.md"
    errors: list[BaseException] = []

    def producer(t: int) -> None:
        try:
            for i in range(150):
                store.put(p, f"t{t} {i}\n", actor=BOT)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=producer, args=(t,)) for t in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[0]
    assert _verified_chain(store.root).seq == 450
    assert len(list((store.root / "versions/facts/shared").glob("*.md"))) == 449


def test_refresh_sees_rows_of_another_process_after_own_writes(tmp_path):
    """A long-running host (the TUI) that has written still sees other processes' rows."""
    import subprocess
    import sys
    import time

    root = tmp_path / "shared"
    s = Store.init(root, allow_temp=True)
    s.put("memories/facts/own.md", "own\n", actor="human:a@h")
    time.sleep(0.3)  # the commit loop releases the lock after ~200 ms idle
    code = (
        "from core.store import Store\n"
        f"s = Store.open({str(root)!r}, allow_temp=True)\n"
        "s.put('memories/facts/other.md', 'other\\n', actor='agent:b@h')\n"
        "s.close()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert s.refresh() == 2
    assert [r.path for r in s.tail()][-1] == "memories/facts/other.md"
    assert s.search("other")[0].path == "memories/facts/other.md"
    s.put("memories/facts/own2.md", "own again\n", actor="human:a@h")  # fences, chains on
    assert [r.seq for r in s.tail()] == [1, 2, 3]
    s.close()


def test_a_program_lock_that_cannot_be_made_says_where_and_why(tmp_path) -> None:
    """A file where the lock's folder goes (or no permission there): one line naming the lock,
    never a raw OSError."""
    from core.write.lock import ProgramLock

    (tmp_path / "capture").write_text("a file, not a folder")
    lock = ProgramLock(tmp_path / "capture" / "lock", "capture", lambda who: BrainError(who))
    with pytest.raises(BrainError, match=r"cannot take the capture lock at .*capture/lock"):
        lock.acquire()
