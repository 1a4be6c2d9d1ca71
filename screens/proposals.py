"""Pane 5: proposals (its content arrives with the proposals issue)."""

from __future__ import annotations

from screens.placeholder import PlaceholderPane


class ProposalsScreen(PlaceholderPane):
    PANE = "proposals"
    TITLE_TEXT = "Proposals"
    BODY = """\
This pane will hold **proposals**: changes agents filed for a person to decide.

- open proposals (`proposal.filed` rows) with who filed them and why;
- a diff of each against the memory it would change;
- accept (the change is written as a put) or reject (with a reason), both recorded as
  `proposal.decided` rows; rejecting asks for confirmation first.

It arrives with the proposals issue.
"""
