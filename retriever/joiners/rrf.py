"""Reciprocal-rank fusion: ranks, not raw scores, so BM25 and cosine need no common scale."""

from __future__ import annotations


def reciprocal_rank_fusion(
    ranked_lists: list[list[tuple[int, float]]], k: int = 60, weights: list[float] | None = None
) -> list[tuple[int, float]]:
    weights = weights or [1.0] * len(ranked_lists)
    fused: dict[int, float] = {}
    for ranked, weight in zip(ranked_lists, weights, strict=True):
        for rank, (slot, _score) in enumerate(ranked, start=1):
            fused[slot] = fused.get(slot, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)
