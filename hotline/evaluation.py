"""Scoring the hotline classifier on a JSONL file of messages (``banshi eval hotline``).

Gold types may be our five ticket types or MSGABench's three. A gold 投诉/求助 (MSGABench merges
them) counts a prediction of 投诉, 求助 or 举报 as correct, since the keyword split cannot be judged
against it; a gold 建言 is our 建议. Categories are scored with the run-time threshold, so a 其他
counts as a miss of the gold class; macro-F1 averages over the gold classes present in the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hotline.classifier import HotlineClassifier, Prediction, default_classifier

COMPLAINT_OR_HELP = {"投诉", "求助", "举报"}
GOLD_TYPE_ALIASES = {"建言": "建议"}


@dataclass
class HotlineEvaluation:
    items: list[dict]
    predictions: list[Prediction]
    type_accuracy: float | None
    category_macro_f1: float | None
    type_scored: int
    category_scored: int

    def as_json(self) -> dict:
        """The ``--json`` line; ``confidence`` is the category's (the one that decides 其他)."""
        return {
            "predictions": [
                {"text": item["text"], "type": p.type, "category": p.category,
                 "confidence": round(p.category_confidence, 4)}
                for item, p in zip(self.items, self.predictions, strict=True)
            ],
            "type_accuracy": self.type_accuracy,
            "category_macro_f1": self.category_macro_f1,
        }  # fmt: skip


def load_messages(path: Path) -> list[dict]:
    """One ``{"text", "type"?, "category"?}`` per line; a line without text is an error with its number."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path.name} 第{number}行不是有效的 JSON：{exc.msg}") from exc
        if not isinstance(row, dict) or not str(row.get("text") or "").strip():
            raise ValueError(f"{path.name} 第{number}行缺少 text")
        items.append(row)
    return items


def type_matches(gold: str, predicted: str) -> bool:
    if gold == "投诉/求助":
        return predicted in COMPLAINT_OR_HELP
    return GOLD_TYPE_ALIASES.get(gold, gold) == predicted


def evaluate_messages(items: list[dict], classifier: HotlineClassifier | None = None) -> HotlineEvaluation:
    from sklearn.metrics import f1_score

    classifier = classifier or default_classifier()
    predictions = classifier.classify_many([item["text"] for item in items])
    typed = [type_matches(item["type"], p.type) for item, p in zip(items, predictions, strict=True) if item.get("type")]
    categorised = [(item["category"], p.category) for item, p in zip(items, predictions, strict=True)
                   if item.get("category")]  # fmt: skip
    macro_f1 = None
    if categorised:
        gold, predicted = zip(*categorised, strict=True)
        labels = sorted(set(gold))
        macro_f1 = round(float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)), 4)
    return HotlineEvaluation(
        items=items,
        predictions=predictions,
        type_accuracy=round(sum(typed) / len(typed), 4) if typed else None,
        category_macro_f1=macro_f1,
        type_scored=len(typed),
        category_scored=len(categorised),
    )
