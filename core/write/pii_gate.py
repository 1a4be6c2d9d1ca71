"""The PII hold at write time (issue 14, PROTOCOL "PII status and findings").

A put whose sync class is not `private` has its body, title, path segments, tags and sidecar
`extra` scanned (`core.pii`): all of them travel with the memory when it is shared (a
frontmatter key such as `owner_email:` lands in `extra`, a tag may be a phone number). With
findings the memory is held: its sidecar says `pii_status: held` and lists the findings
(where, type, span, confidence, rule; spans are offsets into the decoded body or the title or
the path, or, with `at`, into one tag or one `extra` string, never the matched text), and a
`pii.held` row with the types and counts follows the put in the same request. Private puts are
not scanned. A put of the very body a person released keeps the release (retitling it does
not hold it again).

Scanning costs up to ~2 ms for 10 KB: `Store.batch` scans puts that name a wide sync class
before they reach the commit loop (`prescan`); a put that inherits its class is scanned there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

from core.log.hashing import commitment
from core.models import Sidecar
from core.vocab import PROVENANCE
from core.write.intents import Intent, Put

CLEAN = "clean"
HELD = "held"
RELEASED = "released"
PII_STATUSES = (CLEAN, HELD, RELEASED)
BODY = "body"
TITLE = "title"
PATH = "path"
TAGS = "tags"  # `at`: "/<index>" of the tag
EXTRA = "extra"  # `at`: the JSON pointer of the string in `extra`; `key: true` for its key
# A tag reads as words: `ssn-123-45-6789` is scanned as `ssn 123-45-6789`, so the number's
# own hyphens stay and the detectors see where it starts (same length: spans still fit).
_TAG_GAPS = re.compile(r"[_:]|(?<=[a-z])[-.]|[-.](?=[a-z])")

Findings = list[dict[str, Any]]


def scan(path: str, body: bytes) -> Findings:
    """The findings of a body and a path, as the sidecar records them."""
    from core import pii

    text = body.decode("utf-8", "replace")
    return [_entry(BODY, f) for f in pii.scan(text)] + scan_path(path)


def scan_path(path: str) -> Findings:
    """The findings of a path alone (a move: its body and title were scanned when written)."""
    from core import pii

    return [_entry(PATH, f) for f in pii.scan_path(path)]


def _entry(where: str, f: Any) -> dict[str, Any]:
    return {
        "where": where,
        "type": f.type,
        "start": f.start,
        "end": f.end,
        "confidence": f.confidence,
        "detail": f.detail,
    }


def counts(findings: Findings) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in findings:
        out[f["type"]] = out.get(f["type"], 0) + 1
    return dict(sorted(out.items()))


def names_wide(sync_class: str | None) -> bool:
    """A put naming this sync class is scanned before the lock (prescan)."""
    return sync_class is not None and sync_class != "private"


def prescan(intents: Sequence[Intent]) -> None:
    """Scan the puts that name a wide sync class, outside the lock. Whatever a caller put in
    `pii_scan` is replaced: the gate never trusts a caller's findings."""
    for it in intents:
        if isinstance(it, Put):
            it.pii_scan = scan(it.path, it.body) if names_wide(it.sync_class) else None


def scan_title(title: str) -> Findings:
    """A title is often the body's first line: it is scanned too (and redacted with it)."""
    return [_entry(TITLE, f) for f in _cached_scan(title)] if title else []


def scan_fields(tags: Sequence[str], extra: Mapping[str, Any]) -> Findings:
    """The findings in the tags and in `extra` (its keys and its string and integer values;
    not the provenance an import records). Each names its tag or string with `at`."""
    out: Findings = []
    for i, tag in enumerate(tags):
        for f in _cached_scan(_TAG_GAPS.sub(" ", tag)):
            out.append(_entry(TAGS, f) | {"at": f"/{i}"})
    for at, text, is_key in _strings(extra):
        for f in _cached_scan(text):
            found = _entry(EXTRA, f) | {"at": at}
            if is_key:
                found["key"] = True
            out.append(found)
    return out


def _strings(extra: Mapping[str, Any]) -> Iterator[tuple[str, str, bool]]:
    """(JSON pointer, text, is a key) for each key of `extra` and of the maps inside it, and
    each string or integer value (a card number written as a number is still one)."""
    todo: list[tuple[str, str | None, Any]] = [
        (pointer("", k), k, v) for k, v in reversed(list(extra.items())) if k not in PROVENANCE
    ]
    while todo:
        at, key, value = todo.pop()
        if key is not None:
            yield at, key, True
        if isinstance(value, str):
            yield at, value, False
        elif isinstance(value, int) and not isinstance(value, bool):
            yield at, str(value), False
        elif isinstance(value, Mapping):
            todo.extend((pointer(at, k), k, v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            todo.extend((pointer(at, i), None, v) for i, v in reversed(list(enumerate(value))))


def pointer(base: str, key: object) -> str:
    """RFC 6901: `~` and `/` in a key are escaped."""
    return f"{base}/{str(key).replace('~', '~0').replace('/', '~1')}"


@lru_cache(maxsize=4096)
def _cached_scan(text: str) -> tuple[Any, ...]:
    # Every edit of a memory puts its title and tags again, mostly unchanged: half the scans
    # of a busy store (the demo's build: ~15,000 of ~31,000) were of a title scanned before.
    # Findings are frozen; the sidecar's dicts are made fresh from them on every call.
    from core import pii

    return tuple(pii.scan(text))


def decide(
    path: str,
    body: bytes,
    title: str,
    sync_class: str,
    pre: Findings | None,
    base: Sidecar | None,
    tags: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> tuple[str, Findings]:
    """(pii_status, findings) for the sidecar of a put."""
    if sync_class == "private":
        return CLEAN, []
    found = (pre if pre is not None else scan(path, body)) + scan_title(title)
    found += scan_fields(tags, extra or {})
    if not found:
        return CLEAN, []
    if (
        base is not None
        and base.pii_status == RELEASED
        and base.salt
        and base.state == "active"
        and sync_class == base.sync_class  # a person released it for that audience only
    ):
        try:
            same = commitment(bytes.fromhex(base.salt), body) == base.commit
        except ValueError:
            same = False
        if same and _spans(found) <= _spans(base.pii_findings):
            return RELEASED, found  # nothing the person did not see: a retitle, a clean tag
    return HELD, found


def _spans(findings: Findings) -> set[tuple[Any, ...]]:
    return {
        (f.get("where"), f.get("at"), f.get("key"), f.get("type"), f.get("start"), f.get("end"))
        for f in findings
    }


def held_extra(put_seq: int, findings: Findings) -> dict[str, Any]:
    """The `pii.held` row's extra: types and counts, never the matched text."""
    return {
        "put": put_seq,
        "counts": counts(findings),
        "in_path": sum(1 for f in findings if f["where"] == PATH),
        "total": len(findings),
    }


def held_note(path: str, findings: Findings) -> str:
    kinds = ", ".join(f"{n} {t}" for t, n in counts(findings).items())
    return (
        f"{path}: held for PII review ({kinds}); it is not shared until resolved:"
        " see `brain pending`"
    )
