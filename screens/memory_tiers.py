"""The memory browser's tiers: the tier filter (`T`), the summary under the tree, pin (`p`),
unpin (`u`) and rebalance now (`b`).

A mixin of `MemoriesScreen`: it uses the screen's list, `_selected` and `_reload`. Pins are written here (a `tier.changed` row through the engine); the
rebalance is the app's (only on `b`: reading never writes), which bumps `app.tiers_version`
when it ends so this pane reloads its tiers.
"""

from __future__ import annotations

from textual import work
from textual.message import Message

from screens.memory_actions import WriteDone
from screens.memory_common import actor_of, now_of, store_of
from widgets.status import RebalanceRequested, guarded
from widgets.tier_summary import TierSummaryView

TIER_CYCLE = (None, "hot", "warm", "cold")


class TierSummaryLoaded(Message):
    def __init__(self, summary: object) -> None:
        super().__init__()
        self.summary = summary


class TiersMixin:
    tier: str | None = None  # the list shows only this tier (active memories), or all
    _summary: object | None = None

    def _watch_tiers(self) -> None:
        """On mount: reload tiers when a rebalance (ours, periodic, or `b`) has ended."""
        self.watch(self.app, "tiers_version", self._tiers_moved, init=False)
        self._load_summary()

    def _tiers_moved(self, _version: int = 0) -> None:
        self._load_summary()
        self._reload()

    # -- filter -------------------------------------------------------------------------------

    def action_tier_filter(self) -> None:
        i = TIER_CYCLE.index(self.tier) if self.tier in TIER_CYCLE else 0
        self.tier = TIER_CYCLE[(i + 1) % len(TIER_CYCLE)]
        self._show_summary()
        self._reload(keep_cursor=False)

    def tier_label(self) -> str:
        return f"{self.tier} tier" if self.tier else ""

    # -- summary ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="mem-tiers", exit_on_error=False)
    @guarded("reading the tier summary")
    def _load_summary(self) -> None:
        self.post_message(TierSummaryLoaded(store_of(self).tiers.summary(top=0)))

    def on_tier_summary_loaded(self, message: TierSummaryLoaded) -> None:
        self._summary = message.summary
        self._show_summary()

    def _show_summary(self) -> None:
        if self._summary is not None:
            view = self.query_one("#mem-tiers", TierSummaryView)
            view.show(self._summary, self.tier, now_of(self))

    # -- pin, unpin, rebalance ----------------------------------------------------------------

    def action_pin(self) -> None:
        row = self._selected()
        if row is None:
            return
        if row.pinned:
            self.notify(f"{row.path} is already pinned", timeout=2)
            return
        self._pin(row.path, True)

    def action_unpin(self) -> None:
        row = self._selected()
        if row is None:
            return
        if not row.pinned:
            self.notify(f"{row.path} is not pinned", timeout=2)
            return
        self._pin(row.path, False)

    @work(thread=True, group="mem-write", exit_on_error=False)
    @guarded("pinning the memory")
    def _pin(self, path: str, pinned: bool) -> None:
        store_of(self).tiers.pin(path, actor=actor_of(self), pinned=pinned)
        text = (
            f"pinned {path}: hot now, never below warm"
            if pinned
            else f"unpinned {path}: its tier follows its use from the next rebalance"
        )
        self.post_message(WriteDone(text, path, path))

    def action_rebalance(self) -> None:
        self.post_message(RebalanceRequested(actor_of(self)))
