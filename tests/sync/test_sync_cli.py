"""`brain sync …` and `brain sync-mode` against a real hub (docs/sync.md, "Commands")."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from brain_tui.cli.main import main as brain
from core.store import Store
from tests.sync.fleet import ANA, ORG

REPO = Path(__file__).resolve().parents[2]


def _argv(root: Path, *rest: str) -> list[str]:
    return ["--store", str(root), "--allow-temp-store", *rest]


def _json(capsys, root: Path, *rest: str) -> dict:
    capsys.readouterr()
    assert brain(_argv(root, *rest, "--json")) == 0
    return json.loads(capsys.readouterr().out)


def test_join_sync_status_mode_leave(hub, tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for root, user in ((a, "ana"), (b, "bob")):
        Store.init(root, allow_temp=True).close()
        tok = tmp_path / f"{user}.token"
        tok.write_text(hub.token(ORG, user, device=f"{user}-laptop") + "\n")
        assert brain(_argv(root, "sync", "join", hub.url, "--token-file", str(tok))) == 0
        assert f"org {ORG}, user {user} (member)" in capsys.readouterr().out
    assert json.loads((a / "local" / "sync.json").read_text())["mode"] == "normal"
    assert brain(_argv(a, "sync-mode", "manual")) == 0
    with Store.open(a, allow_temp=True) as s:
        s.put("memories/facts/x.md", "shared\n", actor=ANA, sync_class="shareable")
        s.put("memories/facts/y.md", "mine\n", actor=ANA)
    assert brain(_argv(a, "sync", "--push-only")) == 0
    out = capsys.readouterr().out
    assert "pushed: 1 accepted, 0 duplicate, 0 refused" in out and "pulled" not in out
    rep = _json(capsys, b, "sync")
    assert (rep["pulled"], rep["imported"], rep["errors"]) == (1, 1, [])
    st = _json(capsys, a, "sync", "status")
    assert st["outbox"]["confirmed"] == 1 and st["mode"] == "manual" and st["user"] == "ana"
    assert "token" not in st
    assert brain(_argv(b, "sync", "status")) == 0
    out = capsys.readouterr().out
    assert "1 imported" in out and f"org {ORG}" in out
    assert hub.url in _json(capsys, a, "status")["last_sync"]  # `brain status`
    assert brain(_argv(a, "sync", "leave")) == 0
    assert not (a / "local" / "sync.json").exists()
    capsys.readouterr()
    assert brain(_argv(a, "sync")) == 1  # not joined: said, not a traceback
    assert "has not joined a hub" in capsys.readouterr().err


def test_usage_errors(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "a"
    Store.init(root, allow_temp=True).close()
    assert brain(_argv(root, "sync", "join", "http://127.0.0.1:9")) == 2
    assert brain(_argv(root, "sync", "status", "--push-only")) == 2
    assert brain(_argv(root, "sync-mode", "sometimes")) == 2
    assert brain(_argv(root, "sync", "resolve", "memories/facts/x.md", "--take", "mine")) == 2
    assert brain(_argv(root, "sync", "--take", "mine")) == 2
    origin = "0" * 32
    assert (
        brain(
            _argv(
                root, "sync", "resolve", "memories/facts/x.md", "--origin", origin, "--take", "mine"
            )
        )
        == 1
    )
    assert "no conflict copy" in capsys.readouterr().err
    bad = tmp_path / "t"
    bad.write_text("not a jwt")
    assert brain(_argv(root, "sync", "join", "http://127.0.0.1:9", "--token-file", str(bad))) == 1
    assert "not a hub token" in capsys.readouterr().err


def test_help_loads_no_http_and_no_sync_module() -> None:
    code = (
        "import sys; from brain_tui.cli.main import main\n"
        "assert main(['--help']) == 0\n"
        "bad = [m for m in sys.modules if m.startswith(('http', 'core.sync', 'urllib'))]\n"
        "print('LOADED', bad, file=sys.stderr)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=REPO, timeout=60)
    assert p.returncode == 0 and b"LOADED []" in p.stderr, p.stderr.decode()


def test_joining_another_hub_starts_the_queue_over(hub, tmp_path: Path) -> None:
    with Store.init(tmp_path / "a", allow_temp=True) as s:
        s.sync.join(hub.url, hub.token(ORG, "ana", device="a1"), mode="manual")
        s.put("memories/facts/x.md", "shared\n", actor=ANA, sync_class="shareable")
        assert s.sync.run().pushed == 1
        s.sync.join(hub.url, hub.token(ORG, "ana", device="a1"), mode="manual")  # same: kept
        assert s.sync.status().outbox["confirmed"] == 1
        s.sync.join(hub.url, hub.token("other", "ana", device="a1"), mode="manual")
        st = s.sync.status()
        assert st.org == "other" and st.outbox["confirmed"] == 0
        assert s.sync.run().pushed == 1  # pushed again, to the other org


def test_sync_state_is_never_exported(hub, tmp_path: Path) -> None:
    with Store.init(tmp_path / "a", allow_temp=True) as s:
        s.sync.join(hub.url, hub.token(ORG, "ana", device="a1"), mode="manual")
        s.put("memories/facts/x.md", "shared\n", actor=ANA, sync_class="shareable")
        assert s.sync.run().ok
        token = s.sync.config().token
        out = tmp_path / "a.zip"
        s.export(out)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert not [n for n in names if n.startswith("local/") or "sync." in n]
        assert all(token.encode() not in z.read(n) for n in names)


def _confirmed(root: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{root / 'local' / 'sync.sqlite'}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT count(*) FROM outbox WHERE state = 'confirmed'").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return 0
    return int(row[0])


def test_capture_daemon_runs_the_orchestrator(hub, tmp_path: Path) -> None:
    root = tmp_path / "a"
    with Store.init(root, allow_temp=True) as s:
        s.sync.join(hub.url, hub.token(ORG, "ana", device="a1"), mode="realtime")
        s.put("memories/facts/x.md", "shared\n", actor=ANA, sync_class="shareable")
    env = dict(os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1")
    cmd = [sys.executable, "-m", "brain_tui.cli.main", "capture-daemon", "--store", str(root)]
    p = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120  # a bound on a hang, not a timing
        while _confirmed(root) < 1 and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _confirmed(root) == 1, "the daemon's orchestrator never pushed"
        with Store.open(root, allow_temp=True, read_only=True) as s:
            st = s.sync.status()
            assert st.orchestrator_alive and st.heartbeat_ns > 0
            assert s.doctor().result("sync.orchestrator").status == "PASS"
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0, p.stderr.read().decode() if p.stderr else ""


def test_join_refuses_malformed_urls_and_files_in_one_line(tmp_path: Path, capsys) -> None:
    root = tmp_path / "a"
    Store.init(root, allow_temp=True).close()
    tok = tmp_path / "t"
    # A well-formed (unchecked) JWT with an org claim: the URL and CA checks come next.
    tok.write_text("e30.eyJvcmciOiAiYWNtZSJ9.c2ln\n")
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate\n")
    cases = [
        (["https://[::1", "--token-file", str(tok)], "hub URL 'https://[::1': invalid IPv6 URL"),
        (["http://127.0.0.1:99999", "--token-file", str(tok)], "port out of range"),
        (["http://127.0.0.1:x", "--token-file", str(tok)], "hub URL 'http://127.0.0.1:x'"),
        (
            ["https://127.0.0.1:9", "--token-file", str(tok), "--ca-file", str(not_pem)],
            f"--ca-file {not_pem}: not a CA certificate file (no PEM certificate in it)",
        ),
        (["http://127.0.0.1:9", "--token-file", "/nonexistent"], "--token-file /nonexistent:"),
        (["http://127.0.0.1:9", "--token-file", str(tmp_path)], "is a folder"),
    ]
    for rest, want in cases:
        capsys.readouterr()
        assert brain(_argv(root, "sync", "join", *rest)) == 1, rest
        err = capsys.readouterr().err
        assert err.startswith("brain: error: ") and want in err, (rest, err)
        assert len(err.strip().splitlines()) == 1, err
        assert "ValueError" not in err and "SSLError" not in err and "Errno" not in err, err
    assert not (root / "local" / "sync.json").exists()
