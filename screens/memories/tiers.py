"""The memory browser's tiers: the summary under the tree and the tier filter (`T`).

Pins (`p`, `u`) are writes (`row_actions`); a rebalance is the app's (only on `b`: reading
never writes), which bumps `tiers_version` when it ends: this pane reads the summary again and
posts `Moved` so the browser shows the list again.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.message import Message

from core.tiers import TierSummary
from screens.memories.common import now_of, store_of
from widgets.status import guarded
from widgets.tier_summary import TierSummaryView

TIER_CYCLE: tuple[str | None, ...] = (None, "hot", "warm", "cold")


class TierPane(TierSummaryView):
    @dataclass(eq=False)
    class Loaded(Message):
        pane: TierPane
        summary: TierSummary

        @property
        def control(self) -> TierPane:
            return self.pane

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, type(self))  # writes in a burst: the newest summary

    @dataclass(eq=False)
    class Moved(Message):
        """A rebalance ended: the browser shows its list again."""

        pane: TierPane

        @property
        def control(self) -> TierPane:
            return self.pane

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.tier: str | None = None  # the list shows only this tier (active memories), or all
        self.summary: TierSummary | None = None
        self.border_title = "tiers"

    def on_mount(self) -> None:
        self.watch(self.app, "tiers_version", self._rebalanced, init=False)
        self.load()

    def _rebalanced(self, _version: int) -> None:
        self.load()
        self.post_message(self.Moved(self))

    def cycle(self) -> None:
        i = TIER_CYCLE.index(self.tier) if self.tier in TIER_CYCLE else 0
        self.set_tier(TIER_CYCLE[(i + 1) % len(TIER_CYCLE)])

    def set_tier(self, tier: str | None) -> None:
        self.tier = tier
        self.redraw()

    @property
    def label(self) -> str:
        return f"{self.tier} tier" if self.tier else ""

    @work(thread=True, exclusive=True, group="mem-tiers", exit_on_error=False)
    @guarded("reading the tier summary")
    def load(self) -> None:
        self.post_message(self.Loaded(self, store_of(self).tiers.summary(top=0)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        message.stop()
        self.summary = message.summary
        self.redraw()

    def redraw(self) -> None:
        if self.summary is not None:
            self.show(self.summary, self.tier, now_of(self))
