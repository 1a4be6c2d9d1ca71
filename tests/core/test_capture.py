"""Capture (issue 14 items 1-2) in process: real files, the real watchfiles notifier, a real
store, the capture loop in a thread. Timing is tolerant (2 loaded cores): tests wait for
behaviour with generous deadlines and assert lower bounds only."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from core.capture import config, naming, pipeline
from core.capture import state as st
from core.capture.loop import CaptureLoop, Event
from core.capture.once import capture_once
from core.capture.status import STUCK_AFTER_S, status
from core.errors import BrainError
from core.store import Store

ACTOR = "agent:capture-test"
WAIT = 30.0  # seconds: a generous ceiling on a loaded machine; tests pass as soon as done


@pytest.fixture
def store(tmp_path: Path):
    s = Store.init(tmp_path / "store", allow_temp=True)
    yield s
    s.close()


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    d = tmp_path / "notes"
    d.mkdir()
    return d


class Running:
    """A capture loop in a thread, with the events it reported."""

    def __init__(self, store: Store, **kw) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()
        kw.setdefault("debounce_ms", 50)
        self.loop = CaptureLoop(store, actor=ACTOR, on_event=self._on, **kw)
        self.loop.start()

    def _on(self, ev: Event) -> None:
        with self.lock:
            self.events.append(ev)

    def of(self, kind: str) -> list[Event]:
        with self.lock:
            return [e for e in self.events if e.kind == kind]

    def stop(self) -> None:
        self.loop.stop()


def puts(store: Store) -> list:
    return [r for r in store.tail(1, 100_000) if r.op == "put"]


def wait_for(cond, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def settle(store: Store, n: int, quiet: float = 1.0) -> list:
    """Wait until there are n put rows, then a quiet spell (nothing more arrives)."""
    wait_for(lambda: len(puts(store)) >= n, f"{n} puts")
    time.sleep(quiet)
    return puts(store)


def watch(store: Store, folder: Path, **kw) -> config.Watched:
    return config.watch(store.layout, folder, **kw)[0]


# -- capture, modify, unchanged ----------------------------------------------------------


def test_create_modify_unchanged(store, notes) -> None:
    w = watch(store, notes)
    run = Running(store)
    try:
        (notes / "a.md").write_text("first\n")
        rows = settle(store, 1)
        assert len(rows) == 1
        path = rows[0].path
        assert path.startswith(f"memories/facts/captured/{w.id}/md-")
        m = store.view(path)
        assert m.body == b"first\n"
        assert m.sidecar.sync_class == "private"
        assert "source:capture" in m.sidecar.tags
        (notes / "a.md").write_text("second\n")
        rows = settle(store, 2)
        assert [r.path for r in rows] == [path, path]  # a new version of the same memory
        assert store.view(path).body == b"second\n"
        os.utime(notes / "a.md")  # touched, same content: no row
        (notes / "a.md").write_text("second\n")  # rewritten, same content: no row
        time.sleep(1.5)
        assert len(puts(store)) == 2
        wait_for(lambda: run.of("unchanged"), "an unchanged event")
    finally:
        run.stop()


def test_paths_never_hold_file_or_folder_names(store, tmp_path) -> None:
    folder = tmp_path / "Dana Reyes"
    folder.mkdir()
    (folder / "Call with Dana Reyes.md").write_text("notes of the call\n")
    watch(store, folder)
    run = Running(store)
    try:
        rows = settle(store, 1)
    finally:
        run.stop()
    assert "dana" not in rows[0].path.lower() and "reyes" not in rows[0].path.lower()
    # The title (sidecar only, erasable) keeps the name for the person reading it.
    assert store.view(rows[0].path).sidecar.title == "Call with Dana Reyes.md"


def test_odd_file_names(store, notes) -> None:
    """An NFD name (macOS) becomes an NFC title; a name that is not UTF-8 is never captured
    (no state file, title or log line could carry it); neither stops the others."""
    (notes / "Cafe\u0301.md").write_text("coffee\n")
    with open(os.fsencode(notes) + b"/bad-\xff.md", "wb") as f:
        f.write(b"latin name\n")
    (notes / "plain.md").write_text("plain\n")
    watch(store, notes)
    run = Running(store)
    try:
        rows = settle(store, 2, quiet=1.5)
    finally:
        run.stop()
    assert len(rows) == 2
    titles = sorted(store.view(r.path).sidecar.title for r in rows)
    assert titles == ["Caf\u00e9.md", "plain.md"]


def test_folder_defaults_apply_and_frontmatter_is_content(store, notes) -> None:
    watch(store, notes, sync_class="shareable", classification="confidential")
    body = "---\nsync_class: team-public\ntitle: x\n---\nbody\n"
    (notes / "f.md").write_text(body)
    run = Running(store)
    try:
        rows = settle(store, 1)
    finally:
        run.stop()
    m = store.view(rows[0].path)
    assert m.sidecar.sync_class == "shareable"
    assert m.sidecar.classification == "confidential"
    assert m.body == body.encode()  # byte-exact: the note cannot widen itself


# -- what is never captured --------------------------------------------------------------


def test_ignored_binary_and_oversized(store, notes) -> None:
    watch(store, notes, ignore=["*.log", "drafts"])
    for rel, data in {
        ".git/config": b"[core]\n",
        "node_modules/x/index.js": b"module.exports = 1\n",
        "build/out.txt": b"built\n",
        "__pycache__/m.txt": b"cache\n",
        "app.log": b"log line\n",
        "drafts/d.md": b"draft\n",
        "pic.png": b"not really a png\n",
        "bin.txt": b"a\x00b\n",
        "latin1.txt": "caf\xe9\n".encode("latin-1"),
        "big.txt": b"x" * ((1 << 20) + 1),
        "swap.md.swp": b"swap\n",
        "empty.md": b"   \n",
        "keep.md": b"kept\n",
    }.items():
        p = notes / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    run = Running(store)
    try:
        rows = settle(store, 1, quiet=1.5)
        (notes / ".git" / "HEAD").write_text("ref: x\n")  # events in ignored folders too
        (notes / "node_modules" / "y.js").write_text("y\n")
        time.sleep(1.5)
    finally:
        run.stop()
    rows = puts(store)
    assert len(rows) == 1
    assert store.view(rows[0].path).body == b"kept\n"
    fs = st.load_state(store.layout).folders[config.load(store.layout).folders[0].id]
    skipped = {rel: f.skip for rel, f in fs.files.items() if f.skip}
    assert skipped == {
        "bin.txt": "binary",
        "latin1.txt": "not UTF-8 text",
        "big.txt": "over 1 MiB",
        "empty.md": "empty",
    }


# -- debounce and rate limit -------------------------------------------------------------


def test_debounce_groups_a_burst_of_writes(store, notes) -> None:
    watch(store, notes)
    run = Running(store, debounce_ms=1500)
    try:
        time.sleep(0.5)  # the notifier is up
        for i in range(6):
            (notes / "burst.md").write_text(f"version {i}\n")
            time.sleep(0.03)
        rows = settle(store, 1, quiet=2.5)
    finally:
        run.stop()
    assert len(rows) <= 2  # six writes; one capture (two only if the machine stalled 1.5 s)
    assert store.view(rows[-1].path).body == b"version 5\n"


def test_rate_limit_delays_never_drops(store, notes) -> None:
    watch(store, notes, rate_per_s=5, burst=2)
    run = Running(store)
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        for i in range(12):
            (notes / f"n{i:02}.txt").write_text(f"note {i}\n")
        rows = settle(store, 12)
        elapsed = time.monotonic() - t0
    finally:
        run.stop()
    assert len(rows) == 12 and len({r.path for r in rows}) == 12
    assert elapsed >= (12 - 2) / 5 * 0.9  # ten of them waited for a token


# -- restart, the lock -------------------------------------------------------------------


def test_restart_resumes_without_duplicates(store, notes) -> None:
    watch(store, notes)
    for i in range(3):
        (notes / f"f{i}.md").write_text(f"file {i}\n")
    run = Running(store)
    try:
        settle(store, 3)
    finally:
        run.stop()
    (notes / "f1.md").write_text("changed while down\n")
    (notes / "f3.md").write_text("new while down\n")
    os.utime(notes / "f2.md")  # touched only
    run = Running(store)
    try:
        rows = settle(store, 5, quiet=1.5)
    finally:
        run.stop()
    counts = Counter(r.path for r in rows)
    assert len(rows) == 5 and sorted(counts.values()) == [1, 1, 1, 2]


def test_lost_state_file_costs_reads_not_duplicates(store, notes) -> None:
    watch(store, notes)
    (notes / "a.md").write_text("a\n")
    run = Running(store)
    try:
        settle(store, 1)
    finally:
        run.stop()
    st.state_path(store.layout).unlink()
    run = Running(store)
    try:
        wait_for(lambda: run.of("unchanged"), "the re-read")
    finally:
        run.stop()
    assert len(puts(store)) == 1


def test_second_loop_is_refused(store, notes) -> None:
    watch(store, notes)
    run = Running(store)
    try:
        with pytest.raises(st.CaptureBusy, match="already runs"):
            CaptureLoop(store, actor=ACTOR).start()
        assert st.is_running(store.layout)
    finally:
        run.stop()
    assert not st.is_running(store.layout)
    hb = st.load_heartbeat(store.layout)
    assert hb is not None and hb.stopped_ns > 0


def test_watch_while_running_and_folder_appearing(store, notes, tmp_path) -> None:
    run = Running(store)
    try:
        later = tmp_path / "later"
        later.mkdir()
        (later / "x.md").write_text("x\n")
        watch(store, later)  # picked up by the running loop
        settle(store, 1)
        (notes / "y.md").write_text("y\n")
        watch(store, notes)
        settle(store, 2)
    finally:
        run.stop()


def test_busy_store_delays(store, notes, monkeypatch) -> None:
    """A LeaseHeld store keeps the capture pending; it lands once the store is free."""
    watch(store, notes)
    real = pipeline.capture_many
    calls = {"n": 0}

    def flaky(s, items, *, actor):
        calls["n"] += 1
        if calls["n"] == 1:
            from core.errors import LeaseHeld

            raise LeaseHeld("busy")
        return real(s, items, actor=actor)

    monkeypatch.setattr(pipeline, "capture_many", flaky)
    (notes / "a.md").write_text("a\n")
    run = Running(store)
    try:
        rows = settle(store, 1)
        assert run.of("retry")
    finally:
        run.stop()
    assert len(rows) == 1


# -- the pipeline and one-off captures ---------------------------------------------------


def test_pipeline_bad_item_fails_alone(store) -> None:
    key = config.key(store.layout)
    items = [
        pipeline.Item(naming.text_path(key, b"one"), b"one\n", "one"),
        pipeline.Item(naming.text_path(key, b"bad"), b"\xff\xfe", "bad"),
        pipeline.Item("memories/facts/captured/text/Bad:Name.md", b"x\n", "x"),
        pipeline.Item(naming.text_path(key, b"two"), b"two\n", "two"),
    ]
    res = pipeline.capture_many(store, items, actor=ACTOR)
    assert [bool(r.error) for r in res] == [False, True, True, False]
    assert all(r.changed for r in (res[0], res[3]))
    assert len(puts(store)) == 2


def test_capture_once(store, notes, tmp_path) -> None:
    r1 = capture_once(store, "remember the milk", actor=ACTOR)
    assert r1.changed and r1.item.path.startswith("memories/facts/captured/text/note-")
    assert not capture_once(store, "remember the milk", actor=ACTOR).changed
    w = watch(store, notes, sync_class="personal")
    (notes / "in.md").write_text("inside\n")
    r2 = capture_once(store, str(notes / "in.md"), actor=ACTOR)
    assert r2.item.path == naming.file_path(config.key(store.layout), w.id, "in.md")
    assert store.view(r2.item.path).sidecar.sync_class == "personal"
    (tmp_path / "loose.txt").write_text("loose\n")
    r3 = capture_once(store, str(tmp_path / "loose.txt"), actor=ACTOR, sync_class="shareable")
    assert r3.item.path.startswith("memories/facts/captured/files/txt-")
    assert store.view(r3.item.path).sidecar.sync_class == "shareable"
    r4 = capture_once(store, str(tmp_path / "loose.txt"), actor=ACTOR, as_text=True)
    assert store.view(r4.item.path).body == str(tmp_path / "loose.txt").encode()
    (tmp_path / "b.bin").write_bytes(b"\x00\x01")
    with pytest.raises(BrainError, match="binary"):
        capture_once(store, str(tmp_path / "b.bin"), actor=ACTOR)
    with pytest.raises(BrainError, match="folder"):
        capture_once(store, str(notes), actor=ACTOR)
    with pytest.raises(BrainError, match="empty"):
        capture_once(store, "   ", actor=ACTOR)
    for typo in ("notes/todo.md", "todo.md", "~/x"):
        with pytest.raises(BrainError, match="no such file"):
            capture_once(store, typo, actor=ACTOR)
    assert capture_once(store, "todo.md", actor=ACTOR, as_text=True).changed
    # The loop later finds the file captured already: no second row.
    run = Running(store)
    try:
        wait_for(lambda: run.of("unchanged"), "the loop's read")
    finally:
        run.stop()
    assert len([r for r in puts(store) if r.path == r2.item.path]) == 1


# -- watch, unwatch, status --------------------------------------------------------------


def test_watch_rules(store, notes, tmp_path) -> None:
    w, added = config.watch(store.layout, notes)
    assert added and w.sync_class == "private"
    w2, added = config.watch(store.layout, notes, sync_class="team-public", ignore=["*.tmp2"])
    assert not added and w2.id == w.id and w2.sync_class == "team-public"
    (notes / "sub").mkdir()
    with pytest.raises(BrainError, match="overlaps"):
        config.watch(store.layout, notes / "sub")
    with pytest.raises(BrainError, match="overlaps"):
        config.watch(store.layout, tmp_path)
    with pytest.raises(BrainError, match="inside the store"):
        config.watch(store.layout, store.root / "memories")
    with pytest.raises(BrainError, match="no such folder"):
        config.watch(store.layout, tmp_path / "nope")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(BrainError, match="not a folder"):
        config.watch(store.layout, tmp_path / "f.txt")
    config.unwatch(store.layout, notes)
    assert config.load(store.layout).folders == []
    with pytest.raises(BrainError, match="not watched"):
        config.unwatch(store.layout, notes)
    # Watched again: the same id, so the same memories (no duplicates after a re-watch).
    assert config.watch(store.layout, notes)[0].id == w.id


def test_status(store, notes) -> None:
    watch(store, notes)
    (notes / "a.md").write_text("a\n")
    run = Running(store)
    try:
        settle(store, 1)
        s = status(store)
        assert s.daemon.running and not s.daemon.stuck
    finally:
        run.stop()
    s = status(store)
    assert not s.daemon.running
    assert s.captured_total == 1 and s.head_seq >= 1
    assert s.watched[0].captured == 1 and s.watched[0].exists
    assert s.pending_pii == 0 and s.last_sync == "never"
    assert s.state == "READY"
    msgspec.json.encode(s)


# -- doctor ------------------------------------------------------------------------------


def test_doctor_watched_folder_missing(store, notes, tmp_path) -> None:
    from core.doctor.runner import run as run_doctor

    watch(store, notes)
    rep = run_doctor(store)
    assert rep.result("capture.watched_folders").status == "PASS"
    notes.rename(tmp_path / "moved")
    rep = run_doctor(store)
    r = rep.result("capture.watched_folders")
    assert r.status == "WARN" and "missing" in r.detail
    assert rep.state == "READY"  # a warning about this machine's folders never freezes


def test_doctor_daemon_stuck(store) -> None:
    from core.doctor.runner import run as run_doctor

    lock = st.CaptureLock(store.layout, "brain capture-daemon")
    lock.acquire()
    try:
        old = time.time_ns() - (STUCK_AFTER_S + 30) * 1_000_000_000
        st.save_heartbeat(store.layout, st.Heartbeat(os.getpid(), "h", "p", old, old))
        rep = run_doctor(store)
        r = rep.result("capture.daemon")
        assert r.status == "WARN" and "stuck" in r.detail
        assert rep.state == "READY"
        assert status(store).daemon.stuck
        now = time.time_ns()
        st.save_heartbeat(store.layout, st.Heartbeat(os.getpid(), "h", "p", now, now))
        assert run_doctor(store).result("capture.daemon").status == "PASS"
    finally:
        lock.release()
    assert run_doctor(store).result("capture.daemon").detail == "no capture loop is running"


def test_folder_removed_and_restored_while_running(store, notes, monkeypatch) -> None:
    from core.capture import loop as loop_mod

    monkeypatch.setattr(loop_mod, "RESCAN_MISSING_S", 0.3)
    watch(store, notes)
    run = Running(store)
    try:
        time.sleep(0.5)
        notes.rmdir()
        wait_for(lambda: run.loop.missing, "the folder to be noticed missing")
        notes.mkdir()
        (notes / "back.md").write_text("back\n")
        rows = settle(store, 1)
    finally:
        run.stop()
    assert store.view(rows[0].path).body == b"back\n"


def test_without_a_notifier_the_folders_are_walked(store, notes, monkeypatch) -> None:
    from core.capture import loop as loop_mod

    monkeypatch.setattr(loop_mod, "RESCAN_MISSING_S", 0.3)
    monkeypatch.setattr(loop_mod.CaptureLoop, "_notifier", lambda self, paths: None)
    watch(store, notes)
    run = Running(store)
    try:
        time.sleep(0.5)
        (notes / "walked.md").write_text("found by walking\n")
        rows = settle(store, 1)
    finally:
        run.stop()
    assert len(rows) == 1


def test_links_lead_nowhere_out_of_a_watched_folder(store, notes, tmp_path) -> None:
    """A link to a folder outside (made before the loop started, and another while it runs),
    a link to the store itself (its keys, its manifest) and a link to a file are never
    followed: only the files really in the folder are captured."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the ledger\n")
    (notes / "before").symlink_to(outside)
    (notes / "store").symlink_to(store.layout.root)
    (notes / "file-link.txt").symlink_to(outside / "secret.txt")
    (notes / "real.txt").write_text("mine\n")
    watch(store, notes)
    run = Running(store)
    try:
        settle(store, 1)
        (notes / "during").symlink_to(outside)
        (outside / "later.txt").write_text("also not\n")
        (outside / "secret.txt").write_text("not for the ledger, edited\n")
        (notes / "real2.txt").write_text("mine too\n")
        rows = settle(store, 2, quiet=1.5)
    finally:
        run.stop()
    bodies = sorted(store.view(r.path).body for r in rows)
    assert bodies == [b"mine\n", b"mine too\n"]


def test_a_watched_folder_replaced_by_a_link_is_not_read(store, notes, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the ledger\n")
    watch(store, notes)
    notes.rmdir()
    notes.symlink_to(outside)
    run = Running(store)
    try:
        time.sleep(1.5)
        (outside / "later.txt").write_text("also not\n")
        time.sleep(1.5)
    finally:
        run.stop()
    assert puts(store) == []
