"""NLU figures: Rasa's 3-fold cross-validation on our training data, and the held-out message set.

- cross-validation (``rasa test nlu --cross-validation`` in .venv-rasa, same config and data as training):
  intent accuracy and macro-F1 over the accumulated test folds, and the confusion-matrix PNG;
- ``banshi eval nlu`` on tests/data/nlu_messages.jsonl with the trained model (skipped when absent).

Usage: .venv/bin/python bench/nlu.py [--folds 3] [--model models/banshi.tar.gz] [--skip-cv] [--json]
Needs nlu/generated (``banshi nlu export``); Rasa's cache goes to bench/out so it never touches .rasa/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
MESSAGES = ROOT / "tests" / "data" / "nlu_messages.jsonl"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
BANSHI = ROOT / ".venv" / "bin" / "banshi"


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cross_validate(folds: int) -> dict:
    """Runs Rasa's cross-validation and reads its accumulated intent report."""
    results = OUT / "nlu-cv"
    shutil.rmtree(results, ignore_errors=True)
    env = {
        **os.environ,
        "RASA_CACHE_DIRECTORY": str(OUT / "rasa-cache"),
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    command = [str(RASA), "test", "nlu", "--cross-validation", "--folds", str(folds), "--config", "config.yml",
               "--nlu", "nlu", "--out", str(results)]  # fmt: skip
    log(f"running {' '.join(command[1:])} …")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"rasa test nlu failed:\n{done.stderr[-3000:]}")
    report = json.loads((results / "intent_report.json").read_text(encoding="utf-8"))
    matrix = OUT / "nlu_intent_confusion_matrix.png"
    if (results / "intent_confusion_matrix.png").exists():
        shutil.copyfile(results / "intent_confusion_matrix.png", matrix)
    return {
        "cv_folds": folds,
        "cv_accuracy": report.get("accuracy"),
        "cv_macro_f1": report.get("macro avg", {}).get("f1-score"),
        "cv_weighted_f1": report.get("weighted avg", {}).get("f1-score"),
        "cv_seconds": round(time.perf_counter() - started, 1),
        "confusion_matrix_png": str(matrix) if matrix.exists() else None,
    }


def held_out(model: Path) -> dict:
    """Accuracy of the trained model on the held-out colloquial messages, via ``banshi eval nlu``."""
    if not model.is_file():
        log(f"{model} is absent: train first (make train); skipping the held-out set")
        return {"heldout_accuracy": None}
    done = subprocess.run(
        [str(BANSHI), "eval", "nlu", "--messages", str(MESSAGES), "--model", str(model), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"banshi eval nlu failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {"heldout_messages": len(result["predictions"]), "heldout_accuracy": result["accuracy"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "banshi.tar.gz")
    parser.add_argument("--skip-cv", action="store_true", help="Only the held-out message set")
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    figures: dict = {}
    if not args.skip_cv:
        figures.update(cross_validate(args.folds))
    figures.update(held_out(args.model))
    (OUT / "nlu.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(figures))
        return
    for key, value in figures.items():
        shown = f"{value:.4f}" if isinstance(value, float) and not key.endswith("seconds") else value
        print(f"{key:>22}: {'-' if value is None else shown}")


if __name__ == "__main__":
    main()
