"""The one validation layer (core/validate.py): every public Store entry point refuses bad
input with a one-line BrainError and leaves the store unchanged (issue 10 items 5, 7, 11)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import validate
from core.errors import BrainError
from core.store import Store
from core.write.intents import Delete, Move, Note, Put

ACTOR = "human:ana@laptop"
LIVE = "memories/facts/live.md"
GONE = "memories/facts/gone.md"
HEX = "ab" * 32

# Left out of the digest: derived or per-process files a refused call may still touch.
SKIP = ("index/", ".lock", "audit/access.binlog", "local/")


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            if rel.startswith(SKIP):
                continue
            h.update(rel.encode() + b"\0" + full.read_bytes() + b"\0")
    return h.hexdigest()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("v") / "s"
    with Store.init(root, allow_temp=True) as s:
        s.put(LIVE, "# Live\nthe ledger keeps rows\n", actor=ACTOR)
        s.put(GONE, "gone\n", actor=ACTOR)
        s.delete(GONE, actor=ACTOR)
    # Reopened: the writer's journal is flushed, so nothing changes later behind the test.
    s = Store.open(root, allow_temp=True)
    yield s
    s.close()


# -- bad values -------------------------------------------------------------------------

CONTROL = st.sampled_from(["\n", "\r", "\t", "\x00", "\x1b", "\u2028", "\u202e", "\x85"])
junk_types = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.binary(max_size=4), st.lists(st.integers())
)


def with_control(prefix: str) -> st.SearchStrategy[str]:
    return st.builds(
        lambda a, c, b: prefix + a + c + b, st.text(max_size=5), CONTROL, st.text(max_size=5)
    )


bad_actor = st.one_of(
    st.none(),
    st.just(""),
    junk_types,
    with_control("human:"),
    st.just("human:" + "a" * 200),
    st.just("human: ana"),
    st.just("-leading"),
)
bad_path = st.one_of(
    junk_types,
    st.sampled_from(
        ["", "../x.md", "memories/facts/.hidden.md", "memories/nope/x.md", "/abs.md", "x"]
    ),
    with_control("memories/facts/"),
)
bad_title = st.one_of(junk_types, with_control("t"), st.just("t" * 300))
bad_tags = st.one_of(
    st.just("tag"),
    st.integers(),
    st.just([1]),
    st.just(["UP"]),
    st.just([f"t{i}" for i in range(11)]),
    st.just(["type:proposal"]),
)
bad_closed = st.one_of(junk_types, st.just("nope"))
bad_expect = st.one_of(
    st.just("SSN 123-45-6789"),
    st.just(HEX.upper()),
    st.just(HEX[:-1]),
    st.integers(),
    st.text(min_size=1, max_size=70).filter(lambda s: not validate._HEX64.fullmatch(s)),
)
bad_body = st.one_of(st.integers(), st.none(), st.lists(st.integers()))
bad_seq = st.one_of(
    st.integers(max_value=0), st.integers(min_value=2**63), st.text(max_size=3), st.booleans()
)
bad_limit = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=validate.MAX_PAGE + 1), st.text(max_size=3)
)
bad_ticket = st.one_of(
    st.just("SSN 123 45"), st.just("x" * 65), with_control("T-"), st.integers(min_value=1)
)
DEEP: dict = {}
for _ in range(40):
    DEEP = {"a": DEEP}
bad_extra = st.one_of(
    st.just({1: 2}),
    st.just({"a": 1.5}),
    st.just({"a": 2**70}),
    st.just("x"),
    st.just({"e\u0301": 1}),
    st.just(DEEP),
)


# -- calls: each one changes one argument of a valid call to a bad value -----------------


def _calls() -> st.SearchStrategy:
    s = st.builds
    return st.one_of(
        s(lambda a: ("put", (LIVE, "x\n"), {"actor": a}), bad_actor),
        s(lambda p: ("put", (p, "x\n"), {"actor": ACTOR}), bad_path),
        s(lambda b: ("put", (LIVE, b), {"actor": ACTOR}), bad_body),
        s(lambda t: ("put", (LIVE, "x\n"), {"actor": ACTOR, "title": t}), bad_title),
        s(lambda t: ("put", (LIVE, "x\n"), {"actor": ACTOR, "tags": t}), bad_tags),
        s(lambda v: ("put", (LIVE, "x\n"), {"actor": ACTOR, "category": v}), bad_closed),
        s(lambda v: ("put", (LIVE, "x\n"), {"actor": ACTOR, "sync_class": v}), bad_closed),
        s(lambda v: ("put", (LIVE, "x\n"), {"actor": ACTOR, "classification": v}), bad_closed),
        s(lambda v: ("put", (LIVE, "x\n"), {"actor": ACTOR, "extra": v}), bad_extra),
        s(lambda v: ("put", (LIVE, "x\n"), {"actor": ACTOR, "titel": v}), st.text(max_size=3)),
        s(lambda e: ("put_if", (LIVE, "x\n", e), {"actor": ACTOR}), bad_expect),
        s(lambda e: ("put", (LIVE, "x\n"), {"actor": ACTOR, "expect": e}), bad_expect),
        s(lambda p: ("move", (LIVE, p), {"actor": ACTOR}), bad_path),
        s(lambda a: ("move", (LIVE, "memories/facts/m2.md"), {"actor": a}), bad_actor),
        st.just(("move", (LIVE, GONE), {"actor": ACTOR})),  # onto a tombstone
        s(lambda p: ("delete", (p,), {"actor": ACTOR}), bad_path),
        s(lambda m: ("delete", (LIVE,), {"actor": ACTOR, "mode": m}), bad_closed),
        s(lambda r: ("delete", (LIVE,), {"actor": ACTOR, "reason": r}), st.text(max_size=12)),
        s(
            lambda r: ("delete", (LIVE,), {"actor": ACTOR, "mode": "purge", "reason": r}),
            st.one_of(st.none(), st.text(max_size=12), st.integers()),
        ),
        s(
            lambda t: (
                "delete",
                (LIVE,),
                {"actor": ACTOR, "mode": "purge", "reason": "other", "ticket": t},
            ),
            bad_ticket,
        ),
        s(lambda o: ("note", (o,), {"actor": ACTOR}), st.one_of(bad_closed, st.just("put"))),
        s(lambda e: ("note", ("session.start",), {"actor": ACTOR, "extra": e}), bad_extra),
        s(lambda a: ("note", ("session.start",), {"actor": a}), bad_actor),
        s(
            lambda i: ("batch", (i, ACTOR), {}),
            st.one_of(junk_types.filter(lambda v: v != []), st.just([object()])),
        ),
        s(
            lambda p: ("batch", ([Put(LIVE, b"x"), Move(LIVE, p)], ACTOR), {}),
            bad_path,
        ),
        s(lambda t: ("batch", ([Put(LIVE, b"x", title=t)], ACTOR), {}), bad_title),
        st.just(("batch", ([Put(LIVE, "text")], ACTOR), {})),  # type: ignore[arg-type]
        st.just(("batch", ([Put(LIVE, b"x", row_extra={"imported_from": 1})], ACTOR), {})),
        st.just(("batch", ([Note("put", LIVE)], ACTOR), {})),
        s(lambda r: ("batch", ([Delete(LIVE, "tombstone", r)], ACTOR), {}), st.text(max_size=5)),
        s(lambda p: ("view", (p,), {}), bad_path),
        s(lambda a: ("view", (LIVE,), {"actor": a}), st.one_of(with_control("a:"), junk_types)),
        s(lambda n: ("version", (LIVE, n), {}), bad_seq),
        s(lambda p: ("history", (p,), {}), bad_path),
        s(lambda n: ("tail", (n,), {}), st.one_of(st.integers(max_value=-1), st.text(max_size=2))),
        s(lambda n: ("tail", (1, n), {}), bad_limit),
        s(lambda v: ("tail", (1, 10), {"op": v}), st.one_of(junk_types, with_control("p"))),
        s(lambda q: ("search", (q,), {}), st.one_of(junk_types, with_control("q"))),
        s(lambda n: ("search", ("ledger",), {"limit": n}), bad_limit),
        s(lambda m: ("search", ("ledger",), {"mode": m}), bad_closed),
        s(lambda k: ("search", ("ledger",), {"kind": k}), bad_closed),
        s(lambda k: ("search", ("ledger",), {"colour": k}), st.text(max_size=3)),
        s(lambda n: ("memories", ("",), {"limit": n}), bad_limit),
        s(lambda v: ("memories", ("",), {"state": v}), bad_closed),
        s(lambda n: ("prove", (n,), {}), bad_seq),
        s(lambda n: ("consistency", (1, n), {}), bad_seq),
        s(lambda n: ("context", (), {"limit": n}), bad_limit),
    )


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(call=_calls())
def test_bad_input_is_one_clear_line_and_changes_nothing(store: Store, call) -> None:
    name, args, kw = call
    before = digest(store.root)
    with pytest.raises(BrainError) as caught:
        getattr(store, name)(*args, **kw)
    msg = str(caught.value)
    assert msg and "\n" not in msg and "\r" not in msg, msg
    assert len(msg) < 600, msg
    assert digest(store.root) == before, (name, args, kw)


# -- the reported cases, one by one ------------------------------------------------------


def test_title_of_wrong_type_is_refused_before_writing(store: Store) -> None:
    with pytest.raises(BrainError, match="title: must be a string"):
        store.put(LIVE, "x\n", actor=ACTOR, title=5)
    assert store.view(LIVE).sidecar.title == "Live"


def test_non_hex_if_commit_never_reaches_a_row(store: Store) -> None:
    with pytest.raises(BrainError) as caught:
        store.put_if(LIVE, "x\n", "SSN 123-45-6789", actor=ACTOR)
    assert "123" not in str(caught.value)
    assert not [r for r in store.tail(1, 1000) if "123-45" in str(r.extra)]


def test_actor_with_a_newline_is_refused(store: Store) -> None:
    with pytest.raises(BrainError, match="not an actor"):
        store.put(LIVE, "x\n", actor="agent:x\n     99  2026-01-01T00:00:00Z  put  human:root")


def test_reason_without_purge_refuses_naming_the_fix(store: Store) -> None:
    with pytest.raises(BrainError, match="--mode purge"):
        store.delete(LIVE, actor=ACTOR, reason="legal-erasure")
    assert store.view(LIVE).sidecar.state == "active"


def test_move_onto_a_tombstone_says_so(store: Store) -> None:
    with pytest.raises(BrainError, match="tombstoned"):
        store.move(LIVE, GONE, actor=ACTOR)


def test_huge_ranges_are_brain_errors(store: Store) -> None:
    for call in (
        lambda: store.tail(10**30),
        lambda: store.tail(1, 10**30),
        lambda: store.memories("", 10**30),
        lambda: store.prove(10**30),
        lambda: store.version(LIVE, 10**30),
    ):
        with pytest.raises(BrainError, match="out of range"):
            call()


def test_body_over_the_put_limit_is_refused(store: Store, monkeypatch) -> None:
    monkeypatch.setattr(validate, "MAX_BODY_BYTES", 10)
    with pytest.raises(BrainError, match="at most 10"):
        store.put(LIVE, b"x" * 11, actor=ACTOR)


def test_unparsable_sidecar_is_one_line_on_view(tmp_path) -> None:
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        s.put(LIVE, "x\n", actor=ACTOR)
        (s.root / "memories/facts/live.meta.json").write_text("{bad")
        with pytest.raises(BrainError, match="unreadable sidecar"):
            s.view(LIVE)


def test_store_path_that_is_a_file(tmp_path) -> None:
    f = tmp_path / "f"
    f.write_text("x")
    for root in (f, f / "below"):
        with pytest.raises(BrainError, match="is a file, not a folder"):
            Store.open(root, allow_temp=True)
        with pytest.raises(BrainError, match="is a file, not a folder"):
            Store.init(root, allow_temp=True)


def test_bundle_nesting_is_bounded() -> None:
    validate.bundle_depth(b'{"a": [1, "[[[[[[", {"b": "\\"{"}]}')
    with pytest.raises(BrainError, match="nested deeper"):
        validate.bundle_depth(b"[" * 100_000 + b"]" * 100_000)


def test_valid_actors_pass() -> None:
    for a in ("x", "human:ana@laptop", "agent:stress-cli@test", "system:doctor", "human:zoë@h"):
        assert validate.actor(a) == a


@pytest.mark.parametrize("ch", ["\u200b", "\u202e", "\u2028", "\ufeff", "\u2066"])
def test_a_write_may_not_name_a_path_with_an_invisible_character(tmp_path, ch) -> None:
    """`a<U+200B>b.md` prints like `ab.md` but is another memory; a bidi override reorders a
    listing. A put or a move's destination is refused; reading such a path (an older store)
    stays possible."""
    store = Store.init(tmp_path / "s", allow_temp=True)
    bad = f"memories/facts/a{ch}b.md"
    with pytest.raises(BrainError, match=f"U\\+{ord(ch):04X} at position 16 is not allowed"):
        store.put(bad, b"x\n", actor=ACTOR)
    store.put("memories/facts/plain.md", b"x\n", actor=ACTOR)
    with pytest.raises(BrainError, match="not allowed in a path"):
        store.move("memories/facts/plain.md", bad, actor=ACTOR)
    with pytest.raises(BrainError, match="not allowed in a path"):
        store.batch([Put(bad, b"x\n")], ACTOR)
    assert validate.path(bad) == bad  # reads of an existing one still validate
    store.close()


def test_a_purge_without_a_reason_says_none_was_given(tmp_path) -> None:
    """Not "(got None)": the person gave no --reason at all."""
    with pytest.raises(BrainError, match=r"one of: legal-erasure.*\(none was given\)"):
        validate.delete("memories/facts/a.md", "purge", None, None)
    with pytest.raises(BrainError, match=r"\(got 'nope'\)"):
        validate.delete("memories/facts/a.md", "purge", "nope", None)
