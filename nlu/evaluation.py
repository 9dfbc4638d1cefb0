"""Run a trained Rasa model over a message file and score intents (core side, .venv).

Rasa cannot be imported here, so the messages go through ``nlu.parse_batch`` in .venv-rasa by a pipe.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
DEFAULT_MODEL = Path("models/banshi.tar.gz")


class ParseError(RuntimeError):
    """The Rasa side failed; the message carries its stderr tail."""


@dataclass(frozen=True)
class IntentScore:
    intent: str
    precision: float
    recall: float
    f1: float
    support: int


def load_messages(path: Path) -> list[dict[str, Any]]:
    """JSONL lines with ``text`` and optionally a gold ``intent``; a bad line names its number."""
    messages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item.get("text"), str) or not item["text"].strip():
                raise ValueError("缺少 text")
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"{path.name} 第{number}行：{exc}") from exc
        messages.append(item)
    return messages


def parse_messages(texts: list[str], model: Path, *, timeout: float = 600) -> list[dict[str, Any]]:
    """Predictions from the Rasa model, one per text, in order."""
    if not RASA_PYTHON.exists():
        raise ParseError(f"没有找到 {RASA_PYTHON}：请先 make install")
    payload = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false"}
    done = subprocess.run(
        [str(RASA_PYTHON), "-m", "nlu.parse_batch", str(Path(model).resolve())],
        input=payload,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise ParseError(done.stderr[-2000:])
    predictions = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if len(predictions) != len(texts):
        raise ParseError(f"expected {len(texts)} predictions, got {len(predictions)}\n{done.stderr[-2000:]}")
    return predictions


def intent_report(gold: list[str], predicted: list[str | None]) -> list[IntentScore]:
    """Precision, recall and F1 per gold or predicted intent."""
    labels = sorted({*gold, *(p for p in predicted if p)})
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted, strict=True) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted, strict=True) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores.append(IntentScore(label, precision, recall, f1, tp + fn))
    return scores


def accuracy(gold: list[str], predicted: list[str | None]) -> float | None:
    if not gold:
        return None
    return sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold)


def macro_f1(scores: list[IntentScore]) -> float | None:
    supported = [s.f1 for s in scores if s.support]
    return sum(supported) / len(supported) if supported else None
