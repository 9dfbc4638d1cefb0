"""The hotline data's sources and how each one's labels map to ours: the one place that knows them.

Only MSGABench (Beijing) labels a message's type, in its own three classes; 泰迪杯 (a 西地省 city)
labels the subject category; 福州's posts are all 环保; MSGABench's two question sets are all
questions. To measure whether the model carries over to a city it was not trained on, 泰迪杯 and
福州 messages were labelled by type by hand, blind to the model, in our five ticket types
(``bench/data/hotline_type_labels.jsonl``: ids and labels only, never the text). Each set says
whether it is a dev set (recipes may be chosen on it) or a test set (scored, never tuned on).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from common.tickets import TICKET_TYPES
from hotline.classifier import CATEGORIES, MODEL_TYPE_OF
from hotline.training import SHARED_HOTLINE, LabelledSet

TYPE_LABELS = Path(__file__).resolve().parents[1] / "bench" / "data" / "hotline_type_labels.jsonl"

MSGABENCH_DOMAIN_CATEGORY = {
    "城建": "城乡建设", "交通": "交通运输", "教育": "教育文体", "文娱": "教育文体", "体育": "教育文体",
    "环保": "环境保护", "就业": "劳动和社会保障", "医疗": "卫生计生", "旅游": "商贸旅游",
}  # fmt: skip
"""MSGABench's domain → 泰迪杯's category where one clearly contains the other; 政务, 企业, 治安, 三农,
金融 and the ministries have no counterpart among the seven and are left out."""
FUZHOU_CATEGORY = {"环保": "环境保护"}

Split = Literal["dev", "test"]


@dataclass
class SourceSet:
    """One source's messages with gold labels in the model's classes."""

    name: str
    split: Split
    data: LabelledSet

    def majority(self) -> tuple[str, float]:
        """The most common gold class and the accuracy of always answering it."""
        counts = {label: self.data.labels.count(label) for label in set(self.data.labels)}
        label = max(counts, key=counts.get)
        return label, counts[label] / len(self.data.labels)


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _titled(row: dict) -> str:
    """Title and detail run together, as 泰迪杯's labelled file already has them."""
    title = (row.get("title") or "").strip()
    return row["text"] if not title or row["text"].startswith(title) else f"{title}\n{row['text']}"


def _asked(row: dict) -> str:
    """The question of a question → answer row.

    On 66 of the knowledge-base file's 233 rows the two are swapped: ``text`` holds the policy
    answer (《北京市生活垃圾管理条例》第三十四条规定…) and ``reply`` the question (什么是建筑垃圾？). Scored as
    they stand, those answers were "questions" the type head called 投诉/求助. A reply that ends in a
    question mark after a text that does not is the question; the government Q&A file has none.
    """
    text, reply = row.get("text") or "", (row.get("reply") or "").strip()
    asks = ("？", "?")
    return reply if reply.endswith(asks) and not text.strip().endswith(asks) else text


def type_sources(data_dir: Path = SHARED_HOTLINE, labels_file: Path = TYPE_LABELS) -> list[SourceSet]:
    """Every source with type gold but MSGABench's citizen messages (the training set)."""
    texts = {row["id"]: _titled(row) for name in ("teddycup2020c_labeled", "fuzhou_leader_message_board")
             for row in _rows(data_dir / f"{name}.jsonl")}  # fmt: skip
    grouped: dict[tuple[str, str], LabelledSet] = {}
    for label in _rows(labels_file):
        if label["type"] not in TICKET_TYPES:
            raise ValueError(f"{labels_file.name}: {label['id']} 的类型 {label['type']} 不是工单类型")
        key = ("泰迪杯" if label["source"].startswith("teddycup") else "福州", label["split"])
        target = grouped.setdefault(key, LabelledSet([], []))
        target.texts.append(texts[label["id"]])
        target.labels.append(MODEL_TYPE_OF[label["type"]])
    out = [SourceSet(f"{name} {split}", split, data) for (name, split), data in sorted(grouped.items())]
    for name, file, split in (("MSGABench 知识库问题", "msgabench_nlu_kb_qa.jsonl", "dev"),
                              ("MSGABench 政务问答", "msgabench_gov_qa.jsonl", "test")):  # fmt: skip
        questions = [_asked(row) for row in _rows(data_dir / file) if row.get("text")]
        out.append(SourceSet(name, split, LabelledSet(questions, ["咨询"] * len(questions))))
    return out


def category_sources(data_dir: Path = SHARED_HOTLINE) -> list[SourceSet]:
    """Sources other than 泰迪杯 (the category head's training set) whose labels map onto its classes."""
    msga = [(row["text"], MSGABENCH_DOMAIN_CATEGORY[row["label"]])
            for row in _rows(data_dir / "msgabench_citizen_messages.jsonl")
            if row.get("label") in MSGABENCH_DOMAIN_CATEGORY and row.get("text")]  # fmt: skip
    boards = _rows(data_dir / "fuzhou_leader_message_board.jsonl")
    fuzhou = [(_titled(row), FUZHOU_CATEGORY[row["label"]]) for row in boards if row.get("label") in FUZHOU_CATEGORY]
    assert all(label in CATEGORIES for _, label in msga + fuzhou)
    return [
        SourceSet("MSGABench 留言", "test", LabelledSet([t for t, _ in msga], [c for _, c in msga])),
        SourceSet("福州", "test", LabelledSet([t for t, _ in fuzhou], [c for _, c in fuzhou])),
    ]
