"""Type-head recipes compared by 5-fold cross-validation on MSGABench's 80 % train split (dev only).

Why it is here: the type head's goal is 0.85 on MSGABench's held-out 20 %, and the shipped recipe
(hashed character 1–3-grams, LinearSVC C=0.3) is at 0.819 there. This script measures the other
linear recipes one would try next on the training split only, so that a choice never looks at the
held-out messages, and says where the errors are:

- recipes: C, longer n-grams in a larger hash space, jieba words (a private tokenizer, hashed), the
  character and word features together — each as plain cross-validated accuracy;
- the prior as a configured city would set it (``banshi hotline train --prior`` with MSGABench's own
  mix: no shift, question words on) against plain, on the out-of-fold decisions;
- 建言 recall split by whether MSGABench gives the message a domain: the source leaves the domain
  blank on part of its 建言 rows, and the two halves are not equally separable from complaints.

Usage: .venv/bin/python bench/hotline_recipes.py [--json]
Needs ../shared/data/hotline. Nothing is written.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

from hotline.classifier import MODEL_TYPES, QUESTION_BOOST, QUESTION_WORDS, normalise_text  # noqa: E402
from hotline.training import (  # noqa: E402
    SHARED_HOTLINE,
    TYPE_FILE,
    fit_temperature,
    load_type_set,
    stratified_split,
)

FOLDS = 5
SEED = 0


@dataclass(frozen=True)
class Candidate:
    name: str
    char: tuple[int, int, int] | None
    """(lowest n, highest n, hash size) of character n-grams, or None."""
    words: bool
    C: float


CANDIDATES = (
    Candidate("shipped: char 1-3, 2^17, C=0.3", (1, 3, 2**17), False, 0.3),
    Candidate("char 1-3, 2^17, C=0.1", (1, 3, 2**17), False, 0.1),
    Candidate("char 1-3, 2^17, C=1.0", (1, 3, 2**17), False, 1.0),
    Candidate("char 1-4, 2^20, C=0.3", (1, 4, 2**20), False, 0.3),
    Candidate("jieba words 1-2, 2^18, C=0.3", None, True, 0.3),
    Candidate("char 1-3 + jieba words 1-2, C=0.1", (1, 3, 2**17), True, 0.1),
)


def features(candidate: Candidate, texts: list[str]) -> csr_matrix:
    """Sublinear tf-idf per feature family, stacked: the shipped head's weighting."""
    import jieba
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    plain = [normalise_text(t) for t in texts]
    parts = []
    if candidate.char:
        low, high, size = candidate.char
        hashing = HashingVectorizer(analyzer="char", ngram_range=(low, high), n_features=size,
                                    alternate_sign=False, norm=None)  # fmt: skip
        parts.append(hashing.transform(plain))
    if candidate.words:
        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()  # private: no other user dictionary changes the segmentation
        words = HashingVectorizer(analyzer=lambda ws: [" ".join(ws[i : i + n]) for n in (1, 2)
                                                       for i in range(len(ws) - n + 1)],
                                  n_features=2**18, alternate_sign=False, norm=None)  # fmt: skip
        parts.append(words.transform([tokenizer.lcut(t) for t in plain]))
    return hstack([TfidfTransformer(sublinear_tf=True).fit_transform(p) for p in parts]).tocsr()


def out_of_fold(candidate: Candidate, texts: list[str], gold: np.ndarray) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.svm import LinearSVC

    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    model = LinearSVC(C=candidate.C, random_state=SEED)
    return cross_val_predict(model, features(candidate, texts), gold, cv=folds, method="decision_function")


def without_domain(data_dir: Path, texts: list[str]) -> np.ndarray:
    """True where MSGABench gives the message no domain (only ever on 建言 rows)."""
    blank = set()
    with (data_dir / TYPE_FILE).open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line) if line.strip() else {}
            if row.get("text") and not row.get("label"):
                blank.add(row["text"])
    return np.array([t in blank for t in texts])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_HOTLINE)
    parser.add_argument("--json", action="store_true", help="Last line: one JSON object")
    args = parser.parse_args()
    data = load_type_set(args.data)
    train = data.subset(stratified_split(data.labels)[0])
    gold = np.array([MODEL_TYPES.index(label) for label in train.labels])
    asks = np.array([bool(QUESTION_WORDS.search(t)) for t in train.texts])
    blank = without_domain(args.data, train.texts)
    suggestion = gold == MODEL_TYPES.index("建言")
    with_domain = suggestion & ~blank
    rows = []
    for candidate in CANDIDATES:
        started = time.perf_counter()
        decisions = out_of_fold(candidate, train.texts, gold)
        tempered = decisions * fit_temperature(decisions, gold)
        tempered[:, MODEL_TYPES.index("咨询")] += QUESTION_BOOST * asks
        guess, configured = decisions.argmax(axis=1), tempered.argmax(axis=1)
        rows.append({
            "recipe": candidate.name,
            "accuracy": round(float((guess == gold).mean()), 4),
            "accuracy_own_prior_question_words": round(float((configured == gold).mean()), 4),
            "suggestion_recall_with_domain": round(float((guess[with_domain] == gold[with_domain]).mean()), 4),
            "suggestion_recall_without_domain": round(float((guess[blank] == gold[blank]).mean()), 4),
            "seconds": round(time.perf_counter() - started, 1),
        })  # fmt: skip
        row = rows[-1]
        print(f"{candidate.name:<36} {row['accuracy']:.4f}  own prior + 提问用语 "
              f"{row['accuracy_own_prior_question_words']:.4f}  建言召回 有领域 "
              f"{row['suggestion_recall_with_domain']:.3f} / 无领域 {row['suggestion_recall_without_domain']:.3f}"
              f"  ({row['seconds']} s)", flush=True)  # fmt: skip
    print(f"训练集 {len(gold)} 条（{FOLDS} 折），其中建言 {int(suggestion.sum())} 条，无领域 {int(blank.sum())} 条")
    if args.json:
        print(json.dumps({"n": len(gold), "suggestions": int(suggestion.sum()), "without_domain": int(blank.sum()),
                          "folds": FOLDS, "recipes": rows}, ensure_ascii=False))  # fmt: skip


if __name__ == "__main__":
    main()
