"""Session context: the best memories (at most 300) for an agent to start a session with.

Order: preferences, then the active project, then recent high-access memories, then recent
ones; each entry says why it was chosen and carries its tier score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from core import tiers

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
    base = (
        "SELECT m.path, m.title, m.kind, m.tier, m.score FROM memories m"
        " LEFT JOIN access a ON a.path = m.path WHERE m.state = 'active'"
    )
    groups: list[tuple[str, str, tuple]] = [
        (
            "preference",
            base + " AND m.kind = 'preferences' ORDER BY m.score DESC, m.path LIMIT ?",
            (),
        ),
    ]
    if project:
        groups.append(
            (
                f"active project {project}",
                base
                + " AND (m.folder = ? OR m.folder LIKE ?) ORDER BY m.score DESC, m.updated_ns DESC LIMIT ?",
                (f"projects/{project}", f"projects/{project}/%"),
            )
        )
    week_ago = store.clock() - tiers.WEEK_NS
    groups += [
        (
            "recent, often used",
            base
            + " AND a.count >= 3 AND a.last_ns >= ? ORDER BY a.last_ns DESC, a.count DESC LIMIT ?",
            (week_ago,),
        ),
        ("recent", base + " ORDER BY m.updated_ns DESC, m.path LIMIT ?", ()),
    ]
    out: list[ContextItem] = []
    seen: set[str] = set()
    for reason, sql, args in groups:
        if len(out) >= limit:
            break
        for path, title, kind, tier, score in conn.execute(sql, (*args, limit)):
            if path in seen:
                continue
            seen.add(path)
            out.append(ContextItem(path, title, kind, tier, score, reason))
            if len(out) >= limit:
                break
    return out
