"""How pane 6 draws `store.sync.status()`: who and where, the queues, the last passes, the error.

Pure functions of the status, `now` and the width, so snapshots are deterministic with a
fixed clock. Every line reads without colour: the words carry the meaning (NO_COLOR).
"""

from __future__ import annotations

from textual.content import Content

from core.sync.api import SyncConflict, SyncReport, SyncStatus
from core.sync.config import MODES

NS = 1_000_000_000
LABEL_W = 10  # the left column: "Outbox", "Last push", …
OUT_ORDER = ("pending-push", "pushed", "confirmed", "refused")
IN_ORDER = ("pending-pull", "imported", "conflict", "skipped")
# Which counts ask for attention when they are not zero.
WARN = {"refused": "$error", "conflict": "$warning", "pending-push": "", "pending-pull": ""}
RUNNER = {
    "on": "runs here",
    "elsewhere": "runs in another program (brain capture-daemon)",
    "off": "not running in this workstation",
}
JOIN_HINT = """\
This store has not joined a hub, so nothing leaves this machine.

To sync, ask the hub's operator for a device token, then run in a terminal:

    brain sync join URL --token-file F

e.g. brain sync join https://hub.example.org --token-file ~/laptop.jwt
Then come back here: this pane shows the hub, the queues and the last passes.
"""


def join_content() -> Content:
    lines: list[Content | str | tuple[str, str]] = [("Not joined\n\n", "bold $warning")]
    for line in JOIN_HINT.splitlines(keepends=True):
        style = "bold $accent" if line.startswith("    brain") else ""
        lines.append((line, style))
    return Content.assemble(*lines)


def conflicts_title(n: int) -> Content:
    return Content.assemble(
        (f"Conflicts ({n})", "bold $warning"),
        ("  a copy arrived for a path you hold; enter compares", "$text-muted"),
    )


def span(seconds: float) -> str:
    s = max(0, round(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"


def ago(ts_ns: int, now_ns: int) -> str:
    if not ts_ns:
        return "never"
    if now_ns - ts_ns < NS:
        return "just now"
    return f"{span((now_ns - ts_ns) / NS)} ago"


def until(ts_ns: int, now_ns: int) -> str:
    if ts_ns <= now_ns:
        return "due now"
    return f"in {span((ts_ns - now_ns) / NS)}"


def mode_text(mode: str) -> str:
    every = MODES.get(mode)
    return f"{mode} (every {span(every)})" if every else f"{mode} (only when you press s)"


def _counts(counts: dict[str, int], order: tuple[str, ...]) -> list[str | tuple[str, str]]:
    out: list[str | tuple[str, str]] = []
    for i, state in enumerate(order):
        n = counts.get(state, 0)
        if i:
            out.append(("  ", ""))
        style = WARN.get(state, "") if n else "$text-muted"
        out.append((f"{n:,}", f"bold {style}".strip() if n else style))
        out.append((f" {state}", style if n and style else ("" if n else "$text-muted")))
    return out


def outcome_style(text: str) -> str:
    return "$error" if text.startswith("failed") else ""


ROWS = (  # (key, label, blank line above)
    ("hub", "Hub", False),
    ("you", "You", False),
    ("mode", "Mode", False),
    ("runs", "Runs", False),
    ("outbox", "Outbox", True),
    ("inbox", "Inbox", False),
    ("push", "Last push", True),
    ("pull", "Last pull", False),
    ("error", "Error", False),
)


def status_rows(st: SyncStatus, now_ns: int, runner: str = "") -> dict[str, Content]:
    """The joined pane's values by row key (ROWS): one fact a row, beside its label."""
    who = " · ".join(x for x in (st.user, st.role) if x) or "—"
    return {
        "hub": Content.assemble((st.hub, "bold"), (f"  org {st.org}" if st.org else "", "")),
        "you": Content.assemble(who, (f"  device {st.device}" if st.device else "", "")),
        "mode": Content.assemble((mode_text(st.mode), "bold"), ("  m changes it", "$text-muted")),
        "runs": orchestrator_text(st, runner),
        "outbox": Content.assemble(*_counts(st.outbox, OUT_ORDER)),
        "inbox": Content.assemble(*_counts(st.inbox, IN_ORDER)),
        "push": _pass(st.last_push_ns, st.last_push_outcome, st, now_ns),
        "pull": _pass(st.last_pull_ns, st.last_pull_outcome, st, now_ns),
        "error": Content.assemble(*error_parts(st, now_ns)),
    }


def _pass(ts_ns: int, outcome: str, st: SyncStatus, now_ns: int) -> Content:
    if not ts_ns:
        return Content.styled("never", "$text-muted")
    if outcome.startswith("failed") and st.last_error:
        outcome = "failed (the error is below)"
    return Content.assemble(
        (f"{ago(ts_ns, now_ns):<9}", "bold"), " ", (outcome, outcome_style(outcome))
    )


def orchestrator_text(st: SyncStatus, runner: str) -> Content:
    """Who runs the timed passes: this workstation, another program, or nobody."""
    if runner == "on" or (runner == "" and st.orchestrator_alive):
        text = RUNNER["on"] if runner == "on" else "an orchestrator runs for this store"
        return Content.styled(text, "$success")
    if st.orchestrator_alive:
        return Content.styled(RUNNER["elsewhere"], "$success")
    if runner == "failed":
        return Content.styled("the orchestrator failed to start here (s still syncs)", "$error")
    if st.mode == "manual":
        return Content.styled("nothing on a timer (manual mode)", "$text-muted")
    return Content.styled(
        "nothing runs the timed passes: open the TUI or run brain capture-daemon", "$warning"
    )


def error_parts(st: SyncStatus, now_ns: int) -> list[str | tuple[str, str]]:
    if not st.last_error:
        return [("none", "$text-muted")]
    if st.mode == "manual":
        retry = "retry: press s (manual mode)"
    elif st.next_retry_ns:
        retry = f"next try {until(st.next_retry_ns, now_ns)}"
    else:
        retry = "next try at the next pass"
    # One line per half of the pass that failed ("push: …; pull: …").
    errors = st.last_error.replace("; pull: ", "\npull: ")
    return [(retry, "bold $warning"), "\n", (errors, "$error")]


def conflict_label(c: SyncConflict, width: int) -> str:
    origin = c.origin[:8]
    text = f"{c.path}  from {origin}…"
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def report_text(r: SyncReport) -> str:
    """One line for the pane bar and the notification after "sync now"."""
    bits = [f"{r.pushed} pushed"]
    if r.duplicates:
        bits.append(f"{r.duplicates} already held")
    if r.refused:
        bits.append(f"{len(r.refused)} refused")
    bits.append(f"{r.imported} imported")
    if r.conflicts:
        bits.append(f"{len(r.conflicts)} conflict{'s' if len(r.conflicts) != 1 else ''}")
    if r.purged:
        bits.append(f"{r.purged} purged")
    text = ", ".join(bits)
    return f"failed: {'; '.join(r.errors)} ({text})" if r.errors else text


def bar_text(st: SyncStatus) -> Content:
    """The pane bar's summary: what waits."""
    if not st.joined:
        return Content.styled("not joined: nothing leaves this store", "$text-muted")
    waiting = st.outbox.get("pending-push", 0) + st.outbox.get("pushed", 0)
    bits: list[str | tuple[str, str]] = [(f"{st.mode} mode  ", "$text-muted")]
    bits.append((f"{waiting:,} queued to push", "bold" if waiting else "$text-muted"))
    if st.conflicts:
        n = len(st.conflicts)
        bits.append((f"  {n} conflict{'s' if n != 1 else ''}", "bold $warning"))
    if st.last_error:
        bits.append(("  error", "bold $error"))
    return Content.assemble(*bits)


def report_bar(r: SyncReport) -> Content:
    """The pane bar after a pass: what moved, or that it failed (the Error row says why)."""
    if r.errors:
        return Content.assemble(
            ("last pass failed", "bold $error"), ("  the error and the next try are below", "")
        )
    return Content.assemble(("last pass: ", "$text-muted"), (report_text(r), "bold $success"))
