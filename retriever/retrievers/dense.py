"""Vector retrieval with faiss: exact inner product over normalised vectors (cosine).

Exact search is a few milliseconds at 10k matters; slots are the faiss ids, so one matter's vector
is replaced without touching the others.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# One query is one row: faiss's OpenMP threads gain nothing here, and their spin-waiting after each
# search starves the embedder's own threads on a 2-core machine (searches went from ~10 ms to 0.5–1.7 s).
faiss.omp_set_num_threads(1)


class DenseRetriever:
    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, slots: list[int], vectors: np.ndarray) -> None:
        if len(slots):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(slots, dtype=np.int64))

    def upsert(self, slots: list[int], vectors: np.ndarray, remove: set[int]) -> DenseRetriever:
        """A copy with the change applied, so that searches on the old one never see a half-update."""
        updated = DenseRetriever(self.dim)
        updated._index = faiss.clone_index(self._index)
        if remove:
            updated._index.remove_ids(np.asarray(sorted(remove), dtype=np.int64))
        updated.add(slots, vectors)
        return updated

    def search(self, query: np.ndarray, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        if not len(self):
            return []
        params = None
        if allowed is not None:
            if not allowed:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(sorted(allowed), dtype=np.int64)))
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def vectors(self) -> np.ndarray:
        if not len(self):
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._index.index.reconstruct_n(0, len(self))

    def vector(self, slot: int) -> np.ndarray:
        return self._index.reconstruct(int(slot))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(folder / "dense.faiss"))

    @classmethod
    def load(cls, folder: Path) -> DenseRetriever:
        index = faiss.read_index(str(folder / "dense.faiss"))
        retriever = cls(index.d)
        retriever._index = index
        return retriever
