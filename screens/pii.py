"""Pane 4: PII review (its content arrives with the PII issue)."""

from __future__ import annotations

from screens.placeholder import PlaceholderPane


class PiiScreen(PlaceholderPane):
    PANE = "pii"
    TITLE_TEXT = "PII review"
    BODY = """\
This pane will hold the **PII review queue**:

- memories the PII gate held on write (`pii_status: held`), newest first;
- each finding highlighted in the memory's text, with its detector and confidence;
- actions to release (false positive), redact (a new put without the span) or purge
  (with a typed reason), each recorded as a `pii.resolved` row.

It arrives with the PII issue. Until then, held memories show in the audit tail
(press `1`, then `/` and type `op:pii.held`).
"""
