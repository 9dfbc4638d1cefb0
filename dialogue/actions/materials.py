"""The materials walk-through: one material at a time, "do you have it?", with conditional materials
asked as "does this apply to you?" first.

The walk lives in the ``walk_state`` slot as plain JSON so that it survives restarts with the tracker;
``start_walk``/``advance`` are a pure state machine (tested without Rasa), and the form only feeds it
the citizen's replies and asks the question ``current_step`` points at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from dialogue.actions.session import state_outcome
from dialogue.routing import is_digression, is_small_talk
from knowledge.schema import MaterialIn, MatterIn

WalkState = dict[str, Any]


class Reply(StrEnum):
    yes = "yes"
    no = "no"
    all = "all"
    unknown = "unknown"


_ALL_WORDS = (
    "全部",
    "所有",
    "都告诉",
    "直接告诉",
    "直接说",
    "跳过",
    "不用问",
    "不用一个个",
    "别问了",
    "一次性",
    "清单",
    "汇总",
)
_NO_PREFIXES = ("没", "无", "否", "不", "还没", "暂时没", "尚未", "未")
_YES_PREFIXES = (
    "有",
    "是",
    "对",
    "嗯",
    "恩",
    "好",
    "已",
    "带了",
    "准备好",
    "备齐",
    "齐了",
    "需要",
    "适用",
    "属于",
    "yes",
    "ok",
)
_PUNCTUATION = re.compile(r"[\s，。！？!?,.、~～…]+")


def parse_reply(text: str | None, intent: str | None = None) -> Reply:
    """What the citizen meant by a reply to "do you have it?" or "does this apply?"."""
    cleaned = _PUNCTUATION.sub("", (text or "").strip().lower())
    if cleaned.startswith("/affirm"):
        return Reply.yes
    if cleaned.startswith("/deny"):
        return Reply.no
    if any(word in cleaned for word in _ALL_WORDS):
        return Reply.all
    if cleaned.startswith(_NO_PREFIXES):
        return Reply.no
    if cleaned.startswith(_YES_PREFIXES):
        return Reply.yes
    if intent == "affirm":
        return Reply.yes
    if intent == "deny":
        return Reply.no
    return Reply.unknown


def start_walk(matter: MatterIn) -> WalkState:
    """A fresh walk over the matter's materials, positioned on the first question."""
    state: WalkState = {
        "matter_id": matter.external_id,
        # 最多跑一次: what the department fetches itself, or need not be handed in, is never asked about.
        "materials": [{"name": m.name, "condition": m.condition, "bring": m.must_bring} for m in matter.materials],
        "position": 0,
        "stage": "have",
        "answers": [None if m.must_bring else "not_needed" for m in matter.materials],
        "conditions": {},
        "done": False,
        "skipped": False,
    }
    return _settle(state)


def _settle(state: WalkState) -> WalkState:
    """Moves past materials whose condition was already answered, and sets the stage to ask next."""
    materials, answers, conditions = state["materials"], state["answers"], state["conditions"]
    position = state["position"]
    while position < len(materials):
        if not materials[position].get("bring", True):
            position += 1
            continue
        condition = materials[position]["condition"]
        if not condition:
            state["stage"] = "have"
            break
        if condition not in conditions:
            state["stage"] = "condition"
            break
        if conditions[condition]:
            state["stage"] = "have"
            break
        answers[position] = "not_applicable"
        position += 1
    state["position"] = position
    state["done"] = position >= len(materials)
    return state


def advance(state: WalkState, reply: Reply) -> WalkState:
    """The next state after a reply; an unknown reply changes nothing (the question is asked again)."""
    if state.get("done") or reply is Reply.unknown:
        return state
    new = {**state, "answers": list(state["answers"]), "conditions": dict(state["conditions"])}
    if reply is Reply.all:
        new["done"], new["skipped"] = True, True
        return new
    position = new["position"]
    if new["stage"] == "condition":
        condition = new["materials"][position]["condition"]
        new["conditions"][condition] = reply is Reply.yes
        return _settle(new)
    new["answers"][position] = "have" if reply is Reply.yes else "missing"
    new["position"] = position + 1
    return _settle(new)


@dataclass(frozen=True)
class Step:
    number: int
    """1-based among the materials the citizen must bring, for "第2项（共5项）"."""
    total: int
    position: int
    """Where the material is in the matter's own list."""
    name: str
    condition: str | None
    stage: str


def current_step(state: WalkState | None) -> Step | None:
    if not state or state.get("done"):
        return None
    position = state["position"]
    materials = state["materials"]
    material = materials[position]
    brought = [i for i, m in enumerate(materials) if m.get("bring", True)]
    number = brought.index(position) + 1 if position in brought else position + 1
    return Step(number, len(brought), position, material["name"], material["condition"], state["stage"])


def statuses_for(state: WalkState | None, matter_id: str) -> list[str] | None:
    """Per-material status for the checklist; None when the walk belongs to another matter."""
    if not state or state.get("matter_id") != matter_id:
        return None
    statuses = []
    for answer, material in zip(state["answers"], state["materials"], strict=True):
        if answer is None and material["condition"] and state["conditions"].get(material["condition"]) is False:
            answer = "not_applicable"
        statuses.append(answer or "unknown")
    return statuses


POLITE = {"thank": "不客气", "greet": "您好"}
"""The short reply to small talk in the middle of the walk, by intent (otherwise 好的)."""
YES_NO_BUTTONS = [
    {"title": "有", "payload": "/affirm"},
    {"title": "没有", "payload": "/deny"},
    {"title": "直接告诉我全部", "payload": "直接告诉我全部"},
]
CONDITION_BUTTONS = [
    {"title": "是", "payload": "/affirm"},
    {"title": "否", "payload": "/deny"},
    {"title": "直接告诉我全部", "payload": "直接告诉我全部"},
]


def copies_text(material: MaterialIn) -> str:
    """原件1份、复印件2份: what the window actually counts."""
    parts = []
    if material.original_count:
        parts.append(f"原件{material.original_count}份")
    if material.copy_count:
        parts.append(f"复印件{material.copy_count}份")
    if not parts and material.original_or_copy:
        parts.append(material.original_or_copy)
    return "、".join(parts)


def describe_material(material: MaterialIn) -> str:
    """One line of practical notes: copies, paper or electronic, where to get it, and the note."""
    bits = [copies_text(material)]
    if material.medium:
        bits.append(material.medium)
    if material.source:
        bits.append(f"来源：{material.source}")
    line = "，".join(bit for bit in bits if bit)
    if material.note:
        line = f"{line}。{material.note}" if line else material.note
    return line


def question_text(step: Step, material: MaterialIn | None) -> str:
    head = f"第{step.number}项（共{step.total}项）：{step.name}"
    if step.stage == "condition":
        return f"{head}\n这项材料只在以下情况需要：{step.condition}。\n请问您属于这种情况吗？"
    notes = describe_material(material) if material else ""
    return f"{head}\n" + (f"要求：{notes}\n" if notes else "") + "请问您已经准备好了吗？"


class ActionAskMaterialAnswer(Action):
    """Asks about the material the walk is positioned on, with its practical notes."""

    def name(self) -> str:
        return "action_ask_material_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict]:
        from dialogue.actions import catalogue

        state = tracker.get_slot("walk_state")
        step = current_step(state)
        if step is None:
            return []
        matter = catalogue.get_matter(state["matter_id"])
        material = matter.materials[step.position] if matter and len(matter.materials) > step.position else None
        buttons = CONDITION_BUTTONS if step.stage == "condition" else YES_NO_BUTTONS
        dispatcher.utter_message(text=question_text(step, material), buttons=buttons)
        return []


class ValidateMaterialsForm(FormValidationAction):
    """Feeds each reply to the state machine; the form ends when the walk is done or skipped."""

    def name(self) -> str:
        return "validate_materials_form"

    async def extract_material_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """A reply to the question the walk asked is an answer (understood or not: an unclear one is
        asked again); a new question is not (``dialogue.routing.is_digression``): nothing is extracted,
        the form yields to the question's rule, and the walk is offered again after the answer."""
        if tracker.get_slot("requested_slot") != "material_answer":
            return {}
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if is_digression(intent, text, understood=parse_reply(text, intent) is not Reply.unknown):
            return {}
        return {"material_answer": text}

    def validate_material_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value is None:  # the reset that starts a walk, not an answer
            return {}
        state = tracker.get_slot("walk_state")
        if current_step(state) is None:
            return {"material_answer": "done"}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        reply = parse_reply(str(value), intent)
        if is_small_talk(intent, str(value), understood=reply is not Reply.unknown):
            # 谢谢 / 好的 mid-walk: manners, answered as such; the form asks its question again.
            dispatcher.utter_message(text=f"{POLITE.get(intent or '', '好的')}，我们接着核对材料。")
            state_outcome(dispatcher, "small_talk")
            return {"material_answer": None}
        if reply is Reply.unknown:
            stage = state["stage"]
            options = "“是”或“否”" if stage == "condition" else "“有”或“没有”"
            dispatcher.utter_message(text=f"抱歉，我没有听明白。请回答{options}，也可以说“直接告诉我全部”。")
            state_outcome(dispatcher, "misunderstood")
            return {"material_answer": None}
        state = advance(state, reply)
        return {"walk_state": state, "material_answer": "done" if state["done"] else None}
