"""Capture's small parts: path naming (never a name on the chain), ignore rules, the bucket."""

from __future__ import annotations

import re
import string

from hypothesis import given, settings
from hypothesis import strategies as sts

from core import paths
from core.capture import filters, naming
from core.capture.ratelimit import Bucket

KEY = b"k" * 32
NAME = sts.text(
    alphabet=sts.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
    min_size=1,
    max_size=80,
)


@settings(deadline=None)
@given(folder=NAME, rel=sts.lists(NAME, min_size=1, max_size=4).map("/".join))
def test_paths_are_valid_and_hold_no_name(folder, rel) -> None:
    fid = naming.folder_id(KEY, "/home/u/" + folder)
    p = naming.file_path(KEY, fid, rel)
    assert paths.validate(p) == p
    tail = p.rsplit("/", 1)[-1]
    typ, h = tail[: -len(".md")].rsplit("-", 1)
    assert len(h) == naming.FILE_HASH and set(h) <= set(string.hexdigits.lower())
    assert re.fullmatch(r"[a-z0-9]{1,12}", typ)
    # Only the extension (a type word, at most 12 ASCII letters or digits) comes from the name.
    assert p.startswith(f"{naming.PREFIX}/w-") and p == p.lower()


def test_paths_are_stable_keyed_and_distinct() -> None:
    fid = naming.folder_id(KEY, "/home/u/notes")
    assert fid == naming.folder_id(KEY, "/home/u/notes") != naming.folder_id(KEY, "/home/u/x")
    assert naming.folder_id(b"o" * 32, "/home/u/notes") != fid  # another machine's key
    a, b = naming.file_path(KEY, fid, "Dana.md"), naming.file_path(KEY, fid, "dana.md")
    assert a != b and "dana" not in a.lower()
    assert naming.file_path(KEY, fid, "Dana.md") == a
    assert naming.text_path(KEY, b"x") == naming.text_path(KEY, b"x") != naming.text_path(KEY, b"y")
    assert naming.type_slug("a/b/Report.PDF.md") == "md"
    assert naming.type_slug("Makefile") == "note"
    assert naming.type_slug(".bashrc") == "note"
    assert naming.type_slug("x.tar-gz") == "note"
    assert naming.content_digest(KEY, b"body") != naming.content_digest(b"o" * 32, b"body")


def test_ignore_rules() -> None:
    ign = filters.ignored_rel
    for rel in (
        ".git/config",
        "a/node_modules/x.js",
        "build/x.txt",
        "pkg.egg-info/PKG-INFO",
        "x.md~",
        ".#x.md",
        "#x.md#",
        "x.swp",
        "photo.JPG",
        "a/.DS_Store",
    ):
        assert ign(rel), rel
    for rel in ("notes.md", "a/b/c.txt", "building.md", "x.py", "README", ".env"):
        assert not ign(rel), rel
    assert ign("app.log", ["*.log"]) and ign("a/drafts/x.md", ["drafts"])
    assert ign("drafts/x.md", ["drafts/*"]) and not ign("x.md", ["drafts/*"])
    assert ign("bad-\udcff.md")  # a name that is not UTF-8
    assert filters.ignored_dir("node_modules", "a/node_modules")
    assert filters.ignored_dir("tmp", "tmp", ["tmp"]) and not filters.ignored_dir("src", "src")


def test_read_text(tmp_path) -> None:
    (tmp_path / "t.md").write_bytes(b"hello\n")
    assert filters.read_text(str(tmp_path / "t.md")).body == b"hello\n"
    (tmp_path / "big").write_bytes(b"x" * (filters.MAX_BYTES + 1))
    assert filters.read_text(str(tmp_path / "big")).skip == "over 1 MiB"
    (tmp_path / "edge").write_bytes(b"x" * filters.MAX_BYTES)
    assert filters.read_text(str(tmp_path / "edge")).body is not None
    (tmp_path / "nul").write_bytes(b"a\x00")
    assert filters.read_text(str(tmp_path / "nul")).skip == "binary"
    assert filters.read_text(str(tmp_path / "none")).skip == "gone"
    (tmp_path / "link").symlink_to(tmp_path / "t.md")
    assert filters.read_text(str(tmp_path / "link")).body is None  # never followed
    assert filters.read_text(str(tmp_path)).body is None


def test_bucket_delays() -> None:
    b = Bucket(rate_per_s=2, burst=3, now=0.0)
    assert [b.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert b.next_at(0.0) == 0.5
    assert not b.take(0.4) and b.take(0.5)
    assert b.take(100.0) and b.take(100.0) and b.take(100.0) and not b.take(100.0)  # capped
