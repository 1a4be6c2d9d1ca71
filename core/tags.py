"""Tag and field rules for sidecars (PROTOCOL.md, "Memory file, sidecar, versions").

Refused at write time with a message naming the rule, so an agent can fix its input.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from core.errors import InvalidMeta
from core.vocab import CATEGORIES, CLASSIFICATIONS, KINDS, SYNC_CLASSES

MAX_TAGS = 10
MAX_TAG_LEN = 64
PREFIXES = ("type", "status", "signal", "source", "gate")
# Seed 004 (the lesson/proposal constitution): a proposal's status is one of these, closed.
STATUSES = ("pending", "accepted", "rejected", "deprecated")
# Seed 004: each category allows these `type:` values. bug-fix and debugging record what went
# wrong (lessons); a proposal is about design, code or learning, never a bug-fix.
CATEGORY_TYPES: dict[str, tuple[str, ...]] = {
    "bug-fix": ("lesson",),
    "debugging": ("lesson",),
    "architecture": ("lesson", "proposal", "decision"),
    "code-solution": ("lesson", "proposal", "decision"),
    "learning": ("lesson", "proposal"),
    "project-context": ("proposal", "decision"),
}

_WORD = re.compile(r"[a-z0-9][a-z0-9._-]*")


def _check_word(tag: str, word: str) -> None:
    if _WORD.fullmatch(word):
        return
    if _WORD.fullmatch(word.lower()):
        raise InvalidMeta(f"tags: {tag!r} has uppercase letters; use {tag.lower()!r}")
    raise InvalidMeta(
        f"tags: {tag!r} is not a tag: use a word of a-z, 0-9, '.', '_', '-' that starts "
        "with a letter or digit"
    )


def _check_one(tag: object) -> str:
    if not isinstance(tag, str):
        raise InvalidMeta(f"tags: every tag must be a string, got {type(tag).__name__}")
    if not tag:
        raise InvalidMeta("tags: empty tag")
    if len(tag) > MAX_TAG_LEN:
        raise InvalidMeta(f"tags: {tag[:20]!r}... is {len(tag)} characters; at most {MAX_TAG_LEN}")
    prefix, colon, value = tag.partition(":")
    if not colon:
        _check_word(tag, tag)
        return tag
    if prefix.lower() not in PREFIXES:
        allowed = ", ".join(p + ":" for p in PREFIXES)
        raise InvalidMeta(f"tags: unknown prefix {prefix + ':'!r} in {tag!r}; allowed: {allowed}")
    if prefix not in PREFIXES:
        raise InvalidMeta(f"tags: {tag!r} has uppercase letters; use {tag.lower()!r}")
    if not value:
        example = "pending" if prefix == "status" else "high" if prefix == "signal" else "x"
        raise InvalidMeta(f"tags: {tag!r} needs a value after ':' (e.g. {prefix}:{example})")
    _check_word(tag, value)
    return tag


def status_of(tag_list: Sequence[str]) -> str | None:
    """The value of a `status:` tag (validate_tags allows at most one), or None."""
    return next((t[7:] for t in tag_list if t.startswith("status:")), None)


def validate_tags(tags: Sequence[str]) -> list[str]:
    """Return the tags with duplicates removed (first kept, order kept), or raise InvalidMeta."""
    if isinstance(tags, str | bytes) or not isinstance(tags, Sequence):
        raise InvalidMeta("tags: must be a list of strings")
    key = tuple(tags)
    if all(type(t) is str for t in key):  # a put's tags are checked twice (API, planner)
        return list(_validated(key))
    return _validate_tags(key)


@functools.lru_cache(maxsize=1024)
def _validated(tags: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_validate_tags(tags))


def _validate_tags(tags: Sequence[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        tag = _check_one(tag)
        if tag not in seen:
            seen.add(tag)
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidMeta(f"tags: {len(out)} tags given; at most {MAX_TAGS} are allowed")
    types = [t for t in out if t.startswith("type:")]
    statuses = [t for t in out if t.startswith("status:")]
    if len(types) > 1:
        raise InvalidMeta(f"tags: at most one type: tag is allowed, got {', '.join(types)}")
    # Two statuses contradict each other; nothing reading the tags could pick one.
    if len(statuses) > 1:
        raise InvalidMeta(f"tags: at most one status: tag is allowed, got {', '.join(statuses)}")
    kind = types[0][len("type:") :] if types else None
    if kind == "proposal" and not statuses:
        raise InvalidMeta(
            "tags: a type:proposal must carry a status: tag (a new one is status:pending)"
        )
    # Seed 004 closes a proposal's statuses. Other memories (a project's `status:active`) are
    # not governed by it: closing theirs would refuse every later put of memories that exist.
    if kind == "proposal" and statuses[0][len("status:") :] not in STATUSES:
        raise InvalidMeta(
            f"tags: {statuses[0]!r}: statuses are closed (seed 004); use one of: "
            + ", ".join("status:" + s for s in STATUSES)
        )
    if kind in ("lesson", "decision") and statuses:
        raise InvalidMeta(
            f"tags: a type:{kind} carries no status: tag; remove {statuses[0]} "
            "(only a type:proposal has a status)"
        )
    return out


def validate_category_tags(category: str, tag_list: Sequence[str]) -> None:
    """Seed 004: a category allows only its `type:` values (bug-fix is lesson-only). A memory
    without a category or without a `type:` tag is not constrained here."""
    allowed = CATEGORY_TYPES.get(category)
    if not allowed:
        return
    for t in tag_list:
        if t.startswith("type:"):
            kind = t[len("type:") :]
            if kind in ("lesson", "proposal", "decision") and kind not in allowed:
                raise InvalidMeta(
                    f"tags: category {category} allows type: "
                    + ", ".join(allowed)
                    + f", not {t} (seed 004)"
                )


def _check_in(field: str, value: object, allowed: Sequence[str], *, empty_ok: bool) -> None:
    if empty_ok and value == "":
        return
    if not isinstance(value, str) or value not in allowed:
        extra = " (or empty)" if empty_ok else ""
        raise InvalidMeta(
            f"{field}: {value!r} is not allowed; use one of: {', '.join(allowed)}{extra}"
        )


def validate_fields(
    kind: str | None = None,
    category: str | None = None,
    classification: str | None = None,
    sync_class: str | None = None,
) -> None:
    """Raise InvalidMeta if a field is outside its closed set. None means "not given"."""
    if kind is not None:
        _check_in("kind", kind, KINDS, empty_ok=False)
    if category is not None:
        # A sidecar's category defaults to "" (uncategorised), so "" stays valid.
        _check_in("category", category, CATEGORIES, empty_ok=True)
    if classification is not None:
        _check_in("classification", classification, CLASSIFICATIONS, empty_ok=False)
    if sync_class is not None:
        _check_in("sync_class", sync_class, SYNC_CLASSES, empty_ok=False)
