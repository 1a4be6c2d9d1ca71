"""One audit row in full: its JSON, commitment and chain link, and its inclusion proof."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from core.models import Row
from core.store import Store
from widgets.audit_format import clean, utc
from widgets.key_footer import KeyFooter
from widgets.proof_view import ProofView
from widgets.status import ActivityChanged, WorkFailed

if TYPE_CHECKING:
    from core.verify.proofbundle import Verdict  # loaded with the first proof, not at start-up


class RowDetailScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "dismiss", "Back", id="detail.close"),
        Binding("p", "prove", "Prove", id="detail.prove"),
        Binding("c", "copy", "Copy", id="detail.copy"),
        Binding("y", "copy_path", "Copy path", id="detail.copy_path"),
        Binding("w", "wrap", "Wrap", id="detail.wrap"),
    ]

    @dataclass(eq=False)
    class ChainChecked(Message):
        prev: Row | None

    @dataclass(eq=False)
    class ProofReady(Message):
        bundle: dict[str, Any] | None
        verdict: Verdict | None
        note: str = ""

    def __init__(self, store: Store, row: Row, *, prove_now: bool = False) -> None:
        super().__init__()
        self.store = store
        self.row = row
        self.prove_now = prove_now
        self.bundle: dict[str, Any] | None = None
        self._proving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(self._title(), id="detail-title")
            with VerticalScroll(id="detail-body"):
                yield Static(self._fields(None, checked=False), id="detail-fields")
                yield ProofView("press p to prove this row is in the signed log", id="detail-proof")
            yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        self.run_worker(self._check_chain, thread=True, group="chain", exit_on_error=False)
        if self.prove_now:
            self.action_prove()

    def _title(self) -> Content:
        r = self.row
        return Content.assemble(
            ("Row ", "bold"),
            (str(r.seq), "bold $accent"),
            "  ",
            (r.op, "bold"),
            "  ",
            clean(r.path),
        )

    def _json(self) -> str:
        return msgspec.json.format(msgspec.json.encode(self.row), indent=2).decode()

    def _link(self, prev: Row | None, checked: bool) -> tuple[str, str]:
        r = self.row
        if r.seq == 1:
            return ("the first row: its prev chain is all zeros", "$text-muted")
        if not checked:
            return ("checking the link to the row before…", "$text-muted")
        if prev is None:
            return (f"row {r.seq - 1} is not in the index", "$warning")
        if prev.chain == r.prev_chain:
            return (f"✓ equals the chain of row {prev.seq}", "$success")
        return (f"✗ differs from the chain of row {prev.seq} ({prev.chain[:16]}…)", "$error")

    def _fields(self, prev: Row | None, checked: bool) -> Content:
        """The nine fields, one per line (a 64-hex hash fits next to its label at 80 columns)."""
        r = self.row
        extra = json.dumps(r.extra, ensure_ascii=False, sort_keys=True) if r.extra else "{}"
        rows: list[tuple[str, str | Content]] = [
            ("seq", str(r.seq)),
            ("time", f"{utc(r.ts_ns, True)} UTC"),
            ("ts_ns", str(r.ts_ns)),
            ("op", r.op),
            ("path", clean(r.path) or "—"),
            ("actor", clean(r.actor)),
            ("commit", r.commit or "— (this op writes no body)"),
            ("prev_chain", r.prev_chain),
            ("", Content.styled(*self._link(prev, checked))),
            ("chain", r.chain),
            ("extra", clean(extra)),
        ]
        lines = [Content.assemble((f"{k:<10} ", "dim"), v) for k, v in rows]
        return Content("\n").join(lines)

    # -- workers -------------------------------------------------------------------------

    def _check_chain(self) -> None:
        try:
            prev = None
            if self.row.seq > 1:
                prev = self.store.audit_row(self.row.seq - 1)
            self.post_message(self.ChainChecked(prev))
        except Exception as e:  # noqa: BLE001 - reported, the modal stays
            self.post_message(WorkFailed("checking the chain link", e))

    def on_row_detail_screen_chain_checked(self, message: ChainChecked) -> None:
        self.query_one("#detail-fields", Static).update(self._fields(message.prev, checked=True))

    def action_prove(self) -> None:
        if self._proving:
            return
        self._proving = True
        self.query_one(ProofView).show_message(
            f"building the inclusion proof for row {self.row.seq}…"
        )
        self.run_worker(
            self._prove, thread=True, exclusive=True, group="prove", exit_on_error=False
        )

    def _prove(self) -> None:
        seq = self.row.seq
        self.post_message(ActivityChanged("prove", f"proving row {seq}…", "proving…"))
        try:
            from core.verify.proofbundle import verify_bundle

            bundle = self.store.prove(seq)
            self.post_message(self.ProofReady(bundle, verify_bundle(bundle)))
        except Exception as e:  # noqa: BLE001 - reported, the modal stays
            self.post_message(WorkFailed(f"proving row {seq}", e))
            self.post_message(self.ProofReady(None, None, f"no proof: {e}"))
        finally:
            self.post_message(ActivityChanged("prove", None))

    def on_row_detail_screen_proof_ready(self, message: ProofReady) -> None:
        self._proving = False
        view = self.query_one(ProofView)
        if message.bundle is None:
            view.show_message(message.note)
            return
        self.bundle = message.bundle
        v = message.verdict
        assert v is not None  # a bundle comes with its verdict
        view.show_proof(
            message.bundle,
            v.valid,
            v.reason,
            v.signer,
        )
        # At 80x24 the proof starts below the fold: bring it into view.
        body = self.query_one("#detail-body")
        # After the layout that gives the proof its height (scrolling sooner is clamped to the
        # old height and lands a few lines short).
        view.call_after_refresh(body.scroll_to_widget, view, animate=False, top=True)

    # -- copy, wrap ----------------------------------------------------------------------

    def action_copy(self) -> None:
        if self.bundle is not None:
            self.app.copy_to_clipboard(json.dumps(self.bundle, indent=2))
            self.notify(f"copied the proof of row {self.row.seq} (JSON)", timeout=2)
        else:
            self.app.copy_to_clipboard(self._json())
            self.notify(f"copied row {self.row.seq} (JSON)", timeout=2)

    def action_copy_path(self) -> None:
        if self.row.path:
            self.app.copy_to_clipboard(self.row.path)
            self.notify(f"copied {self.row.path}", timeout=2)

    def action_wrap(self) -> None:
        self.query_one("#detail-body").toggle_class("-nowrap")
