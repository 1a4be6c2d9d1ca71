"""How pane 4 draws held memories: counts by type, and a body with its findings highlighted.

Pure functions over `core.pii_review.Pending` rows (no app, no store), so tests read them
directly. Each finding type has one colour, used in the queue's counts, the body's highlight
and the findings list, so a person matches them by eye.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from textual.content import Content

# One colour per finding type (core.pii: email phone card iban national_id ip secret …).
TYPE_STYLE = {
    "email": "bold $accent",
    "phone": "bold $warning",
    "card": "bold $error",
    "iban": "bold $error",
    "national_id": "bold $error",
    "ip": "bold $secondary",
    "secret": "bold $error",
    "name": "bold $success",
}
DEFAULT_STYLE = "bold $warning"


def type_style(kind: str) -> str:
    return TYPE_STYLE.get(kind, DEFAULT_STYLE)


def counts_text(counts: Mapping[str, int]) -> str:
    """`card 1 · email 2`, types in name order."""
    return " · ".join(f"{k} {n}" for k, n in sorted(counts.items()))


def queue_totals(items: Sequence[Any]) -> dict[str, int]:
    """Counts by type over the whole queue (what the pane bar shows)."""
    out: dict[str, int] = {}
    for it in items:
        for k, n in it.counts.items():
            out[k] = out.get(k, 0) + n
    return out


def highlighted_body(
    text: str,
    findings: Sequence[Mapping[str, Any]],
    chosen: set[int],
    current: int | None,
    where: str = "body",
    at: str | None = None,
    key: bool = False,
) -> Content:
    """The body (or the title, a tag, a string of `extra`: `where`, `at`, `key` as the
    findings name them) with each of its findings styled by its type: a finding chosen for
    redaction is struck through and shows the mask it would get; the current one is reversed.
    Findings are numbered from 1 as the engine names them (core.pii_review)."""
    spans = sorted(
        (int(f["start"]), int(f["end"]), n)
        for n, f in enumerate(findings, 1)
        if (f.get("where", "body"), f.get("at"), bool(f.get("key"))) == (where, at, key)
        and 0 <= int(f["start"]) < int(f["end"]) <= len(text)
    )
    parts: list[str | tuple[str, str]] = []
    pos = 0
    for start, end, n in spans:
        if start < pos:  # overlapping findings: the first one drawn wins
            continue
        kind = str(findings[n - 1]["type"])
        style = type_style(kind)
        if n == current:
            style += " reverse"
        parts.append(text[pos:start])
        if n in chosen:
            parts.append((text[start:end], style + " strike"))
            parts.append((f"[REDACTED:{kind}]", "italic $text-muted"))
        else:
            parts.append((text[start:end], style))
        parts.append((f"⁽{n}⁾", "dim"))
        pos = end
    parts.append(text[pos:])
    return Content.assemble(*parts)


def field_lines(item: Any, chosen: set[int], current: int | None) -> Content:
    """One line per tag, `extra` key or `extra` string that holds a finding, highlighted as
    the body is (`tags/0  call-555-0100`, `extra/owner  a@b.example`); empty when none does.
    A redaction drops a tag (a mask is no tag) and an entry whose key holds a finding: those
    say so instead of showing a mask."""
    from core.pii_review import location

    lines: list[Content] = []
    seen: set[tuple[Any, ...]] = set()
    for f in item.findings:
        spot = _spot(f)
        if spot[0] not in ("tags", "extra") or spot in seen:
            continue
        seen.add(spot)
        drops = spot[0] == "tags" or spot[2]
        mine = {n for n, g in enumerate(item.findings, 1) if _spot(g) == spot}
        text = highlighted_body(
            item.text_at(f), item.findings, set() if drops else chosen, current, *spot
        )
        dropped = drops and bool(mine & chosen)
        lines.append(
            Content.assemble(
                (f"{location(f)}  ", "$text-muted"),
                text.stylize("strike") if dropped else text,
                ("  dropped by a redaction" if dropped else "", "italic $text-muted"),
            )
        )
    return Content("\n").join(lines)


def _spot(f: Mapping[str, Any]) -> tuple[Any, ...]:
    return (f.get("where"), f.get("at"), bool(f.get("key")))


def findings_lines(
    findings: Sequence[Mapping[str, Any]], chosen: set[int], current: int | None
) -> Content:
    """One line per finding: mark, number, type, where, detector, confidence (never text)."""
    lines: list[Content] = []
    from core.pii_review import location

    for n, f in enumerate(findings, 1):
        where = location(f)
        if where == "path":
            mark = " - "  # a path cannot be redacted: it is permanent chain data
        else:
            mark = "[x]" if n in chosen else "[ ]"
        conf = int(f.get("confidence", 0)) / 10
        line = Content.assemble(
            ("▶ " if n == current else "  ", "bold $accent"),
            mark,
            f" {n:>2} ",
            (f"{f.get('type', '?'):<11}", type_style(str(f.get("type", "")))),
            (f" {where:<5} {f.get('detail', '')} {conf:.0f}%", "$text-muted"),
        )
        lines.append(line)
    if not lines:
        return Content("no findings listed")
    return Content("\n").join(lines)
