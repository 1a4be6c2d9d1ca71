"""Lessons, proposals, the gate and the lifecycle (issue 15, seed 004) on a real store."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import core.proposals as proposals_mod
from core.errors import BrainError, InvalidMeta, PreconditionFailed
from core.proposals import BUDGET, LESSONS, PROPOSALS, DuplicateMemory
from core.proposals.model import submit
from core.store import Store
from core.write.intents import Move, Note

AGENT = "agent:t@h"
HUMAN = "human:ana@laptop"


def _filed(path: str) -> Note:
    return Note("proposal.filed", path, "", {})


LESSON = {
    "FAILURE": "the nightly export failed on a store with a purged memory",
    "ROOT CAUSE": "the exporter read the purged versions folder that no longer exists",
    "FIX": "skip purged memories when collecting versions for the zip",
    "PREVENTION": "a regression test exports a store right after a purge",
}
ANSWERS = {
    "observed": "the search pane froze for two seconds on a large store",
    "evidence": "bench_tui p95 rose from 40 ms to 2100 ms at 10k memories",
    "scope": "only widgets/memory_list.py paging, nothing in the engine",
    "reversible": "revert the single commit; no data format changes",
    "safety": "no, it only changes how rows are fetched for display",
}


TOPICS = [
    ("keyset paging for the memory list", "loads every row at once", "fetch pages of one hundred"),
    ("cache parsed sidecars in the viewer", "reparses json on each keypress", "memoize by seq"),
    ("batch embeddings on idle", "embedding blocks the writer thread", "queue vectors idle time"),
    ("shorter audit tail refresh", "tail polls the database every frame", "wake on head change"),
    ("compress sealed segments earlier", "disk grows quickly with large logs", "seal hourly zstd"),
    ("explain refused tags inline", "agents retry bad tags blindly", "return the rule with fix"),
    ("prefetch proofs for export", "export recomputes proofs serially", "reuse checkpoint nodes"),
]


def proposal(n: int = 0) -> dict[str, str]:
    what, problem, how = TOPICS[n % len(TOPICS)]
    return {
        "PROPOSAL": f"{what} ({n})",
        "PROBLEM": f"today it {problem}",
        "SOLUTION": f"we {how} instead",
        "BENEFIT": f"the {what.split()[-1]} stays responsive at 10k memories",
        "CONTEXT": f"observed during review {n} of the {what.split()[0]} work",
    }


@pytest.fixture
def store(tmp_path: Path):
    with Store.init(tmp_path / "s", allow_temp=True) as s:
        yield s


def file(store, n=0, session="s1", **kw):
    kw.setdefault("scope", ["widgets/memory_list.py"])
    return store.proposals.propose(
        f"Proposal {n}: {TOPICS[n % len(TOPICS)][0]}",
        proposal(n),
        ANSWERS,
        actor=AGENT,
        session=session,
        **kw,
    )


# -- structured bodies ------------------------------------------------------------------------


def test_lesson_is_stored_structured(store):
    f = store.proposals.lesson("Export after purge", LESSON, actor=AGENT, category="bug-fix")
    assert f.path.startswith(LESSONS)
    m = store.view(f.path)
    assert m.sidecar.tags == ["type:lesson"]
    assert m.sidecar.category == "bug-fix"
    assert m.text.startswith("FAILURE: the nightly export")
    assert "PREVENTION: " in m.text


@pytest.mark.parametrize("missing", ["FAILURE", "ROOT CAUSE", "FIX", "PREVENTION"])
def test_lesson_section_missing_is_named(store, missing):
    body = {k: v for k, v in LESSON.items() if k != missing}
    with pytest.raises(InvalidMeta, match=f"a lesson needs a {missing} section"):
        store.proposals.lesson("t", body, actor=AGENT)


@pytest.mark.parametrize("placeholder", ["it broke", "be careful", "TBD", "fixed it.", "n/a"])
def test_placeholders_refused(store, placeholder):
    body = dict(LESSON, PREVENTION=placeholder)
    with pytest.raises(InvalidMeta, match=r"body: PREVENTION is a placeholder"):
        store.proposals.lesson("t", body, actor=AGENT)
    p = dict(proposal(), BENEFIT=placeholder)
    with pytest.raises(InvalidMeta, match=r"body: BENEFIT is a placeholder"):
        store.proposals.propose("t", p, ANSWERS, actor=AGENT, scope=["x.py"], session="s")


@pytest.mark.parametrize("missing", ["PROPOSAL", "PROBLEM", "SOLUTION", "BENEFIT", "CONTEXT"])
def test_proposal_section_missing_is_named(store, missing):
    body = {k: v for k, v in proposal().items() if k != missing}
    with pytest.raises(InvalidMeta, match=f"a proposal needs a {missing} section"):
        store.proposals.propose("t", body, ANSWERS, actor=AGENT, scope=["x.py"], session="s")


def test_unknown_section_refused(store):
    with pytest.raises(InvalidMeta, match="a lesson has no BENEFIT section"):
        store.proposals.lesson("t", dict(LESSON, BENEFIT="some extra words here"), actor=AGENT)


def test_parse_sections_joins_continuations():
    got = proposals_mod.parse_sections("FAILURE: one\n  two three\n\nFIX: four five six\n")
    assert got == {"FAILURE": "one two three", "FIX": "four five six"}


# -- secrets and raw logs in lessons ----------------------------------------------------------


def test_secret_refused_in_a_lesson(store):
    body = dict(LESSON, CONTEXT="the key was AKIAIOSFODNN7EXAMPLE in the env of the runner")
    with pytest.raises(InvalidMeta, match="a lesson carries no secrets"):
        store.proposals.lesson("aws", body, actor=AGENT)
    assert store.memories("", 10) == []


def test_raw_error_log_refused_in_a_lesson(store):
    body = dict(
        LESSON,
        FAILURE='Traceback (most recent call last):\n  File "x.py", line 3, in <module>',
    )
    with pytest.raises(InvalidMeta, match="no raw error logs"):
        store.proposals.lesson("trace", body, actor=AGENT)


# -- categories and tags ----------------------------------------------------------------------


def test_bug_fix_is_lesson_only(store):
    f = file(store, category="bug-fix")  # the gate's tags check fails: stored as a lesson
    assert not f.filed
    tags_check = next(c for c in f.gate if c.name == "tags")
    assert not tags_check.ok
    assert tags_check.reason == (
        "tags: category bug-fix allows type: lesson, not type:proposal (seed 004)"
    )
    lesson = store.proposals.lesson("Export after purge", LESSON, actor=AGENT, category="bug-fix")
    assert store.view(lesson.path).sidecar.category == "bug-fix"


# -- duplicates -------------------------------------------------------------------------------


def test_duplicate_lesson_refused_naming_it(store):
    first = store.proposals.lesson("Export after purge", LESSON, actor=AGENT)
    with pytest.raises(
        DuplicateMemory, match=f"a near duplicate is already stored: {first.path}"
    ) as e:
        store.proposals.lesson("Export after purge", LESSON, actor=AGENT)
    assert e.value.path == first.path


def test_duplicate_proposal_refused_naming_it(store):
    first = file(store, 0)
    with pytest.raises(DuplicateMemory, match=first.path):
        file(store, 0, session="s2")


# -- the gate ---------------------------------------------------------------------------------


def test_gate_recorded_pass_fail_with_reasons(store):
    f = file(store)
    assert f.filed and f.status == "pending"
    names = [c.name for c in f.gate]
    assert names == [
        "q:observed",
        "q:evidence",
        "q:scope",
        "q:reversible",
        "q:safety",
        "tags",
        "length",
        "scope",
        "security",
    ]
    m = store.view(f.path)
    assert m.sidecar.tags[:2] == ["type:proposal", "status:pending"]
    assert all(c["ok"] and c["reason"] for c in m.sidecar.extra["gate"])
    rows = store.tail(1, 100, op="proposal.filed")
    assert [r.path for r in rows] == [f.path]
    assert rows[0].extra["session"] == "s1"


@pytest.mark.parametrize(
    ("change", "check", "reason"),
    [
        ({"answers": dict(ANSWERS, evidence="")}, "q:evidence", "unanswered"),
        ({"answers": dict(ANSWERS, reversible="idk")}, "q:reversible", "placeholder answer"),
        ({"answers": dict(ANSWERS, safety="yes, it disables the chain")}, "q:safety", "weakens"),
        ({"scope": []}, "scope", "no scope path"),
        ({"scope": ["../etc/passwd"]}, "scope", "not a relative path"),
        ({"scope": ["core/log/segment.py"]}, "security", "security-relevant core/log/"),
        ({"category": "bug-fix"}, "tags", "category bug-fix allows type: lesson"),
        ({"long": True}, "length", "at most 500"),
    ],
)
def test_failed_gate_stores_a_lesson(store, change, check, reason):
    answers = change.get("answers", ANSWERS)
    body = proposal()
    if change.get("long"):
        body = dict(body, CONTEXT="a long context " * 30)
    f = store.proposals.propose(
        "Paging",
        body,
        answers,
        actor=AGENT,
        session="s1",
        scope=change.get("scope", ["widgets/memory_list.py"]),
        category=change.get("category", "architecture"),
    )
    assert not f.filed
    failed = {c.name: c.reason for c in f.gate if not c.ok}
    assert check in failed and reason in failed[check]
    assert f.lesson_path.startswith(LESSONS)
    m = store.view(f.lesson_path)
    assert "type:lesson" in m.sidecar.tags and "gate:failed" in m.sidecar.tags
    assert reason in m.text
    assert not [x for x in store.memories("", 100) if x.path.startswith(PROPOSALS)]
    assert store.tail(1, 100, op="proposal.filed") == []


# -- budget and no auto-accept ----------------------------------------------------------------


def test_budget_three_per_session(store):
    for n in range(BUDGET):
        assert file(store, n).filed
    with pytest.raises(BrainError, match="has filed 3 proposals"):
        file(store, 5)
    assert file(store, 5, session="s2").filed  # another session has its own budget


def test_session_from_env(store, monkeypatch):
    monkeypatch.setenv("BRAIN_SESSION", "env-7")
    f = store.proposals.propose(
        "Paging", proposal(), ANSWERS, actor=AGENT, scope=["widgets/memory_list.py"]
    )
    assert f.session == "env-7"


def test_every_proposal_starts_pending_and_nothing_accepts_it(store):
    for n in range(3):
        f = file(store, n)
        assert store.proposals.show(f.path).status == "pending"
    store.proposals.maintain(actor=AGENT)
    assert store.proposals.count("accepted") == 0
    assert store.tail(1, 1000, op="proposal.decided") == []


def test_no_code_path_accepts_automatically():
    """The only writer of status:accepted is decide() (core.proposals.lifecycle; the
    service's decide() only hands on to it), and nothing in core calls decide()."""
    package = Path(proposals_mod.__file__).parent
    srcs = {p.stem: p.read_text() for p in sorted(package.glob("*.py"))}
    writers = set()
    for stem, src in srcs.items():
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef):
                text = ast.get_source_segment(src, node) or ""
                if '"accepted"' in text:
                    writers.add(f"{stem}.{node.name}")
    assert writers == {"lifecycle.decide"}
    assert "lifecycle.decide(" in inspect.getsource(proposals_mod.Proposals.decide)
    # The engine (MCP tools included) never decides; the CLI's one caller is behind a typed
    # confirmation at an interactive terminal (tests/e2e/test_cli_proposals.py).
    repo = package.parent.parent
    callers = sorted(
        str(p.relative_to(repo))
        for d in ("core", "brain_tui", "screens", "widgets")
        for p in (repo / d).rglob("*.py")
        if "proposals.decide(" in p.read_text()
    )
    # The TUI's one caller is pane 5's worker, behind DecideModal's typed slug (approve,
    # reject) or the defer key (tests/tui/test_proposals_pane.py).
    assert callers in (
        [],
        ["brain_tui/cli/cmd_proposals.py"],
        ["brain_tui/cli/cmd_proposals.py", "screens/proposals.py"],
    )
    for src in srcs.values():
        assert "status:accepted" not in src.replace('f"status:{new_status}"', "")


# -- lifecycle --------------------------------------------------------------------------------


def test_lifecycle_rows_name_the_human(store):
    a, b = file(store, 0), file(store, 1)
    with pytest.raises(BrainError, match="a rejection needs a reason"):
        store.proposals.decide(b.path, "reject", actor=HUMAN)
    d = store.proposals.decide(b.path, "reject", actor=HUMAN, reason="not worth the churn")
    assert d.status == "rejected"
    store.proposals.decide(a.path, "defer", actor=HUMAN)
    assert store.proposals.show(a.path).status == "pending"
    store.proposals.decide(a.path, "accept", actor=HUMAN)
    with pytest.raises(BrainError, match="accept needs status:pending"):
        store.proposals.decide(a.path, "accept", actor=HUMAN)
    store.proposals.decide(a.path, "deprecate", actor=HUMAN, reason="superseded")
    assert store.proposals.show(a.path).status == "deprecated"
    rows = store.tail(1, 100, op="proposal.decided")
    assert [(r.path, r.extra["decision"], r.extra["status"]) for r in rows] == [
        (b.path, "reject", "rejected"),
        (a.path, "defer", "pending"),
        (a.path, "accept", "accepted"),
        (a.path, "deprecate", "deprecated"),
    ]
    assert all(r.actor == HUMAN and r.extra["human"] == HUMAN for r in rows)
    assert rows[0].extra["reason"] == "not worth the churn"
    assert [p.path for p in store.proposals.items("pending")] == []
    assert store.proposals.count("rejected") == 1


# -- maintenance ------------------------------------------------------------------------------

DUP = "Deploys go through the staging cluster first and then production after a soak test.\n"


def _maintain(store):
    store.put("memories/facts/deploy-a.md", DUP, actor=AGENT)
    store.put("memories/facts/deploy-b.md", DUP.replace("first", "first,"), actor=AGENT)
    store.put("memories/facts/other.md", "Completely unrelated note about lunch.\n", actor=AGENT)
    made = store.proposals.maintain(actor=AGENT, stale_days=1e6)
    assert len(made) == 1
    p = store.proposals.show(made[0].path)
    assert p.status == "pending"
    act = p.extra["action"]
    assert act["op"] == "merge" and act["keep"] == "memories/facts/deploy-a.md"
    assert act["targets"][0]["path"] == "memories/facts/deploy-b.md"
    return p


def test_maintain_proposal_applied_on_accept(store):
    p = _maintain(store)
    d = store.proposals.decide(p.path, "accept", actor=HUMAN)
    assert d.applied == ["memories/facts/deploy-b.md"]
    m = store.view("memories/facts/deploy-b.md")
    assert "status:deprecated" in m.sidecar.tags
    assert m.sidecar.extra["merged_into"] == "memories/facts/deploy-a.md"
    assert store.proposals.show(p.path).status == "accepted"
    # maintain again: the pair is handled (the deprecated memory was edited), nothing twice
    assert all(f.path != p.path or not f.filed for f in store.proposals.maintain(actor=AGENT))


def test_maintain_refused_when_precondition_no_longer_holds(store):
    p = _maintain(store)
    store.put("memories/facts/deploy-b.md", DUP + "Edited since.\n", actor=AGENT)
    with pytest.raises(PreconditionFailed):
        store.proposals.decide(p.path, "accept", actor=HUMAN)
    # atomic: the proposal stayed pending, no decision row, the target unchanged
    assert store.proposals.show(p.path).status == "pending"
    assert store.tail(1, 100, op="proposal.decided") == []
    assert "status:deprecated" not in store.view("memories/facts/deploy-b.md").sidecar.tags


def test_maintain_demotes_stale(store):
    store.put("memories/facts/old.md", "An old fact about the build server.\n", actor=AGENT)
    made = store.proposals.maintain(actor=AGENT, stale_days=0)
    assert len(made) == 1
    p = store.proposals.show(made[0].path)
    assert p.extra["action"]["op"] == "demote"
    store.proposals.decide(p.path, "accept", actor=HUMAN)
    assert "signal:stale" in store.view("memories/facts/old.md").sidecar.tags


@pytest.mark.parametrize("op", ["proposal.filed", "proposal.decided"])
def test_proposal_rows_cannot_be_forged_with_a_note(store, op):
    f = file(store)
    with pytest.raises(BrainError, match="op"):
        store.note(op, actor=AGENT, path=f.path, extra={"decision": "accept", "human": HUMAN})
    assert store.proposals.show(f.path).status == "pending"


# -- patterns (item 4) ------------------------------------------------------------------------


CASES = [
    ("the nightly zip job crashed at midnight", "guard the loop", "a unit test per folder"),
    ("a customer backup stopped halfway through", "retry reading gone files", "fuzz purges"),
    ("the release pipeline showed a red build", "check tombstones earlier", "lint for reads"),
]


def _lesson(store, n, cause="the exporter read a purged versions folder", project="web"):
    failure, fix, prevention = CASES[n % 3]
    body = {
        "FAILURE": failure,
        "ROOT CAUSE": cause,
        "FIX": f"we now {fix} in that code",
        "PREVENTION": f"we added {prevention} to the suite",
    }
    return store.proposals.lesson(f"Failure {n}", body, actor=AGENT, project=project)


def test_recurring_lessons_become_a_pattern(store):
    a = _lesson(store, 0)
    b = _lesson(store, 1, cause="a purged versions folder was read by the exporter")
    pats = store.proposals.patterns()
    assert len(pats) == 1
    ex = store.view(pats[0].path).sidecar.extra
    assert (
        ex["lessons"] == [a.path, b.path]
        and ex["score_ppm"] == 500_000
        and ex["projects"] == ["web"]
    )
    _lesson(store, 2, cause="the index writer lost a race with the reader")
    assert len(store.proposals.patterns()) == 2


def test_outcomes_move_the_score_by_ema_and_suggest_top_above_07(store):
    _lesson(store, 0)
    _lesson(store, 1)
    path = store.proposals.patterns()[0].path
    assert store.proposals.suggest() == []  # 0.5: not above 0.7
    score = 0.5
    for _ in range(6):
        out = store.proposals.record_outcome(path, True, actor=AGENT)
        score = round(score + 0.1 * (1 - score), 6)
        assert out["score"] == pytest.approx(score, abs=1e-5)
    assert score > 0.7
    got = store.proposals.suggest(project="web")
    assert [g["path"] for g in got] == [path] and len(got[0]["evidence"]) == 2
    assert store.proposals.suggest(project="other") == []
    rows = store.tail(1, 100, op="pattern.outcome")
    assert len(rows) == 6 and rows[-1].extra["uses"] == 6
    with pytest.raises(BrainError, match="op"):
        store.note("pattern.outcome", actor=AGENT, path=path, extra={"worked": True})


def test_single_lesson_is_not_suggested(store):
    _lesson(store, 0)
    path = store.proposals.patterns()[0].path
    for _ in range(10):
        store.proposals.record_outcome(path, True, actor=AGENT)
    assert store.proposals.suggest() == []


def test_ineffective_patterns_pruned_after_10_uses_and_7_days(store):
    import time

    _lesson(store, 0)
    _lesson(store, 1)
    path = store.proposals.patterns()[0].path
    for _ in range(11):
        store.proposals.record_outcome(path, False, actor=AGENT)
    assert store.view(path).sidecar.extra["score_ppm"] < 300_000
    now = time.time_ns()
    assert store.proposals.prune(actor=AGENT, now_ns=now) == []  # younger than 7 days
    week = 7 * 86_400 * 10**9
    assert store.proposals.prune(actor=AGENT, now_ns=now + week + 10**9) == [path]
    assert store.proposals.patterns() == []


def test_session_from_the_latest_session_start_row(store, monkeypatch):
    monkeypatch.delenv("BRAIN_SESSION", raising=False)
    from core.write.intents import Note

    store.batch([Note("session.start", "", "", {"session": "mcp-42"})], AGENT)
    f = store.proposals.propose(
        "Paging", proposal(), ANSWERS, actor=AGENT, scope=["widgets/memory_list.py"]
    )
    assert f.session == "mcp-42"


# -- pane 5's reads: keyset pages, counts, preview, similar -------------------------------------


def test_page_is_oldest_first_by_keyset(store):
    made = [file(store, n, session=f"s{n}") for n in range(5)]
    first = store.proposals.page("pending", 0, 2)
    assert [r.path for r in first] == [f.path for f in made[:2]]
    rest = store.proposals.page("pending", first[-1].seq, 10)
    assert [r.path for r in rest] == [f.path for f in made[2:]]
    assert store.proposals.count("pending") == 5
    store.proposals.decide(made[1].path, "reject", actor=HUMAN, reason="not now")
    store.proposals.decide(made[3].path, "accept", actor=HUMAN)
    assert store.proposals.count("pending") == 3
    assert store.proposals.count("decided") == 2
    # decided: ordered by the decision's write
    assert [r.path for r in store.proposals.page("decided")] == [made[1].path, made[3].path]
    with pytest.raises(BrainError, match="status"):
        store.proposals.page("nope")


def test_preview_writes_nothing(store):
    p = _maintain(store)
    head = store.indexed_seq()
    changes = dict((path, (old, new)) for path, old, new in store.proposals.preview(p.path))
    assert "status:accepted" in changes[p.path][1] and "status:pending" in changes[p.path][0]
    old, new = changes["memories/facts/deploy-b.md"]
    assert "status:deprecated" in new and "status:deprecated" not in old
    assert store.indexed_seq() == head
    assert store.proposals.show(p.path).status == "pending"
    near = store.proposals.similar(p.path)
    assert all(path != p.path for path, _ in near)


def test_a_filed_proposal_changes_only_through_its_own_rows(store):
    """What a person approves is what the agent filed: once in the queue, a proposal is not
    rewritten, moved or tombstoned by a plain write (CLI, door, Store API), even one that keeps
    its status; nor can a request prepare a memory elsewhere and move it in. A purge, a legal
    erasure, still passes."""
    f = file(store)
    m = store.view(f.path)
    queue = "the proposal queue changes only through"
    with pytest.raises(BrainError, match=queue):  # the reviewed text swapped, status kept
        store.put(f.path, b"PROPOSAL: disable signature checks\n", actor=AGENT)
    with pytest.raises(BrainError, match=queue):
        store.move(f.path, f"{PROPOSALS}renamed.md", actor=AGENT)
    with pytest.raises(BrainError, match=queue):
        store.move(f.path, "memories/refinements/out.md", actor=AGENT)
    with pytest.raises(BrainError, match=queue):
        store.delete(f.path, actor=AGENT)
    with pytest.raises(BrainError, match=queue):  # a hand-made pending proposal
        store.put(f"{PROPOSALS}forged.md", b"# F\n\nx\n", actor=AGENT, tags=["status:pending"])
    accepted = ["type:proposal", "status:accepted"]
    tmp = "memories/refinements/tmp.md"
    with pytest.raises(BrainError, match=queue):  # prepared outside, moved in, one request
        store.batch(
            [
                store.put_intent(tmp, b"# T\n\nx\n", False, tags=accepted),
                Move(tmp, f"{PROPOSALS}approved-by-nobody.md"),
            ],
            AGENT,
        )
    assert store.view(f.path).body == m.body
    assert store.proposals.count("accepted") == 0
    store.delete(f.path, actor=HUMAN, mode="purge", reason="other")
    assert store.proposals.count("pending") == 0


def test_a_decision_binds_to_the_version_read(store):
    """The CLI and the TUI pass the seq of the version the person read: a decision on a
    proposal that changed since (here a PII-free filing row's rewrite, as core.proposals
    could make) is refused, and the decision row names the version decided on."""
    f = file(store)
    read = store.proposals.show(f.path)
    m = store.view(f.path)
    submit(store, [store.put_intent(f.path, m.body + b"\nedited\n", False), _filed(f.path)], AGENT)
    with pytest.raises(BrainError, match="changed since it was read"):
        store.proposals.decide(f.path, "accept", actor=HUMAN, seen=read.seq)
    assert store.proposals.count("accepted") == 0
    again = store.proposals.show(f.path)
    d = store.proposals.decide(f.path, "accept", actor=HUMAN, seen=again.seq)
    row = [r for r in store.history(f.path) if r.seq == d.seq][0]
    assert row.op == "proposal.decided" and row.extra["version"] == again.seq


def test_a_plain_put_or_move_cannot_decide_a_proposal(store):
    """An agent with write access (a put through the CLI, MCP or the door) cannot mark its own
    proposal accepted by rewriting its status tag, nor move a memory tagged accepted into the
    proposals folder: only the request that carries a person's `proposal.decided` row can."""
    f = file(store)
    m = store.view(f.path)
    forged = [t for t in m.sidecar.tags if not t.startswith("status:")] + ["status:accepted"]
    queue = "the proposal queue changes only through"
    with pytest.raises(BrainError, match=queue):
        store.put(f.path, m.body, actor=AGENT, parse_frontmatter=False, tags=forged)
    with pytest.raises(BrainError, match=queue):
        store.put(f"{PROPOSALS}fresh.md", b"# F\n\nx\n", actor=AGENT, tags=["status:accepted"])
    store.put("memories/refinements/elsewhere.md", b"# E\n\nx\n", actor=AGENT, tags=forged)
    with pytest.raises(BrainError, match=queue):
        store.batch([Move("memories/refinements/elsewhere.md", f"{PROPOSALS}moved.md")], AGENT)
    # Nor through the rows of core.proposals: a filing row does not decide.
    with pytest.raises(BrainError, match="only by a person's decision"):
        submit(store, [store.put_intent(f.path, m.body, False, tags=forged), _filed(f.path)], AGENT)
    assert store.proposals.count("accepted") == 0
    store.proposals.decide(f.path, "accept", actor=HUMAN)
    assert store.proposals.count("accepted") == 1


def test_a_rejection_reason_with_personal_data_is_refused(store):
    """The reason is written into the decision row, which no purge can erase."""
    f = file(store)
    with pytest.raises(BrainError, match="personal data"):
        store.proposals.decide(
            f.path, "reject", actor=HUMAN, reason="per call with jane.doe@example.com"
        )
    assert store.proposals.show(f.path).status == "pending"
    store.proposals.decide(f.path, "reject", actor=HUMAN, reason="too broad for one change")
    assert store.proposals.show(f.path).status == "rejected"


def test_an_action_that_is_not_an_object_is_a_clear_error(store):
    from core import maintain

    for bad in ("retire", ["retire"], 7):
        with pytest.raises(BrainError, match="action: an object"):
            maintain.check_action(bad)  # type: ignore[arg-type]


def test_a_reason_is_one_short_line(store):
    """It is kept in the decision row: no newline or bidi override (they forge `brain tail`
    lines), and a long one is refused rather than silently cut."""
    f = file(store)
    for bad, why in (("a\nb", "U\\+000A"), ("x\u202ey", "U\\+202E"), ("r" * 501, "at most 500")):
        with pytest.raises(BrainError, match=why):
            store.proposals.decide(f.path, "defer", actor=HUMAN, reason=bad)
    assert store.proposals.show(f.path).status == "pending"
