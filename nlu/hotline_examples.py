"""Real citizens' messages from ``../shared/data/hotline`` as NLU training examples for the hotline intents.

The hand-written lines in nlu/data/hotline.yml are short and tidy; real complaints run to hundreds of
characters with dates, amounts and places, and without real text DIET sends them to nlu_fallback or
check_ticket. This module owns which real messages are used, how they map onto our intents, and which
are held out: ``banshi nlu hotline`` writes the training share, ``bench/nlu_real.py`` measures on the rest.

Splits (one place, so training never sees a message the bench scores):
- train: MSGABench citizen messages (Beijing) whose id hashes into the training share, and the 泰迪杯
  labelled messages (附件2);
- dev (for tuning): the other MSGABench share, and the 泰迪杯 unlabelled hot messages (附件3);
- test (looked at once): the Fuzhou leaders' board (a city never trained on), the 泰迪杯 messages with
  replies (附件4), and a further MSGABench share.
Runs in .venv (no rasa import); reads only, never copies a message into the repo.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from nlu.gazetteer import render_examples

SHARED_HOTLINE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "hotline"
EVAL_CASES = Path(__file__).resolve().parents[1] / "bench" / "data"
"""``banshi eval dialogue``'s cases files: the real messages they name are never trained on."""
DEFAULT_OUT = Path("nlu/generated/hotline_examples.yml")
SEED = 12345
MAX_CHARS = 50
# Examples per intent in the training file: enough real text to learn the style, few enough that
# `make train` stays within CI time.
PER_INTENT = {"complain": 120, "suggest": 70, "report": 50, "seek_help": 30}
INTAKE_INTENTS = ("complain", "report", "suggest", "seek_help")

# (file, source name, split rule). The split rule decides per message id.
_MSGA = "msgabench_citizen_messages.jsonl"
_TEDDY_LABELLED = "teddycup2020c_labeled.jsonl"
_TEDDY_HOT = "teddycup2020c_hot_messages_unlabeled.jsonl"
_TEDDY_REPLIES = "teddycup2020c_messages_with_replies.jsonl"
_FUZHOU = "fuzhou_leader_message_board.jsonl"

_MASKED = re.compile(r"\*+")
# Phone, ID and account numbers, real or masked (0000-00000000): never in a training file.
_LONG_NUMBER = re.compile(r"(?:\+?86[-\s]?)?\d[\d\s-]{6,}[\dXx]")
_URL = re.compile(r"https?://\S+|www\.\S+")
# Rasa's training format reads [text](entity) and {"entity": …} annotations; real text must not trigger them.
_MARKUP = str.maketrans({"[": "【", "]": "】", "(": "（", ")": "）", "{": "（", "}": "）", "#": "＃", '"': "“"})
_SPACE = re.compile(r"\s+")
_LEADING_NUMBERING = re.compile(r"^(?:[\d一二三四五六七八九十]{1,2}[.、，,．）)-]|[-—•·、.，。:：])+")
_SENTENCE_END = re.compile(r"[。！？!?；;]")

# Keyword rules for the intake type where a source has none (or merges 投诉/求助).
_REPORT = re.compile(r"举报|非法|违法|违规|偷排|私自|无证|黑作坊|传销|诈骗")
_HELP = re.compile(r"求助|求救|帮帮|救助|帮助|困难户|走投无路|急需")
_SUGGEST = re.compile(r"建议|希望|恳请|呼吁|能否|可否|提议")
# A message that asks for information: a consultation, routed to a guide or 留言咨询, not scored as intake.
_CONSULT = re.compile(r"咨询|请问|询问|问一下|想了解|是否可以|能不能|怎么办理|如何办理|吗[？?]")


@dataclass(frozen=True)
class RealMessage:
    id: str
    source: str
    text: str
    intent: str  # one of INTAKE_INTENTS, or "consult"
    split: str  # train / dev / test / eval (played by banshi eval dialogue)
    group: str = ""  # the source's subject label, for stratifying


@dataclass
class HotlineReport:
    available: bool
    examples: dict[str, int] = field(default_factory=dict)
    written: bool = False


def clean(text: str, *, max_chars: int = MAX_CHARS) -> str:
    """One line of plain text: masks become 某, numbers that identify a person go, cut at a sentence end."""
    text = _URL.sub("", text)
    text = _MASKED.sub("某", text)
    text = re.sub(r"某{2,}", "某", text)
    text = _LONG_NUMBER.sub("", text)
    text = _SPACE.sub("", text.translate(_MARKUP))
    text = _LEADING_NUMBERING.sub("", text)
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    ends = [m.end() for m in _SENTENCE_END.finditer(cut) if m.end() >= max_chars // 2]
    return cut[: ends[-1]] if ends else cut


def _bucket(key: str) -> float:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF


def _msga_split(message_id: str) -> str:
    share = _bucket(message_id)
    return "train" if share < 0.6 else ("dev" if share < 0.8 else "test")


def _keyword_intent(head: str, whole: str) -> str:
    """Type from wording: the title (or first sentence) decides first, then the whole text."""
    if _CONSULT.search(head) and not _SUGGEST.search(head):
        return "consult"
    for pattern, intent in ((_REPORT, "report"), (_HELP, "seek_help"), (_SUGGEST, "suggest")):
        if pattern.search(head):
            return intent
    if _REPORT.search(whole[:60]) and "举报" in whole:
        return "report"
    return "complain"


def _read(folder: Path, name: str) -> Iterator[dict]:
    path = folder / name
    if not path.is_file():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def load_messages(folder: Path = SHARED_HOTLINE, *, max_chars: int = MAX_CHARS) -> list[RealMessage]:
    """Every usable message with its intent and split; empty when the shared data is absent."""
    out: list[RealMessage] = []

    def add(row_id: str, source: str, raw: str, intent: str, split: str, group: str = "") -> None:
        text = clean(raw, max_chars=max_chars)
        if len(text) >= 12:
            out.append(RealMessage(row_id, source, text, intent, split, group))

    for row in _read(folder, _MSGA):
        kind, raw = row.get("request_type"), row.get("text") or ""
        if kind == "建言":
            intent = "suggest"
        elif kind == "咨询":
            intent = "consult"
        else:
            intent = _keyword_intent(clean(raw, max_chars=30), raw)
            intent = "complain" if intent in ("consult", "suggest") else intent
        add(row["id"], "msgabench", raw, intent, _msga_split(row["id"]), row.get("label") or "")
    for name, source, split in ((_TEDDY_LABELLED, "teddy_labelled", "train"), (_TEDDY_HOT, "teddy_hot", "dev"),
                                (_TEDDY_REPLIES, "teddy_replies", "test")):  # fmt: skip
        for row in _read(folder, name):
            raw = row.get("text") or ""
            title = row.get("title") or raw[:30]
            body = raw if name == _TEDDY_LABELLED else f"{title}。{raw}"
            add(row["id"], source, body, _keyword_intent(title, raw), split, row.get("label") or "")
    for row in _read(folder, _FUZHOU):
        raw = f"{row.get('title', '')}。{row.get('text', '')}"
        add(row["id"], "fuzhou", raw, _keyword_intent(row.get("title", ""), raw), "test", row.get("label") or "")
    return _drop_leaks(_hold_eval_cases(out))


def eval_case_refs(folder: Path = EVAL_CASES) -> set[str]:
    """Ids of the real messages that the dialogue evaluation's dev and test files play (by reference)."""
    ids: set[str] = set()
    for path in sorted(folder.glob("dialogue_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            ref = json.loads(line).get("ref") if line.strip() else None
            if ref:
                ids.add(ref["id"])
    return ids


def _hold_eval_cases(messages: list[RealMessage]) -> list[RealMessage]:
    """A message the dialogue evaluation plays is held out (split ``eval``), and so is any training message
    opening the same way, so that ``banshi eval dialogue`` never scores a text the model learnt."""
    refs = eval_case_refs()
    held = [replace(m, split="eval") if m.id in refs else m for m in messages]
    keys = {m.text[:24] for m in held if m.split == "eval"}
    return [m for m in held if not (m.split == "train" and m.text[:24] in keys)]


def _drop_leaks(messages: list[RealMessage]) -> list[RealMessage]:
    """A held-out message whose opening also opens a training message (the 泰迪杯 files overlap) is dropped."""
    seen = {m.text[:24] for m in messages if m.split == "train"}
    kept, held = [], set()
    for message in messages:
        key = message.text[:24]
        if message.split != "train" and (key in seen or key in held):
            continue
        if message.split != "train":
            held.add(key)
        kept.append(message)
    return kept


def sample_training(messages: list[RealMessage], *, per_intent: dict[str, int] | None = None,
                    seed: int = SEED) -> dict[str, list[str]]:  # fmt: skip
    """A bounded sample per intake intent, round-robin over (source, subject) so no one group dominates."""
    per_intent = per_intent or PER_INTENT
    rng = random.Random(seed)
    examples: dict[str, list[str]] = {}
    for intent in INTAKE_INTENTS:
        groups: dict[tuple[str, str], list[str]] = defaultdict(list)
        for message in messages:
            if message.split == "train" and message.intent == intent:
                groups[(message.source, message.group)].append(message.text)
        queues = [rng.sample(texts, len(texts)) for _, texts in sorted(groups.items())]
        chosen: list[str] = []
        while queues and len(chosen) < per_intent.get(intent, 0):
            for queue in list(queues):
                if not queue:
                    queues.remove(queue)
                elif len(chosen) < per_intent.get(intent, 0):
                    chosen.append(queue.pop())
        examples[intent] = sorted(dict.fromkeys(chosen))
    return _unique_across(examples)


def _unique_across(examples: dict[str, list[str]]) -> dict[str, list[str]]:
    """Rasa's validator rejects one text under two intents: the first intent keeps it."""
    seen: set[str] = set()
    unique = {}
    for intent, lines in examples.items():
        unique[intent] = [line for line in lines if line not in seen]
        seen.update(unique[intent])
    return {intent: lines for intent, lines in unique.items() if lines}


def held_out(messages: list[RealMessage], split: str) -> list[RealMessage]:
    return [m for m in messages if m.split == split]


def export(out: Path = DEFAULT_OUT, folder: Path = SHARED_HOTLINE) -> HotlineReport:
    """Writes the training file (an empty, valid one without the shared data); unchanged content is left alone."""
    messages = load_messages(folder)
    examples = sample_training(messages) if messages else {}
    report = HotlineReport(available=bool(messages), examples={k: len(v) for k, v in examples.items()})
    text = render_examples(examples, "`banshi nlu hotline` from ../shared/data/hotline (do not commit)")
    if out.is_file() and out.read_text(encoding="utf-8") == text:
        return report
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    report.written = True
    return report
