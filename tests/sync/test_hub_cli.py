"""`brain hub`: the operator's commands, run as a person would (a subprocess each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from core.sync.hub.auth import HubKey

REPO = Path(__file__).resolve().parents[2]


def brain(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def ok(*args: str) -> str:
    p = brain(*args)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_init_add_org_add_user_list_and_revoke(tmp_path: Path) -> None:
    hub = str(tmp_path / "hub")
    out = ok("hub", "init", "--hub", hub)
    key = HubKey.load(Path(hub))
    assert key.id in out
    assert (Path(hub) / "hub.key").stat().st_mode & 0o777 == 0o600
    p = brain("hub", "init", "--hub", hub)
    assert p.returncode == 1 and "already holds a hub" in p.stderr
    ok("hub", "add-org", "acme", "--hub", hub, "--org-only-roles", "admin")
    token = ok(
        "hub", "add-user", "acme", "ana", "--role", "admin", "--device", "laptop", "--hub", hub
    )
    claims = key.decode(token.strip())
    assert (claims.org, claims.user, claims.role, claims.device) == (
        "acme",
        "ana",
        "admin",
        "laptop",
    )
    tf = tmp_path / "bob.token"
    out = ok(
        "hub", "add-user", "acme", "bob", "--device", "desk", "--token-file", str(tf), "--hub", hub
    )
    assert "written to" in out and tf.stat().st_mode & 0o777 == 0o600
    assert key.decode(tf.read_text().strip()).role == "member"
    listed = json.loads(ok("hub", "list", "--json", "--hub", hub))
    (acme,) = listed
    assert acme["org"] == "acme" and acme["org_only_roles"] == ["admin"]
    assert [(u["user"], u["role"], [d["device"] for d in u["devices"]]) for u in acme["users"]] == [
        ("ana", "admin", ["laptop"]),
        ("bob", "member", ["desk"]),
    ]
    assert "revoked device desk" in ok("hub", "revoke", "acme", "--device", "desk", "--hub", hub)
    assert "desk (revoked)" in ok("hub", "list", "--hub", hub)


def test_mistakes_get_a_message_to_act_on(tmp_path: Path) -> None:
    hub = str(tmp_path / "hub")
    p = brain("hub", "list", "--hub", hub)
    assert p.returncode == 1 and "brain hub init" in p.stderr
    ok("hub", "init", "--hub", hub)
    p = brain("hub", "add-user", "nope", "ana", "--device", "d", "--hub", hub)
    assert p.returncode == 1 and "brain hub add-org nope" in p.stderr
    p = brain("hub", "add-org", "Bad/Org", "--hub", hub)
    assert p.returncode == 1 and "not allowed" in p.stderr
    p = brain("hub", "add-org", "acme", "--org-only-roles", "boss", "--hub", hub)
    assert p.returncode == 1 and "unknown role" in p.stderr
    ok("hub", "add-org", "acme", "--hub", hub)
    p = brain("hub", "revoke", "acme", "--user", "ghost", "--hub", hub)
    assert p.returncode == 1 and "no user ghost" in p.stderr
    p = brain("hub", "serve", "--hub", hub, "--bind", "localhost")
    assert p.returncode == 1 and "HOST:PORT" in p.stderr
    p = brain("hub", "serve", "--hub", hub, "--cert", "c.pem")
    assert p.returncode == 1 and "both --cert and --key" in p.stderr


def test_hub_init_on_a_file_says_so_in_one_line(tmp_path: Path) -> None:
    f = tmp_path / "afile"
    f.write_text("keep me\n")
    for hub, want in (
        (f, f"{f} is a file, not a folder"),
        (f / "sub", f"cannot create the hub folder {f / 'sub'}: {f} is a file, not a folder"),
    ):
        p = brain("hub", "init", "--hub", str(hub))
        assert p.returncode == 1 and p.stderr.startswith("brain: error: "), p.stderr
        assert want in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert "Error" not in p.stderr.removeprefix("brain: error: "), p.stderr
    assert f.read_text() == "keep me\n"


def test_serve_checks_everything_before_it_says_serving(tmp_path: Path) -> None:
    import socket

    hub = str(tmp_path / "hub")
    ok("hub", "init", "--hub", hub)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        cases = [
            (["--bind", "127.0.0.1:99999"], "HOST:PORT"),
            (["--cert", str(tmp_path / "c.pem")], "both --cert and --key"),
            (
                ["--bind", f"127.0.0.1:{port}"],
                f"cannot listen on 127.0.0.1:{port}: the port is in use",
            ),
        ]
        for extra, want in cases:
            p = brain("hub", "serve", "--hub", hub, *extra)
            assert p.returncode == 1 and "serving" not in p.stderr, (extra, p.stderr)
            assert p.stderr.startswith("brain: error: ") and want in p.stderr, (extra, p.stderr)
            assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_add_user_refuses_a_ttl_out_of_range(tmp_path: Path) -> None:
    hub = str(tmp_path / "hub")
    ok("hub", "init", "--hub", hub)
    ok("hub", "add-org", "acme", "--hub", hub)
    for ttl in ("0", "-5", "99999999999", "3651"):
        p = brain(
            "hub", "add-user", "acme", "ana", "--device", "d", f"--ttl-days={ttl}", "--hub", hub
        )
        assert p.returncode == 2 and f"--ttl-days {ttl}: a token lives 1 to 3650 days" in p.stderr
        assert p.stdout == "" and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert json.loads(ok("hub", "list", "--json", "--hub", hub))[0]["users"] == []
    assert ok("hub", "add-user", "acme", "ana", "--device", "d", "--ttl-days", "3650", "--hub", hub)


def test_the_cli_does_not_load_the_server_until_serve() -> None:
    code = (
        "import sys; import brain_tui.cli.cmd_hub, brain_tui.cli.main;"
        "bad = [m for m in ('starlette', 'uvicorn', 'jwt', 'core.sync') if m in sys.modules];"
        "print(bad)"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "[]", out.stderr
