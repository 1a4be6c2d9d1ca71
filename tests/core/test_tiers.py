"""Tier rules at their boundaries (fixed clock), rebalance rows, pins and session context."""

from __future__ import annotations

import pytest

from core import tiers
from core.store import Store
from core.tiers import DAY_NS, WEEK_NS, Stats, place
from core.write.intents import Put

T0 = 1_800_000_000_000_000_000
W = dict(tiers.DEFAULT_WEIGHTS)
ACTOR = "agent:t@h"


class Clock:
    def __init__(self, t: int = T0) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


def stats(path, kind="facts", *, acc=0, acc7=0, last=0, updated=T0, pinned=False, folder=None):
    folder = folder or kind
    return Stats(path, kind, folder, updated, pinned, "cold", acc, acc7, last)


def tier_of(placements, path):
    return next(p.tier for p in placements if p.path == path)


def test_hot_needs_ten_accesses_used_within_a_day():
    now = T0 + DAY_NS
    ps = place(
        [
            stats("memories/facts/ten.md", acc=10, acc7=10, last=now - DAY_NS),
            stats("memories/facts/nine.md", acc=9, acc7=9, last=now),
            stats("memories/facts/stale.md", acc=10, acc7=10, last=now - DAY_NS - 1, updated=0),
        ],
        now,
        W,
        "",
    )
    assert tier_of(ps, "memories/facts/ten.md") == "hot"
    assert tier_of(ps, "memories/facts/nine.md") == "warm"
    assert tier_of(ps, "memories/facts/stale.md") == "warm"


def test_warm_needs_three_accesses_within_a_week():
    ps = place(
        [
            stats("memories/facts/three.md", acc=3, acc7=3),
            stats("memories/facts/two.md", acc=5, acc7=2),
        ],
        T0,
        W,
        "",
    )
    assert tier_of(ps, "memories/facts/three.md") == "warm"
    assert tier_of(ps, "memories/facts/two.md") == "cold"


def test_hot_cap_keeps_best_scores_and_drops_the_rest_one_tier():
    many = [
        stats(f"memories/preferences/p{i:04d}.md", "preferences", acc=i % 7) for i in range(301)
    ]
    ps = place(many, T0, W, "")
    hot = [p for p in ps if p.tier == "hot"]
    assert len(hot) == 300
    dropped = [p for p in ps if p.tier == "warm"]
    assert len(dropped) == 1
    assert dropped[0].score <= min(p.score for p in hot)


def test_ties_break_by_path_deterministically():
    same = [stats(f"memories/preferences/p{i:04d}.md", "preferences") for i in range(301)]
    ps = place(list(reversed(same)), T0, W, "")
    assert tier_of(ps, "memories/preferences/p0300.md") == "warm"
    assert tier_of(ps, "memories/preferences/p0000.md") == "hot"


def test_warm_cap_drops_overflow_to_cold():
    many = [stats(f"memories/facts/f{i:05d}.md", acc=3 + i % 5, acc7=3) for i in range(3001)]
    ps = place(many, T0, W, "")
    assert sum(p.tier == "warm" for p in ps) == 3000
    assert sum(p.tier == "cold" for p in ps) == 1


def test_pinned_and_preferences_never_below_warm():
    prefs = [stats(f"memories/preferences/p{i:05d}.md", "preferences") for i in range(3400)]
    pinned = [stats("memories/facts/pinned.md", pinned=True, updated=0)]
    ps = place(prefs + pinned, T0 + 30 * DAY_NS, W, "")
    assert not [p for p in ps if p.tier == "cold"]
    assert sum(p.tier == "hot" for p in ps) == 300


def test_active_project_is_hot_and_weighs_most():
    ps = place(
        [
            stats("memories/projects/atlas/a.md", "projects", folder="projects/atlas"),
            stats("memories/projects/other/b.md", "projects", folder="projects/other"),
        ],
        T0,
        W,
        "atlas",
    )
    a = next(p for p in ps if p.path.endswith("a.md"))
    b = next(p for p in ps if p.path.endswith("b.md"))
    assert a.tier == "hot" and a.reason == "active project"
    assert b.tier == "cold" and a.score > b.score


def test_score_formula():
    s = stats("memories/facts/x.md", acc=9, last=T0 - WEEK_NS, updated=0)
    # recency exp(-1), frequency log10(10)/log10(10) = 1, type facts 500 per mille
    import math

    expected = round(1000 * (0.4 * math.exp(-1) + 0.4 * 1.0) + 0.2 * 500)
    assert tiers.score(s, T0, 1.0, W, "") == expected


@pytest.fixture
def clock():
    return Clock()


def _store(tmp_path, clock):
    return Store.init(tmp_path / "s", allow_temp=True, clock=clock)


def test_rebalance_logs_moves_in_rows_of_at_most_1000(tmp_path, clock):
    with _store(tmp_path, clock) as s:
        s.batch(
            [
                Put(f"memories/preferences/p{i:04d}.md", f"preference {i}\n".encode())
                for i in range(2500)
            ],
            ACTOR,
        )
        result = s.tiers.rebalance()
        assert result["moves"] == 2500 and result["rows"] == 3
        rows = s.tail(op="tier.changed")
        assert [len(r.extra["moves"]) for r in rows] == [1000, 1000, 500]
        summary = s.tiers.summary()
        assert summary.counts == {"hot": 300, "warm": 2200, "cold": 0}
        again = s.tiers.rebalance()
        assert again["moves"] == 0 and again["rows"] == 0
        # The index mirrors the rows: a rebuild gets the same tiers back.
        s.reindex()
        assert s.tiers.summary().counts == {"hot": 300, "warm": 2200, "cold": 0}


def test_accesses_drive_tiers_end_to_end(tmp_path, clock):
    with _store(tmp_path, clock) as s:
        for name in ("often", "some", "never"):
            s.put(f"memories/facts/{name}.md", f"{name}\n", actor=ACTOR)
        clock.t += 2 * DAY_NS
        for _ in range(10):
            s.view("memories/facts/often.md", actor=ACTOR)
        for _ in range(3):
            s.view("memories/facts/some.md", actor=ACTOR)
        s.tiers.rebalance()
        got = {m.path.rsplit("/", 1)[1]: m.tier for m in s.memories()}
        assert got == {"often.md": "hot", "some.md": "warm", "never.md": "cold"}
        clock.t += 8 * DAY_NS  # a week later nothing was used
        s.tiers.rebalance()
        got = {m.path.rsplit("/", 1)[1]: m.tier for m in s.memories()}
        assert got == {"often.md": "cold", "some.md": "cold", "never.md": "cold"}


def test_pin_is_immediate_survives_moves_and_unpin(tmp_path, clock):
    with _store(tmp_path, clock) as s:
        s.put("memories/facts/a.md", "a\n", actor=ACTOR)
        s.tiers.pin("memories/facts/a.md", actor=ACTOR)
        m = s.memories()[0]
        assert m.pinned and m.tier == "hot"
        s.move("memories/facts/a.md", "memories/facts/b.md", actor=ACTOR)
        m = s.memories()[0]
        assert m.path.endswith("b.md") and m.pinned and m.tier == "hot"
        clock.t += 30 * DAY_NS
        s.tiers.rebalance()
        assert s.memories()[0].tier == "hot"
        s.tiers.pin("memories/facts/b.md", actor=ACTOR, pinned=False)
        s.tiers.rebalance()
        assert s.memories()[0].tier == "cold" and not s.memories()[0].pinned


def test_a_pin_that_changes_nothing_writes_no_row(tmp_path, clock):
    with _store(tmp_path, clock) as s:
        s.put("memories/facts/a.md", "a\n", actor=ACTOR)
        rows = len(s.rows())
        assert s.tiers.pin("memories/facts/a.md", actor=ACTOR, pinned=False) is False
        assert s.tiers.pin("memories/facts/a.md", actor=ACTOR) is True
        assert s.tiers.pin("memories/facts/a.md", actor=ACTOR) is False
        assert len(s.rows()) == rows + 1  # one tier.changed row, for the one real change


def test_context_order_and_limit(tmp_path, clock):
    with _store(tmp_path, clock) as s:
        s.put("memories/facts/old.md", "old\n", actor=ACTOR)
        clock.t += DAY_NS
        s.put("memories/preferences/tabs.md", "use tabs\n", actor=ACTOR)
        s.put("memories/projects/atlas/plan.md", "plan\n", actor=ACTOR)
        s.put("memories/projects/zeus/plan.md", "zeus\n", actor=ACTOR)
        s.put("memories/facts/used.md", "used\n", actor=ACTOR)
        s.put("memories/facts/new.md", "new\n", actor=ACTOR)
        for _ in range(3):
            s.view("memories/facts/used.md", actor=ACTOR)
        s.set_active_project("atlas")
        s.tiers.rebalance()
        items = s.context()
        assert [i.path.split("/", 2)[2] for i in items[:3]] == [
            "tabs.md",
            "atlas/plan.md",
            "used.md",
        ]
        assert [i.reason for i in items[:3]] == [
            "preference",
            "active project atlas",
            "recent, often used",
        ]
        assert items[-1].path == "memories/facts/old.md" and items[-1].reason == "recent"
        assert len({i.path for i in items}) == len(items) == 6
        assert [i.path for i in s.context(limit=2)] == [i.path for i in items[:2]]
        zeus = s.context(project="zeus")
        assert zeus[1].path == "memories/projects/zeus/plan.md"


BUSY, MOVED = "memories/facts/busy.md", "memories/facts/busy-moved.md"


def _plan(s):
    return {p.path: (p.tier, p.reason) for p in s.tiers.plan()}


def _later(clock):
    clock.t += 1  # each step at its own time, as with a real clock: reads and rows interleave


def test_access_statistics_follow_the_memory_not_its_path(tmp_path, clock):
    """A move carries a memory's accesses; a purge or a tombstone drops them, so a new memory
    written at the old path starts cold; a rebuild folds the read journal to the same result."""
    hot = ("hot", "≥10 accesses, used within 24 h")
    with _store(tmp_path, clock) as s:
        s.put(BUSY, "read very often\n", actor=ACTOR)
        s.put("memories/facts/other.md", "unrelated\n", actor=ACTOR)
        for _ in range(12):
            _later(clock)
            s.view(BUSY, actor=ACTOR)
        assert _plan(s)[BUSY] == hot  # folds the reads before the move
        _later(clock)
        s.move(BUSY, MOVED, actor=ACTOR)
        assert _plan(s)[MOVED] == hot
        _later(clock)
        s.put(BUSY, "a new memory at the old path\n", actor=ACTOR)
        assert _plan(s)[BUSY] == ("cold", "rarely used")
        for mode, reason in (("purge", "user-request"), ("tombstone", None)):
            for _ in range(12):
                _later(clock)
                s.view(BUSY, actor=ACTOR)
            assert _plan(s)[BUSY] == hot
            _later(clock)
            s.delete(BUSY, actor=ACTOR, mode=mode, reason=reason)
            _later(clock)
            s.put(BUSY, f"written again after a {mode}\n", actor=ACTOR)
            assert _plan(s)[BUSY] == ("cold", "rarely used"), mode
        s.tiers.rebalance()
        assert [m["path"] for m in s.tiers.summary().top["hot"]] == [MOVED]
        before = _plan(s)
        s.reindex()
        assert _plan(s) == before


def test_reads_folded_after_a_move_or_delete_follow_the_memory(tmp_path, clock):
    """Reads still in the journal when a move or delete is applied (a `brain view`, then a
    `brain move` in another process) are counted where the memory went, or dropped."""
    with _store(tmp_path, clock) as s:
        s.put(BUSY, "read very often\n", actor=ACTOR)
        s.put("memories/facts/gone.md", "read, then deleted\n", actor=ACTOR)
        for _ in range(12):
            _later(clock)
            s.view(BUSY, actor=ACTOR)
            s.view("memories/facts/gone.md", actor=ACTOR)
        _later(clock)
        s.move(BUSY, MOVED, actor=ACTOR)
        s.delete("memories/facts/gone.md", actor=ACTOR)
        _later(clock)
        s.put(BUSY, "a new memory at the old path\n", actor=ACTOR)
        s.put("memories/facts/gone.md", "written again\n", actor=ACTOR)
        plan = _plan(s)
        assert plan[MOVED][0] == "hot"
        assert plan[BUSY][0] == plan["memories/facts/gone.md"][0] == "cold"


def test_reindex_keeps_tiers_and_pins_through_moves_and_deletes(tmp_path, clock):
    """A rebuild replays tier.changed rows, moves and deletes in seq order: a pin follows
    its memory, and a memory written again where a pinned one was deleted is not pinned."""

    def state(s):
        return {m.path.rsplit("/", 1)[1]: (m.tier, m.pinned, m.state) for m in s.memories()}

    with _store(tmp_path, clock) as s:
        for name in ("m", "p", "t", "w"):
            s.put(f"memories/facts/{name}.md", f"{name}\n", actor=ACTOR)
            s.tiers.pin(f"memories/facts/{name}.md", actor=ACTOR)
        s.move("memories/facts/m.md", "memories/facts/m2.md", actor=ACTOR)
        s.move("memories/facts/m2.md", "memories/facts/m3.md", actor=ACTOR)
        s.delete("memories/facts/p.md", actor=ACTOR, mode="purge", reason="user-request")
        s.put("memories/facts/p.md", "p again\n", actor=ACTOR)
        s.delete("memories/facts/t.md", actor=ACTOR)
        s.put("memories/facts/t.md", "t again\n", actor=ACTOR)
        s.tiers.pin("memories/facts/w.md", actor=ACTOR, pinned=False)
        s.move("memories/facts/w.md", "memories/facts/m.md", actor=ACTOR)  # to a pinned path
        s.tiers.rebalance()
        before = state(s)
        assert before == {
            "m3.md": ("hot", True, "active"),
            "m.md": ("cold", False, "active"),
            "p.md": ("cold", False, "active"),
            "t.md": ("cold", False, "active"),
        }
        s.reindex()
        assert state(s) == before


def test_context_project_name_is_literal_not_a_pattern(tmp_path, clock):
    """`_` and `%` in a project name match themselves (core.tiers.in_project), not any
    character as in SQL LIKE; nor does a name match a longer one."""
    with _store(tmp_path, clock) as s:
        for folder in ("my_app", "my_app/notes", "myXapp", "my_app2"):
            s.put(f"memories/projects/{folder}/n.md", f"{folder}\n", actor=ACTOR)

        def project_paths(name):
            items = s.context(project=name)
            return sorted(i.path for i in items if i.reason == f"active project {name}")

        assert project_paths("my_app") == [
            "memories/projects/my_app/n.md",
            "memories/projects/my_app/notes/n.md",
        ]
        assert project_paths("%") == project_paths("my%") == project_paths("_y_app") == []
