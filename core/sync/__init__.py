"""Sync across a person's devices and with a team hub (docs/sync.md)."""
