"""Pane 5: proposals. The pending queue, the decided history and the lessons, with a detail.

The list (widgets.proposal_list) reads a page at a time by key: pending proposals oldest
first, decided ones in the order they were decided, lessons by path; `v` cycles the three.
The pane bar counts the pending queue. The detail shows the cursor proposal's body, the gate's
checklist (the proposer's five answers and the deterministic checks, pass/fail with reasons),
the memories it nearly duplicates and the diff an approval would apply (tags now and after,
for the proposal and each memory a maintenance action changes); a decided one shows who
decided and why; a lesson shows its sections and its pattern (score, uses, prevention).

Deciding is a person's act: `a` approves and `x` rejects through a dialog with the slug typed
back (a rejection also needs a reason); `d` defers (stays pending, a `proposal.decided` row
records it). Every engine call runs in a thread worker; each decision moves HEAD, and the list,
the header's pending count and the audit tail follow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from core.errors import BrainError
from core.proposals import DUPLICATE_JACCARD, Decision, pattern_path, score_of
from screens.memories.common import actor_of, now_of, store_of
from screens.pane import PaneScreen
from screens.proposal_modals import DecideModal, DecideRequest
from widgets.proposal_list import SOURCES, ProposalList, status_of
from widgets.status import ActivityChanged, StoreChanged, WorkFailed, guarded

VIEWS = ("pending", "decided", "lessons")
VIEW_TITLE = {"pending": "pending", "decided": "history", "lessons": "lessons"}


@dataclass
class Detail:
    """What the detail shows for one row, read in a worker."""

    path: str
    seq: int
    lines: Content


class ProposalDetail(VerticalScroll, can_focus=True):
    """The cursor row's detail; scrolls with the arrows."""

    BINDINGS = [
        Binding("j,down", "scroll_down", "Scroll down", show=False, id="proposals.detail.down"),
        Binding("k,up", "scroll_up", "Scroll up", show=False, id="proposals.detail.up"),
    ]

    def compose(self) -> ComposeResult:
        yield Static("", id="proposal-detail-text")


def _section(title: str) -> Content:
    return Content.styled(f"\n{title}\n", "bold $accent")


def proposal_detail(p: Any, similar: list[tuple[str, float]], preview: list) -> Content:
    """The detail of a proposal (`core.proposals.Proposal`), its near duplicates and the diff
    an approval would apply (`preview`, empty for a decided one)."""
    ex = p.extra
    parts: list[Content | str | tuple[str, str]] = [
        Content.styled(p.title, "bold"),
        "\n",
        Content.styled(
            f"{p.path}  status:{p.status}"
            # A decision rewrites the proposal: its last writer is then the person deciding.
            + (f"  filed by {p.actor}" if p.status == "pending" else "")
            + f"  session {ex.get('session', '—')}  row {p.seq:,}",
            "$text-muted",
        ),
        "\n\n",
        p.body.rstrip("\n"),
    ]
    if ex.get("decided_by"):
        parts += [_section("Decision")]
        parts += [f"status:{p.status} by {ex['decided_by']}"]
        if ex.get("reason"):
            parts += [f"\nreason: {ex['reason']}"]
    gate = ex.get("gate") or []
    parts.append(_section(f"Gate ({sum(1 for c in gate if c.get('ok'))}/{len(gate)} passed)"))
    answers = ex.get("answers") or {}
    for c in gate:
        ok = bool(c.get("ok"))
        parts += [
            ("✓ " if ok else "✗ ", "bold $success" if ok else "bold $error"),
            (f"{c.get('name', '')}: ", "bold"),
            str(c.get("reason", "")),
            "\n",
        ]
        name = str(c.get("name", ""))
        key = name.removeprefix("q:")
        if name.startswith("q:") and answers.get(key):
            parts += [("    " + str(answers[key])[:200], "$text-muted"), "\n"]
    if not gate:
        parts += [("no gate recorded (an engine-made maintenance proposal)", "$text-muted"), "\n"]
    if ex.get("scope"):
        parts += [("scope: ", "bold"), ", ".join(map(str, ex["scope"])), "\n"]
    parts.append(_section("Duplicates found"))
    action = ex.get("action") or {}
    if action.get("op") == "merge":
        for t in action.get("targets", []):
            parts += [
                (t.get("path", ""), "bold"),
                ("  near duplicate", "bold $warning"),
                f" of {action.get('keep', '')} (what this proposal merges)",
                "\n",
            ]
    dups = [(path, score) for path, score in similar if score >= DUPLICATE_JACCARD]
    if not similar and action.get("op") != "merge":
        parts += [("none: no memory shares its words", "$text-muted"), "\n"]
    for path, score in similar:
        near = (path, score) in dups
        parts += [
            (f"{score:.2f} ", "bold $warning" if near else "$text-muted"),
            path,
            ("  near duplicate" if near else "", "bold $warning"),
            "\n",
        ]
    if similar and not dups:
        parts += [(f"none at or above {DUPLICATE_JACCARD:g} overlap", "$text-muted"), "\n"]
    if action:
        parts += [("maintenance: ", "bold"), str(action.get("op")), "\n"]
    if preview:
        parts.append(_section("On approval (the diff it would apply)"))
        for path, old, new in preview:
            parts += [(path, "bold"), "\n"]
            for t in old:
                if t not in new:
                    parts += [(f"  - {t}", "$error"), "\n"]
            for t in new:
                if t not in old:
                    parts += [(f"  + {t}", "$success"), "\n"]
        parts += [("  + proposal.decided row naming you", "$success"), "\n"]
    return Content.assemble(*parts)


def lesson_detail(path: str, title: str, body: str, extra: dict, pattern: Any | None) -> Content:
    parts: list[Content | str | tuple[str, str]] = [
        Content.styled(title, "bold"),
        "\n",
        Content.styled(f"{path}  session {extra.get('session', '—')}", "$text-muted"),
        "\n\n",
        body.rstrip("\n"),
        _section("Pattern"),
    ]
    if pattern is None:
        parts += [("no pattern (it was pruned, or the lesson predates patterns)", "$text-muted")]
    else:
        pex, pbody, ppath = pattern
        lessons = pex.get("lessons", [])
        parts += [
            (ppath, "$text-muted"),
            "\n",
            ("score ", "bold"),
            f"{score_of(pex):.2f}",
            ("   uses ", "bold"),
            str(pex.get("uses", 0)),
            ("   lessons ", "bold"),
            f"{len(lessons)}{'  (recurring)' if len(lessons) > 1 else ''}",
            "\n",
            pbody.rstrip("\n"),
        ]
    return Content.assemble(*parts)


class ProposalsScreen(PaneScreen):
    PANE = "proposals"
    TITLE_TEXT = "Proposals"

    BINDINGS = [
        Binding(
            "a", "decide('accept')", "Approve", id="proposals.approve", tooltip="slug typed back"
        ),
        Binding("x", "decide('reject')", "Reject", id="proposals.reject", tooltip="with a reason"),
        Binding("d", "defer", "Defer", id="proposals.defer", tooltip="leave it pending"),
        Binding(
            "v",
            "cycle_view",
            "View",
            id="proposals.view",
            tooltip="pending, history (decided), lessons",
        ),
        Binding("tab", "switch_focus", "Detail", show=False, id="proposals.focus"),
    ]

    @dataclass(eq=False)
    class DetailLoaded(Message):
        detail: Detail

    @dataclass(eq=False)
    class Decided(Message):
        decision: Decision | None
        path: str
        notes: list[str] = field(default_factory=list)

    @dataclass(eq=False)
    class CountLoaded(Message):
        pending: int

    def __init__(self) -> None:
        super().__init__()
        self.view = "pending"
        self.row: Any | None = None  # the list row under the cursor
        self.detail: Detail | None = None
        self.busy = False  # a decision is on its way: one at a time
        self.pending = 0

    def compose_body(self) -> ComposeResult:
        with Vertical(id="proposals-body"):
            yield ProposalList(lambda: store_of(self), lambda: now_of(self), id="proposal-list")
            yield ProposalDetail(id="proposal-detail")

    @property
    def plist(self) -> ProposalList:
        return self.query_one("#proposal-list", ProposalList)

    @property
    def loaded(self) -> bool:
        return self.plist.loaded

    def on_mount(self) -> None:
        self.bar.show("reading the queue…")
        self.plist.focus()
        self.plist.show_view(self.view)
        self.count()
        self.watch(self.app, "index_head", self._head_moved, init=False)

    def on_screen_resume(self) -> None:
        if self.plist.loaded:
            self.reload()

    def _head_moved(self, _head: object = None) -> None:
        if self.is_attached and self.app.screen is self:
            self.reload()

    def reload(self, select: str | None = None) -> None:
        self.plist.show_view(self.view, select)
        self.count()

    # -- reads --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="proposals-count", exit_on_error=False)
    @guarded("counting pending proposals")
    def count(self) -> None:
        self.post_message(self.CountLoaded(store_of(self).proposals.count("pending")))

    @on(CountLoaded)
    def _count_loaded(self, message: CountLoaded) -> None:
        self.pending = message.pending
        self._update_bar()

    def _update_bar(self) -> None:
        n = self.pending
        view = Content.styled(f"  ·  {VIEW_TITLE[self.view]} (v)", "$text-muted")
        if n:
            self.bar.show(Content.assemble((f"{n:,} pending", "bold $warning"), view))
        else:
            self.bar.show(Content.assemble(("nothing pending", "$text-muted"), view))

    @on(ProposalList.Highlighted, "#proposal-list")
    def _highlighted(self, message: ProposalList.Highlighted) -> None:
        row = message.row
        self.row = row
        if row is None:
            self._paint(None)
            return
        if self.detail is not None and (self.detail.path, self.detail.seq) == (row.path, row.seq):
            return
        self._load_detail(row.path, row.seq, self.view)

    @on(ProposalList.Opened, "#proposal-list")
    def _opened(self, _message: ProposalList.Opened) -> None:
        self.query_one(ProposalDetail).focus()

    @work(thread=True, exclusive=True, group="proposals-detail", exit_on_error=False)
    @guarded("reading the proposal")
    def _load_detail(self, path: str, seq: int, view: str) -> None:
        store = store_of(self)
        if view == "lessons":
            m = store.view(path)
            sig = m.sidecar.extra.get("signature")
            pattern = None
            if sig:
                try:
                    pm = store.view(pattern_path(str(sig)))
                    body = pm.body.decode("utf-8", "replace")
                    pattern = (dict(pm.sidecar.extra), body, pattern_path(str(sig)))
                except BrainError:
                    pattern = None
            body = m.body.decode("utf-8", "replace")
            text = lesson_detail(path, m.sidecar.title, body, dict(m.sidecar.extra), pattern)
        else:
            p = store.proposals.show(path)
            try:
                similar = store.proposals.similar(path)
            except BrainError:
                similar = []
            preview = store.proposals.preview(path) if p.status == "pending" else []
            text = proposal_detail(p, similar, preview)
        self.post_message(self.DetailLoaded(Detail(path, seq, text)))

    @on(DetailLoaded)
    def _detail_loaded(self, message: DetailLoaded) -> None:
        d = message.detail
        if self.row is None or (self.row.path, self.row.seq) != (d.path, d.seq):
            return  # the cursor moved on
        self._paint(d)

    def _paint(self, detail: Detail | None) -> None:
        self.detail = detail
        text = self.query_one("#proposal-detail-text", Static)
        if detail is None:
            text.update(Content.styled("Nothing to show.", "$text-muted"))
        else:
            text.update(detail.lines)
            self.query_one(ProposalDetail).scroll_home(animate=False)

    # -- views and focus ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Decisions are made in the pending view: elsewhere their keys show greyed out.
        if action in ("decide", "defer") and self.view != "pending":
            return None
        return True

    def action_cycle_view(self) -> None:
        self.view = VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)]
        assert self.view in SOURCES
        self.detail = None
        self._paint(None)
        self.plist.show_view(self.view)
        self._update_bar()
        self.refresh_bindings()

    def action_switch_focus(self) -> None:
        detail = self.query_one(ProposalDetail)
        (self.plist if detail.has_focus else detail).focus()

    # -- decisions ------------------------------------------------------------------------------

    def _target(self) -> Any | None:
        row = self.row
        if row is None or self.busy or self.view != "pending" or status_of(row) != "pending":
            if self.view != "pending" and not self.busy:
                self.notify("decisions are made in the pending view (v)", timeout=3)
            self.app.bell()
            return None
        return row

    def action_decide(self, decision: str) -> None:
        row = self._target()
        if row is None:
            return

        def done(req: DecideRequest | None) -> None:
            if req is not None:  # bound to the version listed (and shown): a later edit fails
                self._decide(row.path, req.decision, req.reason, row.seq)

        self.app.push_screen(DecideModal(row.path, row.title, decision), done)

    def action_defer(self) -> None:
        row = self._target()
        if row is not None:
            self._decide(row.path, "defer", "")

    def _decide(self, path: str, decision: str, reason: str, seen: int | None = None) -> None:
        self.busy = True
        self._decide_worker(path, decision, reason, seen)

    @work(thread=True, group="proposals-write", exit_on_error=False)
    def _decide_worker(self, path: str, decision: str, reason: str, seen: int | None) -> None:
        self.post_message(ActivityChanged("proposals", f"{decision}: {path}…"))
        try:
            # A person's decision: approve and reject only after DecideModal's typed slug.
            d = store_of(self).proposals.decide(
                path, decision, actor=actor_of(self), reason=reason, seen=seen
            )
        except Exception as e:  # noqa: BLE001 - a notification; the list reloads
            self.post_message(WorkFailed(f"{decision} {path}", e))
            self.post_message(self.Decided(None, path))
        else:
            self.post_message(self.Decided(d, path, [f"applied to {p}" for p in d.applied]))
        finally:
            self.post_message(ActivityChanged("proposals", None))

    @on(Decided)
    def _decided(self, message: Decided) -> None:
        self.busy = False
        d = message.decision
        if d is not None:
            done = {"accept": "approved", "reject": "rejected", "defer": "deferred"}
            self.notify(
                f"{d.path}: {done.get(d.decision, d.decision)} (row {d.seq:,})",
                title="Proposals",
                timeout=5,
            )
            for note in message.notes:
                self.notify(note, timeout=6)
        self.detail = None
        self.post_message(StoreChanged())
        self.reload(select=message.path if d is not None and d.decision == "defer" else None)
