"""The memory browser's tier summary: hot n/300 · warm n/3,000 · cold n, and the last rebalance.

`summary_content` is a pure function of the engine's `TierSummary` (duck-typed: counts,
hot_cap, warm_cap, last_rebalance_ns), the active tier filter and `now`, so snapshots are
deterministic with a fixed clock. Tier names are words, so they read without colour.
"""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from widgets.header import age

TIER_STYLE = {"hot": "bold $error", "warm": "$warning", "cold": "$primary"}


def summary_content(summary: Any, active: str | None, now_ns: int) -> Content:
    counts = summary.counts
    caps = {"hot": summary.hot_cap, "warm": summary.warm_cap, "cold": None}
    lines: list[Content] = []
    for tier, cap in caps.items():
        n = f"{counts.get(tier, 0):,}"
        fill = f"{n}/{cap:,}" if cap is not None else n
        mark = "▸" if tier == active else " "  # the list shows only this tier (T)
        style = TIER_STYLE[tier] + (" reverse" if tier == active else "")
        lines.append(Content.assemble(mark, (f"{tier:<4}", style), " ", fill))
    last = summary.last_rebalance_ns
    when = age((now_ns - last) / 1e9) if last else "never"
    lines.append(Content.assemble((f" rebalanced {when}", "dim")))
    return Content("\n").join(lines)


class TierSummaryView(Static):
    """Four lines under the kind tree; the screen feeds it from a worker."""

    def show(self, summary: Any, active: str | None, now_ns: int) -> None:
        self.update(summary_content(summary, active, now_ns))
