"""Suite-wide isolation: per-machine state (witnesses, config) goes to the test's own folder."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _session_home_state(tmp_path_factory):
    """Module and session fixtures are made before a test's own folders are set: they get a
    session-wide set, never this machine's real witnesses or config."""
    mp = pytest.MonkeyPatch()
    base = tmp_path_factory.mktemp("session-xdg")
    for var, sub in (
        ("XDG_STATE_HOME", "state"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
    ):
        mp.setenv(var, str(base / sub))
    yield
    mp.undo()


@pytest.fixture(autouse=True)
def _isolated_home_state(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.mktemp("xdg")
    for var, sub in (
        ("XDG_STATE_HOME", "state"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
    ):
        monkeypatch.setenv(var, str(base / sub))
    monkeypatch.delenv("BRAIN_PASSPHRASE", raising=False)
    monkeypatch.delenv("CYBEROS_BRAIN_HOME", raising=False)
