"""The demo's timeline: who works when, and which operations each work session holds.

Pure planning over a `random.Random`; nothing here touches a store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

NS = 1_000_000_000
DAY_NS = 86_400 * NS

# (actor, share of sessions, working hours [start, end) in UTC, create weights per kind)
ACTORS: list[tuple[str, int, tuple[int, int], dict[str, float]]] = [
    (
        "agent:claude-code@laptop",
        34,
        (8, 23),
        {
            "facts": 5,
            "refinements": 4,
            "decisions": 2,
            "drift": 2,
            "projects": 1,
            "preferences": 1,
            "people": 0.3,
        },
    ),
    (
        "agent:cursor@desktop",
        24,
        (9, 21),
        {"facts": 5, "drift": 3, "refinements": 2, "decisions": 1},
    ),
    (
        "human:ana@laptop",
        18,
        (8, 18),
        {"decisions": 3, "projects": 3, "people": 2, "preferences": 2, "facts": 1},
    ),
    (
        "human:raj@desktop",
        14,
        (10, 20),
        {"decisions": 2, "projects": 2, "facts": 2, "people": 1, "drift": 1},
    ),
    (
        "agent:assistant@phone",
        10,
        (7, 22),
        {"preferences": 4, "people": 2, "facts": 1},
    ),
]
HUMANS = [a for a, *_ in ACTORS if a.startswith("human:")]
PURGER = "human:ana@laptop"


@dataclass(frozen=True, slots=True)
class Size:
    memories: int
    edits: int
    moves: int
    tombstones: int
    rejections: int
    sessions: int
    views_per_session: int
    days: int


SIZES = {
    # ~3,000 memories and ~20,000 audit rows over eight weeks.
    "full": Size(3000, 14_400, 220, 120, 12, 1400, 14, 56),
    # ~200 memories and ~1,000 rows over three weeks: fast enough for every test run.
    "small": Size(200, 620, 12, 8, 3, 90, 8, 21),
}


@dataclass(slots=True)
class Session:
    start_ns: int
    actor: str
    ops: list[str]  # "create" | "edit" | "move" | "tombstone" | "reject"
    purge: bool = False


def estimated_rows(size: Size) -> int:
    ops = size.memories + size.edits + size.moves + size.tombstones + size.rejections
    return ops + 2 * size.sessions + 4


def plan(size: Size, end_ns: int, rng: random.Random) -> list[Session]:
    """Sessions in time order; the first is the purge target's author, one is the purge."""
    start_ns = (end_ns - size.days * DAY_NS) // DAY_NS * DAY_NS
    ops = _ordered_ops(size, rng)
    cuts = sorted(rng.sample(range(1, len(ops)), size.sessions - 1))
    chunks = [ops[a:b] for a, b in zip([0, *cuts], [*cuts, len(ops)], strict=True)]
    times = sorted(_session_time(start_ns, size.days, rng) for _ in chunks)
    sessions = []
    for when, chunk in zip(times, chunks, strict=True):
        sessions.append(Session(when, _actor_for(when, chunk, rng), chunk))
    # The purge target is written on day one and erased about two thirds of the way in.
    first = sessions[0]
    sessions.insert(0, Session(first.start_ns - 3600 * NS, PURGER, ["create-purge-target"]))
    at = int(len(sessions) * 0.68)
    sessions.insert(at, Session(sessions[at - 1].start_ns + 60 * NS, PURGER, [], purge=True))
    return sessions


def _ordered_ops(size: Size, rng: random.Random) -> list[str]:
    """Creates come early, edits later, moves and tombstones once there is something to tidy."""
    keyed: list[tuple[float, str]] = []
    keyed += [(rng.random() ** 2, "create") for _ in range(size.memories)]
    keyed += [(0.03 + 0.97 * rng.random() ** 0.8, "edit") for _ in range(size.edits)]
    keyed += [(0.2 + 0.8 * rng.random(), "move") for _ in range(size.moves)]
    keyed += [(0.3 + 0.7 * rng.random(), "tombstone") for _ in range(size.tombstones)]
    keyed += [(0.1 + 0.9 * rng.random(), "reject") for _ in range(size.rejections)]
    keyed.sort()
    return [op for _k, op in keyed]


def _session_time(start_ns: int, days: int, rng: random.Random) -> int:
    while True:
        day = rng.randrange(days)
        weekend = (start_ns // DAY_NS + day + 3) % 7 in (5, 6)  # 1970-01-01 was a Thursday
        if not weekend or rng.random() < 0.25:
            break
    hour = rng.uniform(7, 23)
    return start_ns + day * DAY_NS + int(hour * 3600 * NS)


def _actor_for(when_ns: int, ops: list[str], rng: random.Random) -> str:
    hour = (when_ns % DAY_NS) / (3600 * NS)
    tidy = any(op in ("move", "tombstone") for op in ops)
    pool = [
        (actor, share * (4 if tidy and actor in HUMANS else 1))
        for actor, share, (h0, h1), _k in ACTORS
        if h0 <= hour < h1
    ]
    if any(op == "reject" for op in ops):
        pool = [(a, s) for a, s in pool if a.startswith("agent:")] or pool
    if not pool:
        pool = [(a, s) for a, s, _h, _k in ACTORS]
    return rng.choices([a for a, _ in pool], weights=[s for _, s in pool])[0]


def kind_weights(actor: str) -> dict[str, float]:
    for a, _s, _h, kinds in ACTORS:
        if a == actor:
            return kinds
    return {"facts": 1}
