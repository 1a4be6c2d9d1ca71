"""core.tags: tag syntax, tag combinations and the closed field sets, each at its boundary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidMeta
from core.models import CATEGORIES, CLASSIFICATIONS, KINDS, SYNC_CLASSES
from core.tags import MAX_TAG_LEN, MAX_TAGS, PREFIXES, validate_fields, validate_tags


@pytest.mark.parametrize(
    "tag",
    ["sqlite", "v1.2", "a_b-c", "0day", "type:note", "status:pending", "signal:high", "source:cli"]
    + ["gate:ci", "x" * MAX_TAG_LEN, "source:" + "y" * (MAX_TAG_LEN - 7)],
)
def test_valid_tags(tag: str) -> None:
    assert validate_tags([tag]) == [tag]


def test_empty_list_is_fine() -> None:
    assert validate_tags([]) == []


def test_order_kept_and_duplicates_removed() -> None:
    assert validate_tags(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_ten_tags_ok_eleven_refused() -> None:
    ten = [f"t{i}" for i in range(MAX_TAGS)]
    assert validate_tags(ten) == ten
    with pytest.raises(InvalidMeta, match="tags: 11 tags given; at most 10 are allowed"):
        validate_tags([*ten, "t10"])


def test_duplicates_do_not_count_towards_the_limit() -> None:
    ten = [f"t{i}" for i in range(MAX_TAGS)]
    assert validate_tags([*ten, "t0"]) == ten


def test_tag_length_boundary() -> None:
    assert validate_tags(["x" * 64]) == ["x" * 64]
    with pytest.raises(InvalidMeta, match="is 65 characters; at most 64"):
        validate_tags(["x" * 65])


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("SQLite", "has uppercase letters; use 'sqlite'"),
        ("Type:lesson", "has uppercase letters; use 'type:lesson'"),
        ("type:Lesson", "has uppercase letters; use 'type:lesson'"),
        ("", "empty tag"),
        ("-lead", "is not a tag"),
        (".lead", "is not a tag"),
        ("two words", "is not a tag"),
        ("caf\u00e9", "is not a tag"),
        ("a/b", "is not a tag"),
        ("topic:x", "unknown prefix 'topic:'.*allowed: type:, status:, signal:, source:, gate:"),
        ("type:", "needs a value after ':'"),
        ("status:-x", "is not a tag"),
        ("type:a:b", "is not a tag"),
        (":x", "unknown prefix ':'"),
    ],
)
def test_bad_tag_refused(tag: str, message: str) -> None:
    with pytest.raises(InvalidMeta, match=message):
        validate_tags([tag])


@pytest.mark.parametrize("value", ["lesson", 7, None])
def test_not_a_list_or_not_strings(value: object) -> None:
    with pytest.raises(InvalidMeta, match="tags: "):
        validate_tags(value if value == "lesson" else [value])  # type: ignore[arg-type, list-item]


def test_at_most_one_type() -> None:
    assert validate_tags(["type:note"]) == ["type:note"]
    with pytest.raises(InvalidMeta, match="at most one type: tag is allowed, got type:a, type:b"):
        validate_tags(["type:a", "type:b"])


def test_at_most_one_status() -> None:
    with pytest.raises(InvalidMeta, match="at most one status: tag"):
        validate_tags(["type:proposal", "status:pending", "status:rejected"])


def test_proposal_must_carry_status() -> None:
    assert validate_tags(["type:proposal", "status:pending"]) == ["type:proposal", "status:pending"]
    with pytest.raises(
        InvalidMeta,
        match=r"^tags: a type:proposal must carry a status: tag \(a new one is status:pending\)$",
    ):
        validate_tags(["type:proposal", "sqlite"])


@pytest.mark.parametrize("kind", ["lesson", "decision"])
def test_lesson_and_decision_carry_no_status(kind: str) -> None:
    assert validate_tags([f"type:{kind}"]) == [f"type:{kind}"]
    with pytest.raises(
        InvalidMeta, match=f"a type:{kind} carries no status: tag; remove status:rejected"
    ):
        validate_tags([f"type:{kind}", "status:rejected"])


def test_status_without_type_is_allowed() -> None:
    assert validate_tags(["status:pending"]) == ["status:pending"]


def test_other_prefixes_combine_freely() -> None:
    tags = ["type:lesson", "signal:strong", "source:agent", "gate:review", "x"]
    assert validate_tags(tags) == tags


_WORD = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)
_TAG = st.one_of(
    _WORD, st.tuples(st.sampled_from(["signal", "source", "gate"]), _WORD).map(":".join)
)


@given(st.lists(_TAG, max_size=MAX_TAGS))
def test_generated_tags_are_accepted_and_idempotent(tags: list[str]) -> None:
    out = validate_tags(tags)
    assert out == list(dict.fromkeys(tags))
    assert validate_tags(out) == out


@given(st.lists(st.text(max_size=8), max_size=12))
def test_arbitrary_input_raises_only_invalid_meta(tags: list[str]) -> None:
    try:
        validate_tags(tags)
    except InvalidMeta as exc:
        assert str(exc).startswith("tags: ")


# -- fields -----------------------------------------------------------------------------------


def test_every_allowed_field_value() -> None:
    for kind in KINDS:
        validate_fields(kind=kind)
    for category in (*CATEGORIES, ""):
        validate_fields(category=category)
    for classification in CLASSIFICATIONS:
        validate_fields(classification=classification)
    for sync_class in SYNC_CLASSES:
        validate_fields(sync_class=sync_class)
    validate_fields("facts", "learning", "internal", "private")
    validate_fields()  # nothing given, nothing to check


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "notes"}, "kind: 'notes' is not allowed; use one of: decisions, facts, people"),
        ({"kind": ""}, "kind: '' is not allowed"),
        ({"kind": "Facts"}, "kind: 'Facts'"),
        ({"category": "misc"}, "category: 'misc' is not allowed; use one of: bug-fix, debugging"),
        ({"classification": "secret"}, "use one of: public, internal, confidential, restricted"),
        (
            {"sync_class": "public"},
            "use one of: private, personal, shareable, team-public, org-only",
        ),
        ({"sync_class": 1}, "sync_class: 1 is not allowed"),
    ],
)
def test_bad_field_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidMeta, match=message):
        validate_fields(**kwargs)  # type: ignore[arg-type]


def test_prefixes_constant() -> None:
    assert PREFIXES == ("type", "status", "signal", "source", "gate")


# Seed 004: closed statuses, categories with their allowed type: values.


@pytest.mark.parametrize("status", ["pending", "accepted", "rejected", "deprecated"])
def test_closed_statuses_accepted(status: str) -> None:
    assert validate_tags(["type:proposal", f"status:{status}"])[1] == f"status:{status}"


@pytest.mark.parametrize("status", ["open", "bogus", "done", "closed"])
def test_other_statuses_refused_naming_the_rule(status: str) -> None:
    with pytest.raises(
        InvalidMeta,
        match=rf"^tags: 'status:{status}': statuses are closed \(seed 004\); use one of: "
        r"status:pending, status:accepted, status:rejected, status:deprecated$",
    ):
        validate_tags(["type:proposal", f"status:{status}"])


@pytest.mark.parametrize("tags", [["type:project", "status:active"], ["status:done"]])
def test_statuses_outside_proposals_are_not_seed_004s(tags: list[str]) -> None:
    # A project's status:active was valid before seed 004's rules: its later puts still are.
    assert validate_tags(tags) == tags


def test_empty_status_suggests_pending_never_open() -> None:
    with pytest.raises(InvalidMeta, match=r"e\.g\. status:pending") as e:
        validate_tags(["status:"])
    assert "open" not in str(e.value)


@pytest.mark.parametrize(
    ("category", "kind", "ok"),
    [
        ("bug-fix", "lesson", True),
        ("bug-fix", "proposal", False),
        ("bug-fix", "decision", False),
        ("debugging", "proposal", False),
        ("architecture", "proposal", True),
        ("architecture", "decision", True),
        ("learning", "decision", False),
        ("project-context", "lesson", False),
        ("code-solution", "proposal", True),
        ("", "proposal", True),
    ],
)
def test_category_allows_its_types(category: str, kind: str, ok: bool) -> None:
    from core.tags import validate_category_tags

    if ok:
        validate_category_tags(category, [f"type:{kind}"])
        return
    with pytest.raises(
        InvalidMeta,
        match=rf"^tags: category {category} allows type: .*, not type:{kind} \(seed 004\)$",
    ):
        validate_category_tags(category, [f"type:{kind}"])


def test_bug_fix_proposal_with_bogus_status_refused_by_the_store(tmp_path) -> None:
    from core.store import Store

    with Store.init(tmp_path / "s", allow_temp=True) as s:
        with pytest.raises(InvalidMeta, match="statuses are closed"):
            s.put(
                "memories/refinements/p.md",
                "x\n",
                actor="t",
                category="bug-fix",
                tags=["type:proposal", "status:bogus"],
            )
        with pytest.raises(
            InvalidMeta, match="category bug-fix allows type: lesson, not type:proposal"
        ):
            s.put(
                "memories/refinements/p.md",
                "x\n",
                actor="t",
                category="bug-fix",
                tags=["type:proposal", "status:pending"],
            )
        s.put(
            "memories/refinements/l.md", "x\n", actor="t", category="bug-fix", tags=["type:lesson"]
        )
