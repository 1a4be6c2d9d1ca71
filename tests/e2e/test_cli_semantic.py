"""`brain search --mode`, `brain similar`, `brain embed`: with the semantic extra, and without it
(simulated by blocking the import in a fresh interpreter: everything else must keep working)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli import _env, one_line_error

HINT = (
    "brain: error: semantic search needs the optional extra: pip install 'brain-tui[semantic]'"
    " (or ./dev test, which installs it)"
)
CAT, DB = "memories/facts/cat.md", "memories/decisions/db.md"


@pytest.fixture
def store(tmp_path: Path) -> str:
    from core.store import Store

    root = tmp_path / "store"
    with Store.init(root, allow_temp=True) as s:
        s.put(CAT, "The office cat is called Miso and naps on the radiator.", actor="agent:t")
        s.put(DB, "Billing runs on Postgres 15 behind pgbouncer.", actor="agent:t")
    return str(root)


def _python(code: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, env=_env(), timeout=timeout
    )


_WITHOUT_EXTRA = """
import sys
sys.modules["sentence_transformers"] = None  # `import sentence_transformers` now fails
from brain_tui.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["search", "feline", "--mode", "semantic"],
        ["search", "feline", "--mode", "hybrid"],
        ["similar", CAT],
        ["embed"],
    ],
)
def test_without_the_extra_semantic_commands_print_the_install_hint(store: str, argv) -> None:
    p = _python(_WITHOUT_EXTRA, "--store", store, *argv)
    line = one_line_error(p, 1)
    assert line == HINT


def test_without_the_extra_everything_else_works(store: str, tmp_path: Path) -> None:
    for argv in (["search", "radiator"], ["view", CAT], ["state", "--json"], ["history", DB]):
        p = _python(_WITHOUT_EXTRA, "--store", store, *argv)
        assert p.returncode == 0, (argv, p.stderr.decode())
    p = _python(_WITHOUT_EXTRA, "--store", store, "search", "radiator", "--json")
    assert [h["path"] for h in json.loads(p.stdout)] == [CAT]


def test_search_rejects_an_unknown_mode(store: str) -> None:
    p = _python(_WITHOUT_EXTRA, "--store", store, "search", "x", "--mode", "fuzzy")
    assert p.returncode == 2 and b"invalid choice" in p.stderr


_WITH_EXTRA = """
import json, sys
from brain_tui.cli.main import main
s = sys.argv[1]
assert main(["--store", s, "embed"]) == 0
assert main(["--store", s, "search", "where does the feline nap", "--mode", "semantic",
             "--limit", "1", "--json"]) == 0
assert main(["--store", s, "search", "pgbouncer", "--mode", "hybrid", "--kind", "decisions",
             "--json"]) == 0
assert main(["--store", s, "similar", "memories/facts/cat.md", "--json"]) == 0
assert main(["--store", s, "search", "cat", "--mode", "semantic", "--tier", "hot"]) == 0
"""


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None,
    reason="the optional extra brain-tui[semantic] is not installed",
)
def test_semantic_cli_round_trip(store: str) -> None:
    p = _python(_WITH_EXTRA, store)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    out = [json.loads(line) for line in p.stdout.decode().splitlines()[1:4]]
    assert p.stdout.decode().splitlines()[0].startswith("embedded 2 memories")
    assert [h["path"] for h in out[0]] == [CAT]
    assert [h["path"] for h in out[1]] == [DB] and "[pgbouncer]" in out[1][0]["snippet"]
    assert [h["path"] for h in out[2]] == [DB]  # the other memory; never itself
    err = p.stderr.decode()
    assert "embedding 2/2" in err and "no matches for 'cat'" in err  # tier filter: none hot
    assert "Traceback" not in err and "Loading weights" not in err


def test_put_view_search_do_not_import_the_semantic_stack(store: str, tmp_path: Path) -> None:
    body = tmp_path / "b.md"
    body.write_bytes(b"lazy penguins\n")
    code = (
        "import sys; from brain_tui.cli.main import main\n"
        f"s = {store!r}\n"
        f"assert main(['--store', s, 'put', 'memories/facts/p.md', {str(body)!r}]) == 0\n"
        "assert main(['--store', s, 'view', 'memories/facts/p.md']) == 0\n"
        "assert main(['--store', s, 'search', 'penguins']) == 0\n"
        "bad = ('numpy', 'torch', 'transformers', 'sentence_transformers', 'sqlite_utils')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in bad), file=sys.stderr)\n"
    )
    p = _python(code, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    assert b"LOADED []" in p.stderr, p.stderr.decode()


def test_lesson_and_propose_search_duplicates_lexically_without_loading_the_model(
    store: str,
) -> None:
    """A one-shot `brain lesson` / `brain propose` never imports the semantic stack unless
    asked (--semantic), and prints which duplicate searches ran."""
    code = (
        "import sys; from brain_tui.cli.main import main\n"
        f"s = {store!r}\n"
        "assert main(['--store', s, 'lesson', 'Export fails after a purge',"
        " '--failure', 'the nightly export failed on a purged store',"
        " '--root-cause', 'the exporter read a purged versions folder',"
        " '--fix', 'skip purged memories when collecting versions',"
        " '--prevention', 'a regression test exports right after a purge']) == 0\n"
        "assert main(['--store', s, 'propose', 'Keyset paging', '--no-semantic',"
        " '--proposal', 'use keyset paging in the memory list',"
        " '--problem', 'the list loads every row at once',"
        " '--solution', 'fetch pages of one hundred rows',"
        " '--benefit', 'the pane opens fast at 10k memories',"
        " '--context', 'seen during the demo on a big store',"
        " '--observed', 'the pane froze two seconds on open',"
        " '--evidence', 'bench_tui p95 went to 2100 ms',"
        " '--answer-scope', 'only the memory list widget paging',"
        " '--reversible', 'revert the single commit cleanly',"
        " '--safety', 'no, display only changes here',"
        " '--scope', 'widgets/memory_list.py']) == 0\n"
        "bad = ('numpy', 'torch', 'transformers', 'sentence_transformers')\n"
        "print('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in bad), file=sys.stderr)\n"
    )
    p = _python(code, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    assert b"LOADED []" in p.stderr, p.stderr.decode()
    out = p.stdout.decode()
    assert (
        "duplicates: lexical ran; semantic skipped: the model is not loaded in this process"
        " (--semantic loads it)" in out
    )
    assert "duplicates: lexical ran; semantic skipped: turned off (--no-semantic)" in out
    assert "status:pending" in out
