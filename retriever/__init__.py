"""Hybrid matter search: BM25 + dense vectors, fused by reciprocal rank, with a confidence gate.

Public surface: ``HybridIndex`` (search, build, apply, save, load), its ``SearchResult``/``Hit``,
``make_embedder``, and ``open_index`` / ``rebuild`` / ``catch_up`` to tie an index to the catalogue.
"""

from retriever.embedders import make_embedder
from retriever.index import Hit, HybridIndex, IndexMismatch, SearchResult
from retriever.sync import catch_up, open_index, rebuild

__all__ = [
    "Hit",
    "HybridIndex",
    "IndexMismatch",
    "SearchResult",
    "catch_up",
    "make_embedder",
    "open_index",
    "rebuild",
]
