"""The proof commands as a stranger uses them: prove on one machine, verify with the bundle only."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def brain(store, *args, check=True, env_extra=None, input=None):
    env = dict(os.environ, BRAIN_ALLOW_TEMP_STORE="1")
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "brain_tui.cli.main"]
    if store is not None:
        cmd += ["--store", str(store)]
    p = subprocess.run(cmd + list(args), capture_output=True, text=True, env=env, input=input)
    if check and p.returncode != 0:
        raise AssertionError(f"{args}: rc={p.returncode}\n{p.stdout}\n{p.stderr}")
    return p


def test_prove_then_verify_without_the_store(tmp_path):
    store = tmp_path / "s"
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    brain(store, "init", env_extra=env)
    for i in range(3):
        brain(store, "put", f"memories/facts/f{i}.md", input=f"fact {i}\n", env_extra=env)
    out = tmp_path / "proof.json"
    brain(store, "prove", "--seq", "2", "--out", str(out), env_extra=env)
    bundle = json.loads(out.read_text())
    assert bundle["format"] == "brain-proof/v1" and bundle["seq"] == 2
    # The verifier needs nothing but the bundle: no --store, and the store is gone.
    (store / "manifest.json").rename(store / "manifest.gone")
    vkey = next((store / "keys").glob("*.vkey")).read_text().strip()
    ok = brain(None, "verify-proof", str(out), "--key", vkey)
    assert ok.stdout.startswith("valid: row 2 is included")
    bundle["root"] = bundle["leaf_hash"]
    out.write_text(json.dumps(bundle))
    bad = brain(None, "verify-proof", str(out), check=False)
    assert bad.returncode == 1 and bad.stdout.startswith("invalid:")
    assert "Traceback" not in bad.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    bad = brain(None, "verify-proof", str(garbage), "--json", check=False)
    assert bad.returncode == 1 and json.loads(bad.stdout)["valid"] is False


def test_checkpoint_consistency_and_rotation_commands(tmp_path):
    store = tmp_path / "s"
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    brain(store, "init", env_extra=env)
    brain(store, "put", "memories/facts/a.md", input="a\n", env_extra=env)
    first = json.loads(brain(store, "checkpoint", "--json", env_extra=env).stdout)
    brain(store, "put", "memories/facts/b.md", input="b\n", env_extra=env)
    second = json.loads(brain(store, "checkpoint", "--json", env_extra=env).stdout)
    p = brain(store, "consistency", str(first["size"]), str(second["size"]), env_extra=env)
    assert p.stdout.startswith("consistent:")
    note = tmp_path / "first.note"
    note.write_text(first["note"])
    p = brain(store, "consistency", str(note), str(second["size"]), "--json", env_extra=env)
    assert json.loads(p.stdout)["valid"] is True
    p = brain(store, "consistency", "999", str(second["size"]), check=False, env_extra=env)
    assert p.returncode == 1 and "no checkpoint of size 999" in p.stderr
    rot = json.loads(brain(store, "rotate-key", "--json", env_extra=env).stdout)
    assert rot["phase"] == "start"
    fin = json.loads(brain(store, "rotate-key", "--finish", "--json", env_extra=env).stdout)
    assert fin["active"] == rot["new"]


def test_verify_proof_without_key_says_not_pinned_and_prove_out_missing_folder(tmp_path):
    store = tmp_path / "s"
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    brain(store, "init", env_extra=env)
    brain(store, "put", "memories/facts/a.md", input="a\n", env_extra=env)
    missing = tmp_path / "no" / "such" / "proof.json"
    bad = brain(store, "prove", "--seq", "1", "--out", str(missing), check=False, env_extra=env)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "does not exist" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert not missing.parent.exists()
    out = tmp_path / "proof.json"
    brain(store, "prove", "--seq", "1", "--out", str(out), env_extra=env)
    # No --key: valid only against the key the bundle carries, and it says so.
    p = brain(None, "verify-proof", str(out))
    assert p.stdout.startswith("valid against the bundle's own key only (key not pinned)")
    assert "--key" in p.stderr
    assert json.loads(brain(None, "verify-proof", str(out), "--json").stdout)["key_pinned"] is False
    vkey = next((store / "keys").glob("*.vkey")).read_text().strip()
    p = brain(None, "verify-proof", str(out), "--key", vkey)
    assert p.stdout.startswith("valid: row 1 is included")
    assert json.loads(brain(None, "verify-proof", str(out), "--key", vkey, "--json").stdout)[
        "key_pinned"
    ]
