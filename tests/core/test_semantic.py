"""Semantic and hybrid search: the model, the vectors in the index, and what happens to them on
put, move and purge. Needs the optional extra (./dev test installs it); the model loads once
per test process (module fixture), so most tests here cost milliseconds."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core.proposals import DuplicateMemory
from core.search import embeddings, fusion, semantic
from core.store import Store

# Not importorskip: importing the stack here would happen before core.search.embeddings switches the
# hub offline (it does so before its own first import).
if importlib.util.find_spec("sentence_transformers") is None:
    pytest.skip("the optional extra brain-tui[semantic] is not installed", allow_module_level=True)

BOT = "agent:test@laptop"
REPO = Path(__file__).resolve().parents[2]

MEMS = {
    "memories/facts/harbor/pgbouncer.md": (
        "pgbouncer transaction mode breaks prepared statements",
        "psycopg prepares statements after five runs; with transaction pooling the next run can"
        " land on another backend. Fix: prepare_threshold=None.",
    ),
    "memories/facts/falcon/apns.md": (
        "APNs certificate expires every September",
        "An expired certificate silently drops iOS pushes with no error from the gateway.",
    ),
    "memories/decisions/quill/search.md": (
        "Docs search: Algolia replaced by Pagefind",
        "quill moved search from Algolia to a static Pagefind index built at deploy time.",
    ),
    "memories/people/sam.md": (
        "Sam Okafor (security lead)",
        "Sam must approve anything touching authentication, secrets or cryptography.",
    ),
    "memories/preferences/fridays.md": (
        "No Friday afternoon deploys",
        "Don't schedule deploys on Fridays after 14:00; hotfixes need a second reviewer.",
    ),
}


@pytest.fixture(scope="module", autouse=True)
def model() -> embeddings.Encoder:
    return embeddings.encoder(embeddings.DEFAULT_MODEL)  # loaded once for the module


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def store(tmp_path: Path):
    s = Store.init(tmp_path / "store", allow_temp=True)
    s.batch(
        [
            Store.put_intent(p, body, parse_frontmatter=False, title=t)
            for p, (t, body) in MEMS.items()
        ],
        BOT,
    )
    yield s
    s.close()


def _vec(store: Store, path: str) -> bytes | None:
    hit = store.reader.conn.execute(
        "SELECT e.vec FROM embeddings e JOIN memories m ON m.id = e.id WHERE m.path = ?", (path,)
    ).fetchone()
    return None if hit is None else hit[0]


def _paths(hits) -> list[str]:
    return [h.path for h in hits]


def test_semantic_search_finds_a_paraphrase(store: Store) -> None:
    q = "Apple phone alerts quietly stop once the annual credential lapses"
    hits = store.search(q, mode="semantic", limit=3)
    assert hits[0].path == "memories/facts/falcon/apns.md"
    assert hits[0].snippet.startswith("An expired certificate")  # body prefix, no FTS match
    assert -1.0 <= hits[0].score <= 1.0


def test_hybrid_keeps_exact_words_first_and_highlights_them(store: Store) -> None:
    hits = store.search("Pagefind", mode="hybrid", limit=5)
    assert hits[0].path == "memories/decisions/quill/search.md"
    assert "[Pagefind]" in hits[0].snippet  # the lexical hit's FTS snippet is kept
    assert len(hits) == 5  # semantic candidates fill the rest


def test_filters_apply_to_semantic_and_hybrid(store: Store) -> None:
    for mode in ("semantic", "hybrid"):
        hits = store.search("who approves security changes", mode=mode, kind="people")
        assert _paths(hits) == ["memories/people/sam.md"]
        assert store.search("deploys", mode=mode, tag="nope") == []


def test_unknown_mode_is_refused(store: Store) -> None:
    with pytest.raises(Exception, match="is unknown; use one of: lexical, semantic, hybrid"):
        store.search("x", mode="fuzzy")


def test_embedding_replaced_on_put(store: Store) -> None:
    path = "memories/people/sam.md"
    store.embed_pending()
    old = _vec(store, path)
    assert old is not None and len(old) == 4 * 384
    store.put(path, "Sam now leads the data platform team.", actor=BOT, title="Sam Okafor")
    store.wait_index()
    assert _vec(store, path) is None  # the old version's vector went with it
    assert store.semantic_pending() == 1
    hits = store.search("who runs the data platform", mode="semantic", limit=1)
    new = _vec(store, path)
    assert hits[0].path == path and new is not None and new != old


def test_embedding_moved_on_move(store: Store) -> None:
    src, dst = "memories/facts/falcon/apns.md", "memories/facts/falcon/ios/apns.md"
    store.embed_pending()
    vec = _vec(store, src)
    store.move(src, dst, actor=BOT)
    store.wait_index()
    assert _vec(store, src) is None and _vec(store, dst) == vec
    assert store.semantic_pending() == 0  # nothing to recompute
    hits = store.search("push certificate renewal", mode="semantic", limit=1)
    assert _paths(hits) == [dst]


def test_tombstoned_memories_leave_semantic_results(store: Store) -> None:
    path = "memories/preferences/fridays.md"
    assert path in _paths(store.search("weekend release freeze", mode="semantic", limit=5))
    store.delete(path, actor=BOT)
    assert path not in _paths(store.search("weekend release freeze", mode="semantic", limit=5))
    assert _vec(store, path) is None
    # Written again later: it needs (and gets) a vector again, in this process and the next.
    store.put(path, "No deploys on Friday afternoons.", actor=BOT, title="Fridays")
    store.wait_index()
    with Store.open(store.root, allow_temp=True) as other:
        assert other.semantic_pending() == 1
    assert path in _paths(store.search("weekend release freeze", mode="semantic", limit=5))
    with Store.open(store.root, allow_temp=True) as other:
        assert other.semantic_pending() == 0


def _files(root: Path) -> list[Path]:
    return [Path(d) / f for d, _dirs, files in os.walk(root) for f in files]


def test_embedding_destroyed_on_purge(store: Store) -> None:
    gone, kept = "memories/facts/harbor/pgbouncer.md", "memories/people/sam.md"
    store.search("connection pooling", mode="semantic")  # embeds all, loads the cache
    vec_gone, vec_kept = _vec(store, gone), _vec(store, kept)
    assert vec_gone is not None and vec_kept is not None
    needle, control = vec_gone[512:544], vec_kept[512:544]  # 32 bytes of each vector

    def holders(b: bytes) -> list[str]:
        return [str(p.relative_to(store.root)) for p in _files(store.root) if b in p.read_bytes()]

    assert holders(needle) and holders(control)  # the grep can see vectors at all
    store.delete(gone, actor=BOT, mode="purge", reason="legal-erasure")
    assert holders(needle) == []  # index/*.sqlite, -wal, -shm and every other file
    assert holders(control)
    cache = store.semantic.cache
    assert all(needle not in cache.mat[k].tobytes() for k in range(cache.n))
    assert gone not in _paths(store.search("pgbouncer prepared statements", mode="hybrid"))
    store.close()
    assert holders(needle) == []


def test_similar_lists_neighbours_not_itself(store: Store) -> None:
    store.put(
        "memories/facts/falcon/apns-renewal.md",
        "Renew the Apple push certificate before it lapses in September.",
        actor=BOT,
        title="APNs renewal",
    )
    hits = store.similar("memories/facts/falcon/apns.md", limit=2)
    assert hits[0].path == "memories/facts/falcon/apns-renewal.md"
    assert "memories/facts/falcon/apns.md" not in _paths(hits)


def test_embedder_makes_a_put_findable_within_a_second(store: Store) -> None:
    store.embed_pending()
    stop = threading.Event()
    worker = threading.Thread(target=store.start_embedder, args=(stop,))
    worker.start()
    try:
        while not store.semantic.hosted:
            time.sleep(0.01)
        path = "memories/facts/ember/gpu.md"
        t0 = time.monotonic()
        store.put(path, "GPU memory grew until OOM: a tokenizer cache never evicted.", actor=BOT)
        while True:  # hosted: searches do not embed inline, the embedder must
            hits = store.search("accelerator RAM leak", mode="semantic", limit=1)
            if _paths(hits) == [path] or time.monotonic() - t0 > 10:
                break
            time.sleep(0.01)
        took = time.monotonic() - t0
    finally:
        stop.set()
        worker.join(timeout=10)
    assert _paths(hits) == [path]
    assert took < 3.0  # target 1 s (tests/bench/bench_semantic.py); slack for loaded CI


def test_a_new_model_name_means_new_vectors(store: Store, monkeypatch) -> None:
    store.embed_pending()
    monkeypatch.setenv(embeddings.MODEL_ENV, "/nonexistent/model")
    other = Store.open(store.root, allow_temp=True)
    try:
        with pytest.raises(Exception, match="not a local folder"):
            other.search("x", mode="semantic")
    finally:
        other.close()


def test_coverage_gate_ignores_stopword_floods() -> None:
    words = fusion.content_words("how do the pods resolve names?")
    assert words == {"pod", "resolv", "nam"}
    assert fusion.share(words, "Pods resolve names through CoreDNS") == 1.0
    ev = fusion.Evidence(
        lex=[(1, 9.0), (2, 8.0)], op="OR", sem=[2, 1], cos={1: 0.2, 2: 0.5}, cover={1: 0.2, 2: 0.6}
    )
    assert [i for i, _s in fusion.fuse(ev)] == [2, 1]  # 1's bm25 is a weak OR match: no boost


_OFFLINE = r"""
import socket, sys
def refuse(*a, **k):
    raise OSError("network is off in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from core.store import Store
s = Store.init(sys.argv[1], allow_temp=True)
s.put("memories/facts/cat.md", "The office cat sleeps on the radiator.", actor="agent:t@x")
s.put("memories/facts/db.md", "Billing runs on Postgres 15.", actor="agent:t@x")
hits = s.search("where does the feline nap", mode="semantic", limit=1)
assert [h.path for h in hits] == ["memories/facts/cat.md"], hits
s.close()
print("OK")
"""


def test_semantic_search_works_with_the_network_off(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        HF_HOME=str(tmp_path / "hf-home"),  # an empty cache: only the packaged files exist
        XDG_STATE_HOME=str(tmp_path / "xdg"),
        PYTHONPATH=str(REPO),
    )
    env.pop(embeddings.MODEL_ENV, None)
    p = subprocess.run(
        [sys.executable, "-c", _OFFLINE, str(tmp_path / "store")],
        capture_output=True,
        env=env,
        timeout=300,
        cwd=REPO,
    )
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    assert p.stdout.strip() == b"OK"
    assert not (tmp_path / "hf-home").exists() or not any((tmp_path / "hf-home").rglob("*.bin"))


def test_maybe_embed_is_skipped_while_a_host_embeds(store: Store) -> None:
    store.semantic.hosted += 1
    try:
        semantic.maybe_embed(store)
        assert store.semantic_pending() == len(MEMS)
    finally:
        store.semantic.hosted -= 1


def test_known_vectors_are_stored_and_only_the_rest_is_encoded(
    store: Store, model: embeddings.Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """embed_pending(known=...) stores a known vector as it is (a demo ships its corpus's)
    and asks the model only for the texts it does not know, in small length-sorted passes."""
    texts = semantic.active_texts(store)
    computed = model.encode(texts)
    known = {t: v.astype("<f4").tobytes() for t, v in zip(texts[1:], computed[1:], strict=True)}
    asked: list[tuple[list[str], int]] = []
    encode = embeddings.Encoder.encode

    def spy(self, batch: list[str], batch_size: int = 64):
        asked.append((batch, batch_size))
        return encode(self, batch, batch_size)

    monkeypatch.setattr(embeddings.Encoder, "encode", spy)
    assert store.embed_pending(known=known.get) == len(texts)
    assert asked == [([texts[0]], semantic.ENCODE_BATCH)]
    for path in MEMS:
        assert _vec(store, path) is not None
    assert semantic.embedded_texts(store) and store.semantic_pending() == 0
    stored = dict(semantic.embedded_texts(store))
    assert all(stored[t] == blob for t, blob in known.items())
    hits = store.search("Apple phone alerts stop when the credential lapses", mode="semantic")
    assert hits[0].path == "memories/facts/falcon/apns.md"


# -- duplicate search before filing a lesson or proposal (issue 15) ---------------------------

EXPORT = {
    "FAILURE": "the nightly export failed on a store with a purged memory",
    "ROOT CAUSE": "the exporter read the purged versions folder that no longer exists",
    "FIX": "skip purged memories when collecting versions for the zip",
    "PREVENTION": "a regression test exports a store right after a purge",
}
# The same lesson in other words: word overlap 0.51 (the lexical search lets it pass, at 0.8),
# cosine 0.95 with all-MiniLM-L6-v2 (the semantic search refuses it, at 0.92).
REWORDED = {
    "FAILURE": "the nightly export crashed on a store holding a purged memory",
    "ROOT CAUSE": "the exporter opened the versions directory of a purged memory, which is gone",
    "FIX": "leave purged memories out when collecting versions for the zip",
    "PREVENTION": "a regression test exports a store just after a purge",
}
SKIPPED = "skipped: the model is not loaded in this process (--semantic loads it)"


def _lesson(store: Store, reworded: bool = False, **kw: Any):
    if reworded:
        return store.proposals.lesson("Export breaks after purging", REWORDED, actor=BOT, **kw)
    return store.proposals.lesson("Export fails after a purge", EXPORT, actor=BOT, **kw)


def test_duplicate_by_meaning_refused_where_the_model_is_loaded(store: Store) -> None:
    """The TUI's case: this store has searched by meaning, so filing searches by meaning too
    (milliseconds) and refuses the reworded lesson, naming the first and the search."""
    store.search("export", mode="semantic", limit=1)
    assert store.semantic_ready()
    first = _lesson(store)
    assert first.searches == {"lexical": "ran", "semantic": "ran"}
    with pytest.raises(DuplicateMemory, match=rf"{first.path} \(semantic: cosine 0\.9\d\)") as e:
        _lesson(store, reworded=True)
    assert e.value.path == first.path
    # --no-semantic: the lexical search alone lets the reworded lesson through, and says so
    second = _lesson(store, reworded=True, semantic=False)
    assert second.searches == {"lexical": "ran", "semantic": "skipped: turned off (--no-semantic)"}


def test_one_shot_store_stays_lexical_unless_asked(store: Store) -> None:
    """A one-shot process (the CLI) never searched by meaning: filing does not load the model
    (here it is loaded for the module, but not by this store) and says the search was
    skipped; semantic=True (--semantic) runs it anyway."""
    first = _lesson(store)
    assert first.searches == {"lexical": "ran", "semantic": SKIPPED}
    assert not store.semantic_ready()
    with pytest.raises(DuplicateMemory, match="semantic: cosine") as e:
        _lesson(store, reworded=True, semantic=True)
    assert e.value.path == first.path


def test_one_shot_store_files_the_reworded_lesson(store: Store) -> None:
    _lesson(store)
    second = _lesson(store, reworded=True)
    assert second.searches["semantic"] == SKIPPED and store.view(second.path)


def test_long_lived_host_searches_by_meaning_once_its_store_has_embeddings(
    tmp_path: Path,
) -> None:
    """`brain mcp` (Store.service): the model is worth loading once for the host's life when
    the store holds vectors; a store without any stays lexical and says why."""
    root = tmp_path / "host"
    Store.init(root, allow_temp=True).close()
    with Store.open(root, allow_temp=True, service=True) as s:
        first = _lesson(s)
        assert first.searches["semantic"] == (
            "skipped: the store has no embeddings yet (brain embed)"
        )
        assert not s.semantic_ready()
        s.embed_pending()
    with Store.open(root, allow_temp=True, service=True) as s:
        assert not s.semantic_ready()
        with pytest.raises(DuplicateMemory, match="semantic: cosine") as e:
            _lesson(s, reworded=True)
        assert e.value.path == first.path
    with Store.open(root, allow_temp=True) as s:  # a one-shot process on the same store
        assert _lesson(s, reworded=True).searches["semantic"] == SKIPPED


def test_proposal_filing_reports_the_searches(store: Store) -> None:
    from tests.core.test_proposals import file

    assert file(store, 0).searches == {"lexical": "ran", "semantic": SKIPPED}
    store.warm_semantic()
    assert file(store, 1).searches == {"lexical": "ran", "semantic": "ran"}
    assert file(store, 2, semantic=False).searches["semantic"].startswith("skipped: turned off")
