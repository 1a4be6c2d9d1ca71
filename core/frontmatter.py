"""Frontmatter: the YAML subset agents write at the top of a memory, parsed without a YAML library.

Supported: `key: value` scalars (plain, '...' or "..." with simple escapes, integers, booleans,
null), inline lists `[a, "b c"]`, block lists (`key:` then `- item` lines), `#` comments and
blank lines. Anything else (nested maps, block scalars, anchors, tabs as indentation, duplicate
keys, multi-line values) is refused with its line number rather than guessed at: the sidecar is
permanent, so a misread is worse than a refusal. A plain value holding ': ' is refused too, as a
real YAML parser would; the message says to quote it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidMeta
from core.log.canonical import U64_MAX
from core.tags import validate_fields, validate_tags

STR_FIELDS = ("kind", "title", "category", "sync_class", "classification")
# Sidecar fields the engine sets itself; accepting them as `extra` would only mislead.
RESERVED = frozenset(
    {"state", "seq", "created_ns", "updated_ns", "actor", "commit", "salt", "pii_status"}
    | {"pii_findings", "extra"}
)
_ALIASES = {"sync-class": "sync_class"}

_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*):(?=[ \t]|$)")
_INT = re.compile(r"[-+]?[0-9]+")
_FLOW_PLAIN = re.compile(r"[^,\[\]{}]*")  # a plain item inside [...] runs to ',' or a bracket
_LINE_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # tab is fine inside a line
_VALUE_CONTROL = _LINE_CONTROL
# JSON's escapes plus YAML's '\0' and '\ ', so json.dumps output parses. Escapes that decode to
# a control character (all but '\t') are then refused as such, naming the rule.
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_ESCAPES |= {"0": "\0", " ": " "}
_BAD_START = {
    "{": "nested maps are not supported",
    "|": "block scalars ('|', '>') are not supported; put the value on one line, quoted",
    ">": "block scalars ('|', '>') are not supported; put the value on one line, quoted",
    "&": "anchors, aliases and YAML tags ('&', '*', '!') are not supported",
    "*": "anchors, aliases and YAML tags ('&', '*', '!') are not supported",
    "!": "anchors, aliases and YAML tags ('&', '*', '!') are not supported",
}


@dataclass
class MetaFields:
    """What frontmatter says about the sidecar; None means the key was absent (or empty)."""

    kind: str | None = None
    title: str | None = None
    category: str | None = None
    tags: list[str] | None = None
    sync_class: str | None = None
    classification: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Scalar:
    value: str | int | bool | None  # as YAML would type it
    text: str  # as text: the source of a plain scalar, the decoded content of a quoted one


_Value = _Scalar | list[_Scalar]


def _err(line: int, msg: str) -> InvalidMeta:
    return InvalidMeta(f"frontmatter line {line}: {msg}")


def _check_text(line: int, s: str) -> str:
    """NFC-normalise a decoded string; refuse controls and lone surrogates (from \\u escapes)."""
    bad = _VALUE_CONTROL.search(s)
    if bad:
        raise _err(line, f"control character U+{ord(bad.group()):04X} is not allowed in a value")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise _err(
            line, "a \\u escape gives a lone surrogate, which is not valid Unicode"
        ) from None
    # Sidecars are canonical JSON, which needs NFC; the body (not parsed here) stays byte-exact.
    return unicodedata.normalize("NFC", s)


def _quoted(line: int, text: str, pos: int) -> tuple[str, int]:
    """Decode the quoted string starting at text[pos]; return it and the index after it."""
    quote = text[pos]
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        c = text[i]
        if quote == "'":
            if c == "'":
                if text.startswith("''", i):
                    out.append("'")
                    i += 2
                    continue
                return _check_text(line, "".join(out)), i + 1
            out.append(c)
            i += 1
            continue
        if c == '"':
            return _check_text(line, "".join(out)), i + 1
        if c != "\\":
            out.append(c)
            i += 1
            continue
        esc = text[i + 1 : i + 2]
        if esc in _ESCAPES:
            out.append(_ESCAPES[esc])
            i += 2
        elif esc in ("u", "U"):
            width = 4 if esc == "u" else 8
            digits = text[i + 2 : i + 2 + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise _err(line, f"\\{esc} needs {width} hex digits")
            code = int(digits, 16)
            if code > 0x10FFFF:
                raise _err(line, f"\\{esc}{digits} is beyond the last Unicode code point")
            out.append(chr(code))
            i += 2 + width
        else:
            shown = esc or "at end of line"
            raise _err(
                line, f"unknown escape \\{shown} in a double-quoted value; write \\\\ for '\\'"
            )
    kind = "single" if quote == "'" else "double"
    raise _err(line, f"unterminated {kind} quote (values must close their quote on the same line)")


def _plain(line: int, text: str) -> _Scalar:
    """Type a plain (unquoted) scalar the way YAML 1.2's core schema does, minus floats."""
    if ": " in text or text.endswith(":"):
        raise _err(line, "': ' inside an unquoted value reads as a nested map; quote the value")
    if text in ("true", "True", "TRUE"):
        return _Scalar(True, text)
    if text in ("false", "False", "FALSE"):
        return _Scalar(False, text)
    if text in ("null", "Null", "NULL", "~"):
        return _Scalar(None, text)
    if _INT.fullmatch(text):
        # Length first: int() of a huge digit string is slow (and capped by Python anyway).
        if len(text) > 21 or abs(int(text)) > U64_MAX:
            raise _err(line, f"integer {text[:24]} is out of range; quote it to keep it as text")
        return _Scalar(int(text), text)
    # Floats, dates and the like stay text: the sidecar has no float (canonical JSON has none).
    text = _check_text(line, text)
    return _Scalar(text, text)


def _check_plain_start(line: int, text: str) -> None:
    first = text[0]
    if first in _BAD_START:
        raise _err(line, _BAD_START[first])
    if first in "#@`%,]}" or text.startswith(("? ", ": ")) or text in ("?", ":"):
        raise _err(line, f"a value may not start with {first!r} unquoted; quote the value")
    if text == "-" or text.startswith("- "):
        raise _err(line, "write a list on the key's line as [a, b], or as '- item' lines below it")


def _rest_is_comment(line: int, rest: str) -> None:
    rest = rest.strip(" \t")
    if rest and not rest.startswith("#"):
        raise _err(line, f"unexpected text after the value: {rest[:40]!r}")


def _inline_list(line: int, text: str) -> list[_Scalar]:
    items: list[_Scalar] = []
    i = 1
    expect_item = True  # after '[' or ','
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text):
            raise _err(line, "inline list is not closed with ']' (it must fit on one line)")
        c = text[i]
        if c == "]":  # also after a trailing comma, which YAML flow sequences allow
            i += 1
            break
        if not expect_item:
            raise _err(line, "expected ',' or ']' between list items")
        if c == ",":
            raise _err(line, "empty item in an inline list")
        if c in "[{}":
            raise _err(line, "nested lists and maps are not supported")
        if c in "'\"":
            s, i = _quoted(line, text, i)
            items.append(_Scalar(s, s))
        else:
            m = _FLOW_PLAIN.match(text, i)
            assert m is not None  # the pattern matches the empty string
            raw = m.group().rstrip(" \t")
            if " #" in raw or "\t#" in raw:
                raise _err(line, "inline list is not closed with ']' before a comment")
            _check_plain_start(line, raw)
            items.append(_plain(line, raw))
            i = m.end()
            if i < len(text) and text[i] in "[{}":
                raise _err(line, "nested lists and maps are not supported")
        while i < len(text) and text[i] in " \t":
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1
            expect_item = True
        else:
            expect_item = False
    _rest_is_comment(line, text[i:])
    return items


def _value(line: int, text: str) -> _Value:
    """Parse the part after `key: ` (stripped, non-empty, not a comment)."""
    if text[0] == "[":
        return _inline_list(line, text)
    if text[0] in "'\"":
        s, end = _quoted(line, text, 0)
        _rest_is_comment(line, text[end:])
        return _Scalar(s, s)
    _check_plain_start(line, text)
    # A comment starts at '#' after whitespace; a '#' inside a word is text.
    m = re.search(r"[ \t]#", text)
    raw = (text[: m.start()] if m else text).rstrip(" \t")
    return _plain(line, raw)


def _lines(text: str) -> tuple[list[tuple[int, str]], str] | None:
    """The frontmatter lines (numbered from the opening '---' as line 1) and the body after.

    A byte order mark before the opening line (editors on Windows write one) belongs to the
    file, not to the body: it is dropped with the frontmatter. Without frontmatter the text,
    BOM included, stays byte-exact.
    """
    bom = 1 if text.startswith("\ufeff") else 0
    if text.startswith("---\n", bom):
        pos = bom + 4
    elif text.startswith("---\r\n", bom):
        pos = bom + 5
    else:
        return None
    lines: list[tuple[int, str]] = []
    number = 1
    # Split on '\n' only: str.splitlines would also split on \x1c, \u2028 and others.
    while pos < len(text):
        number += 1
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl + 1
        line = text[pos : end - 1 if nl >= 0 else end]
        line = line[:-1] if line.endswith("\r") else line
        if line.rstrip(" \t") == "---":
            return lines, text[end:]
        lines.append((number, line))
        pos = end
    raise _err(1, "the opening '---' has no closing '---' line")


def _indent_of(line: int, raw: str) -> tuple[str, str]:
    stripped = raw.lstrip(" \t")
    indent = raw[: len(raw) - len(stripped)]
    if "\t" in indent:
        raise _err(line, "tabs are not allowed for indentation; use spaces")
    return indent, stripped


def _entries(lines: list[tuple[int, str]]) -> dict[str, tuple[int, _Value]]:
    entries: dict[str, tuple[int, _Value]] = {}
    for number, raw in lines:
        bad = _LINE_CONTROL.search(raw)
        if bad:
            raise _err(number, f"control character U+{ord(bad.group()):04X} is not allowed")
    i = 0
    while i < len(lines):
        number, raw = lines[i]
        i += 1
        indent, stripped = _indent_of(number, raw)
        if not stripped or stripped.startswith("#"):
            continue
        if stripped == "-" or stripped.startswith("- "):
            raise _err(number, "a '- item' line must follow a 'key:' line with no value")
        if indent:
            raise _err(
                number, "unexpected indentation (nested maps and continued lines are not supported)"
            )
        m = _KEY.match(raw)
        if not m:
            if raw[0] in "'\"":
                raise _err(number, "keys must be bare words, not quoted")
            if re.match(r"[A-Za-z_][A-Za-z0-9_-]*:", raw):
                raise _err(number, "put a space after ':' (key: value)")
            raise _err(number, f"expected 'key: value', got {raw[:40]!r}")
        key = _ALIASES.get(m.group(1), m.group(1))
        if key in entries:
            raise _err(number, f"duplicate key {key!r} (first on line {entries[key][0]})")
        rest = raw[m.end() :].strip(" \t")
        if rest and not rest.startswith("#"):
            entries[key] = (number, _value(number, rest))
            continue
        # `key:` alone: a block list follows, or the value is empty (null).
        items: list[_Scalar] = []
        item_indent: str | None = None
        while i < len(lines):
            n2, raw2 = lines[i]
            ind2, s2 = _indent_of(n2, raw2)
            if s2 and not s2.startswith("#"):
                if not (s2 == "-" or s2.startswith("- ")):
                    if ind2:
                        raise _err(n2, f"nested maps are not supported (under {key!r})")
                    break
                if item_indent is None:
                    item_indent = ind2
                elif ind2 != item_indent:
                    raise _err(n2, "list items must all have the same indentation")
                body = s2[1:].strip(" \t")
                if not body or body.startswith("#"):
                    raise _err(n2, "empty list item")
                item = _value(n2, body)
                if isinstance(item, list):
                    raise _err(n2, "nested lists are not supported")
                items.append(item)
            i += 1
        entries[key] = (number, items if item_indent is not None else _Scalar(None, ""))
    return entries


def _materialise(value: _Value) -> Any:
    if isinstance(value, list):
        return [s.value for s in value]
    return value.value


def split(text: str) -> tuple[dict[str, Any], str]:
    """(fields, body) if text opens with '---'; else ({}, text). Raises InvalidMeta.

    Values are typed as YAML would type them (str, int, bool, None, lists of those);
    `sync-class` is reported as `sync_class`. The body is the text after the closing line.
    """
    found = _lines(text)
    if found is None:
        return {}, text
    lines, body = found
    return {k: _materialise(v) for k, (_, v) in _entries(lines).items()}, body


def _prefixed(line: int, exc: InvalidMeta) -> InvalidMeta:
    return _err(line, str(exc))


def parse(text: str) -> tuple[MetaFields, str]:
    """Frontmatter as sidecar fields (validated against the closed sets and tag rules) + body."""
    found = _lines(text)
    if found is None:
        return MetaFields(), text
    lines, body = found
    meta = MetaFields()
    for key, (line, value) in _entries(lines).items():
        if key in RESERVED:
            raise _err(line, f"{key!r} is set by the engine and cannot be given in frontmatter")
        if key in STR_FIELDS:
            if isinstance(value, list):
                raise _err(line, f"{key} takes one value, not a list")
            if value.value is None:
                continue
            # A title of 2024 or true is still text: keep what was written.
            if key != "title":
                try:
                    validate_fields(**{key: value.text})
                except InvalidMeta as exc:
                    raise _prefixed(line, exc) from None
            setattr(meta, key, value.text)
        elif key == "tags":
            if isinstance(value, _Scalar):
                if value.value is None:
                    continue
                raise _err(line, "tags must be a list, e.g. tags: [a, b] or '- a' lines below")
            try:
                meta.tags = validate_tags([s.text for s in value])
            except InvalidMeta as exc:
                raise _prefixed(line, exc) from None
        elif isinstance(value, list):
            meta.extra[key] = [s.text for s in value]
        elif value.value is None:
            raise _err(line, f"{key!r} has no value; give one or remove the line")
        else:
            meta.extra[key] = value.value
    return meta, body
