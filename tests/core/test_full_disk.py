"""A full disk on a real (small tmpfs) file system: a writer that dies half-way through applying
a committed group while the disk is full; `state` and `doctor` work meanwhile and never record
a person's freeze; once space is freed, the next write replays the group and doctor is READY."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import verdict
from core.store import Store

REPO = Path(__file__).resolve().parents[2]
F = "memories/facts"

# Commits a put, writes its body, then finds the disk full at the sidecar and dies (as a
# killed process would) before anything else is applied.
HALF_APPLIED = """
import os, sys
from core import fsio
from core.write import apply_files as apply_mod
from core.store import Store
root, fill = sys.argv[1], sys.argv[2]
real = fsio.rename
def rename(src, dst):  # applying the committed group: its sidecar's temp takes its name
    if str(dst).endswith('half.meta.json'):
        with open(fill, 'wb') as f:  # the disk fills up right now
            try:
                while True:
                    f.write(b'\\0' * 65536)
            except OSError:
                pass
        os._exit(9)
    return real(src, dst)
apply_mod.fsio.rename = rename
s = Store.open(root, allow_temp=True)
s.put('memories/facts/half.md', 'committed, half applied\\n', actor='human:ana@laptop')
"""


def brain(root: Path, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = dict(
        os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1", BRAIN_ACTOR="human:cli@box"
    )
    return subprocess.run(
        [sys.executable, "-m", "brain_tui.cli.main", "--store", str(root), *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )


@pytest.fixture
def small_disk(tmp_path: Path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    p = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True
    )
    if p.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {p.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_half_applied_group_on_a_full_disk(small_disk: Path) -> None:
    root, fill = small_disk / "store", small_disk / "fill"
    with Store.init(root, allow_temp=True) as s:
        for i in range(3):
            s.put(f"{F}/{i}.md", f"acknowledged {i}\n", actor="human:ana@laptop")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.run(
        [sys.executable, "-c", HALF_APPLIED, str(root), str(fill)], env=env, cwd=REPO
    )
    assert p.returncode == 9
    # While the disk is full: reads and the doctor work, and nothing records a person's freeze.
    st = brain(root, "state", "--json")
    assert st.returncode == 0, st.stderr
    assert b"FROZEN_HUMAN" not in st.stdout
    assert brain(root, "view", f"{F}/1.md").stdout == b"acknowledged 1\n"
    d = brain(root, "doctor")
    assert d.returncode in (0, 3), d.stdout.decode()[:3000] + d.stderr.decode()
    v = verdict.read(Store.open(root, allow_temp=True, read_only=True).layout)
    assert v is None or v.state != verdict.FROZEN_HUMAN
    w = brain(root, "put", f"{F}/more.md", "-", stdin=b"more\n")
    assert w.returncode == 1 and b"Traceback" not in w.stderr
    # Space is freed: the next write replays the committed group, then writes its own.
    fill.unlink()
    w = brain(root, "put", f"{F}/more.md", "-", stdin=b"more\n")
    assert w.returncode == 0, w.stderr
    assert brain(root, "view", f"{F}/half.md").stdout == b"committed, half applied\n"
    for i in range(3):
        assert brain(root, "view", f"{F}/{i}.md").stdout == f"acknowledged {i}\n".encode()
    d = brain(root, "doctor")  # READY without a repair: no stray temp file, no verdict
    assert d.returncode == 0, d.stdout.decode()[:3000]
