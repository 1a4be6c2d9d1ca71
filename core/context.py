"""Session context: the best memories (at most 300) for an agent to start a session with.

Order: preferences, then the active project, then recent high-access memories, then recent
ones; each entry says why it was chosen and carries its tier score.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import msgspec

from core import tiers
from core.index import tier_rows

if TYPE_CHECKING:
    from core.store import Store

MAX_CONTEXT = 300


class ContextItem(msgspec.Struct):
    path: str
    title: str
    kind: str
    tier: str
    score: int
    reason: str


def context(
    store: Store, *, project: str | None = None, limit: int = MAX_CONTEXT
) -> list[ContextItem]:
    limit = max(0, min(limit, MAX_CONTEXT))
    store.wait_index()
    project = store.manifest.settings.active_project if project is None else project
    conn = store.reader.conn
    week_ago = store.clock() - tiers.WEEK_NS
    # Each group is read only when the ones before it left room.
    groups: list[tuple[str, Callable[[], list[tier_rows.ContextRow]]]] = [
        ("preference", lambda: tier_rows.preferences(conn, limit)),
    ]
    if project:
        groups.append(
            (
                f"active project {project}",
                lambda: tier_rows.project_memories(conn, project, limit),
            )
        )
    groups += [
        ("recent, often used", lambda: tier_rows.often_used(conn, week_ago, limit)),
        ("recent", lambda: tier_rows.recent(conn, limit)),
    ]
    out: list[ContextItem] = []
    seen: set[str] = set()
    for reason, read in groups:
        if len(out) >= limit:
            break
        for path, title, kind, tier, score in read():
            if path in seen:
                continue
            seen.add(path)
            out.append(ContextItem(path, title, kind, tier, score, reason))
            if len(out) >= limit:
                break
    return out
