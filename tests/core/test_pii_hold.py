"""Issue 14: the PII hold at write time and the review (`store.pii`), on real stores."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BrainError
from core.store import Store

ANA = "human:ana@laptop"
BOB = "human:bob@desk"
SECRETS = ("jane.roe@example.org", "536-22-1234", "4111 1111 1111 1111", "AKIAIOSFODNN7EXAMPLQ")
BODY = (
    "# Contractor\n\n"
    f"E-mail: {SECRETS[0]}\nSSN: {SECRETS[1]}\nCard: {SECRETS[2]}\nAWS: {SECRETS[3]}\n"
)
P = "memories/people/contractor.md"


@pytest.fixture(autouse=True)
def _own_witness_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def store(tmp_path: Path):
    s = Store.init(tmp_path / "s", allow_temp=True)
    yield s
    s.close()


def _rows(s: Store):
    return [r for r, _p in s.rows()]


def test_a_shareable_put_with_pii_is_held_with_its_row(store: Store) -> None:
    res = store.put(P, BODY, actor=ANA, sync_class="shareable")
    side = store.view(P).sidecar
    assert side.pii_status == "held"
    assert {f["type"] for f in side.pii_findings} == {"email", "national_id", "card", "secret"}
    for f in side.pii_findings:
        assert set(f) == {"where", "type", "start", "end", "confidence", "detail"}
        assert BODY[f["start"] : f["end"]] in SECRETS
    rows = _rows(store)
    assert [r.op for r in rows] == ["put", "pii.held"]
    held = rows[1]
    assert held.path == P and held.commit == "" and held.extra["put"] == res.seq
    assert held.extra["counts"] == {"card": 1, "email": 1, "national_id": 1, "secret": 1}
    assert held.extra["total"] == 4 and held.extra["in_path"] == 0
    assert any("held for PII review" in n for n in res.notes)
    assert store.pii_pending_count() == 1 and store.pii.count() == 1
    [item] = store.pii.pending()
    assert item.path == P and item.sync_class == "shareable" and item.seq == res.seq
    # Idempotent: the same put again writes nothing and stays held.
    again = store.put(P, BODY, actor=ANA, sync_class="shareable")
    assert not again.changed and len(_rows(store)) == 2


def test_a_private_put_is_neither_scanned_nor_held(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.pii

    def boom(*_a, **_k):
        raise AssertionError("a private put was scanned")

    monkeypatch.setattr(core.pii, "scan", boom)
    monkeypatch.setattr(core.pii, "scan_path", boom)
    store.put(P, BODY, actor=ANA)  # private by default
    store.put("memories/facts/p.md", BODY, actor=ANA, sync_class="private")
    assert store.view(P).sidecar.pii_status == "clean"
    assert [r.op for r in _rows(store)] == ["put", "put"]
    assert store.pii_pending_count() == 0 and store.pii.pending() == []


def test_widening_from_private_holds_and_an_inherited_class_is_scanned(store: Store) -> None:
    store.put(P, BODY, actor=ANA)
    store.put(P, BODY, actor=ANA, sync_class="shareable")  # what `brain reclass` does
    assert store.view(P).sidecar.pii_status == "held"
    assert [r.op for r in _rows(store)] == ["put", "put", "pii.held"]
    # A put that names no class inherits a wide one: scanned on the commit loop.
    store.put("memories/facts/n.md", "# clean\n", actor=ANA, sync_class="team-public")
    store.put("memories/facts/n.md", f"# now\nmail {SECRETS[0]}\n", actor=ANA)
    assert store.view("memories/facts/n.md").sidecar.pii_status == "held"
    assert store.pii_pending_count() == 2


def test_path_and_title_are_scanned(store: Store) -> None:
    store.put("memories/facts/jane.roe@example.org.md", "# x\n", actor=ANA, sync_class="shareable")
    side = store.view("memories/facts/jane.roe@example.org.md").sidecar
    assert side.pii_status == "held" and [f["where"] for f in side.pii_findings] == ["path"]
    store.put("memories/facts/t.md", f"mail {SECRETS[0]}\n", actor=ANA, sync_class="shareable")
    wheres = sorted(f["where"] for f in store.view("memories/facts/t.md").sidecar.pii_findings)
    assert wheres == ["body", "title"]  # the title is the body's first line
    with pytest.raises(BrainError, match="path cannot be redacted"):
        store.pii.resolve("memories/facts/jane.roe@example.org.md", "redact", actor=ANA)


def test_rows_sidecars_and_index_rows_never_hold_the_matched_text(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    store.pii.resolve(P, "redact", actor=ANA, spans=[1])
    store.pii.resolve(P, "release", actor=ANA, reason="consented")
    store.checkpoint()
    root = store.root
    audit = b"".join(
        f.read_bytes()
        for f in (root / "audit").rglob("*")
        if f.is_file() and "journal" not in f.name
    )
    sidecars = b"".join(f.read_bytes() for f in (root / "memories").rglob("*.meta.json"))
    sidecars += b"".join(f.read_bytes() for f in (root / "versions").rglob("*.meta.json"))
    index_rows = repr([(r.op, r.path, r.extra) for r in store.tail()]).encode()
    for secret in SECRETS:
        for where, data in (("audit", audit), ("sidecars", sidecars), ("index", index_rows)):
            assert secret.encode() not in data, (secret, where)
            assert secret.replace(" ", "").encode() not in data, (secret, where)
    ops = [r.op for r in _rows(store)]
    assert ops.count("pii.held") == 2 and ops.count("pii.resolved") == 2


def test_keep_private(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    res = store.pii.resolve(P, "keep-private", actor=BOB)
    side = store.view(P).sidecar
    assert side.sync_class == "private" and side.pii_status == "clean"
    assert store.view(P).text == BODY
    resolved = _rows(store)[res.seq - 1]
    assert resolved.op == "pii.resolved" and resolved.actor == BOB
    assert resolved.extra == {
        "action": "keep-private",
        "counts": {"card": 1, "email": 1, "national_id": 1, "secret": 1},
        "total": 4,
        "version": 1,  # the put it resolved
    }
    assert _rows(store)[res.write_seq - 1].op == "put"
    assert store.pii_pending_count() == 0
    with pytest.raises(BrainError, match="not held"):
        store.pii.resolve(P, "keep-private", actor=BOB)


def test_redact_all_then_some(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    some = store.pii.resolve(P, "redact", actor=ANA, spans=[1, 4])
    assert some.still_held and some.counts == {"email": 1, "secret": 1}
    text = store.view(P).text
    assert "[REDACTED:email]" in text and "[REDACTED:secret]" in text and SECRETS[1] in text
    assert store.view(P).sidecar.sync_class == "shareable"
    assert store.pii.get(P).counts == {"card": 1, "national_id": 1}
    done = store.pii.resolve(P, "redact", actor=ANA)
    assert not done.still_held
    text = store.view(P).text
    assert not any(s in text for s in SECRETS)
    assert "[REDACTED:national_id]" in text and "[REDACTED:card]" in text
    assert store.view(P).sidecar.pii_status == "clean" and store.pii_pending_count() == 0
    ops = [(r.op, r.extra.get("action")) for r in _rows(store)]
    assert ops == [
        ("put", None),
        ("pii.held", None),
        ("pii.resolved", "redact"),
        ("put", None),
        ("pii.held", None),
        ("pii.resolved", "redact"),
        ("put", None),
    ]
    with pytest.raises(BrainError, match="not held"):
        store.pii.redacted(P)


def test_redact_refuses_bad_spans(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    for bad in ([0], [5], [True]):
        with pytest.raises(BrainError, match="span"):
            store.pii.resolve(P, "redact", actor=ANA, spans=bad)
    assert len(_rows(store)) == 2


def test_release_marks_the_sidecar_and_a_retitle_keeps_it(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    with pytest.raises(BrainError, match="--reason"):
        store.pii.resolve(P, "release", actor=ANA)
    res = store.pii.resolve(P, "release", actor=ANA, reason="consented")
    assert res.write_seq is None
    side = store.view(P).sidecar
    assert side.pii_status == "released" and side.seq == 1  # no new put
    assert store.pii_pending_count() == 0 and store.pii.pending() == []
    row = _rows(store)[res.seq - 1]
    assert row.extra["action"] == "release" and row.extra["reason"] == "consented"
    store.put(P, BODY, actor=ANA, title="Contractor (renamed)")
    assert store.view(P).sidecar.pii_status == "released"
    # What the person did not see is held again: PII in a new title, a wider audience.
    store.put(P, BODY, actor=ANA, title="Contractor: call 536-90-4399")
    assert store.view(P).sidecar.pii_status == "held"
    store.pii.resolve(P, "release", actor=ANA, reason="consented")
    store.put(P, BODY, actor=ANA, title="Contractor: call 536-90-4399", sync_class="team-public")
    assert store.view(P).sidecar.pii_status == "held"
    store.pii.resolve(P, "release", actor=ANA, reason="consented")
    store.put(P, BODY + "\nnew: bob@example.net\n", actor=ANA)
    assert store.view(P).sidecar.pii_status == "held"  # a new body is scanned again
    assert store.doctor().state == "READY"


def test_purge(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    with pytest.raises(BrainError, match="--reason"):
        store.pii.resolve(P, "purge", actor=ANA, reason="oops")
    res = store.pii.resolve(P, "purge", actor=ANA, reason="pii-leak", ticket="T-1")
    rows = _rows(store)
    assert rows[res.seq - 1].extra["action"] == "purge"
    purge = rows[res.write_seq - 1]
    assert purge.op == "delete" and purge.extra["mode"] == "purge"
    assert purge.extra["reason"] == "pii-leak" and purge.extra["ticket"] == "T-1"
    assert not (store.root / P).exists()
    assert store.pii_pending_count() == 0


def test_move_carries_the_hold_and_a_tombstone_ends_it(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    store.move(P, "memories/people/c2.md", actor=ANA)
    assert [i.path for i in store.pii.pending()] == ["memories/people/c2.md"]
    store.delete("memories/people/c2.md", actor=ANA)
    assert store.pii_pending_count() == 0
    from core.pii.held import held_paths

    assert held_paths(_rows(store)) == set()


def test_pii_rows_are_not_a_callers_note(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    for op in ("pii.held", "pii.resolved"):
        with pytest.raises(BrainError):
            store.note(op, actor=ANA, path=P, extra={"action": "release"})
    assert store.view(P).sidecar.pii_status == "held"


def test_doctor_is_green_with_held_memories(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    store.put("memories/facts/ok.md", "# fine\n", actor=ANA, sync_class="shareable")
    store.put("memories/facts/k.md", BODY, actor=ANA, sync_class="team-public")
    store.pii.resolve("memories/facts/k.md", "release", actor=ANA, reason="test-data")
    report = store.doctor()
    assert report.state == "READY", report.failing()
    assert all(r.status == "PASS" for r in report.results), report.failing()


def test_export_carries_held_memories_and_import_skips_them(tmp_path: Path) -> None:
    origin = Store.init(tmp_path / "origin", allow_temp=True)
    origin.put(P, BODY, actor=ANA, sync_class="shareable")
    origin.put("memories/facts/ok.md", "# fine\n", actor=ANA, sync_class="shareable")
    first = origin.export(tmp_path / "one.zip")
    assert any("held for PII review" in n for n in first.notes)
    dest = Store.init(tmp_path / "dest", allow_temp=True)
    got = dest.import_(tmp_path / "one.zip", actor=BOB)
    assert got.skipped.get("pii-held") == 1
    assert dest.memory_count() == 1 and dest.view("memories/facts/ok.md")
    # An edited sidecar cannot smuggle it out: the chain's pii.held row still holds it.
    side_file = origin.root / "memories/people/contractor.meta.json"
    raw = side_file.read_bytes()
    side_file.write_bytes(raw.replace(b'"pii_status":"held"', b'"pii_status":"clean"'))
    origin.export(tmp_path / "forged.zip")
    assert dest.import_(tmp_path / "forged.zip", actor=BOB).skipped.get("pii-held") == 1
    side_file.write_bytes(raw)
    origin.close()
    origin = Store.open(tmp_path / "origin", allow_temp=True)
    origin.pii.resolve(P, "release", actor=ANA, reason="consented")
    second = origin.export(tmp_path / "two.zip")
    assert not any("held" in n for n in second.notes)
    again = dest.import_(tmp_path / "two.zip", actor=BOB)
    assert "pii-held" not in again.skipped
    assert dest.view(P).text == BODY
    # Imported into a wide class, it is scanned here too: held at this store until resolved.
    assert dest.view(P).sidecar.pii_status == "held" and dest.pii_pending_count() == 1
    origin.close()
    dest.close()


def test_doctor_warns_when_a_sidecar_disagrees_with_the_chains_hold(store: Store) -> None:
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    store.put("memories/facts/k.md", BODY, actor=ANA, sync_class="team-public")
    store.pii.resolve("memories/facts/k.md", "release", actor=ANA, reason="test-data")
    assert store.doctor().result("pii.hold").status == "PASS"
    side_file = store.root / "memories/people/contractor.meta.json"
    raw = side_file.read_bytes()
    side_file.write_bytes(raw.replace(b'"pii_status":"held"', b'"pii_status":"clean"'))
    report = store.doctor()
    found = report.result("pii.hold")
    assert found.status == "WARN" and found.paths == ["memories/people/contractor.meta.json"]
    assert report.state == "READY"  # sharing follows the chain: a warning, not a freeze


def test_a_shareable_capture_is_held_and_status_counts_it(store: Store) -> None:
    from core.capture.once import capture_once
    from core.capture.status import status

    capture_once(store, BODY, actor=ANA, sync_class="shareable", as_text=True)
    capture_once(store, "# plain note\n", actor=ANA, sync_class="shareable", as_text=True)
    capture_once(store, BODY + "\nprivate copy\n", actor=ANA, as_text=True)  # private: not held
    assert store.pii_pending_count() == 1
    assert status(store).pending_pii == 1
    assert [r.op for r in _rows(store)].count("pii.held") == 1


def test_a_move_to_a_path_that_names_pii_holds_the_memory(store: Store) -> None:
    """A clean shareable memory, or a released one, moved to a path with an email in it: the
    path was never reviewed, so the memory is held as a put there would be (its row says
    so, the doctor agrees); a private one, or one already held, is left as it was."""
    from core.pii.held import held_paths

    store.put(
        "memories/facts/plain.md", "# Plain\n\nno secrets\n", actor=ANA, sync_class="shareable"
    )
    store.move("memories/facts/plain.md", "memories/facts/alice.smith@example.com.md", actor=ANA)
    moved = store.view("memories/facts/alice.smith@example.com.md").sidecar
    assert moved.pii_status == "held"
    assert [f["where"] for f in moved.pii_findings] == ["path"]
    store.put("memories/facts/k.md", BODY, actor=ANA, sync_class="team-public")
    store.pii.resolve("memories/facts/k.md", "release", actor=ANA, reason="test-data")
    store.move("memories/facts/k.md", "memories/facts/carol.white@example.com.md", actor=ANA)
    assert store.view("memories/facts/carol.white@example.com.md").sidecar.pii_status == "held"
    store.put("memories/facts/mine.md", "# Mine\n\nprivate\n", actor=ANA)
    store.move("memories/facts/mine.md", "memories/facts/bob.jones@example.com.md", actor=ANA)
    assert store.view("memories/facts/bob.jones@example.com.md").sidecar.pii_status == "clean"
    assert held_paths(_rows(store)) == {
        "memories/facts/alice.smith@example.com.md",
        "memories/facts/carol.white@example.com.md",
    }
    assert store.doctor().state == "READY"


def test_a_resolution_binds_to_the_version_reviewed(store: Store) -> None:
    """A release or a redaction applies to the version the person read (the TUI and the CLI
    pass its seq): one written since, by the CLI or an agent, is refused; the row names the
    version it resolved."""
    store.put(P, BODY, actor=ANA, sync_class="shareable")
    [read] = store.pii.pending()
    store.put(P, BODY + "Also: bob.poe@example.net\n", actor=BOB, sync_class="shareable")
    for action, kw in (("release", {"reason": "consented"}), ("redact", {}), ("purge", {})):
        kw = {"reason": "legal-erasure"} if action == "purge" else kw
        with pytest.raises(BrainError, match="changed since it was read"):
            store.pii.resolve(P, action, actor=ANA, seen=read.seq, **kw)
    assert store.view(P).sidecar.pii_status == "held"
    [now] = store.pii.pending()
    res = store.pii.resolve(P, "release", actor=ANA, reason="consented", seen=now.seq)
    [row] = [r for r in _rows(store) if r.seq == res.seq]
    assert row.op == "pii.resolved" and row.extra["version"] == now.seq != read.seq


def test_the_commit_refuses_a_resolution_of_an_older_version(store: Store) -> None:
    """Checked again under the writer's lock: a put landing between reading the queue and
    committing the resolution (a window the UI's own check cannot close) fails it."""
    from core.write.intents import Note

    store.put(P, BODY, actor=ANA, sync_class="shareable")
    [read] = store.pii.pending()
    store.put(P, BODY + "Also: bob.poe@example.net\n", actor=BOB, sync_class="shareable")
    extra = {"action": "release", "reason": "consented", "version": read.seq}
    with pytest.raises(BrainError, match="changed since it was read"):
        store.session.submit([Note("pii.resolved", P, "", extra)], ANA)
    assert store.view(P).sidecar.pii_status == "held"


# -- tags and extra: they travel with the memory when it is shared, so they are scanned too ----


def test_tags_and_extra_are_scanned_and_hold_the_memory(store: Store) -> None:
    body = (
        "---\ntitle: Vendor\ntags: [call-555-867-5309, ops]\nowner: jane.roe@example.org\n---\nok\n"
    )
    res = store.put(P, body, actor=ANA, sync_class="shareable")
    side = store.view(P).sidecar
    assert side.pii_status == "held" and side.extra == {"owner": "jane.roe@example.org"}
    where = {(f["where"], f["at"], f["type"]) for f in side.pii_findings}
    assert where == {("tags", "/0", "phone"), ("extra", "/owner", "email")}
    [item] = store.pii.pending()
    for f in item.findings:  # spans index the tag or string the finding names
        assert item.text_at(f)[f["start"] : f["end"]] in ("555-867-5309", "jane.roe@example.org")
    held = [r for r in _rows(store) if r.op == "pii.held"][0]
    assert held.extra["put"] == res.seq and held.extra["counts"] == {"email": 1, "phone": 1}
    # Nested values, numbers and keys; never the engine's provenance.
    extra = {
        "who": {"list": ["fine", 4111111111111111], "ana@example.org": 1},
        "imported_from": {"store": "ab" * 32, "seq": 5},
    }
    store.put("memories/facts/n.md", b"plain", actor=ANA, sync_class="shareable", extra=extra)
    found = store.view("memories/facts/n.md").sidecar.pii_findings
    assert {(f["at"], f["type"], bool(f.get("key"))) for f in found} == {
        ("/who/list/1", "card", False),
        ("/who/ana@example.org", "email", True),
    }
    # Clean tags and extra leave a memory clean; a private one is not scanned at all.
    store.put("memories/facts/c.md", b"x", actor=ANA, sync_class="shareable", tags=["ops"])
    assert store.view("memories/facts/c.md").sidecar.pii_status == "clean"
    store.put("memories/facts/p.md", b"x", actor=ANA, extra={"owner": "ana@example.org"})
    assert store.view("memories/facts/p.md").sidecar.pii_status == "clean"


def test_redact_drops_the_tag_and_masks_the_extra(store: Store) -> None:
    body = "---\ntags: [ssn-536-22-1234, ops]\nowner: jane.roe@example.org\nteam: core\n---\nok\n"
    store.put(P, body, actor=ANA, sync_class="shareable")
    store.put(
        "memories/facts/k.md",
        b"plain",
        actor=ANA,
        sync_class="shareable",
        extra={"jane.roe@example.org": "x", "keep": ["a", "4111111111111111"]},
    )
    res = store.pii.resolve(P, "redact", actor=ANA)
    assert not res.still_held
    side = store.view(P).sidecar
    assert side.tags == ["ops"] and side.pii_status == "clean"
    assert side.extra == {"owner": "[REDACTED:email]", "team": "core"}
    assert store.view(P).body == b"ok\n"  # the body had nothing to mask
    store.pii.resolve("memories/facts/k.md", "redact", actor=ANA)
    k = store.view("memories/facts/k.md").sidecar
    assert k.extra == {"keep": ["a", "[REDACTED:card]"]} and k.pii_status == "clean"
    # Redacting only the tag (finding 1) leaves the e-mail: still held.
    store.put(P, body, actor=ANA, sync_class="shareable")
    item = store.pii.get(P)
    n = 1 + [f["where"] for f in item.findings].index("tags")
    res = store.pii.resolve(P, "redact", actor=ANA, spans=[n])
    assert res.still_held and store.view(P).sidecar.tags == ["ops"]


def test_a_release_covers_the_tags_reviewed_not_a_new_one(store: Store) -> None:
    store.put(P, b"ok", actor=ANA, sync_class="shareable", tags=["call-555-867-5309"])
    store.pii.resolve(P, "release", actor=ANA, reason="consented")
    assert store.view(P).sidecar.pii_status == "released"
    # The same tags again (a retitle): still released. A new tag holding PII: held again.
    store.put(P, b"ok", actor=ANA, title="Call", tags=["call-555-867-5309"])
    assert store.view(P).sidecar.pii_status == "released"
    store.put(P, b"ok", actor=ANA, tags=["call-555-867-5309", "ssn-536-22-1234"])
    assert store.view(P).sidecar.pii_status == "held"
