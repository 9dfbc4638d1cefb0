"""Retrieval figures over a query file: Recall@1/5/10, MRR@10, and how often out-of-catalogue
questions are correctly left unanswered; and what the guide gate would show on a first turn.

Recall@k counts a question as found when any of its gold matters is in the top k: a generic
question (公积金怎么取) lists every fitting sub-case as gold, and finding one of them is a success.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field

from retriever.answering import decide
from retriever.index import SearchResult


class EvalQuery(BaseModel):
    query: str = Field(min_length=1)
    gold: list[str] = Field(default_factory=list)


@dataclass
class EvalReport:
    answerable: int = 0
    out_of_scope: int = 0
    hits_at: dict[int, int] = field(default_factory=lambda: {1: 0, 5: 0, 10: 0})
    reciprocal_ranks: float = 0.0
    rejected: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    misses: list[dict] = field(default_factory=list)

    def figures(self) -> dict[str, float | None]:
        n = self.answerable
        return {
            "recall@1": round(self.hits_at[1] / n, 4) if n else None,
            "recall@5": round(self.hits_at[5] / n, 4) if n else None,
            "recall@10": round(self.hits_at[10] / n, 4) if n else None,
            "mrr@10": round(self.reciprocal_ranks / n, 4) if n else None,
            "ood_rejected": round(self.rejected / self.out_of_scope, 4) if self.out_of_scope else None,
        }


def load_queries(path: Path) -> list[EvalQuery]:
    queries = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):  # a header line says how the set was made
            try:
                queries.append(EvalQuery.model_validate(json.loads(line)))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(f"{path} 第{number}行：{exc}") from exc
    return queries


def load_dialogue_queries(path: Path) -> list[EvalQuery]:
    """A ``banshi eval dialogue`` cases file read as queries: its guide questions (gold: the expected
    matters) and its out-of-catalogue ones (no gold); the hotline messages are left out."""
    queries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        case = json.loads(line) if line.strip() else {}
        expect = case.get("expect", {})
        if "guide" in expect:
            gold = expect["guide"]
            queries.append(EvalQuery(query=case["text"], gold=gold if isinstance(gold, list) else [gold]))
        elif expect.get("decline"):
            queries.append(EvalQuery(query=case["text"]))
    return queries


GATE_OUTCOMES = ("present_right", "choice_right", "present_wrong", "choice_wrong", "none", "ood_declined", "ood_shown")


def evaluate_gate(queries: list[EvalQuery], search: Callable[[str], SearchResult]) -> dict[str, float | int]:
    """What a first turn would show: ``decide`` over the search, as the find-guide action calls it.

    Without Rasa, the NLU's routing, FAQs or regions, so it is the search-and-gate share of
    ``banshi eval dialogue``'s figures (on the two dialogue dev files it gives the same first-turn and
    within-two-turns figures as the whole path), in seconds rather than a running stack's minutes.
    ``wrong_guide`` is over all questions, as the whole path counts it."""
    tally = dict.fromkeys(GATE_OUTCOMES, 0)
    for item in queries:
        decision = decide(search(item.query))
        shown = {hit.external_id for hit in decision.hits}
        if not item.gold:
            tally["ood_declined" if not shown else "ood_shown"] += 1
        elif not shown:
            tally["none"] += 1
        elif decision.kind == "present":
            tally["present_right" if shown & set(item.gold) else "present_wrong"] += 1
        else:
            tally["choice_right" if shown & set(item.gold) else "choice_wrong"] += 1
    answerable = sum(bool(q.gold) for q in queries)
    outside = len(queries) - answerable
    return {
        "first_turn": round(tally["present_right"] / max(1, answerable), 3),
        "within_two": round((tally["present_right"] + tally["choice_right"]) / max(1, answerable), 3),
        "wrong_guide": round((tally["present_wrong"] + tally["ood_shown"]) / max(1, len(queries)), 3),
        "declined": round(tally["ood_declined"] / max(1, outside), 3),
        **tally,
    }


def evaluate(queries: list[EvalQuery], search: Callable[[str], SearchResult]) -> EvalReport:
    report = EvalReport()
    for item in queries:
        started = time.perf_counter()
        result = search(item.query)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        if not item.gold:
            report.out_of_scope += 1
            report.rejected += not result.confident
            continue
        report.answerable += 1
        ranked = [hit.external_id for hit in result.hits[:10]]
        rank = next((i for i, e in enumerate(ranked, start=1) if e in set(item.gold)), None)
        for k in report.hits_at:
            report.hits_at[k] += rank is not None and rank <= k
        report.reciprocal_ranks += 1 / rank if rank else 0.0
        if rank != 1:
            report.misses.append(
                {"query": item.query, "rank": rank, "top": result.hits[0].name if result.hits else None}
            )
    return report


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[position]
