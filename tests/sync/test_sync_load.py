"""A tiny run of the load scenario (tests/sync/load.py; the full one is `./dev bench sync`):
5 client processes syncing against one hub for a few seconds, then the accounting: every
pushable memory at the hub once, imported once by every member that may read it and by no one
else, no failed request, every store's doctor passing. No timing is asserted."""

from __future__ import annotations

from pathlib import Path

from tests.sync.load import run_load


def test_load_loses_and_doubles_nothing(hub, tmp_path: Path) -> None:
    hub.stop()
    hub.rate = 10_000  # a legitimate load: the rate limit is tested elsewhere
    hub.start()
    res = run_load(hub, tmp_path / "load", clients=5, duration_s=6.0, pause_s=0.3)
    assert res.memories_written >= 5
    assert res.pushable and res.at_hub == res.pushable
    assert res.moved > 0 and res.pushes > 0 and res.pulls > 0
    assert res.errors == [] and res.limited == 0
    assert (res.duplicates, res.lost, res.unexpected) == (0, 0, 0)
    assert res.doctor_failing == []
    assert res.ok


def test_load_under_the_rate_limit_loses_nothing(hub, tmp_path: Path) -> None:
    """The same with a hub rate the clients exceed: 429s are answered (and counted apart), the
    clients wait them out, and still nothing is lost or doubled."""
    hub.stop()
    hub.rate = 12  # requests a minute per user: two devices at ~3 passes a second exceed it
    hub.start()
    res = run_load(hub, tmp_path / "load", clients=4, duration_s=5.0, pause_s=0.2)
    assert res.limited > 0
    assert res.pushable and res.at_hub == res.pushable
    assert res.errors == []
    assert (res.duplicates, res.lost, res.unexpected) == (0, 0, 0)
    assert res.doctor_failing == []
