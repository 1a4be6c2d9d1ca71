"""brain_lesson, brain_propose and brain_proposals over stdio, driven by the MCP SDK's client:
lessons and proposals land under refinements/ attributed to the agent and its session, every
proposal is pending, the budget is per MCP session, and no tool can decide one."""

from __future__ import annotations

import anyio
import pytest

from core import Store
from core.mcp.schema import BY_NAME
from tests.e2e.mcp_client import error_text, init_store, stdio_session, structured

LESSON = {
    "title": "Export after purge",
    "failure": "the nightly export failed after a purge",
    "root_cause": "the exporter read a purged versions folder",
    "fix": "skip purged memories in the exporter",
    "prevention": "a regression test exports right after a purge",
    "category": "bug-fix",
}
TOPICS = [
    ("keyset paging for the memory list", "loads every row at once", "fetch pages of rows"),
    ("cache parsed sidecars in the viewer", "reparses json on keypress", "memoize by seq"),
    ("batch embeddings on idle", "embedding blocks the writer", "queue vectors for idle"),
    ("wake the audit tail on change", "tail polls every frame", "wait on head change"),
]


def proposal(n: int) -> dict:
    what, problem, how = TOPICS[n]
    return {
        "title": what,
        "proposal": f"{what} please",
        "problem": f"today it {problem}",
        "solution": f"we {how} instead",
        "benefit": f"the {what.split()[-1]} stays responsive at scale",
        "context": f"observed during review number {n} of {what.split()[0]}",
        "scope": ["widgets/memory_list.py"],
        "observed": "the pane froze two seconds on open",
        "evidence": "bench_tui p95 went to 2100 ms",
        "answer_scope": "only the widget paging code",
        "reversible": "revert the single commit cleanly",
        "safety": "no, display only changes here",
    }


@pytest.fixture
def store(tmp_path):
    return init_store(tmp_path / "store")


def test_tools_declared_with_annotations():
    assert BY_NAME["brain_proposals"].read_only
    assert not BY_NAME["brain_propose"].read_only and BY_NAME["brain_propose"].writes
    assert "approve" not in " ".join(BY_NAME)  # no tool decides a proposal


def test_lesson_propose_list_over_the_sdk(store):
    async def go():
        out: dict = {}
        async with stdio_session(store) as s:
            call = s.call_tool
            out["lesson"] = structured(await call("brain_lesson", LESSON))
            out["dup"] = error_text(await call("brain_lesson", LESSON))
            out["secret"] = error_text(
                await call(
                    "brain_lesson",
                    dict(LESSON, title="k", failure="key AKIAIOSFODNN7EXAMPLE leaked in ci"),
                )
            )
            out["placeholder"] = error_text(
                await call("brain_lesson", dict(LESSON, title="p", prevention="be careful"))
            )
            out["filed"] = [
                structured(await call("brain_propose", dict(proposal(n), semantic=False)))
                for n in range(3)
            ]
            out["over"] = error_text(await call("brain_propose", proposal(3)))
            out["list"] = structured(await call("brain_proposals", {}))
            out["accepted"] = structured(await call("brain_proposals", {"status": "accepted"}))
        async with stdio_session(store) as s:  # a new MCP session has its own budget
            bad = dict(proposal(3), scope=["core/log/x.py"])
            out["gate"] = structured(await s.call_tool("brain_propose", bad))
        return out

    out = anyio.run(go)
    lesson = out["lesson"]
    assert lesson["kind"] == "lesson" and lesson["path"].startswith("memories/refinements/lessons/")
    # `brain mcp` is a long-lived host: it searches by meaning once its store has embeddings
    # (this one has none yet, or lacks the semantic extra); semantic=false skips it.
    assert lesson["searches"]["lexical"] == "ran"
    assert lesson["searches"]["semantic"].startswith(
        ("skipped: the store has no embeddings yet", "unavailable:")
    )
    assert all(f["searches"]["semantic"].startswith("skipped: turned off") for f in out["filed"])
    assert (
        f"near duplicate is already stored: {lesson['path']} (lexical: word overlap" in out["dup"]
    )
    assert "no secrets" in out["secret"]
    assert "PREVENTION is a placeholder" in out["placeholder"]
    assert all(f["filed"] and f["status"] == "pending" for f in out["filed"])
    assert len({f["session"] for f in out["filed"]}) == 1
    assert "has filed 3 proposals" in out["over"]
    assert [p["status"] for p in out["list"]["proposals"]] == ["pending"] * 3
    assert out["list"]["proposals"][0]["gate"][0]["name"] == "q:observed"
    assert out["accepted"]["proposals"] == []
    gate = out["gate"]
    assert gate["filed"] is False and gate["lesson_path"].startswith(
        "memories/refinements/lessons/"
    )
    assert any(c["name"] == "security" and not c["ok"] for c in gate["gate"])
    with Store.open(store, allow_temp=True, read_only=True) as st:
        rows = [r for r, _ in st.rows()]
    filed = [r for r in rows if r.op == "proposal.filed"]
    assert len(filed) == 3 and all(r.actor.startswith("agent:") for r in filed)
    assert not [r for r in rows if r.op == "proposal.decided"]
