"""Our theme, "brain": calm on a dark terminal, and only colours that survive 256-colour
terminals (the ANSI 256 cube values), so it reads the same over SSH without true colour."""

from __future__ import annotations

from textual.theme import Theme

BRAIN_THEME = Theme(
    name="brain",
    primary="#5f87af",
    secondary="#87afaf",
    accent="#d7af5f",
    warning="#d7af5f",
    error="#d75f5f",
    success="#87af5f",
    foreground="#d0d0d0",
    background="#1c1c1c",
    surface="#262626",
    panel="#303030",
    dark=True,
)
