"""The one validation layer: every public `Store` entry point checks its arguments here first.

The CLI, the TUI, MCP and library callers all reach the engine through `Store`, so the same bad
input gets the same one-line `BrainError` everywhere, before anything is locked or written.
Checks that need the store's state (does the memory exist, is it tombstoned) stay in the
planner; everything that depends on the input alone is here. Limits are documented in
docs/limits.md and the README's reference.

Free text that reaches permanent rows (actor, ticket, put_if's expected commitment) has a
grammar: rows cannot be purged, so they must never hold a sentence someone typed by mistake,
and nothing in them may forge a line of `brain tail` or `brain history` output.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from core import paths
from core.errors import BrainError, InvalidMeta
from core.limits import MAX_BODY_BYTES
from core.vocab import KINDS, OPS, PURGE_REASONS, STATES

# core.log.canonical (msgspec), core.write.intents and core.tags are imported by the checks
# that use them, and typing only for the type checker: a one-shot `brain view` checks its path
# and actor here and needs none of them (~15 ms).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_TITLE_CHARS = 256
MAX_ACTOR_CHARS = 128
MAX_TICKET_CHARS = 64
MAX_QUERY_CHARS = 4096  # a search query (every word becomes an FTS5 phrase)
MAX_FILTER_CHARS = 1024  # a read filter (op, actor or path prefix, folder, tag)
MAX_PAGE = 1_000_000  # rows or memories in one page (tail, memories, search, context)
MAX_SEQ = 2**63 - 1  # SQLite's largest integer: seqs, sizes and `--from` beyond it cannot exist
MAX_JSON_DEPTH = 32  # nesting of `extra` maps, and of proof bundles before they are decoded
MAX_BATCH = 100_000  # intents in one request

PUT_FIELDS = ("title", "category", "tags", "sync_class", "classification", "extra")
DELETE_MODES = ("tombstone", "purge")
# Rows a caller may add through `note`: the memory ops need their intents (a `put` row without
# a file would be a forgery), a checkpoint needs a signed note, and the PII gate's rows go
# with the put or sidecar change they describe (core.write.pii_gate, core.pii_review).
_NOT_NOTES = (
    "put",
    "move",
    "delete",
    "put_if.rejected",
    "checkpoint",
    "pii.held",
    "pii.resolved",
    "proposal.filed",  # core.proposals writes these, with the memory they describe
    "proposal.decided",
    "pattern.outcome",
)
NOTE_OPS = tuple(o for o in OPS if o not in _NOT_NOTES)
TIERS = ("hot", "warm", "cold")
SEARCH_MODES = ("lexical", "semantic", "hybrid")

# An actor is one token: `kind:name@host` by convention (human:ana@laptop, agent:claude,
# system:doctor). Letters and digits of any script, and . _ - + @ : / = # ~; no spaces, no
# control or format characters (a newline in an actor forged rows in `brain tail` output).
_ACTOR = re.compile(r"\w[\w.@+:/=#~-]*")
# A purge ticket is an opaque id from a ticket system (JIRA-123, req#42, 2026/07/abc).
_TICKET = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/#-]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# A pattern string that re compiles at its first use and caches: a class with characters
# above U+00FF takes ~0.5-2 ms to compile, which a one-shot `brain view` would pay for nothing.
_BAD_TEXT = r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def show(value: object, width: int = 40) -> str:
    """A value inside a one-line message: repr (escapes newlines), cut to `width`."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _type(name: str, value: object, want: str) -> BrainError:
    return InvalidMeta(f"{name}: must be {want}, not {type(value).__name__} ({show(value)})")


def _str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise _type(name, value, "a string")
    return value


def integer(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _type(name, value, "an integer")
    if not lo <= value <= hi:
        raise BrainError(f"{name}: {show(value)} is out of range; use {lo}..{hi}")
    return value


def seq(value: object, name: str = "seq") -> int:
    return integer(name, value, 1, MAX_SEQ)


def limit(value: object, name: str = "limit") -> int:
    return integer(name, value, 0, MAX_PAGE)


def text(name: str, value: object, max_chars: int, *, optional: bool = True) -> str | None:
    """A short one-line string: no control, line-separator or bidi characters."""
    if value is None and optional:
        return None
    s = _str(name, value)
    if len(s) > max_chars:
        raise BrainError(f"{name}: {len(s)} characters; at most {max_chars}")
    bad = re.search(_BAD_TEXT, s)
    if bad:
        raise BrainError(
            f"{name}: character U+{ord(bad.group()):04X} at position {bad.start()} is not allowed"
            " (control, line separator or bidi override)"
        )
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise BrainError(f"{name}: {show(s)} is not valid UTF-8 (a lone surrogate)") from None
    return s


def choice(name: str, value: object, allowed: Sequence[str], *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or value not in allowed:
        raise BrainError(f"{name}: {show(value)} is unknown; use one of: {', '.join(allowed)}")


def path(value: object, name: str = "path") -> str:
    del name
    return paths.validate(value)  # type: ignore[arg-type]


# Characters a path may not gain on a write, though a path holding one stays readable (an older
# store): invisible or reordering ones, under which two paths that print alike are different
# memories (`a<U+200B>b.md` beside `ab.md`) and a listing reads in another order.
_INVISIBLE = r"[\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"


def new_path(value: object, name: str = "path") -> str:
    """A path a write creates or names: valid, and with no invisible or bidi character."""
    p = path(value, name)
    bad = None if p.isascii() else re.search(_INVISIBLE, p)  # compiling it: ~0.3 ms of a put
    if bad:
        raise BrainError(
            f"{name}: character U+{ord(bad.group()):04X} at position {bad.start()} is not allowed"
            " in a path (invisible, line separator or bidi override)"
        )
    return p


# -- permanent free text --------------------------------------------------------------------


def actor(value: object) -> str:
    if value is None or value == "":
        raise BrainError("every write names an actor (e.g. human:ana@laptop)")
    s = _str("actor", value)
    if len(s) > MAX_ACTOR_CHARS:
        raise BrainError(f"actor: {len(s)} characters; at most {MAX_ACTOR_CHARS}")
    if not _ACTOR.fullmatch(s) or not unicodedata.is_normalized("NFC", s):
        raise BrainError(
            f"actor: {show(s)} is not an actor: use one word like human:ana@laptop (letters,"
            " digits and . _ - + @ : / = # ~; no spaces or control characters; NFC)"
        )
    return s


def ticket(value: object) -> str | None:
    if value is None or value == "":
        return None
    s = _str("ticket", value)
    if len(s) > MAX_TICKET_CHARS or not _TICKET.fullmatch(s):
        raise BrainError(
            f"ticket: {show(s)} is not a ticket id: up to {MAX_TICKET_CHARS} characters of"
            " A-Z a-z 0-9 . _ : / # - starting with a letter or digit (it stays on a row that"
            " cannot be purged; put notes in local/)"
        )
    return s


def expect(value: object) -> str | None:
    """put_if's expected commitment: 64 lowercase hex digits, or "" for "absent"."""
    if value is None or value == "":
        return value
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        # The value itself is never echoed: it may be text typed in the wrong field.
        what = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
        hint = (
            " (lowercase it)" if isinstance(value, str) and _HEX64.fullmatch(value.lower()) else ""
        )
        raise BrainError(
            f"--if-commit / expect must be 64 lowercase hex digits (a commitment from `brain"
            f" view --meta`) or '' for 'only if absent'; got {what}{hint}"
        )
    return value


# -- writes ---------------------------------------------------------------------------------


def body(value: object) -> None:
    if isinstance(value, bytes):
        size = len(value)
    elif isinstance(value, str):
        size = (
            len(value)
            if len(value) * 4 <= MAX_BODY_BYTES
            else len(value.encode("utf-8", "replace"))
        )
    else:
        raise _type("body", value, "bytes or str")
    if size > MAX_BODY_BYTES:
        raise BrainError(f"body: {size:,} bytes; a memory body may be at most {MAX_BODY_BYTES:,}")


def json_depth(value: object, name: str) -> None:
    """Refuse maps nested deeper than MAX_JSON_DEPTH (checked without recursion)."""
    todo: list[tuple[object, int]] = [(value, 1)]
    while todo:
        v, d = todo.pop()
        if isinstance(v, Mapping | list | tuple):
            if d > MAX_JSON_DEPTH:
                raise BrainError(f"{name}: nested deeper than {MAX_JSON_DEPTH} levels")
            items = v.values() if isinstance(v, Mapping) else v
            todo.extend((x, d + 1) for x in items)


def extra(value: object, name: str = "extra") -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        raise _type(name, value, "a dict")
    json_depth(value, name)
    from core.log import canonical

    canonical.validate(value, name)


def put_fields(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(PUT_FIELDS))
    if unknown:
        raise BrainError(f"put: unknown field {unknown[0]!r}; known: {', '.join(PUT_FIELDS)}")
    title = fields.get("title")
    if title is not None:
        text("title", title, MAX_TITLE_CHARS)
        from core.log import canonical

        canonical.validate(title, "title")
    from core import tags

    if fields.get("tags") is not None:
        tags.validate_tags(fields["tags"])
    tags.validate_fields(
        None, fields.get("category"), fields.get("classification"), fields.get("sync_class")
    )
    if fields.get("tags") is not None and isinstance(fields.get("category"), str):
        tags.validate_category_tags(fields["category"], fields["tags"])
    extra(fields.get("extra"))


def put(path_: object, body_: object, parse_frontmatter: object, expect_: object, fields) -> None:
    new_path(path_)
    body(body_)
    if not isinstance(parse_frontmatter, bool):
        raise _type("parse_frontmatter", parse_frontmatter, "True or False")
    expect(expect_)
    put_fields(fields)


def delete(path_: object, mode: object, reason: object, ticket_: object) -> None:
    path(path_)
    choice("mode", mode, DELETE_MODES, optional=False)
    if mode == "tombstone" and (reason is not None or ticket_ is not None):
        # A reason (or ticket) means the caller meant to erase: a tombstone keeps the content.
        given = "a reason" if reason is not None else "a ticket"
        raise BrainError(
            f"{given} was given without --mode purge: a tombstone keeps the content. Add"
            " --mode purge to erase it for good, or drop --reason/--ticket to tombstone"
        )
    if mode == "purge":
        if reason not in PURGE_REASONS:
            got = "none was given" if reason is None else f"got {show(reason)}"
            raise InvalidMeta(
                f"a purge needs --reason, one of: {', '.join(PURGE_REASONS)} ({got});"
                " free-text notes belong in local/"
            )
        ticket(ticket_)


def note(op: object, path_: object, extra_: object) -> None:
    choice("op", op, NOTE_OPS, optional=False)
    p = _str("path", path_)
    if p:
        path(p)
    extra(extra_)


def intent(it: object) -> None:
    from core.write.intents import Delete, Move, Note, Put

    if isinstance(it, Put):
        new_path(it.path)
        if not isinstance(it.body, bytes):
            raise _type("body", it.body, "bytes (use Store.put_intent for text)")
        body(it.body)
        expect(it.expect)
        put_fields({k: getattr(it, k) for k in PUT_FIELDS if getattr(it, k) is not None})
        if it.row_extra is not None:
            raise BrainError("row_extra is written by import only, not through Store.batch")
    elif isinstance(it, Move):
        path(it.src, "src")
        new_path(it.dst, "dst")
    elif isinstance(it, Delete):
        delete(it.path, it.mode, it.reason, it.ticket)
    elif isinstance(it, Note):
        note(it.op, it.path, it.extra)
        if it.commit != "":
            raise BrainError(f"{it.op}: a note row carries no commitment")
    else:
        raise BrainError(f"not an intent: {show(it)} (use Put, Move, Delete or Note)")


def batch(intents: object, actor_: object) -> None:
    actor(actor_)
    if isinstance(intents, str | bytes) or not isinstance(intents, Sequence):
        raise _type("intents", intents, "a list of intents")
    if len(intents) > MAX_BATCH:
        raise BrainError(f"a batch holds {len(intents):,} intents; at most {MAX_BATCH:,}")
    for it in intents:
        intent(it)


# -- reads ----------------------------------------------------------------------------------


def view(path_: object, actor_: object) -> None:
    path(path_)
    if actor_ is not None and actor_ != "":
        actor(actor_)


def tail(from_seq: object, limit_: object, filters: Mapping[str, Any]) -> None:
    integer("from", from_seq, 0, MAX_SEQ)  # 0: the descending tail starts past the head
    limit(limit_)
    known = ("op", "actor", "path_prefix", "descending")
    for k, v in filters.items():
        if k not in known:
            raise BrainError(f"tail: unknown filter {k!r}; known: {', '.join(known)}")
        if k == "descending":
            if not isinstance(v, bool):
                raise _type(k, v, "True or False")
        else:
            text(k, v, MAX_FILTER_CHARS)


def search(query: object, mode: object, limit_: object, filters: Mapping[str, Any]) -> None:
    text("query", query, MAX_QUERY_CHARS, optional=False)
    choice("mode", mode, SEARCH_MODES, optional=False)
    limit(limit_)
    known = ("kind", "category", "tag", "tier")
    for k, v in filters.items():
        if k not in known:
            raise BrainError(f"search: unknown filter {k!r}; known: {', '.join(known)}")
        text(k, v, MAX_FILTER_CHARS)
    choice("kind", filters.get("kind"), KINDS)
    choice("tier", filters.get("tier"), TIERS)


def memories(after: object, limit_: object, filters: Mapping[str, Any]) -> None:
    text("after", after, 2 * paths.MAX_PATH_BYTES, optional=False)
    limit(limit_)
    known = ("kind", "folder_prefix", "tier", "state")
    for k, v in filters.items():
        if k not in known:
            raise BrainError(f"memories: unknown filter {k!r}; known: {', '.join(known)}")
        text(k, v, MAX_FILTER_CHARS)
    choice("kind", filters.get("kind"), KINDS)
    choice("tier", filters.get("tier"), TIERS)
    choice("state", filters.get("state"), STATES)


_JSON_TOKENS = re.compile(rb'[\[\]{}"\\]')


def bundle_depth(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than max_depth before a decoder recurses into it (a
    bundle is two levels deep; the decoders' own recursion ends in RecursionError)."""
    depth, in_str, esc_at = 0, False, -2
    for m in _JSON_TOKENS.finditer(raw):
        c, at = m.group(), m.start()
        if in_str:
            if c == b"\\":
                if esc_at != at - 1:
                    esc_at = at  # the next byte is escaped
                else:
                    esc_at = -2  # an escaped backslash
            elif c == b'"' and esc_at != at - 1:
                in_str = False
        elif c == b'"':
            in_str = True
        elif c in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                raise BrainError(f"JSON nested deeper than {max_depth} levels; refused")
        elif c in (b"]", b"}"):
            depth -= 1
