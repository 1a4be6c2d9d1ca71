"""core.paths: the path rules, derived names, symlink refusal and the temp-root sandbox."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import paths
from core.errors import InvalidPath, TempStoreRefused
from core.models import KINDS


@pytest.mark.parametrize(
    "path",
    [
        "memories/facts/a.md",
        "memories/decisions/2024/q1/use-sqlite.md",
        "memories/people/caf\u00e9.md",
        "memories/refinements/with space inside.md",
        "memories/drift/x.y.z.md",
        "memories/preferences/" + "a" * 197 + ".md",  # segment of exactly 200 bytes
    ],
)
def test_valid_paths_accepted(path: str) -> None:
    assert paths.validate(path) == path


def test_every_kind_is_accepted() -> None:
    for kind in KINDS:
        assert paths.kind_of(f"memories/{kind}/x.md") == kind


def _long_path(total: int) -> str:
    """A valid-shaped path of exactly `total` bytes, built from 100-byte folders."""
    head, tail = "memories/facts/", "x.md"
    fill = total - len(head) - len(tail)
    parts = []
    while fill > 0:
        n = min(100, fill - 1) if fill > 101 else fill - 1
        parts.append("d" * n)
        fill -= n + 1
    return head + "".join(p + "/" for p in parts) + tail


def test_whole_path_length_boundary() -> None:
    ok = _long_path(1024)
    assert len(ok.encode()) == 1024
    assert paths.validate(ok) == ok
    too_long = _long_path(1025)
    assert len(too_long.encode()) == 1025
    with pytest.raises(InvalidPath, match="1025 bytes; a path may be at most 1024"):
        paths.validate(too_long)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "empty path"),
        ("memories/x/../y.md", "memories/x/../y.md: '..' segments are not allowed"),
        ("memories/facts/./y.md", "'.' segments are not allowed"),
        ("memories/facts//y.md", "empty segments"),
        ("memories/facts/y.md/", "empty segments"),
        ("/memories/facts/y.md", "absolute paths are not allowed"),
        ("memories\\facts\\y.md", "'\\\\' is not allowed; use '/'"),
        ("memories/facts/a:b.md", "':' is not allowed"),
        ("C:/memories/facts/a.md", "':' is not allowed"),
        ("memories/facts/a\x00.md", "control character U\\+0000 at position 16"),
        ("memories/facts/a\nb.md", "control character U\\+000A"),
        ("memories/facts/a\x7f.md", "control character U\\+007F"),
        ("memories/facts/a\x85.md", "control character U\\+0085"),
        ("memories/facts/a\x9f.md", "control character U\\+009F"),
        ("memories/facts/e\u0301.md", "not NFC-normalised"),
        ("memories/facts/a\udcff.md", "not valid UTF-8"),
        ("memories/facts/ a.md", "leading or trailing whitespace"),
        ("memories/facts/a /b.md", "leading or trailing whitespace"),
        ("memories/facts/" + "a" * 198 + ".md", "201 bytes; each segment may be at most 200"),
        ("memories/facts/" + "\u00e9" * 101 + "/x.md", "202 bytes"),
        ("notes/facts/a.md", "must start with 'memories/'"),
        ("Memories/facts/a.md", "must start with 'memories/'"),
        ("memories/a.md", "expected memories/<kind>/<slug>.md"),
        ("memories/gossip/a.md", "unknown kind 'gossip'; kinds are: decisions, facts"),
        ("memories/Facts/a.md", "unknown kind 'Facts'"),
        ("memories/facts/a.md/b.md", "folder 'a.md' may not end in '.md'"),
        ("memories/facts/a.MD/b.md", "folder 'a.MD' may not end in '.md'"),
        ("memories/facts/a.meta.json/b.md", "may not end in '.md' or '.meta.json'"),
        ("memories/facts/a.txt", "must end in '.md'"),
        ("memories/facts/a.MD", "must end in '.md'"),
        ("memories/facts/a", "must end in '.md'"),
        ("memories/facts/.md", "needs a slug before '.md'"),
        ("memories/facts/x.meta.md", "may not end in '.meta'"),
        ("memories/facts/x.META.md", "may not end in '.meta'"),
        ("memories/projects/.hidden.md", "segment '.hidden.md' starts with '.'"),
        ("memories/projects/.git/a.md", "segment '.git' starts with '.'"),
        ("memories/projects/a/.x.tmp1/b.md", "starts with '.'"),
    ],
)
def test_each_rule_is_refused_with_its_message(path: str, message: str) -> None:
    with pytest.raises(InvalidPath, match=message):
        paths.validate(path)


def test_non_str_refused() -> None:
    with pytest.raises(InvalidPath, match="must be a str, not bytes"):
        paths.validate(b"memories/facts/a.md")  # type: ignore[arg-type]


def test_message_escapes_unprintable_path() -> None:
    with pytest.raises(InvalidPath) as info:
        paths.validate("memories/facts/\x1b[31mred.md")
    assert "\x1b" not in str(info.value)
    assert "\\x1b" in str(info.value)


def test_nfc_and_nfd_forms() -> None:
    composed = "memories/people/Ren\u00e9e.md"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert paths.validate(composed) == composed
    with pytest.raises(InvalidPath, match="not NFC-normalised; pass unicodedata.normalize"):
        paths.validate(decomposed)
    assert paths.validate(unicodedata.normalize("NFC", decomposed)) == composed
    assert paths.casefold_key(composed) == paths.casefold_key(decomposed)


def test_casefold_uniqueness() -> None:
    key = paths.casefold_key
    assert key("memories/facts/Readme.md") == key("memories/facts/README.md")
    assert key("memories/facts/Stra\u00dfe.md") == key("memories/facts/STRASSE.md")
    assert key("memories/facts/\u00c9t\u00e9.md") == key("memories/facts/e\u0301te\u0301.md")
    assert key("memories/facts/a.md") != key("memories/facts/b.md")


@given(st.text())
def test_casefold_key_properties(text: str) -> None:
    k = paths.casefold_key(text)
    assert unicodedata.is_normalized("NFC", k)
    assert k == paths.casefold_key(unicodedata.normalize("NFD", text))
    assert k == paths.casefold_key(unicodedata.normalize("NFC", text))


def test_derived_names() -> None:
    p = "memories/decisions/infra/use-sqlite.md"
    assert paths.kind_of(p) == "decisions"
    assert paths.sidecar_of(p) == "memories/decisions/infra/use-sqlite.meta.json"
    assert paths.versions_dir_of(p) == "versions/decisions/infra/use-sqlite"
    assert paths.version_paths(p, 42) == (
        "versions/decisions/infra/use-sqlite/00000000000000000042.md",
        "versions/decisions/infra/use-sqlite/00000000000000000042.meta.json",
    )
    assert paths.version_paths(p, 10**20 - 1)[0].endswith("/" + "9" * 20 + ".md")


@pytest.mark.parametrize("seq", [-1, 10**20, True, 1.0, "1"])
def test_version_paths_refuses_bad_seq(seq: object) -> None:
    with pytest.raises(InvalidPath, match="version seq"):
        paths.version_paths("memories/facts/a.md", seq)  # type: ignore[arg-type]


def test_derived_names_validate_first() -> None:
    with pytest.raises(InvalidPath):
        paths.sidecar_of("memories/facts/../a.md")


# -- property tests ---------------------------------------------------------------------------

_ANY_CHAR = st.characters(exclude_categories=())  # surrogates included
_PIECES = st.sampled_from(
    ["memories", "facts", "people", "gossip", "..", ".", "", "a.md", "x.meta.md", "b", "e\u0301"]
    + [" a", "a:b", "a\\b", "\x00", "\udcff", "d.md", "z" * 201]
)


@given(st.one_of(st.text(alphabet=_ANY_CHAR), st.lists(_PIECES, max_size=6).map("/".join)))
def test_validate_raises_only_invalid_path(text: str) -> None:
    try:
        assert paths.validate(text) == text
    except InvalidPath as exc:
        assert str(exc)


_SEG_CHARS = st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="/\\:")


def _good_segment(s: str) -> bool:
    return (
        s not in ("", ".", "..")
        and not s.startswith(".")
        and s == s.strip()
        and len(s.encode()) <= 200
        and not s.casefold().endswith((".md", ".meta.json"))
    )


_SEGMENT = st.text(alphabet=_SEG_CHARS, min_size=1, max_size=12).map(
    lambda s: unicodedata.normalize("NFC", s)
)
_FOLDER = _SEGMENT.filter(_good_segment)
_SLUG = _SEGMENT.filter(
    lambda s: s == s.lstrip() and not s.startswith(".") and not s.casefold().endswith(".meta")
)


@st.composite
def valid_paths(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(KINDS))
    folders = draw(st.lists(_FOLDER, max_size=4))
    return "/".join(["memories", kind, *folders, draw(_SLUG) + ".md"])


@given(valid_paths())
def test_valid_paths_round_trip(path: str) -> None:
    assert paths.validate(path) == path
    assert paths.validate(path) == path  # cached path gives the same answer
    kind = path.split("/")[1]
    assert paths.kind_of(path) == kind
    sidecar = paths.sidecar_of(path)
    assert sidecar[:-10] + ".md" == path and sidecar.endswith(".meta.json")
    vdir = paths.versions_dir_of(path)
    assert vdir == "versions/" + path[len("memories/") : -3]
    body, meta = paths.version_paths(path, 7)
    assert body == f"{vdir}/{7:020d}.md" and meta == f"{vdir}/{7:020d}.meta.json"


# -- symlinks ---------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    (root / "memories" / "facts").mkdir(parents=True)
    (root / "memories" / "facts" / "a.md").write_text("x")
    return root


def test_no_symlink_passes_for_real_and_missing_components(store: Path) -> None:
    paths.check_no_symlink(store, "memories/facts/a.md")
    paths.check_no_symlink(store, "memories/facts/new/deeper/b.md")
    paths.check_no_symlink(store, "memories/people/c.md")


def test_symlinked_folder_refused(store: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, store / "memories" / "people")
    with pytest.raises(InvalidPath, match="'memories/people' is a symbolic link"):
        paths.check_no_symlink(store, "memories/people/x.md")


def test_symlinked_file_refused(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "secret"
    target.write_text("s")
    os.symlink(target, store / "memories" / "facts" / "b.md")
    with pytest.raises(InvalidPath, match="'memories/facts/b.md' is a symbolic link"):
        paths.check_no_symlink(store, "memories/facts/b.md")


def test_dangling_symlink_refused(store: Path, tmp_path: Path) -> None:
    os.symlink(tmp_path / "nowhere", store / "memories" / "facts" / "c.md")
    with pytest.raises(InvalidPath, match="symbolic link"):
        paths.check_no_symlink(store, "memories/facts/c.md")


def test_symlinked_top_folder_refused(store: Path, tmp_path: Path) -> None:
    os.symlink(store / "memories", store / "versions")
    with pytest.raises(InvalidPath, match="'versions' is a symbolic link"):
        paths.check_no_symlink(store, "versions/facts/a/00000000000000000001.md")


def test_root_itself_may_be_a_symlink(store: Path, tmp_path: Path) -> None:
    link = tmp_path / "link-to-store"
    os.symlink(store, link)
    paths.check_no_symlink(link, "memories/facts/a.md")


def test_file_in_place_of_folder_refused(store: Path) -> None:
    with pytest.raises(InvalidPath, match="'memories/facts/a.md' is a file, not a folder"):
        paths.check_no_symlink(store, "memories/facts/a.md/b.md")


@pytest.mark.parametrize("rel", ["/etc/passwd", "memories/../x.md", "memories//x.md", "a\\b"])
def test_check_no_symlink_refuses_escaping_rel(store: Path, rel: str) -> None:
    with pytest.raises(InvalidPath):
        paths.check_no_symlink(store, rel)


# -- slugs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Caf\u00e9 au Lait!", "cafe-au-lait"),
        ("  --Hello,   World--  ", "hello-world"),
        ("e\u0301te\u0301", "ete"),
        ("\u65e5\u672c\u8a9e", "untitled"),
        ("", "untitled"),
        ("Use SQLite (v3.45) for the index", "use-sqlite-v3-45-for-the-index"),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert paths.slugify(text) == slug


@given(st.text(), st.integers(min_value=1, max_value=80))
def test_slugify_always_gives_a_valid_slug(text: str, max_len: int) -> None:
    slug = paths.slugify(text, max_len=max_len)
    assert 1 <= len(slug) <= max_len
    assert slug.isascii() and slug == slug.lower()
    assert not slug.startswith("-") and not slug.endswith("-")
    assert paths.validate(f"memories/facts/{slug}.md")


def test_slug_with_hash() -> None:
    a = paths.slug_with_hash("Ada Lovelace")
    b = paths.slug_with_hash("ADA LOVELACE")
    assert a.startswith("ada-lovelace-") and len(a.rsplit("-", 1)[1]) == 8
    assert a != b  # same slug, different text: the hash tells them apart
    assert paths.slug_with_hash("Ren\u00e9e") == paths.slug_with_hash("Rene\u0301e")


@given(st.text())
def test_slug_with_hash_fits_and_validates(text: str) -> None:
    s = paths.slug_with_hash(text, max_len=40)
    assert len(s) <= 40
    assert paths.validate(f"memories/people/{s}.md")


# -- temp-root sandbox ------------------------------------------------------------------------


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ALLOW_TEMP_ENV, raising=False)


@pytest.mark.parametrize("root", ["/tmp/x", "/tmp", "/var/tmp/brain", "/dev/shm/s"])
def test_temp_roots_detected(root: str) -> None:
    assert paths.is_temp_root(Path(root))


def test_tmp_path_is_temp(tmp_path: Path) -> None:
    assert paths.is_temp_root(tmp_path / "store")


def test_home_is_not_temp() -> None:
    home = Path.home()
    if paths.is_temp_root(home):
        pytest.skip("$HOME is inside a temporary folder on this machine")
    assert not paths.is_temp_root(home / ".cyberos-memory")


def test_tmpdir_env_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", "/srv/scratch-for-test")
    assert paths.is_temp_root(Path("/srv/scratch-for-test/store"))
    assert not paths.is_temp_root(Path("/srv/other"))


def test_tmpdir_set_to_root_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", "/")
    assert not paths.is_temp_root(Path("/srv/store"))


def test_temp_root_refused(tmp_path: Path, no_env: None) -> None:
    root = tmp_path / "store"
    with pytest.raises(TempStoreRefused) as info:
        paths.check_root_allowed(root, allow_temp=False)
    assert str(info.value) == (
        f"store root {root} is inside a temporary folder; pass --allow-temp-store or set "
        "BRAIN_ALLOW_TEMP_STORE=1 to use it anyway"
    )


def test_temp_root_allowed_with_flag(tmp_path: Path, no_env: None) -> None:
    paths.check_root_allowed(tmp_path / "store", allow_temp=True)


def test_temp_root_allowed_with_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAIN_ALLOW_TEMP_STORE", "1")
    paths.check_root_allowed(tmp_path / "store", allow_temp=False)


@pytest.mark.parametrize("value", ["0", "", "yes"])
def test_env_must_be_exactly_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("BRAIN_ALLOW_TEMP_STORE", value)
    with pytest.raises(TempStoreRefused):
        paths.check_root_allowed(tmp_path / "store", allow_temp=False)


def test_non_temp_root_allowed(no_env: None) -> None:
    root = Path.home() / ".cyberos-memory"
    if paths.is_temp_root(root):
        pytest.skip("$HOME is inside a temporary folder on this machine")
    paths.check_root_allowed(root, allow_temp=False)


def test_the_temp_root_check_does_not_import_tempfile(tmp_path: Path) -> None:
    """Every one-shot command on a store outside /tmp asks is_temp_root: importing tempfile
    for it cost ~10 ms of start-up (it loads shutil, bz2, lzma and random)."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from core import paths\n"
        "assert paths.is_temp_root(Path('/tmp/x')) and not paths.is_temp_root(Path('/srv/x'))\n"
        f"assert paths.is_temp_root(Path({str(tmp_path / 'own' / 's')!r}))\n"
        "print('tempfile' in sys.modules)\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path / "own")}
    env.pop("BRAIN_ALLOW_TEMP_STORE", None)
    (tmp_path / "own").mkdir()
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == b"False\n"


@pytest.mark.parametrize("raw", ["/srv/brain", "rel/store", "./a/../b/", "~/brain", "~"])
def test_root_path_is_resolve_roots_string(raw: str, monkeypatch, tmp_path: Path) -> None:
    """The view path's plain-string root names the folder resolve_root's Path names."""
    from core.layout import resolve_root, root_path

    monkeypatch.chdir(tmp_path)
    expected = Path(os.path.expanduser(raw)).absolute()
    assert resolve_root(raw) == expected
    assert Path(root_path(raw)) == expected
    assert os.path.isabs(root_path(raw))
