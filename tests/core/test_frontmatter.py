"""core.frontmatter: the YAML subset, its refusals (with line numbers) and byte-exact bodies."""

from __future__ import annotations

import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidMeta
from core.frontmatter import RESERVED, STR_FIELDS, MetaFields, parse, split


def test_no_frontmatter_is_identity() -> None:
    for text in ["", "# Title\n", "--- not a fence\n", " ---\nx: 1\n---\n", "--\n", "\ufeffhi\n"]:
        assert split(text) == ({}, text)
        assert parse(text) == (MetaFields(), text)


def test_bom_before_frontmatter_is_dropped_with_it() -> None:
    """Issue 10 item 11: editors on Windows write a BOM; it must not stay in the body."""
    meta, body = parse("\ufeff---\ntitle: T\n---\nbody\n")
    assert meta.title == "T" and body == "body\n"
    assert split("\ufeff---\r\nx: 1\r\n---\r\nb") == ({"x": 1}, "b")
    with pytest.raises(InvalidMeta, match="no closing"):
        parse("\ufeff---\n")


def test_scalars() -> None:
    text = (
        "---\n"
        "plain: hello world  # a comment\n"
        "hash_in_word: C#sharp\n"
        "single: 'it''s: fine'\n"
        'double: "tab\\tquote\\" \\u00e9 \\U0001F600 back\\\\slash"\n'
        "int: 42\n"
        "neg: -7\n"
        "yes_word: yes\n"
        "float_text: 1.5\n"
        "t: true\n"
        "f: False\n"
        "nothing: null\n"
        "tilde: ~\n"
        "empty:\n"
        "empty_quoted: ''\n"
        "---\n"
        "body"
    )
    fields, body = split(text)
    assert fields == {
        "plain": "hello world",
        "hash_in_word": "C#sharp",
        "single": "it's: fine",
        "double": 'tab\tquote" \u00e9 \U0001f600 back\\slash',
        "int": 42,
        "neg": -7,
        "yes_word": "yes",
        "float_text": "1.5",
        "t": True,
        "f": False,
        "nothing": None,
        "tilde": None,
        "empty": None,
        "empty_quoted": "",
    }
    assert body == "body"


def test_lists() -> None:
    text = (
        "---\n"
        "inline: [a, 'b c', \"d, e\", 3]  # trailing comment\n"
        "trailing_comma: [a, b,]\n"
        "empty_inline: []\n"
        "block:\n"
        "  - one\n"
        "  # a comment inside\n"
        "\n"
        "  - 'two # not a comment'\n"
        "flush:\n"
        "- x\n"
        "- y\n"
        "after: 1\n"
        "---\n"
    )
    fields, body = split(text)
    assert fields == {
        "inline": ["a", "b c", "d, e", 3],
        "trailing_comma": ["a", "b"],
        "empty_inline": [],
        "block": ["one", "two # not a comment"],
        "flush": ["x", "y"],
        "after": 1,
    }
    assert body == ""


def test_parse_maps_to_sidecar_fields() -> None:
    text = (
        "---\n"
        "kind: decisions\n"
        "title: Use SQLite for the index\n"
        "category: architecture\n"
        "tags: [type:proposal, status:pending, sqlite, sqlite]\n"
        "sync-class: shareable\n"
        "classification: confidential\n"
        "owner: ada\n"
        "priority: 2\n"
        "draft: true\n"
        "refs:\n"
        "  - 12\n"
        "  - x\n"
        "---\n"
        "Body.\n"
    )
    meta, body = parse(text)
    assert meta == MetaFields(
        kind="decisions",
        title="Use SQLite for the index",
        category="architecture",
        tags=["type:proposal", "status:pending", "sqlite"],
        sync_class="shareable",
        classification="confidential",
        extra={"owner": "ada", "priority": 2, "draft": True, "refs": ["12", "x"]},
    )
    assert body == "Body.\n"


def test_parse_keeps_title_text_and_treats_empty_as_absent() -> None:
    meta, _ = parse("---\ntitle: 2024\nkind:\ntags:\n---\n")
    assert meta == MetaFields(title="2024")
    meta, _ = parse("---\ntitle: true\n---\n")
    assert meta.title == "true"


def test_parse_normalises_to_nfc() -> None:
    meta, body = parse("---\ntitle: Rene\u0301e\nwho: [Jose\u0301]\n---\nRene\u0301e\n")
    assert meta.title == "Ren\u00e9e"
    assert meta.extra == {"who": ["Jos\u00e9"]}
    assert body == "Rene\u0301e\n"  # the body is never touched


def test_crlf_frontmatter() -> None:
    text = "---\r\ntitle: x\r\ntags:\r\n  - a\r\n---\r\nline\r\n"
    meta, body = parse(text)
    assert meta.title == "x" and meta.tags == ["a"]
    assert body == "line\r\n"


def test_closing_fence_at_end_without_newline() -> None:
    assert split("---\nx: 1\n---") == ({"x": 1}, "")
    assert split("---\n---\nbody") == ({}, "body")
    assert split("---\nx: 1\n---  \nbody") == ({"x": 1}, "body")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\nx: 1\n", 1, "no closing '---'"),
        ("---\n", 1, "no closing '---'"),
        ("---\na: 1\nb:\n  c: 2\n---\n", 4, "nested maps are not supported"),
        ("---\na: {b: 1}\n---\n", 2, "nested maps are not supported"),
        ("---\na: 1\n  b: 2\n---\n", 3, "unexpected indentation"),
        ("---\na:\n\t- x\n---\n", 3, "tabs are not allowed for indentation"),
        ("---\n\ta: 1\n---\n", 2, "tabs are not allowed"),
        ("---\ntitle: a\nx: 1\ntitle: b\n---\n", 4, "duplicate key 'title' \\(first on line 2\\)"),
        ("---\nsync_class: private\nsync-class: private\n---\n", 3, "duplicate key 'sync_class'"),
        ("---\na: 'open\n---\n", 2, "unterminated single quote"),
        ('---\n\na: "open\n---\n', 3, "unterminated double quote"),
        ('---\na: "x\\q"\n---\n', 2, "unknown escape \\\\q"),
        ('---\na: "\\u12"\n---\n', 2, "needs 4 hex digits"),
        ('---\na: "\\ud800"\n---\n', 2, "lone surrogate"),
        ('---\na: "\\n"\n---\n', 2, "control character U\\+000A"),
        ("---\na: x\x1b[31m\n---\n", 2, "control character U\\+001B"),
        ("---\na: [x, y\n---\n", 2, "not closed with ']'"),
        ("---\na: [x, [y]]\n---\n", 2, "nested lists"),
        ("---\na: [x,, y]\n---\n", 2, "empty item"),
        ("---\na: [x y z] extra\n---\n", 2, "unexpected text after the value"),
        ("---\na: 'x' y\n---\n", 2, "unexpected text after the value"),
        ("---\na: |\n  text\n---\n", 2, "block scalars"),
        ("---\na: &anchor x\n---\n", 2, "anchors"),
        ("---\na: - x\n---\n", 2, "write a list on the key's line"),
        ("---\ntitle: Fix: the crash\n---\n", 2, "quote the value"),
        ("---\na: @x\n---\n", 2, "may not start with '@'"),
        ("---\n- x\n---\n", 2, "must follow a 'key:' line"),
        ("---\na:\n  - x\n   - y\n---\n", 4, "same indentation"),
        ("---\na:\n  -\n---\n", 3, "empty list item"),
        ("---\na:\n  - [x]\n---\n", 3, "nested lists"),
        ("---\na:1\n---\n", 2, "put a space after ':'"),
        ("---\n'a': 1\n---\n", 2, "keys must be bare words"),
        ("---\njust text\n---\n", 2, "expected 'key: value'"),
        ("---\nn: 123456789012345678901234\n---\n", 2, "out of range; quote it"),
    ],
)
def test_malformed_frontmatter_names_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(InvalidMeta, match=f"^frontmatter line {line}: .*{message}"):
        split(text)
    with pytest.raises(InvalidMeta, match=f"^frontmatter line {line}: "):
        parse(text)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\nkind: notes\n---\n", 2, "kind: 'notes' is not allowed; use one of"),
        ("---\nx: 1\ncategory: misc\n---\n", 3, "category: 'misc'"),
        ("---\nclassification: secret\n---\n", 2, "classification: 'secret'"),
        ("---\nsync-class: everyone\n---\n", 2, "sync_class: 'everyone'"),
        ("---\ntags: [type:proposal]\n---\n", 2, "tags: a type:proposal must carry a status: tag"),
        (
            "---\ntags:\n  - type:lesson\n  - status:pending\n---\n",
            2,
            "tags: a type:lesson carries no status",
        ),
        ("---\ntags: sqlite\n---\n", 2, "tags must be a list"),
        ("---\ntitle: [a, b]\n---\n", 2, "title takes one value, not a list"),
        ("---\nseq: 5\n---\n", 2, "'seq' is set by the engine"),
        ("---\nextra: x\n---\n", 2, "'extra' is set by the engine"),
        ("---\nowner:\n---\n", 2, "'owner' has no value"),
    ],
)
def test_parse_refuses_bad_fields_with_line(text: str, line: int, message: str) -> None:
    with pytest.raises(InvalidMeta, match=f"^frontmatter line {line}: {message}"):
        parse(text)


def test_ten_and_eleven_tags_in_frontmatter() -> None:
    ten = ", ".join(f"t{i}" for i in range(10))
    assert parse(f"---\ntags: [{ten}]\n---\n")[0].tags == [f"t{i}" for i in range(10)]
    with pytest.raises(InvalidMeta, match="line 2: tags: 11 tags given"):
        parse(f"---\ntags: [{ten}, t10]\n---\n")


# -- property tests ---------------------------------------------------------------------------

_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")) | st.just("\t"), max_size=30)
_KEY = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(
    lambda k: k not in RESERVED and k not in STR_FIELDS and k != "tags"
)
_INT = st.integers(min_value=-(2**64) + 1, max_value=2**64 - 1)
_SCALAR = st.one_of(_TEXT, _INT, st.booleans())
_VALUE = st.one_of(_SCALAR, st.lists(_TEXT, max_size=5))


def _nfc(value: object) -> object:
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, list):
        return [_nfc(v) for v in value]
    return value


def _emit_scalar(value: object) -> str:
    # json.dumps writes a valid YAML double-quoted string, and true/false/ints as YAML does.
    return json.dumps(value, ensure_ascii=False)


def _emit(fields: dict[str, object], block: bool) -> str:
    out = ["---"]
    for key, value in fields.items():
        if isinstance(value, list) and block and value:
            out.append(f"{key}:")
            out.extend(f"  - {_emit_scalar(v)}" for v in value)
        elif isinstance(value, list):
            out.append(f"{key}: [{', '.join(_emit_scalar(v) for v in value)}]")
        else:
            out.append(f"{key}: {_emit_scalar(value)}  # note")
    out.append("---")
    return "\n".join(out) + "\n"


@given(st.dictionaries(_KEY, _VALUE, max_size=8), st.booleans(), st.text())
def test_generated_frontmatter_round_trips(
    fields: dict[str, object], block: bool, body: str
) -> None:
    text = _emit(fields, block) + body
    expected = {k: _nfc(v) for k, v in fields.items()}
    assert split(text) == (expected, body)
    meta, parsed_body = parse(text)
    assert parsed_body == body
    assert meta.extra == expected


@given(st.lists(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,10}", fullmatch=True), max_size=10))
def test_generated_tags_round_trip(tags: list[str]) -> None:
    meta, _ = parse("---\ntags: [" + ", ".join(tags) + "]\n---\n")
    assert meta.tags == list(dict.fromkeys(tags))


@given(st.text(st.characters(exclude_categories=())))
def test_body_after_frontmatter_is_byte_exact(body: str) -> None:
    for head in ("---\ntitle: t\n---\n", "---\r\ntitle: t\r\n---\r\n", "---\n---\n"):
        assert split(head + body)[1] == body
        assert parse(head + body)[1] == body


@given(st.text(st.characters(exclude_categories=()), max_size=200))
def test_arbitrary_frontmatter_raises_only_invalid_meta(inner: str) -> None:
    for text in ("---\n" + inner + "\n---\n", "---\n" + inner):
        try:
            split(text)
            parse(text)
        except InvalidMeta as exc:
            assert str(exc).startswith("frontmatter line ")


_LINES = st.sampled_from(
    ["a: 1", "b:", "  - x", "- y", "c: [p, 'q']", "  d: 2", "\te: 1", "# c", "", "f: 'z",
     "g: \"\\q\"", "h: {x: 1}", "i: a: b", "title: T", "tags: [type:lesson]", "kind: facts"]
)  # fmt: skip


@given(st.lists(_LINES, max_size=8))
def test_line_soup_raises_only_invalid_meta(lines: list[str]) -> None:
    text = "---\n" + "\n".join(lines) + "\n---\nbody"
    try:
        assert split(text)[1] == "body"
        parse(text)
    except InvalidMeta as exc:
        assert str(exc).startswith("frontmatter line ")
