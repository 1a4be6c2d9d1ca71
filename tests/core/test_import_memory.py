"""Import holds only the bodies it will write (review finding 6): memories its filter leaves
out are verified one at a time and dropped, and the kept bodies have a total bound."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.portable.foreign import ImportRefused, open_source, verify
from core.store import Store

REPO = Path(__file__).resolve().parents[2]
ANA = "human:ana@laptop"
MIB = 1 << 20
BIG = 8  # private memories of 8 MiB each, which the default filter does not import

_CHILD = r"""
import json, sys
from pathlib import Path
from core.store import Store
from core.portable.importer import import_store

def hwm_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

with Store.open(sys.argv[1], allow_temp=True) as store:
    before = hwm_mb()
    res = import_store(store, Path(sys.argv[2]), filter=None, actor="human:t@x")
    print(json.dumps({"before": before, "after": hwm_mb(), "written": res.written,
                      "skipped": res.skipped}))
"""


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bigsource")
    os.environ.setdefault("XDG_STATE_HOME", str(d / "xdg-state"))
    line = "a private line that compresses well, repeated many times over\n"
    with Store.init(d / "a", allow_temp=True) as a:
        for i in range(BIG):
            a.put(f"memories/facts/big{i}.md", line * (8 * MIB // len(line)), actor=ANA)
        a.put("memories/facts/small.md", "shared\n", actor=ANA, sync_class="shareable")
        a.export(d / "a.zip")
    return d / "a.zip"


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc (VmHWM)")
def test_filtered_out_bodies_are_not_held(source: Path, tmp_path: Path) -> None:
    Store.init(tmp_path / "b", allow_temp=True).close()
    env = dict(os.environ, PYTHONPATH=str(REPO), BRAIN_ALLOW_TEMP_STORE="1")
    p = subprocess.run(
        [sys.executable, "-c", _CHILD, str(tmp_path / "b"), str(source)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["written"] == ["memories/facts/small.md"]
    assert got["skipped"] == {"filtered": BIG}
    # Holding them all took 64 MiB and more; one at a time costs a few copies of one body.
    assert got["after"] - got["before"] < 40, got


def test_the_kept_bodies_are_bounded(source: Path) -> None:
    src = open_source(source)
    try:
        with pytest.raises(ImportRefused, match="more than 20971520 bytes of bodies"):
            verify(src, max_bytes=20 * MIB)  # no selection: every body is kept
        kept = verify(src, lambda path, *_: "" if path.endswith("small.md") else "mine")
    finally:
        src.close()
    assert [m.path for m in kept.memories] == ["memories/facts/small.md"]
    assert kept.skipped == {"mine": BIG}
