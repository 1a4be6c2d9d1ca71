"""core.shapes: the stdlib check of sidecars and manifests that lets a one-shot `brain view`
skip msgspec. It may be unsure of a good document, never sure of a bad one."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import shapes
from core.index import access
from core.log import canonical
from core.models import Manifest, Settings, Sidecar


@pytest.mark.parametrize(
    ("struct", "fields", "required"),
    [
        (Sidecar, shapes.SIDECAR_FIELDS, shapes.SIDECAR_REQUIRED),
        (Manifest, shapes.MANIFEST_FIELDS, shapes.MANIFEST_REQUIRED),
        (Settings, shapes.SETTINGS_FIELDS, ()),
    ],
)
def test_the_tables_are_the_structs(struct, fields, required) -> None:
    """A field added to a Struct must be added here too (else views fall back to msgspec,
    or worse, accept what the Struct refuses)."""
    assert struct.__annotations__ == fields
    assert tuple(f.name for f in msgspec.structs.fields(struct) if f.required) == required
    assert struct.__struct_config__.forbid_unknown_fields == (struct is Sidecar)


def test_a_sidecar_the_engine_writes_is_plainly_well_formed() -> None:
    side = Sidecar(
        kind="facts",
        state="tombstoned",
        seq=9,
        tags=["a", "b"],
        pii_findings=[{"kind": "email", "score": 0.5}],
        extra={"meta": "ab" * 32, "n": [1, {"x": None}]},
    )
    assert shapes.sidecar_state(msgspec.json.encode(side)) == "tombstoned"
    assert shapes.sidecar_state(b'{"kind": "facts"}') == "active"  # the Struct's default


BAD_SIDECARS = [
    b'{"state": "active"}',  # no kind
    b'{"kind": "facts", "surprise": 1}',
    b'{"kind": 1}',
    b'{"kind": "facts", "seq": true}',
    b'{"kind": "facts", "seq": 1.0}',
    b'{"kind": "facts", "seq": "1"}',
    b'{"kind": "facts", "tags": ["a", 1]}',
    b'{"kind": "facts", "tags": "a"}',
    b'{"kind": "facts", "pii_findings": [1]}',
    b'{"kind": "facts", "extra": []}',
    b'{"kind": "facts", "extra": {"a": NaN}}',
    b'{"kind": "facts", "extra": {"a": 1e400}}',
    b'{"kind": "facts", "title": "\\ud800"}',
    b'\xef\xbb\xbf{"kind": "facts"}',
    b'{"kind": "f\xff"}',
    b'["kind"]',
    b'{"kind": "facts"} x',
    b"",
    b"[" * 100_000,
]


@pytest.mark.parametrize("raw", BAD_SIDECARS)
def test_a_sidecar_the_struct_refuses_is_never_plainly_well_formed(raw: bytes) -> None:
    with pytest.raises(msgspec.DecodeError):
        msgspec.json.decode(raw, type=Sidecar)
    assert shapes.sidecar_state(raw) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from([*shapes.SIDECAR_FIELDS, "x"]), _json, max_size=6))
def test_sure_means_the_struct_agrees(doc: dict) -> None:
    """Whatever the check is sure of, msgspec decodes to the same state."""
    raw = json.dumps(doc).encode()
    state = shapes.sidecar_state(raw)
    if state is not None:
        assert msgspec.json.decode(raw, type=Sidecar).state == state


@given(st.dictionaries(st.sampled_from([*shapes.MANIFEST_FIELDS, "x"]), _json, max_size=6))
def test_a_plain_manifest_is_one_the_struct_decodes(doc: dict) -> None:
    raw = json.dumps(doc).encode()
    if shapes.plain_manifest(raw):
        msgspec.json.decode(raw, type=Manifest)


def test_a_manifest_the_engine_writes_is_plainly_well_formed() -> None:
    m = Manifest(store_id="ab" * 16, protocol=1, created_ns=5, exports=["x.zip"])
    assert shapes.plain_manifest(msgspec.json.encode(m, order="sorted"))
    assert not shapes.plain_manifest(b'{"store_id": "x", "protocol": 1}')  # no created_ns
    bad_settings = b'{"store_id": "x", "protocol": 1, "created_ns": 1, "settings": {"tier_weights": {"a": "b"}}}'
    assert not shapes.plain_manifest(bad_settings)


_actor = st.from_regex(r"\w[\w.@+:/=#~-]{0,20}", fullmatch=True).filter(
    lambda a: __import__("unicodedata").is_normalized("NFC", a)
)


@given(
    _actor,
    st.from_regex(r"memories/facts/[^\x00-\x1f\x7f-\x9f\\:/]{1,12}\.md", fullmatch=True),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
)
def test_an_access_entry_is_canonical_json(actor: str, path: str, n: int, ts: int) -> None:
    """core.index.access writes its entries with the stdlib (no msgspec for `brain view`):
    for a validated actor and path the bytes are the canonical encoding."""
    entry = {"actor": actor, "path": path, "seq": n, "ts_ns": ts}
    assert access.entry_payload(path, actor, n, ts) == canonical.encode(entry, check=False)
