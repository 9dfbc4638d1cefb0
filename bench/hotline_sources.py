"""By-source figures and simulated agents' corrections, for ``bench/hotline.py`` (which prints them).

- type by source: the type head fitted on MSGABench's 80 % split, scored on MSGABench's held-out 20 %
  and on every other source with type gold (``hotline.sources``), before (today's recipe: no priors,
  no question words) and after (deployment prior and question words), beside the majority class;
  MSGABench's held-out split once more with its own prior (a city that set ``--prior``);
- category by source: the category head fitted on 泰迪杯's 80 % split, on 泰迪杯's held-out 20 %, on
  MSGABench's messages whose domain maps to a category, and on 福州's (top category, no 其他 threshold);
- simulated corrections: one source is split in halves; on the first, an agent corrects every message
  the model gets wrong (up to ``MAX_CORRECTIONS``); the model is retrained with those corrections
  (``CORRECTION_WEIGHT`` each) and both models are scored on the second half, which no agent saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hotline.classifier import CATEGORIES, MODEL_TYPES, LinearHead, prior_shift
from hotline.sources import SourceSet
from hotline.training import (
    CATEGORY_RECIPE,
    DEPLOYMENT_PRIOR,
    TYPE_RECIPE,
    HeldOut,
    LabelledSet,
    fit_head,
)

MAX_CORRECTIONS = 300
SEED = 0


def plain(head: LinearHead) -> LinearHead:
    """The same fitted head without priors or question words: today's recipe."""
    return LinearHead(head.classes, head.spec, head.idf, head.coef, head.intercept, head.temperature)


def predicted(head: LinearHead, texts: list[str]) -> list[str]:
    return [head.classes[i] for i in head.probabilities(texts).argmax(axis=1)]


def scores(head: LinearHead, data: LabelledSet) -> dict:
    from sklearn.metrics import f1_score

    guess = predicted(head, data.texts)
    labels = sorted(set(data.labels))
    return {
        "accuracy": round(float(np.mean([p == g for p, g in zip(guess, data.labels, strict=True)])), 4),
        "macro_f1": round(float(f1_score(data.labels, guess, labels=labels, average="macro", zero_division=0)), 4),
        "predicted_share": {c: round(guess.count(c) / len(guess), 3) for c in head.classes},
    }


@dataclass
class SourceRow:
    name: str
    split: str
    n: int
    majority: str
    majority_accuracy: float
    before: dict
    after: dict


def own_prior(head: LinearHead, train: LabelledSet) -> LinearHead:
    """The head as ``banshi hotline train --prior`` ships it for a city whose mix is the training set's own.

    The shift log(own / training) is zero, the question words stay: MSGABench scored as a deployment
    that knows its mix, which ``bench/hotline.py`` prints beside the default deployment prior.
    """
    shift = prior_shift(train.prior(head.classes), train.prior(head.classes))
    return LinearHead(head.classes, head.spec, head.idf, head.coef, head.intercept, head.temperature, shift,
                      head.question_boost)  # fmt: skip


def type_by_source(kind: HeldOut, sources: list[SourceSet]) -> list[SourceRow]:
    """Before (no prior, no question words) → after (deployment prior and question words) per source.

    MSGABench's held-out split comes twice: with the default deployment prior, and with its own
    (``own_prior``), as a city that configured ``--prior`` would score.
    """
    after = kind.head
    before = plain(after)
    in_source = SourceSet("MSGABench 留出 20 %", "in-source", kind.test)
    configured = SourceSet("MSGABench 留出 20 %，自身先验", "in-source", kind.test)
    rows = []
    for source, head in [(in_source, after), (configured, own_prior(after, kind.train)),
                         *((source, after) for source in sources)]:  # fmt: skip
        label, share = source.majority()
        rows.append(SourceRow(source.name, source.split, len(source.data.texts), label, round(share, 4),
                              scores(before, source.data), scores(head, source.data)))  # fmt: skip
    return rows


def category_by_source(category: HeldOut, sources: list[SourceSet]) -> list[SourceRow]:
    rows = []
    for source in [SourceSet("泰迪杯 留出 20 %", "in-source", category.test), *sources]:
        label, share = source.majority()
        figures = scores(category.head, source.data)
        rows.append(SourceRow(source.name, source.split, len(source.data.texts), label, round(share, 4),
                              figures, figures))  # fmt: skip
    return rows


def halves(data: LabelledSet) -> tuple[LabelledSet, LabelledSet]:
    order = np.random.default_rng(SEED).permutation(len(data.texts))
    middle = len(order) // 2
    return data.subset(np.sort(order[:middle])), data.subset(np.sort(order[middle:]))


def simulated_corrections(
    name: str, train: LabelledSet, source: LabelledSet, head: LinearHead, *, type_head: bool
) -> dict:
    """Before/after on the unseen half of ``source`` when agents corrected the model on the other half."""
    from hotline.training import CORRECTION_WEIGHT

    pool, unseen = halves(source)
    wrong = [i for i, (p, g) in enumerate(zip(predicted(head, pool.texts), pool.labels, strict=True)) if p != g]
    fixed = pool.subset(np.array(wrong[:MAX_CORRECTIONS], dtype=int))
    recipe, classes = (TYPE_RECIPE, MODEL_TYPES) if type_head else (CATEGORY_RECIPE, CATEGORIES)
    prior = DEPLOYMENT_PRIOR if type_head else None
    retrained = fit_head(train.plus(fixed.texts, fixed.labels, CORRECTION_WEIGHT), recipe, classes, prior)
    return {"source": name, "corrections": len(fixed.texts), "unseen": len(unseen.texts),
            "before": scores(head, unseen), "after": scores(retrained, unseen)}  # fmt: skip
