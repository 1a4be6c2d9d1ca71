"""Hot, warm and cold tiers: scores from recency, frequency and type; caps; rebalance rows.

score = 0.4·recency + 0.4·frequency + 0.2·type, kept as integers per mille in the index:
recency = exp(−age / 7 days) from the last access or write, frequency = log10(accesses + 1)
normalised by the store's maximum, type = the manifest's per-mille weight of the memory's kind
(preferences and the active project weigh most).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

import msgspec

from core.errors import BrainError
from core.index import schema, tier_rows
from core.write.intents import Note

if TYPE_CHECKING:
    from core.store import Store

HOT_CAP, WARM_CAP = 300, 3000
DAY_NS = 86_400 * 10**9
WEEK_NS = 7 * DAY_NS
MOVES_PER_ROW = 1000
DEFAULT_WEIGHTS = {
    "preferences": 1000,
    "active_project": 1000,
    "decisions": 700,
    "facts": 500,
    "refinements": 500,
    "projects": 400,
    "people": 400,
    "drift": 300,
}
TIERS = ("hot", "warm", "cold")


@dataclass(slots=True)
class Stats:
    path: str
    kind: str
    folder: str
    updated_ns: int
    pinned: bool
    tier: str
    accesses: int = 0
    accesses_7d: int = 0
    last_access_ns: int = 0
    score: int = 0  # as last stored in the index


@dataclass(slots=True)
class Placement:
    path: str
    score: int  # per mille
    tier: str
    reason: str


class TierSummary(msgspec.Struct):
    counts: dict[str, int]
    hot_cap: int
    warm_cap: int
    last_rebalance_ns: int | None
    active_project: str
    top: dict[str, list[dict]]


def weights(store: Store) -> dict[str, int]:
    return {**DEFAULT_WEIGHTS, **store.manifest.settings.tier_weights}


def in_project(s: Stats, project: str) -> bool:
    return bool(project) and (
        s.folder == f"projects/{project}" or s.folder.startswith(f"projects/{project}/")
    )


def score(s: Stats, now: int, max_log: float, w: dict[str, int], project: str) -> int:
    last = max(s.updated_ns, s.last_access_ns)
    recency = math.exp(-max(0, now - last) / WEEK_NS)
    frequency = math.log10(s.accesses + 1) / max_log if max_log > 0 else 0.0
    type_w = w["active_project"] if in_project(s, project) else w.get(s.kind, 0)
    return round(1000 * (0.4 * recency + 0.4 * frequency) + 0.2 * type_w)


def place(stats: list[Stats], now: int, w: dict[str, int], project: str) -> list[Placement]:
    """Assign tiers: qualify, rank by score, cap, and drop the overflow one tier."""
    max_log = max((math.log10(s.accesses + 1) for s in stats), default=0.0)
    scored = [(score(s, now, max_log, w, project), s) for s in stats]
    # Ties break by path so a rebalance is deterministic.
    scored.sort(key=lambda t: (-t[0], t[1].path))
    hot: list[tuple[int, Stats, str]] = []
    warm: list[tuple[int, Stats, str]] = []
    out: list[Placement] = []
    for sc, s in scored:
        protected = s.pinned or s.kind == "preferences"
        used_today = now - max(s.updated_ns, s.last_access_ns) <= DAY_NS
        if (s.accesses >= 10 and used_today) or protected or in_project(s, project):
            reason = (
                "pinned" if s.pinned
                else "preference" if s.kind == "preferences"
                else "active project" if in_project(s, project)
                else "≥10 accesses, used within 24 h"
            )  # fmt: skip
            (hot if len(hot) < HOT_CAP else warm).append((sc, s, reason))
        elif s.accesses_7d >= 3:
            warm.append((sc, s, "≥3 accesses within 7 days"))
        else:
            out.append(Placement(s.path, sc, "cold", "rarely used"))
    for sc, s, reason in hot:
        out.append(Placement(s.path, sc, "hot", reason))
    # Warm keeps the best scores; pinned memories and preferences never fall below warm.
    warm.sort(key=lambda t: (not (t[1].pinned or t[1].kind == "preferences"), -t[0], t[1].path))
    for i, (sc, s, reason) in enumerate(warm):
        protected = s.pinned or s.kind == "preferences"
        if i < WARM_CAP or protected:
            out.append(Placement(s.path, sc, "warm", reason))
        else:
            out.append(Placement(s.path, sc, "cold", f"warm tier full ({reason})"))
    return out


def load_stats(conn: sqlite3.Connection, now: int) -> list[Stats]:
    rows = tier_rows.stat_rows(conn, now - WEEK_NS)
    return [
        Stats(p, k, f, u, bool(pin), t, accesses=c, accesses_7d=n, last_access_ns=la, score=sc)
        for p, k, f, u, pin, t, c, la, n, sc in rows
    ]


class Tiers:
    """`store.tiers`: rebalance, summary, pin and unpin."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def plan(self) -> list[Placement]:
        return self._plan()[1]

    def _plan(self) -> tuple[list[Stats], list[Placement]]:
        s = self.store
        s.wait_index()
        now = s.clock()
        stats = load_stats(s.reader.conn, now)
        return stats, place(stats, now, weights(s), s.manifest.settings.active_project)

    def rebalance(self, *, actor: str = "system:tiers") -> dict[str, int]:
        """Recompute tiers; log the moves as tier.changed rows (≤1,000 moves a row)."""
        s = self.store
        stats, placements = self._plan()
        current = {st.path: st.tier for st in stats}
        stored = {st.path: st.score for st in stats}
        moves = [
            [p.path, current.get(p.path, "cold"), p.tier]
            for p in placements
            if current.get(p.path) != p.tier
        ]
        intents = [
            Note(
                "tier.changed",
                "",
                "",
                {"moves": moves[i : i + MOVES_PER_ROW], "reason": "rebalance"},
            )
            for i in range(0, len(moves), MOVES_PER_ROW)
        ]
        if intents:
            s.batch(intents, actor)
        scores = [(p.score, p.path) for p in placements if stored.get(p.path) != p.score]
        s.follower.call(lambda ix: tier_rows.store_scores(ix, scores, s.clock()))
        counts = {t: 0 for t in TIERS}
        for p in placements:
            counts[p.tier] += 1
        return {**counts, "moves": len(moves), "rows": len(intents)}

    def pin(self, path: str, *, actor: str, pinned: bool = True) -> bool:
        """Pin (or unpin) a memory; False, with no row written, when it already was."""
        from core import paths

        path = paths.validate(path)
        side = self.store.view(path)
        if side.sidecar.state != "active":
            raise BrainError(f"{path}: only active memories can be pinned")
        self.store.wait_index()
        conn = self.store.reader.conn
        if tier_rows.pinned_of(conn, path) == pinned:
            return False
        extra: dict = {"pin" if pinned else "unpin": [path]}
        if pinned:  # a pin takes effect now, not at the next rebalance
            tier = tier_rows.tier_of(conn, path)
            if tier and tier != "hot":
                extra["moves"] = [[path, tier, "hot"]]
        self.store.note("tier.changed", actor=actor, extra=extra)
        return True

    def summary(self, top: int = 5) -> TierSummary:
        s = self.store
        s.wait_index()
        conn = s.reader.conn
        counts = {t: 0 for t in TIERS} | tier_rows.tier_counts(conn)
        last = schema.meta(conn, "last_rebalance_ns")
        tops = {
            t: [
                {"path": p, "title": ti, "score": sc, "pinned": bool(pin)}
                for p, ti, sc, pin in tier_rows.tier_top(conn, t, top)
            ]
            for t in TIERS
        }
        return TierSummary(
            counts,
            HOT_CAP,
            WARM_CAP,
            int(last) if last else None,
            s.manifest.settings.active_project,
            tops,
        )
