"""Complaint intake for the 12345 hotline (投诉/举报/建议/求助/咨询) and ticket status look-up.

The form collects content, place, time, an optional name and a mobile number; nothing is filed until
the citizen confirms the summary. Phone numbers are masked in every log line.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from common import tickets as form
from common.masking import mask_phone
from common.phones import MOBILE_PATTERN, SECOND_DIGITS
from common.tickets import TICKET_TYPES
from dialogue.actions.complaint_facts import place_in, time_in
from dialogue.actions.guide import divert_to_guide
from dialogue.actions.resume import cancel_ticket, offer_walk, replace_ticket, reset_ticket
from dialogue.actions.session import PARKED_SLOT, entity_value, latest_intent, leave_form, state_outcome
from dialogue.actions.ticket_replies import confirmation_reply, open_answer

log = logging.getLogger(__name__)

TICKET_TYPE_OF_INTENT = {"complain": "投诉", "report": "举报", "suggest": "建议", "seek_help": "求助"}
TICKET_SLOTS = form.FORM_SLOTS
TICKET_NUMBER = re.compile(r"12345-\d{8}-\d{4,}", re.IGNORECASE)
INTRO = {
    "投诉": "好的，我来帮您登记投诉，登记后会转交12345热线派单办理。",
    "举报": "好的，我来帮您登记举报线索，我们会依法为举报人保密。",
    "建议": "感谢您的建议！我来帮您登记，登记后会转交相关部门研究。",
    "求助": "好的，我来帮您登记求助信息，登记后会转交相关部门处理。",
    "咨询": "好的，请留下您想咨询的问题，12345热线工作人员会尽快答复您。",
}
CONFIRM_PAYLOAD = "/affirm"
"""The 确认提交 button: pressed again after the filing, it is shown the ticket filed (``nothing_to_file``)."""
FILED_SLOT = "filed_ticket"
"""The number of the ticket this conversation's last 确认提交 filed; cleared by a new complaint or 取消."""
ANONYMOUS_WORDS = ("匿名", "不留", "跳过", "不想留", "不方便", "不告诉", "保密", "无可奉告")
_FILLER = re.compile(
    r"你好|您好|请问|我要|我想|想要|我需要|需要|帮我|帮忙|麻烦|一下|投诉|举报|建议|求助|反映|反馈|留言|咨询|"
    r"提个|提|个|问题|情况|事情|的|了|吗|呢|啊|[\s，。！？!?,.、]"
)


@dataclass(frozen=True)
class PhoneCheck:
    phone: str | None
    problem: str | None = None


def check_mobile(raw: str | None) -> PhoneCheck:
    """A mainland mobile as 11 digits, or the reason it is not one, worded for the citizen."""
    text = re.sub(r"[\s\-－—–()（）]", "", raw or "")
    runs = re.findall(r"\+?\d+", text)
    if not runs:
        return PhoneCheck(None, "没有识别到电话号码。请输入11位手机号码，例如 13800138000。")
    if len(runs) > 1:
        return PhoneCheck(None, "我识别到了不止一个号码，请只输入一个11位手机号码。")
    digits = re.sub(r"^(\+86|0086|86)(?=1\d{10}$)", "", runs[0]).lstrip("+")
    if len(digits) >= 22 and len(re.findall(MOBILE_PATTERN, digits)) >= 2:
        return PhoneCheck(None, "我识别到了不止一个号码，请只输入一个11位手机号码。")
    if len(digits) != 11:
        return PhoneCheck(None, f"手机号码应为11位数字，您输入的是{len(digits)}位，请核对后重新输入。")
    if not digits.startswith("1"):
        return PhoneCheck(None, "这看起来不是手机号码（手机号码以1开头）。为了便于工作人员回访，请留下11位手机号码。")
    if digits[1] not in SECOND_DIGITS:
        return PhoneCheck(None, "手机号码的第二位应为3到9之间的数字，请核对后重新输入。")
    return PhoneCheck(digits)


def validated_phone(slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict:
    """A phone slot's validation: the digits, or the reason re-asked (None is a reset, not an answer)."""
    if value is None:
        return {}
    check = check_mobile(str(value or ""))
    if check.phone is None:
        dispatcher.utter_message(text=check.problem)
    return {slot: check.phone}


def mask(phone: str | None) -> str:
    return mask_phone(phone)


def describes_problem(text: str | None) -> bool:
    """True when the first message already says what happened, not just 我要投诉."""
    if not text or text.startswith("/"):
        return False
    return len(_FILLER.sub("", text)) >= 6


def is_anonymous(text: str) -> bool:
    return any(word in text for word in ANONYMOUS_WORDS)


def clean_name(text: str) -> str:
    return re.sub(r"^(我叫|我是|叫我|我姓|姓名是|姓名|名字是|称呼我)", "", text.strip()).strip(" ：:，。")


def _entities(tracker: Tracker, entity: str) -> list[dict[str, Any]]:
    return [e for e in tracker.latest_message.get("entities") or [] if e.get("entity") == entity]


def _written(text: str, entity: dict[str, Any]) -> str:
    """The entity as the citizen typed it (东兴), not its canonical value (东兴市)."""
    start, end = entity.get("start"), entity.get("end")
    return text[start:end] if isinstance(start, int) and isinstance(end, int) else str(entity.get("value") or "")


class ActionStartTicket(Action):
    """Starts intake: type from the intent or the 留言咨询 button, content prefilled when already given;
    a short question a confident guide answers goes to the guide instead (``dialogue.routing``)."""

    def name(self) -> str:
        return "action_start_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        if (guide := divert_to_guide(tracker)) is not None:
            return guide
        return start_intake(dispatcher, tracker)


def intake_type(tracker: Tracker) -> str:
    """The 留言咨询 button's type, else the hotline intent's, else what the hotline classifier reads in the
    message (an account the NLU could not place: ``dialogue.routing.account_to_intake``)."""
    chosen = entity_value(tracker, "ticket_type")
    if chosen in TICKET_TYPES:
        return chosen
    if of_intent := TICKET_TYPE_OF_INTENT.get(latest_intent(tracker) or ""):
        return of_intent
    from hotline.classifier import classify

    return classify(tracker.latest_message.get("text") or "").type


def start_intake(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """The intake's first turn: the type, and what the message already says (content, place, time)."""
    ticket_type = intake_type(tracker)
    text = tracker.latest_message.get("text") or ""
    replace_ticket(dispatcher, tracker, text)
    events = [*leave_form(tracker), SlotSet(form.TYPE_SLOT, ticket_type)]
    events += [SlotSet(slot, None) for slot in (*TICKET_SLOTS, form.CONFIRMED_SLOT, FILED_SLOT)]
    events.append(SlotSet(PARKED_SLOT, False))
    phone = check_mobile(entity_value(tracker, "phone")).phone if entity_value(tracker, "phone") else None
    if phone:
        events.append(SlotSet(form.PHONE_SLOT, phone))
    if describes_problem(text):
        # What the first message already says is not asked again; the confirmation shows all of it.
        events.append(SlotSet(form.CONTENT_SLOT, text.strip()))
        regions = [_written(text, e) for e in _entities(tracker, "region")]
        if place := place_in(text, regions, named=entity_value(tracker, "address")):
            events.append(SlotSet(form.LOCATION_SLOT, place))
        if when := time_in(text):
            events.append(SlotSet(form.TIME_SLOT, when))
    dispatcher.utter_message(text=INTRO[ticket_type] + "过程中如需人工帮助，随时说“转人工”。")
    state_outcome(dispatcher, "intake_started", ticket_type=ticket_type)
    return events


class FormQuestion(Action, ABC):
    """A form question with optional quick replies; abstract so rasa_sdk registers only the concrete ones."""

    buttons: tuple[dict[str, str], ...] = ()

    @property
    @abstractmethod
    def slot(self) -> str: ...

    @property
    @abstractmethod
    def question(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=self.question, buttons=list(self.buttons))
        state_outcome(dispatcher, "slot_requested", slot=self.slot)
        return []


class AskTicketContent(FormQuestion):
    slot = form.CONTENT_SLOT
    question = "请您具体说说遇到的情况，比如发生了什么、涉及哪个单位或部门。"


class AskTicketLocation(FormQuestion):
    slot = form.LOCATION_SLOT
    question = "事情发生在什么地点？请尽量具体到区县、街道、小区或门牌号。"
    buttons = ({"title": "不涉及具体地点", "payload": "不涉及具体地点"},)


class AskTicketTime(FormQuestion):
    slot = form.TIME_SLOT
    question = "事情大概是什么时候发生的？例如“昨天晚上”“上周三上午”。"
    buttons = ({"title": "记不清了", "payload": "记不清了"},)


class AskTicketName(FormQuestion):
    slot = form.NAME_SLOT
    question = "请问怎么称呼您？您也可以选择匿名。"
    buttons = ({"title": "匿名", "payload": "匿名"},)


class AskTicketPhone(FormQuestion):
    slot = form.PHONE_SLOT
    question = "请留下您的手机号码，方便工作人员联系您并反馈办理结果。"


class ValidateTicketForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_form"

    def extract_ticket_content(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
        return open_answer(tracker, form.CONTENT_SLOT)

    def extract_ticket_location(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
        return open_answer(tracker, form.LOCATION_SLOT)

    def extract_ticket_time(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
        return open_answer(tracker, form.TIME_SLOT)

    def extract_ticket_name(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
        return open_answer(tracker, form.NAME_SLOT)

    def extract_ticket_phone(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> dict:
        return open_answer(tracker, form.PHONE_SLOT)

    def validate_ticket_content(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict:
        if value is None:  # a reset by the start action, not an answer
            return {}
        text = str(value or "").strip()
        if len(text) < 4:
            dispatcher.utter_message(text="内容有点简短，请再具体描述一下，方便工作人员了解情况。")
            return {form.CONTENT_SLOT: None}
        return {form.CONTENT_SLOT: text[:2000]}

    def validate_ticket_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict:
        return _said_or_not_given(value, form.LOCATION_SLOT, 300)

    def validate_ticket_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict:
        return _said_or_not_given(value, form.TIME_SLOT, 100)

    def validate_ticket_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict:
        if value is None:  # a reset by the start action, not an answer
            return {}
        text = str(value or "").strip()
        if not text or is_anonymous(text) or latest_intent(tracker) == "deny":
            return {form.NAME_SLOT: form.ANONYMOUS}
        name = clean_name(text)
        if not name or len(name) > 20:
            dispatcher.utter_message(text="请只告诉我一个简短的称呼（例如“王女士”），或者回复“匿名”。")
            return {form.NAME_SLOT: None}
        return {form.NAME_SLOT: name}

    def validate_ticket_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict:
        return validated_phone(form.PHONE_SLOT, value, dispatcher)

    async def extract_ticket_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """The reply to the summary: 确认提交 / 取消, or a correction of a field (edited, or cleared so the
        form asks it again; the summary follows either way). Anything else is a new question: nothing
        is extracted, the form yields to the question's rule and is offered again after it."""
        if tracker.get_slot("requested_slot") != form.CONFIRMED_SLOT:
            return {}
        return confirmation_reply(tracker.latest_message.get("text") or "", latest_intent(tracker))


class AskTicketConfirmed(Action):
    """The form's last question: what will be filed, 确认提交 / 取消. Asked again after a correction or a
    digression taken up again, so the citizen always confirms what is filed."""

    def name(self) -> str:
        return f"action_ask_{form.CONFIRMED_SLOT}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        slot = tracker.get_slot
        dispatcher.utter_message(
            text="请核对您要提交的信息：\n"
            f"类型：{slot(form.TYPE_SLOT) or '求助'}\n内容：{slot(form.CONTENT_SLOT)}\n"
            f"地点：{slot(form.LOCATION_SLOT)}\n时间：{slot(form.TIME_SLOT)}\n"
            f"称呼：{slot(form.NAME_SLOT) or form.ANONYMOUS}\n手机号码：{slot(form.PHONE_SLOT)}\n"
            "确认无误请点“确认提交”；哪一项不对，直接告诉我，例如“地点写错了，应该是……”。",
            buttons=[{"title": "确认提交", "payload": CONFIRM_PAYLOAD}, {"title": "取消", "payload": "/deny"}],
        )
        state_outcome(dispatcher, "slot_requested", slot=form.CONFIRMED_SLOT)
        return []


class ActionSubmitTicket(Action):
    def name(self) -> str:
        return "action_submit_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[dict[str, Any]]:
        from dialogue.actions import catalogue
        from hotline.tickets import TicketIn, create_ticket, filing_key

        slot = tracker.get_slot
        if slot(form.CONFIRMED_SLOT) == "no":
            return [SlotSet(FILED_SLOT, None), *cancel_ticket(dispatcher, tracker)]
        if not slot(form.CONTENT_SLOT) or not slot(form.PHONE_SLOT):
            return nothing_to_file(dispatcher, tracker)
        name = slot(form.NAME_SLOT)
        item = TicketIn(
            type=slot(form.TYPE_SLOT) or "求助",
            content=slot(form.CONTENT_SLOT),
            location=slot(form.LOCATION_SLOT),
            event_time=slot(form.TIME_SLOT),
            name=None if name in (None, form.ANONYMOUS) else name,
            phone=slot(form.PHONE_SLOT),
            conversation_id=tracker.sender_id,
            slots={s: slot(s) for s in (*TICKET_SLOTS, form.TYPE_SLOT, "matter_id", "region")},
        )
        item.filing_key = filing_key(tracker.sender_id, item)
        try:
            with catalogue.session() as db:
                ticket = create_ticket(db, item)
                number, status, kind = ticket.number, ticket.status, ticket.type
        except Exception:
            # The form's slots are kept, so 确认提交 pressed again files it (the rule for a repeated press).
            log.exception("filing a ticket failed (phone %s)", mask(item.phone))
            dispatcher.utter_message(
                text="抱歉，系统暂时无法提交，您的信息没有丢失，请稍后再点“确认提交”，或直接拨打12345热线。",
                buttons=[{"title": "确认提交", "payload": CONFIRM_PAYLOAD}],
            )
            state_outcome(dispatcher, "ticket_not_filed", ticket_type=item.type)
            return []
        log.info("conversation %s filed ticket %s (phone %s)", tracker.sender_id, number, mask(item.phone))
        tell_filed(dispatcher, number, status, kind)
        # A walk the complaint interrupted is offered again now that the complaint is filed.
        return [*reset_ticket(), SlotSet(FILED_SLOT, number), *offer_walk(dispatcher, tracker)]


def tell_filed(dispatcher: CollectingDispatcher, number: str, status: str, kind: str, **stated: Any) -> None:
    """The filed ticket: its number and status in words, its card, and ``ticket_filed``."""
    dispatcher.utter_message(
        text=f"已为您提交成功，工单编号：{number}，当前状态：{status}。\n"
        "工作人员会尽快处理并通过您留下的手机号码联系您。请记下工单编号，之后可以凭编号和手机号码向我查询办理进度。"
    )
    dispatcher.utter_message(json_message={"type": "ticket", "number": number, "ticket_type": kind, "status": status})
    state_outcome(dispatcher, "ticket_filed", number=number, ticket_type=kind, **stated)


def nothing_to_file(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """A reply to a summary already answered (the rule after ``action_submit_ticket``). 确认提交 pressed
    again, because the answer was lost (a gateway killed while it was in flight: the ticket was filed
    and the turn stored, the citizen saw nothing), is shown the ticket this conversation filed: its
    number and status now, filed once. Any other yes is just acknowledged. (When the filing offered
    the walk the complaint interrupted, a yes is 继续 to it: a rule sends it to ``action_resume``.)"""
    from dialogue.actions import catalogue
    from hotline.tickets import filed_in

    number = tracker.get_slot(FILED_SLOT)
    if not (tracker.latest_message.get("text") or "").startswith(CONFIRM_PAYLOAD):
        dispatcher.utter_message(response="utter_ok")
        return []
    found = None
    if number:
        with catalogue.session() as db:
            ticket = filed_in(db, tracker.sender_id, number)
            found = None if ticket is None else (ticket.number, ticket.status, ticket.type)
    if found is None:
        dispatcher.utter_message(text="当前没有待提交的信息。如需投诉、举报、建议或求助，请直接告诉我。")
        return []
    log.info("conversation %s: 确认提交 again, ticket %s shown again", tracker.sender_id, number)
    tell_filed(dispatcher, *found, repeated=True)
    return []


def _said_or_not_given(value: Any, slot: str, limit: int) -> dict:
    """A place or a time is optional: what the citizen said (cut to its column), or 未提供 for nothing."""
    if value is None:  # a reset by the start action, not an answer
        return {}
    return {slot: str(value or "").strip()[:limit] or form.NOT_GIVEN}
