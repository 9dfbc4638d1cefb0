"""The embedder contract every dense backend fulfils."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Embedder(Protocol):
    name: str
    """Stored with the index, so that an index is never queried with another model's vectors."""
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 rows, one per text."""
        ...

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
