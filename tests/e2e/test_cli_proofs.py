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


def test_verify_proof_wrong_field_types_and_key_file(tmp_path):
    store = tmp_path / "s"
    env = {"XDG_STATE_HOME": str(tmp_path / "state")}
    brain(store, "init", env_extra=env)
    brain(store, "put", "memories/facts/a.md", input="a\n", env_extra=env)
    out = tmp_path / "proof.json"
    brain(store, "prove", "--seq", "1", "--out", str(out), env_extra=env)
    good = json.loads(out.read_text())
    vkey_file = next((store / "keys").glob("*.vkey"))
    # --key may name the store's .vkey file, as the unpinned note suggests.
    ok = brain(None, "verify-proof", str(out), "--key", str(vkey_file))
    assert ok.stdout.startswith("valid: row 1 is included"), ok.stdout
    cases = [
        ({"checkpoint": None}, "checkpoint must be a string"),
        ({"public_key": 1}, "public_key must be a string"),
        ({"root": None}, "root must be a base64 string"),
        ({"proof": 1}, "proof must be a list"),
        ({"proof": [1]}, "proof must be a base64 string"),
        ({"leaf": []}, "leaf must be a base64 string"),
    ]
    bad_file = tmp_path / "bad.json"
    for change, want in cases:
        bundle = {**good, **change}
        bad_file.write_text(json.dumps(bundle))
        p = brain(None, "verify-proof", str(bad_file), check=False)
        assert p.returncode == 1 and want in p.stdout, (change, p.stdout, p.stderr)
        assert "Error" not in p.stdout + p.stderr and "Traceback" not in p.stderr
        j = brain(None, "verify-proof", str(bad_file), "--json", check=False)
        assert j.returncode == 1, (change, j.stderr)
        verdict = json.loads(j.stdout)
        assert verdict["valid"] is False and want in verdict["reason"]
    for field in ("root", "checkpoint", "public_key", "leaf", "proof"):
        bundle = dict(good)
        del bundle[field]
        bad_file.write_text(json.dumps(bundle))
        p = brain(None, "verify-proof", str(bad_file), "--json", check=False)
        assert p.returncode == 1 and json.loads(p.stdout)["reason"] == f"missing field {field}"
    # The consistency bundle checks its fields the same way.
    brain(store, "checkpoint", env_extra=env)
    cons = {
        "format": "brain-consistency/v1",
        "size1": 1,
        "size2": 1,
        "root1": good["root"],
        "root2": good["root"],
        "proof": [],
        "checkpoint1": good["checkpoint"],
        "checkpoint2": None,
        "public_key": good["public_key"],
    }
    bad_file.write_text(json.dumps(cons))
    p = brain(None, "verify-proof", str(bad_file), "--json", check=False)
    assert json.loads(p.stdout)["reason"] == "checkpoint2 must be a string"
