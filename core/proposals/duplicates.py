"""Before a lesson or proposal is stored: is a near duplicate already there?

Two searches over `memories/refinements/`:
- lexical, always: the filing's longest words through the FTS index, then word-set overlap
  (Jaccard) of title and body at or above DUPLICATE_JACCARD;
- semantic, when it is cheap here (`plan`): cosine at or above DUPLICATE_COSINE. Cheap means
  this store already searched by meaning in this process (the model is loaded: the TUI, a
  long-lived host), or the process is a long-lived host (`brain mcp`: Store.service) whose
  store holds vectors and whose model can be loaded (once, for the host's life). A one-shot
  `brain propose` stays lexical unless asked (`--semantic`): loading the model costs seconds.
  Patterns are left out of the semantic search: a lesson recurring is their evidence.

What ran, and why one did not, is recorded in `Filed.searches` and printed by the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import BrainError
from core.proposals.bodies import jaccard, words
from core.proposals.model import DUPLICATE_COSINE, DUPLICATE_JACCARD, PATTERNS, DuplicateMemory

if TYPE_CHECKING:
    from core.store import Store

RAN = "ran"


def plan(store: Store, semantic: bool | None) -> tuple[bool, str]:
    """Whether the semantic search runs (None: when cheap, True: always, False: never), and
    what the result says about it when it does not."""
    if semantic is False:
        return False, "skipped: turned off (--no-semantic)"
    if semantic is True:
        return True, ""
    from core.index.vectors import has_vectors
    from core.search import embeddings

    if store.semantic_ready():
        return True, ""
    model = embeddings.model_name(store.manifest.settings.embed_model)
    if not store.service:
        return False, "skipped: the model is not loaded in this process (--semantic loads it)"
    why = embeddings.unavailable(model)
    if why:
        return False, f"unavailable: {why}"
    store.wait_index()
    if not has_vectors(store.reader.conn, model):
        return False, "skipped: the store has no embeddings yet (brain embed)"
    return True, ""


def find(
    store: Store, title: str, body: str, *, semantic: bool | None = False
) -> tuple[str | None, dict[str, str]]:
    """(a memory under refinements/ nearly equal to this title and body, or None; which
    searches ran: {"lexical": "ran", "semantic": "ran" or why not})."""
    text = f"{title}\n{body}"
    searches = {"lexical": RAN}
    query = " ".join(sorted(words(text), key=len, reverse=True)[:12])
    if query:
        for hit in store.search(query, limit=5, kind="refinements"):
            try:
                other = store.view(hit.path).body.decode("utf-8", "replace")
            except BrainError:
                continue
            overlap = jaccard(text, f"{hit.title}\n{other}")
            if overlap >= DUPLICATE_JACCARD:
                searches["found"] = f"lexical: word overlap {overlap:.2f}"
                return hit.path, searches
    run, why = plan(store, semantic)
    if not run:
        searches["semantic"] = why
        return None, searches
    # A query is one line of printable text (validate.search); the model reads 2,000 characters.
    line = " ".join("".join(c if c.isprintable() else " " for c in text[:4000]).split())
    try:
        hits = store.search(line[:2000], mode="semantic", limit=4, kind="refinements")
    except BrainError as e:  # SemanticUnavailable included: filing goes on, lexical only
        searches["semantic"] = f"unavailable: {e}"
        return None, searches
    searches["semantic"] = RAN
    for hit in hits:
        if hit.score >= DUPLICATE_COSINE and not hit.path.startswith(PATTERNS):
            searches["found"] = f"semantic: cosine {hit.score:.2f}"
            return hit.path, searches
    return None, searches


def refuse(store: Store, title: str, body: str, semantic: bool | None) -> dict[str, str]:
    """Raise DuplicateMemory naming a near duplicate; else which searches ran."""
    dup, searches = find(store, title, body, semantic=semantic)
    if dup is not None:
        raise DuplicateMemory(
            f"a near duplicate is already stored: {dup} ({searches['found']});"
            " update it instead of filing again",
            dup,
        )
    return searches
