"""Hotline classifier figures on the held-out splits, from a fresh fit on the train splits.

- category: macro-F1 and per-class F1 on a stratified 20 % of the 泰迪杯 labelled messages (7 classes),
  the confusion counts, and how the 其他 threshold trades coverage for accuracy;
- type: accuracy on a stratified 20 % of MSGABench (its own 3 classes), per-class F1, confusion;
- latency of one ``classify`` call per message (both heads, as the hotline calls it), p50/p95;
- by source, before (today's recipe) and after, and simulated agents' corrections before/after
  (``bench/hotline_sources.py`` says how).

Usage: .venv/bin/python bench/hotline.py [--json]
Needs ../shared/data/hotline. The shipped model is not touched (``banshi hotline train`` writes it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402

from bench.hotline_sources import (  # noqa: E402
    SourceRow,
    category_by_source,
    simulated_corrections,
    type_by_source,
)
from hotline.classifier import CATEGORIES, MODEL_TYPES, HotlineClassifier, LinearHead  # noqa: E402
from hotline.sources import category_sources, type_sources  # noqa: E402
from hotline.training import (  # noqa: E402
    CATEGORY_RECIPE,
    DEPLOYMENT_PRIOR,
    SHARED_HOTLINE,
    TYPE_RECIPE,
    HeadFigures,
    LabelledSet,
    held_out,
    load_category_set,
    load_type_set,
)
from retriever.evaluation import percentile  # noqa: E402

console = Console()
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def _display_pad(text: str, width: int) -> str:
    """Left-justify by display width: CJK characters take two terminal columns."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)


def confusion_text(figures: HeadFigures, classes: tuple[str, ...]) -> str:
    """Rows gold, columns predicted (first two characters of each class)."""
    lines = [_display_pad("gold / predicted", 18) + "".join(f"{c[:2]:>6}" for c in classes)]
    for name, row in zip(classes, figures.confusion, strict=True):
        lines.append(_display_pad(name, 18) + "".join(f"{n:>8}" for n in row))
    return "\n".join(lines)


def threshold_table(head: LinearHead, test: LabelledSet) -> list[dict]:
    """For each 其他 threshold: share of messages kept, accuracy above it, accuracy below it."""
    probs = head.probabilities(test.texts)
    confidence = probs.max(axis=1)
    correct = np.array([head.classes[i] == g for i, g in zip(probs.argmax(axis=1), test.labels, strict=True)])
    rows = []
    for threshold in THRESHOLDS:
        kept = confidence >= threshold
        rows.append({
            "threshold": threshold,
            "kept": round(float(kept.mean()), 4),
            "accuracy_kept": round(float(correct[kept].mean()), 4) if kept.any() else None,
            "accuracy_below": round(float(correct[~kept].mean()), 4) if (~kept).any() else None,
        })  # fmt: skip
    return rows


def latencies_ms(classifier: HotlineClassifier, texts: list[str]) -> list[float]:
    classifier.classify(texts[0])  # warm-up: first call imports scikit-learn
    out = []
    for text in texts:
        started = time.perf_counter()
        classifier.classify(text, category_threshold=0.5)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_HOTLINE)
    parser.add_argument("--json", action="store_true", help="Last line: one JSON object")
    args = parser.parse_args()
    started = time.perf_counter()
    category = held_out(load_category_set(args.data), CATEGORY_RECIPE, CATEGORIES)
    kind = held_out(load_type_set(args.data), TYPE_RECIPE, MODEL_TYPES, DEPLOYMENT_PRIOR)
    fit_seconds = time.perf_counter() - started
    classifier = HotlineClassifier(kind.head, category.head, {})
    latency = latencies_ms(classifier, category.test.texts + kind.test.texts)
    thresholds = threshold_table(category.head, category.test)

    console.print(f"[bold]类别（泰迪杯，训练 {category.figures.n_train} / 留出 {category.figures.n_test}）[/bold]")
    console.print(f"macro-F1 {category.figures.macro_f1:.4f}，准确率 {category.figures.accuracy:.4f}，"
                  f"ECE {category.figures.expected_calibration_error:.4f}")  # fmt: skip
    for name, f1 in category.figures.per_class_f1.items():
        console.print(f"  {name:<10} F1 {f1:.4f}")
    console.print(confusion_text(category.figures, CATEGORIES), markup=False)
    console.print("其他 threshold: kept share, accuracy kept, accuracy below")
    for row in thresholds:
        console.print(f"  {row['threshold']:.1f}  {row['kept']:.3f}  {row['accuracy_kept']}  {row['accuracy_below']}")
    console.print(f"[bold]类型（MSGABench，训练 {kind.figures.n_train} / 留出 {kind.figures.n_test}）[/bold]")
    console.print(f"准确率 {kind.figures.accuracy:.4f}，macro-F1 {kind.figures.macro_f1:.4f}，"
                  f"ECE {kind.figures.expected_calibration_error:.4f}")  # fmt: skip
    for name, f1 in kind.figures.per_class_f1.items():
        console.print(f"  {name:<10} F1 {f1:.4f}")
    console.print(confusion_text(kind.figures, MODEL_TYPES), markup=False)
    p50, p95 = percentile(latency, 50), percentile(latency, 95)
    console.print(f"每条留言 p50 {p50:.2f} ms，p95 {p95:.2f} ms（{len(latency)} 条）；"
                  f"两个模型训练共 {fit_seconds:.1f} 秒")  # fmt: skip
    type_rows = type_by_source(kind, type_sources(args.data))
    other_categories = category_sources(args.data)
    category_rows = category_by_source(category, other_categories)
    print_rows("类型，按来源（训练：MSGABench 80 %；之前 = 今天的做法，之后 = 部署先验 + 提问用语）", type_rows)
    print_rows("类别，按来源（训练：泰迪杯 80 %；不设“其他”阈值）", category_rows)
    gov_qa = next(source for source in type_sources(args.data) if source.name == "MSGABench 政务问答")
    corrected = [
        simulated_corrections("类型 · MSGABench 政务问答", kind.train, gov_qa.data, kind.head, type_head=True),
        simulated_corrections("类别 · MSGABench 留言", category.train, other_categories[0].data, category.head,
                              type_head=False),
    ]  # fmt: skip
    console.print("[bold]模拟坐席更正：一半留言上更正模型的错误，再训练，在另一半（未见过）上评估[/bold]")
    for row in corrected:
        console.print(f"  {row['source']}：更正 {row['corrections']} 条，未见 {row['unseen']} 条；"
                      f"准确率 {row['before']['accuracy']:.4f} → {row['after']['accuracy']:.4f}，"
                      f"macro-F1 {row['before']['macro_f1']:.4f} → {row['after']['macro_f1']:.4f}")  # fmt: skip
    if args.json:
        print(json.dumps({
            "category": asdict(category.figures), "type": asdict(kind.figures), "category_thresholds": thresholds,
            "latency_ms": {"p50": round(p50, 3), "p95": round(p95, 3)}, "fit_seconds": round(fit_seconds, 2),
            "type_by_source": [asdict(r) for r in type_rows], "category_by_source": [asdict(r) for r in category_rows],
            "simulated_corrections": corrected,
        }, ensure_ascii=False))  # fmt: skip


def print_rows(title: str, rows: list[SourceRow]) -> None:
    """One line per source: size, majority class and its accuracy, the metric before → after."""
    console.print(f"[bold]{title}[/bold]")
    for row in rows:
        share = row.after["predicted_share"]
        console.print(
            f"  {_display_pad(row.name, 22)} {row.split:<9} n={row.n:<5}"
            f" 多数类 {row.majority} {row.majority_accuracy:.3f}"
            f"  准确率 {row.before['accuracy']:.3f} → {row.after['accuracy']:.3f}"
            f"  macro-F1 {row.before['macro_f1']:.3f} → {row.after['macro_f1']:.3f}"
            + (f"  预测建言 {row.before['predicted_share'].get('建言', 0):.3f} → {share.get('建言', 0):.3f}"
               if "建言" in share else ""),
            markup=False,
        )  # fmt: skip


if __name__ == "__main__":
    main()
