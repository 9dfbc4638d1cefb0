"""Ticket type and subject category for a citizen's message, from the shipped linear model.

The model is two linear heads over hashed character n-grams. Hashing (rather than a vocabulary)
is deliberate: the training messages have no redistribution licence, and a hashed model ships
only numbers (idf weights, coefficients), never any text. Loading needs no ``../shared`` and no
fitting: the features are recomputed with the same hashing parameters and multiplied out.

The type head knows MSGABench's three classes (咨询 / 投诉/求助 / 建言). Our tickets have five;
``ticket_type`` maps 建言→建议 and splits 投诉/求助 with keyword rules, so the split stays
transparent and easy to correct without retraining.

Why the type head carries priors: MSGABench's three classes are about a third each, while a city's
12345 messages are mostly complaints and only a few percent suggestions. A head fitted on
MSGABench alone answered 建言 for ~44 % of 泰迪杯 messages. Its decisions are calibrated (softmax
temperature), so the deployment's class mix is applied as a log prior ratio at run time
(``LinearHead.shift``, from ``deployment_prior`` in the metadata); and a message that asks a
question in so many words (请问, 咨询, …吗？) gets ``QUESTION_BOOST`` towards 咨询 — words that mean
the same in every city, unlike the source-specific vocabulary the n-grams also learn.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from common.tickets import TicketType

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import HashingVectorizer

MODEL_DIR = Path(__file__).resolve().parent / "model"
MODEL_FILE = MODEL_DIR / "classifier.npz"
METADATA_FILE = MODEL_DIR / "classifier.json"

CATEGORIES = ("城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生")
"""The 泰迪杯 2020 C first-level classes the category head predicts."""
OTHER_CATEGORY = "其他"
"""What the hotline files under when the category head is not confident enough (see settings)."""
MODEL_TYPES = ("咨询", "投诉/求助", "建言")
"""The type head's classes: MSGABench merges complaints and requests for help."""

REPORT_WORDS = ("举报", "违法", "违规", "非法", "偷排", "偷倒", "私排", "贪污", "受贿", "索贿", "腐败", "挪用",
                "侵占", "诈骗", "传销", "黑作坊", "无证经营", "假冒", "造假", "赌博", "吃空饷")  # fmt: skip
"""Reports of wrongdoing: a 投诉/求助 message with one of these is filed as 举报."""
HELP_WORDS = ("求助", "帮忙", "帮帮", "帮助", "救助", "困难", "救救", "急需", "无助", "走投无路", "求救",
              "怎么办", "救命")  # fmt: skip
"""Requests for help: a 投诉/求助 message with one of these (and no report word) is filed as 求助."""

DECLARED_TYPES: tuple[tuple[TicketType, tuple[str, ...]], ...] = (
    ("举报", ("我要举报", "我想举报", "实名举报", "匿名举报")),
    ("投诉", ("我要投诉", "我想投诉", "实名投诉")),
    ("求助", ("我要求助", "向政府求助", "请求帮助", "请求救助", "求救")),
)
"""A citizen who says what they are filing is taken at their word, whatever the model's class:
MSGABench's complaints are long, so short ones like 我要举报… often look like 建言 to the model."""

MODEL_TYPE_OF: dict[str, str] = {"咨询": "咨询", "投诉": "投诉/求助", "求助": "投诉/求助", "举报": "投诉/求助",
                                 "建议": "建言"}  # fmt: skip
"""Our ticket types in the type head's classes (the inverse of ``ticket_type``): how an agent's type
correction, or another source's type label, is learnt and scored."""
QUESTION_WORDS = re.compile(
    r"请问|咨询|想问|问一下|问下|如何|怎么办理|怎样|需要什么|哪些|能否|为何|多久|[吗么][？?]|多少|哪里|何时|什么时候"
)
"""A citizen asking in so many words; chosen on the dev sources (``bench/hotline.py``). 如何, 怎样, 哪些,
能否, 为何, 多久 were added once the knowledge-base dev set held its real questions: they lifted it and
left 泰迪杯 dev unchanged (``docs/hotline_model.md``)."""
QUESTION_BOOST = 1.0
"""Added to the 咨询 logit (after the temperature) of a message with ``QUESTION_WORDS``."""

_MASK = re.compile(r"\*+")
_SPACE = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    """Drops MSGABench's ``*`` place masks (citizens never type them) and folds whitespace."""
    return _SPACE.sub(" ", _MASK.sub("", text)).strip()


@dataclass(frozen=True)
class HashingSpec:
    """Everything needed to recompute the features: the hash is stable, so no vocabulary is kept."""

    n_features: int
    ngram_min: int
    ngram_max: int

    def vectorizer(self) -> HashingVectorizer:
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(
            analyzer="char",
            ngram_range=(self.ngram_min, self.ngram_max),
            n_features=self.n_features,
            alternate_sign=False,
            norm=None,
            lowercase=True,
        )

    def as_dict(self) -> dict:
        return {"analyzer": "char", "n_features": self.n_features, "ngram_range": [self.ngram_min, self.ngram_max],
                "alternate_sign": False, "weighting": "sublinear tf × idf, l2-normalised"}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict) -> HashingSpec:
        return cls(int(data["n_features"]), int(data["ngram_range"][0]), int(data["ngram_range"][1]))


@dataclass
class LinearHead:
    """One linear classifier over hashed tf-idf features, with a softmax temperature for confidence.

    ``temperature`` scales the decision values before the softmax; it is fitted on out-of-fold
    decisions at training time so that a confidence of 0.8 is right about 80 % of the time.
    """

    classes: tuple[str, ...]
    spec: HashingSpec
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    shift: np.ndarray | None = None
    """Added to the tempered logits: log(deployment prior / training prior) for the type head."""
    question_boost: float = 0.0
    """Added to the 咨询 logit of messages with ``QUESTION_WORDS`` (type head only)."""

    def features(self, texts: list[str]) -> csr_matrix:
        """Sublinear tf × idf, l2-normalised: the same weighting as sklearn's TfidfTransformer."""
        from sklearn.preprocessing import normalize

        counts = self.spec.vectorizer().transform([normalise_text(t) for t in texts]).astype(np.float32)
        counts.data = 1.0 + np.log(counts.data)
        return normalize(counts.multiply(self.idf).tocsr())

    def decision(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.features(texts) @ self.coef.T) + self.intercept

    def logits(self, texts: list[str]) -> np.ndarray:
        """Tempered decisions, moved to the deployment's priors and by the stated question words."""
        scores = self.decision(texts) * self.temperature
        if self.shift is not None:
            scores = scores + self.shift
        if self.question_boost and "咨询" in self.classes:
            asks = np.array([bool(QUESTION_WORDS.search(t)) for t in texts], dtype=np.float32)
            scores[:, self.classes.index("咨询")] += self.question_boost * asks
        return scores

    def probabilities(self, texts: list[str]) -> np.ndarray:
        return softmax(self.logits(texts))


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Prediction:
    type: TicketType
    type_confidence: float
    """The type head's probability; 1.0 when the citizen declared the type (``DECLARED_TYPES``)."""
    category: str
    """One of ``CATEGORIES``, or ``其他`` below the confidence threshold."""
    category_confidence: float
    model_type: str
    """The type head's own class (咨询 / 投诉/求助 / 建言), before the keyword split."""
    top_category: str
    """The best category even when it was too unsure to use."""


def declared_type(text: str) -> TicketType | None:
    """The type the citizen names explicitly (我要举报… → 举报), or None."""
    for ticket, phrases in DECLARED_TYPES:
        if any(phrase in text for phrase in phrases):
            return ticket
    return None


def ticket_type(model_type: str, text: str) -> TicketType:
    """Our five ticket types from the model's three: 建言→建议, 投诉/求助 split by keywords."""
    if model_type == "咨询":
        return "咨询"
    if model_type == "建言":
        return "建议"
    if any(word in text for word in REPORT_WORDS):
        return "举报"
    if any(word in text for word in HELP_WORDS):
        return "求助"
    return "投诉"


@dataclass
class HotlineClassifier:
    type_head: LinearHead
    category_head: LinearHead
    metadata: dict

    def classify_many(self, texts: list[str], category_threshold: float | None = None) -> list[Prediction]:
        """Both heads for a batch; below ``category_threshold`` the category is ``其他``."""
        if category_threshold is None:
            category_threshold = default_category_threshold()
        if not texts:
            return []
        type_probs = self.type_head.probabilities(texts)
        category_probs = self.category_head.probabilities(texts)
        out = []
        for text, tp, cp in zip(texts, type_probs, category_probs, strict=True):
            t, c = int(tp.argmax()), int(cp.argmax())
            top_category = self.category_head.classes[c]
            model_type = self.type_head.classes[t]
            declared = declared_type(text)
            out.append(
                Prediction(
                    type=declared or ticket_type(model_type, text),
                    type_confidence=1.0 if declared else float(tp[t]),
                    category=top_category if cp[c] >= category_threshold else OTHER_CATEGORY,
                    category_confidence=float(cp[c]),
                    model_type=model_type,
                    top_category=top_category,
                )
            )
        return out

    def classify(self, text: str, category_threshold: float | None = None) -> Prediction:
        return self.classify_many([text], category_threshold)[0]


def default_category_threshold() -> float:
    from banshi.config import get_settings

    return get_settings().hotline_category_threshold


def prior_shift(train_prior: list[float] | None, deployment_prior: list[float] | None) -> np.ndarray | None:
    """log(deployment / training) per class, or None when either is unknown (older model files)."""
    if not train_prior or not deployment_prior:
        return None
    return (np.log(np.asarray(deployment_prior)) - np.log(np.asarray(train_prior))).astype(np.float32)


def _head(arrays: dict[str, np.ndarray], meta: dict, name: str) -> LinearHead:
    head = meta["heads"][name]
    return LinearHead(
        classes=tuple(head["classes"]),
        spec=HashingSpec.from_dict(head["hashing"]),
        idf=arrays[f"{name}_idf"].astype(np.float32),
        coef=arrays[f"{name}_coef"].astype(np.float32),
        intercept=arrays[f"{name}_intercept"].astype(np.float32),
        temperature=float(head["temperature"]),
        shift=prior_shift(head.get("train_prior"), head.get("deployment_prior")),
        question_boost=float(head.get("question_boost", 0.0)),
    )


def load_classifier(model_file: Path = MODEL_FILE) -> HotlineClassifier:
    """The model in ``model_file`` and its JSON beside it (same stem); plain arrays only, no pickle."""
    meta = json.loads(model_file.with_suffix(".json").read_text(encoding="utf-8"))
    with np.load(model_file, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    return HotlineClassifier(_head(arrays, meta, "type"), _head(arrays, meta, "category"), meta)


@lru_cache(maxsize=1)
def default_classifier() -> HotlineClassifier:
    """Loaded once per process: the arrays are a few MB and every ticket needs them."""
    return load_classifier(MODEL_FILE)


def classify(text: str) -> Prediction:
    """Type and category for one message, with the shipped model and the configured threshold."""
    return default_classifier().classify(text)


def suggest_department(category: str) -> str:
    """The department a category's tickets go to (settings), or the hotline office's when unknown."""
    from banshi.config import get_settings

    departments = get_settings().category_departments
    return departments.get(category) or departments.get(OTHER_CATEGORY, "12345热线办公室")
