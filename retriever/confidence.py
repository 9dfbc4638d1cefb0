"""Whether the top result is an answer at all.

RRF scores only rank; they say nothing about an out-of-catalogue question. Confidence looks at the
top matter itself: how far its cosine to the question stands above the cosine between unrelated
matters of this catalogue (a z-score, so that embedders with very different cosine ranges — e5
packs everything into 0.8–0.95, USE spreads over 0–1 — read the same), and how much of the
question's wording it covers. The weights are a logistic fit on the development query set over
both offline embedders (tests/data/retrieval_queries_fcg.jsonl; bench/retrieval.py reports it).
"""

from __future__ import annotations

import math

import numpy as np

_Z_WEIGHT, _COVERAGE_WEIGHT, _BIAS = 2.1, 2.27, -4.7
_MIN_DOCS_FOR_ESTIMATE = 30
_SAMPLE_PAIRS = 4000


def cosine_baseline(vectors: np.ndarray, embedder: object) -> tuple[float, float]:
    """Mean and spread of cosine between random pairs of matters of this catalogue.

    A catalogue too small to estimate it falls back to the embedder's own figure, measured on the
    real 防城港 catalogue."""
    if len(vectors) < _MIN_DOCS_FOR_ESTIMATE:
        return tuple(getattr(embedder, "baseline", (0.2, 0.13)))  # type: ignore[return-value]
    rng = np.random.default_rng(0)
    left = rng.integers(0, len(vectors), _SAMPLE_PAIRS)
    right = rng.integers(0, len(vectors), _SAMPLE_PAIRS)
    keep = left != right
    cosines = np.sum(vectors[left[keep]] * vectors[right[keep]], axis=1)
    return float(cosines.mean()), max(float(cosines.std()), 1e-3)


def score_confidence(*, cosine: float | None, baseline: tuple[float, float], coverage: float) -> float:
    mean, spread = baseline
    z = 0.0 if cosine is None else (cosine - mean) / spread
    return round(1 / (1 + math.exp(-(_Z_WEIGHT * z + _COVERAGE_WEIGHT * coverage + _BIAS))), 4)
