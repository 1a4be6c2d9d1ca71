"""A full disk and a read-only mount, end to end (issue 9).

Full disk: the store lives on a 4 MiB tmpfs; a long-lived Store fills it with writes, a filler
file takes the last bytes; writes must then be refused with a clear BrainError (and a one-line
`brain: error:` from the CLI), nothing acknowledged may be lost, `brain state` and `brain
doctor` must still work, and once space is freed `brain doctor --repair` (at worst) brings the
store back READY with every acknowledged write.

Read-only: the store is bind-mounted read-only; every read command works (exit 0, or one clear
error line) and nothing under the store changes.

Both need mount(2) (we run as root); where it is refused they skip, saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from core.errors import BrainError
from core.store import Store
from tests.core.stress_harness import brain

A = "agent:disk-test"
F = "memories/facts"


def _mount(*args: str) -> str | None:
    p = subprocess.run(["mount", *args], capture_output=True, text=True)
    return None if p.returncode == 0 else (p.stderr.strip() or f"mount exited {p.returncode}")


def _umount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path):
    d = tmp_path / "disk"
    d.mkdir()
    err = _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(d))
    if err:
        pytest.skip(f"cannot mount a 4 MiB tmpfs (needs root and mount(2)): {err}")
    try:
        yield d
    finally:
        _umount(d)


@pytest.fixture
def read_only_view(tmp_path: Path):
    src, dst = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    dst.mkdir()
    err = _mount("--bind", str(src), str(dst))
    if err:
        pytest.skip(f"cannot bind-mount (needs root and mount(2)): {err}")
    try:
        err = _mount("-o", "remount,bind,ro", str(dst))
        if err:
            pytest.skip(f"cannot remount the bind mount read-only: {err}")
        yield src, dst
    finally:
        _umount(dst)


def _one_clear_line(p: subprocess.CompletedProcess[bytes], what: str) -> None:
    err = p.stderr.decode()
    assert "Traceback" not in err, f"{what}: {err}"
    if p.returncode != 0:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("brain: error: "), f"{what}: {err!r}"


def _fill(path: Path) -> None:
    """Take every free byte of the file system that holds path."""
    with open(path, "wb", buffering=0) as f:
        chunk = b"\0" * 65536
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError:
            pass
        for size in (4096, 512, 1):  # the last partial blocks
            try:
                while True:
                    f.write(b"\0" * size)
                    f.flush()
            except OSError:
                pass


def test_full_disk_refuses_writes_and_loses_nothing(small_disk: Path) -> None:
    root = small_disk / "store"
    acked: dict[str, bytes] = {}
    refused: list[str] = []
    s = Store.init(root, allow_temp=True)
    try:
        for i in range(400):  # ~4 MiB of bodies: the disk fills long before the end
            path = f"{F}/fill{i % 40}.md"
            body = (f"memory {i} " + hashlib.sha256(str(i).encode()).hexdigest() + "\n") * 300
            try:
                s.put(path, body, actor=A)
            except BrainError as e:
                refused.append(str(e))
                if "safe in the journal" in str(e):
                    acked[path] = body.encode()  # committed before the disk filled: it stays
                break
            except OSError as e:  # an unwrapped OSError is a bug: the caller gets no advice
                pytest.fail(f"put {i} raised a bare {type(e).__name__}: {e}")
            acked[path] = body.encode()
        _fill(small_disk / "filler")
        try:
            s.put(f"{F}/one-more.md", "x\n" * 1000, actor=A)
            pytest.fail("a write was acknowledged on a full disk")
        except BrainError as e:
            refused.append(str(e))
        except OSError as e:
            pytest.fail(f"a write on a full disk raised a bare {type(e).__name__}: {e}")
    finally:
        try:
            s.close()
        except BrainError:
            pass
    assert refused, "the disk never filled"
    assert any(w in " ".join(refused).lower() for w in ("disk", "space", "full")), refused

    # The CLI beside it, while the disk is still full (closing gave the journal's blocks back).
    _fill(small_disk / "filler2")
    p = brain(root, "put", f"{F}/cli.md", input=b"from the cli\n")
    assert p.returncode != 0, "the CLI acknowledged a write on a full disk"
    _one_clear_line(p, "brain put on a full disk")
    problems = []  # reads that fail while full: checked last, after the recovery below
    for args in (("state",), ("doctor",), ("view", next(iter(acked)))):
        p = brain(root, *args)
        if not (args[0] == "doctor" and p.returncode == 3):  # 3: its verdict, on stdout
            _one_clear_line(
                p,
                f"brain {' '.join(args)} on a full disk rc={p.returncode} {p.stdout.decode()[-3000:]}",
            )
        if p.returncode not in (0, 3):
            problems.append(f"brain {' '.join(args)}: rc {p.returncode}: {p.stderr.decode()}")

    (small_disk / "filler").unlink()
    (small_disk / "filler2").unlink()
    # The store itself took most of the 4 MiB: free space as a user would, by growing the disk.
    err = _mount("-o", "remount,size=16m", str(small_disk))
    assert err is None, err
    p = brain(root, "doctor", "--repair")
    _one_clear_line(p, "brain doctor --repair after freeing space")
    p = brain(root, "--json", "doctor")
    assert p.stdout.strip(), f"brain doctor after --repair: rc {p.returncode}: {p.stderr.decode()}"
    doc = json.loads(p.stdout)
    bad = [f"{r['id']}: {r['detail']}" for r in doc["results"] if r["status"] == "FAIL"]
    assert (doc["state"], bad) == ("READY", [])
    with Store.open(root, allow_temp=True) as s:
        for path, body in acked.items():
            got = s.view(path).body
            assert (got.encode() if isinstance(got, str) else got) == body, path
        s.put(f"{F}/after.md", "writable again\n", actor=A)
    assert not problems, f"reads failed while the disk was full: {problems}"


def _snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else ""
        out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, digest)
    return out


def test_read_only_mount_reads_work_and_nothing_is_written(read_only_view) -> None:
    src, dst = read_only_view
    root_src, root = src / "store", dst / "store"
    with Store.init(root_src, allow_temp=True) as s:
        s.put(f"{F}/penguins.md", "Penguins live in the south.\n", actor=A, title="Penguins")
        s.put(f"{F}/penguins.md", "Penguins live in the southern hemisphere.\n", actor=A)
        s.put(f"{F}/owls.md", "Owls hunt at night.\n", actor=A)
        s.checkpoint()
        s.put(f"{F}/late.md", "after the checkpoint\n", actor=A)
    before = _snapshot(root_src)
    checks = [
        ("state",),
        ("--json", "state"),
        ("view", f"{F}/penguins.md"),
        ("tail",),
        ("search", "penguins"),
        ("history", f"{F}/penguins.md"),
        ("doctor",),
        ("prove", "--seq", "1"),
        ("prove", "--seq", "5"),  # past the newest checkpoint: needs a write, so a clear no
    ]
    results = {}
    for args in checks:
        p = brain(root, *args)
        _one_clear_line(p, f"brain {' '.join(args)} on a read-only mount")
        results[args] = (p.returncode, p.stderr.decode().strip())
    assert _snapshot(root_src) == before, "something under the store changed"
    must_work = [a for a in checks if a[:2] != ("prove", "--seq") or a[2] == "1"]
    failed = {a: r for a, r in results.items() if a in must_work and r[0] not in (0, 3)}
    assert not failed, f"read commands failed on a read-only mount: {failed}"
    out = brain(root, "prove", "--seq", "1").stdout
    (src.parent / "proof.json").write_bytes(out)
    v = brain(root, "verify-proof", str(src.parent / "proof.json"))
    assert v.returncode == 0, v.stdout.decode() + v.stderr.decode()
    assert os.listdir(dst)  # still mounted: the fixture unmounts it


def test_read_only_mount_is_reported_read_only_and_writes_say_why(read_only_view) -> None:
    """The store on the read-only mount opens read-only with a note (README), not as a
    writable store whose first write fails on its lock file; sync has nothing to do there."""
    src, dst = read_only_view
    root_src, root = src / "store", dst / "store"
    Store.init(root_src, allow_temp=True).close()
    # A one-shot put leaves the index's WAL beside it (as a store in use does): SQLite then
    # opens the index on the read-only mount without a word, and only the mount tells.
    p = brain(root_src, "put", f"{F}/penguins.md", input=b"Penguins live in the south.\n")
    assert p.returncode == 0, p.stderr.decode()
    before = _snapshot(root_src)
    note = "the store cannot be written (Read-only file system)"
    for args in (("state",), ("doctor",)):
        p = brain(root, *args)
        _one_clear_line(p, f"brain {' '.join(args)} on a read-only mount")
        assert note in p.stdout.decode(), (args, p.stdout.decode())
    assert "accepts writes" not in brain(root, "doctor").stdout.decode()  # engine.frozen says why
    state = json.loads(brain(root, "--json", "state").stdout)
    assert state["state"] == "READY" and any(note in n for n in state["notes"]), state
    p = brain(root, "put", f"{F}/owls.md", input=b"Owls hunt at night.\n")
    assert p.returncode == 1
    _one_clear_line(p, "brain put on a read-only mount")
    assert note in p.stderr.decode(), p.stderr.decode()
    for args in (("sync", "status"), ("view", f"{F}/penguins.md")):
        p = brain(root, *args)
        _one_clear_line(p, f"brain {' '.join(args)} on a read-only mount")
        assert p.returncode == 0, (args, p.stderr.decode())
    p = brain(root, "sync", "run")
    _one_clear_line(p, "brain sync run on a read-only mount")
    assert "has not joined a hub" in p.stderr.decode()
    assert _snapshot(root_src) == before, "something under the store changed"
