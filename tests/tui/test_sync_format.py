"""Pane 6's text, as pure functions of the status and the clock."""

from __future__ import annotations

from core.sync.api import SyncReport, SyncStatus
from widgets.sync_format import (
    ago,
    bar_text,
    error_parts,
    mode_text,
    orchestrator_text,
    report_text,
    status_rows,
    until,
)

NS = 1_000_000_000
NOW = 1_800_000_000 * NS


def joined(**kw) -> SyncStatus:
    return SyncStatus(joined=True, hub="https://hub.example.org", org="acme", **kw)


def test_ages_and_waits():
    assert ago(0, NOW) == "never"
    assert ago(NOW, NOW) == "just now"
    assert ago(NOW - 125 * NS, NOW) == "2m ago"
    assert ago(NOW - 3 * 3600 * NS, NOW) == "3h ago"
    assert until(NOW + 34 * NS, NOW) == "in 34s"
    assert until(NOW - NS, NOW) == "due now"
    assert mode_text("realtime") == "realtime (every 10s)"
    assert mode_text("manual") == "manual (only when you press s)"


def test_who_runs_the_passes():
    st = joined(mode="normal")
    assert orchestrator_text(st, "on").plain == "runs here"
    assert (
        "another program" in orchestrator_text(joined(orchestrator_alive=True), "elsewhere").plain
    )
    assert "nothing runs the timed passes" in orchestrator_text(st, "off").plain
    assert "manual" in orchestrator_text(joined(mode="manual"), "off").plain
    assert "failed to start" in orchestrator_text(st, "failed").plain


def test_the_error_row_says_when_it_retries():
    fine = joined()
    assert "".join(p if isinstance(p, str) else p[0] for p in error_parts(fine, NOW)) == "none"
    failing = joined(
        mode="frequent", last_error="push: down; pull: down", next_retry_ns=NOW + 40 * NS
    )
    text = "".join(p if isinstance(p, str) else p[0] for p in error_parts(failing, NOW))
    assert text == "next try in 40s\npush: down\npull: down"
    manual = joined(mode="manual", last_error="pull: down", next_retry_ns=NOW + 40 * NS)
    text = "".join(p if isinstance(p, str) else p[0] for p in error_parts(manual, NOW))
    assert text.startswith("retry: press s (manual mode)")


def test_rows_counts_and_the_bar():
    st = joined(
        user="ana",
        role="member",
        device="laptop",
        outbox={"pending-push": 2, "confirmed": 5},
        inbox={"conflict": 1},
        last_push_ns=NOW - 60 * NS,
        last_push_outcome="failed: down",
        last_error="push: down",
    )
    rows = {k: v.plain for k, v in status_rows(st, NOW).items()}
    assert rows["you"] == "ana · member  device laptop"
    assert rows["outbox"] == "2 pending-push  0 pushed  5 confirmed  0 refused"
    assert rows["inbox"] == "0 pending-pull  0 imported  1 conflict  0 skipped"
    assert rows["push"] == "1m ago    failed (the error is below)"
    assert rows["pull"] == "never"
    assert bar_text(st).plain == "normal mode  2 queued to push  error"
    assert bar_text(SyncStatus(joined=False)).plain.startswith("not joined")


def test_the_report_after_a_pass():
    assert report_text(SyncReport(pushed=3, imported=2)) == "3 pushed, 2 imported"
    r = SyncReport(pushed=1, refused=[("a", "held")], conflicts=["conflicts/x/a"], imported=0)
    assert report_text(r) == "1 pushed, 1 refused, 0 imported, 1 conflict"
    assert report_text(SyncReport(errors=["pull: down"])).startswith("failed: pull: down")
