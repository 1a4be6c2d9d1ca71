"""Capture end to end: `brain watch/unwatch/status/capture/capture-daemon` as subprocesses, the
daemon killed with SIGKILL and restarted, and a second daemon refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from core.store import Store

ACTOR = "agent:capture-e2e"
WAIT = 60.0


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CYBEROS_BRAIN_HOME", "BRAIN_DEBUG")}
    env.update(BRAIN_ALLOW_TEMP_STORE="1", BRAIN_ACTOR=ACTOR, PYTHONDONTWRITEBYTECODE="1")
    return env


def _cmd(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "brain_tui.cli.main", "--store", str(root), *args]


def brain(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(_cmd(root, *args), capture_output=True, env=_env(), timeout=120)


def ok(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    p = brain(root, *args)
    assert p.returncode == 0, p.stderr.decode()
    return p


def daemon(root: Path, tmp_path: Path, name: str = "d") -> subprocess.Popen:
    err = open(tmp_path / f"{name}.err", "wb")
    return subprocess.Popen(
        _cmd(root, "capture-daemon", "--debounce-ms", "100"),
        stdout=subprocess.DEVNULL,
        stderr=err,
        env=_env(),
    )


def stop(p: subprocess.Popen, sig: int = signal.SIGTERM) -> int:
    if p.poll() is None:
        p.send_signal(sig)
    return p.wait(timeout=60)


def puts(root: Path) -> list:
    with Store.open(root, allow_temp=True, read_only=True) as s:
        return [r for r in s.tail(1, 100_000) if r.op == "put"]


def settle(root: Path, n: int, quiet: float = 1.5) -> list:
    deadline = time.monotonic() + WAIT
    while len(puts(root)) < n:
        assert time.monotonic() < deadline, f"timed out waiting for {n} puts"
        time.sleep(0.2)
    time.sleep(quiet)
    return puts(root)


def wait_running(root: Path, p: subprocess.Popen) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        assert p.poll() is None, "the daemon exited"
        s = json.loads(ok(root, "status", "--json").stdout)
        if s["daemon"]["running"] and s["daemon"]["beat_ns"]:
            return
        assert time.monotonic() < deadline, "the daemon never started"
        time.sleep(0.2)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "store"
    ok(r, "init")
    return r


def test_watch_unwatch_status_json(root, tmp_path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    out = json.loads(
        ok(
            root,
            "watch",
            str(notes),
            "--default-sync-class",
            "shareable",
            "--default-classification",
            "confidential",
            "--ignore",
            "*.log",
            "tmp",
            "--json",
        ).stdout
    )
    assert out["added"] and out["folder"]["sync_class"] == "shareable"
    assert out["folder"]["ignore"] == ["*.log", "tmp"]
    text = ok(root, "watch", str(notes), "--default-sync-class", "personal").stdout.decode()
    assert text.startswith("updated")
    s = json.loads(ok(root, "status", "--json").stdout)
    assert [w["path"] for w in s["watched"]] == [str(notes.resolve())]
    w = s["watched"][0]
    assert (w["sync_class"], w["classification"]) == ("personal", "confidential")
    assert s["daemon"]["running"] is False and s["last_sync"] == "never"
    assert s["pending_pii"] == 0 and "brain pending" in s["pending_pii_note"]
    assert s["state"] == "READY" and s["head_seq"] == 0
    human = ok(root, "status").stdout.decode()
    assert "not running" in human and str(notes.resolve()) in human
    p = brain(root, "watch", str(tmp_path / "missing"))
    assert p.returncode == 1 and b"no such folder" in p.stderr
    ok(root, "unwatch", str(notes))
    assert json.loads(ok(root, "status", "--json").stdout)["watched"] == []
    p = brain(root, "unwatch", str(notes))
    assert p.returncode == 1 and b"not watched" in p.stderr


def test_capture_once_cli(root, tmp_path) -> None:
    out = json.loads(ok(root, "capture", "call the plumber", "--json").stdout)
    assert out["changed"] and out["path"].startswith("memories/facts/captured/text/")
    assert ok(root, "capture", "call the plumber").stdout.startswith(b"unchanged")
    f = tmp_path / "todo.md"
    f.write_text("- buy milk\n")
    line = ok(root, "capture", str(f), "--sync-class", "personal").stdout.decode()
    assert line.startswith("captured") and "todo" not in line
    path = line.split()[-1]
    view = json.loads(ok(root, "view", path, "--meta", "--json").stdout)
    assert "personal" in json.dumps(view)
    p = brain(root, "capture", "   ")
    assert p.returncode == 1 and b"empty" in p.stderr


def test_daemon_sigkill_restart_no_duplicates(root, tmp_path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(5):
        (notes / f"n{i}.md").write_text(f"note {i}\n")
    ok(root, "watch", str(notes))
    d = daemon(root, tmp_path)
    try:
        wait_running(root, d)
        settle(root, 5)
        (notes / "live.md").write_text("written while it runs\n")
        settle(root, 6)
    finally:
        assert stop(d, signal.SIGKILL) == -signal.SIGKILL
    # While it is down: one changed, one new, one touched only.
    (notes / "n1.md").write_text("note 1, changed\n")
    (notes / "n5.md").write_text("note 5\n")
    os.utime(notes / "n2.md")
    d = daemon(root, tmp_path, "d2")
    try:
        wait_running(root, d)
        rows = settle(root, 8, quiet=2.0)
    finally:
        assert stop(d) == 0
    counts = Counter(r.path for r in rows)
    assert len(rows) == 8, counts
    assert sorted(counts.values()) == [1] * 6 + [2]
    s = json.loads(ok(root, "status", "--json").stdout)
    assert s["daemon"]["running"] is False and s["captured_total"] == 7


def test_second_daemon_refused(root, tmp_path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    ok(root, "watch", str(notes))
    d = daemon(root, tmp_path)
    try:
        wait_running(root, d)
        p = brain(root, "capture-daemon")
        assert p.returncode == 1
        err = p.stderr.decode().strip()
        assert err.startswith("brain: error: a capture loop already runs")
        assert f"pid {d.pid}" in err and len(err.splitlines()) == 1
        (notes / "a.md").write_text("still captured by the first\n")
        settle(root, 1)
    finally:
        assert stop(d) == 0


def test_doctor_names_a_missing_watched_folder(root, tmp_path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    ok(root, "watch", str(notes))
    notes.rmdir()
    p = brain(root, "doctor", "--json")
    assert p.returncode == 0, p.stderr.decode()  # a warning: the store stays READY
    rep = json.loads(p.stdout)
    r = next(r for r in rep["results"] if r["id"] == "capture.watched_folders")
    assert r["status"] == "WARN" and "missing" in r["detail"]
    s = json.loads(ok(root, "status", "--json").stdout)
    assert s["watched"][0]["exists"] is False


def test_capture_of_a_device_says_what_it_is(root) -> None:
    """`/dev/zero` exists: "no such file" would send the user looking for a typo."""
    p = brain(root, "capture", "/dev/zero")
    assert p.returncode == 1 and b"not a regular file" in p.stderr, p.stderr.decode()
