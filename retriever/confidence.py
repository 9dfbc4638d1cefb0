"""Whether the top result is an answer at all.

RRF scores only rank; they say nothing about an out-of-catalogue question. Confidence therefore
looks at the top matter itself: how close it is in meaning (cosine), how much of the question's
wording it covers, and whether both retrievers put it near the top.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Confidence:
    value: float


def score_confidence(
    *, cosine: float | None, coverage: float, keyword_rank: int | None, dense_rank: int | None
) -> Confidence:
    agreement = sum(rank is not None and rank < 3 for rank in (keyword_rank, dense_rank)) / 2
    z = -4.0 + 5.0 * (cosine or 0.0) + 2.5 * coverage + 1.5 * agreement
    return Confidence(round(1 / (1 + math.exp(-z)), 4))
