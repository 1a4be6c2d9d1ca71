"""`brain hook git`: capture the commit just made (post-commit) as a memory.

The memory sits at `memories/projects/<repo>/commits/<sha12>.md` (the repository folder's
slug, never the author: paths are permanent and must not carry personal data; the author is in
the body, which a purge can erase). Two git calls, bounded output.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass

from core import paths
from core.hooks import Putter

SOURCE_TAG = "source:git"
MAX_FILES = 500
MAX_MESSAGE_CHARS = 20_000
GIT_TIMEOUT_S = 10


class NotARepo(ValueError):
    """Not inside a git work tree, or no commit yet."""


@dataclass
class Commit:
    sha: str
    author: str
    email: str
    date: str
    message: str
    branch: str
    repo: str  # the work tree's folder name
    files: list[str]


def _git(cwd: str, *args: str) -> str:
    try:
        p = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise NotARepo(f"git failed: {e}") from None
    if p.returncode != 0:
        raise NotARepo(p.stderr.decode("utf-8", "replace").strip() or "git failed")
    return p.stdout.decode("utf-8", "replace")


def read_commit(cwd: str, rev: str = "HEAD") -> Commit:
    top = _git(cwd, "rev-parse", "--show-toplevel", "--abbrev-ref", "HEAD").splitlines()
    head = _git(cwd, "log", "-1", "--format=%H%x00%an%x00%ae%x00%aI%x00%B", rev)
    sha, author, email, date, message = (head.split("\x00", 4) + [""] * 5)[:5]
    names = _git(cwd, "diff-tree", "--no-commit-id", "--name-status", "-r", "--root", rev)
    files = [" ".join(line.split("\t")) for line in names.splitlines() if line][:MAX_FILES]
    return Commit(
        sha=sha.strip(),
        author=author,
        email=email,
        date=date,
        message=message.strip()[:MAX_MESSAGE_CHARS],
        branch=top[1] if len(top) > 1 else "",
        repo=os.path.basename(top[0].rstrip("/")) if top else "",
        files=files,
    )


def memory_path(c: Commit, project: str = "") -> str:
    repo = paths.slugify(project or c.repo or "repo")
    return f"memories/projects/{repo}/commits/{c.sha[:12]}.md"


def body_of(c: Commit) -> str:
    subject, _, rest = c.message.partition("\n")
    out = [
        f"# {subject.strip() or '(no message)'}",
        "",
        f"- commit: {c.sha}",
        f"- author: {c.author} <{c.email}>",
        f"- date: {c.date}",
        f"- branch: {c.branch}",
        f"- repository: {c.repo}",
    ]
    if rest.strip():
        out += ["", rest.strip()]
    out += ["", "## Files", ""] + ([f"- {f}" for f in c.files] or ["- none"])
    return "\n".join(out) + "\n"


def capture(put: Putter, c: Commit, *, actor: str, sync_class: str = "private"):
    """The commit's memory, written by `put` (core.hooks.Putter)."""
    subject = " ".join(c.message.partition("\n")[0].split())[:200]
    return put(
        memory_path(c),
        body_of(c),
        actor=actor,
        parse_frontmatter=False,
        title=f"commit {c.sha[:12]}: {subject}" if subject else f"commit {c.sha[:12]}",
        category="project-context",
        tags=[SOURCE_TAG],
        sync_class=sync_class,
        extra={"source": "git", "commit": c.sha},
    )
