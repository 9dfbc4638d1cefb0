"""Where a citizen's message goes: the intent gate and the retriever's gate, decided together, here only.

Rasa's NLU names an intent with a confidence, and Rasa's rules send each intent to its action; the
retriever says whether a guide of the catalogue fits the words. Either signal alone misroutes: DIET,
having learnt from thousands of real complaints, reads a short 燃气怎么过户 as a request for help, a
vehicle question as 没太理解 and a permit question as out of scope, while the retriever is also confident
about a matter for many real complaints (a complaint about a 窗口 names the matter it was about). So the
actions that an intent reaches without a search (the hotline intake, the fallback, out of scope,
goodbye) ask ``route`` first, with both signals:

- a guide or facet intent stays where it is: its action searches and applies the gate itself;
- a message that reads as an account of a problem (several sentences, or long) is never diverted:
  it is the hotline's (or the fallback's), whatever matter it names;
- nlu_fallback, out_of_scope, goodbye and check_ticket (a question without ticket words or number)
  yield to a confident guide;
- a hotline intent yields too, unless the message is a statement its intent is sure of;
- a short question a hotline or check_ticket intent is unsure of (``unsure_question``) goes to the
  find-guide action even when nothing is confident: it is declined there, the hotline offered, rather
  than taken for a complaint or a ticket number;
- a check_ticket message that holds a 身份证号 and no ticket number or ticket words is no ticket-status
  question (the ID's digits read as one): the find-guide action answers it or declines;
- an account the NLU could not place (nlu_fallback) goes to the hotline intake (``account_to_intake``);
- anything else keeps its intent.

More decisions about what a message is, made here for the same reason (one place, no model):
``is_digression`` (a new question in the middle of the materials walk or of the complaint form, not an
answer to it), ``is_small_talk`` (谢谢 / 好的 there: manners, answered politely, the question asked
again), ``leaves_lookup`` (a new question or request at the ticket look-up's questions, not a number)
and ``bare_phone`` (a message that is only a phone number, never a goodbye, whatever the classifier
says of its digits).

"Confident" is the one gate a guide is ever shown behind (``guide_gate``): the retriever's own
confidence on the search of the question (``retriever.confidence``), or a matter the question names
exactly. The facet action uses the same gate for 那要多久 / 在哪办, so a facet is never told of a guess.
Pure and Rasa-free, so every threshold tests without a model.
"""

from __future__ import annotations

import re
from typing import Literal

from common.masking import has_id_number
from common.phones import normalise_phone
from retriever.answering import Answer

Route = Literal["guide", "intent"]

GUIDE_INTENTS = frozenset(
    {"ask_guide", "ask_materials", "choose_matter"}
    | {"ask_location", "ask_time_limit", "ask_fee", "ask_online", "ask_visits", "ask_conditions"}
)
"""Intents whose action searches the catalogue itself."""

HOTLINE_INTENTS = frozenset({"complain", "report", "suggest", "seek_help"})
DIVERTIBLE = frozenset({"nlu_fallback", "out_of_scope", "goodbye", "check_ticket"} | HOTLINE_INTENTS)
"""Intents that a confident guide may override. On the dev file the retriever's confident top matter
was right for nearly every short guide question that these intents took (a 怎么投诉 question read as
complain at 0.99, 怎么查社保卡进度 as check_ticket), and for none of the real hotline messages."""
SURE_STATEMENT = 0.9
"""A hotline intent this sure of a message that asks nothing (a short complaint) keeps its way."""
ACCOUNT_CHARS = 60
"""A message this long is an account of a problem, not a question about a matter."""
_SENTENCE = re.compile(r"[。！？!?；;]")
_QUESTION = re.compile(
    r"怎么|怎样|如何|哪里|哪儿|在哪|去哪|找谁|哪个|哪家|哪些|哪种|什么|多久|多少|能否|可否|能不能|可不可以|吗|"
    r"几\s*[?？]?\s*$|[?？]\s*$"
)
_WHICH_IS_BEST = re.compile(
    r"哪(?:个|家|种|里|儿)?(?:比较|最|更)?(?:好|靠谱)|哪(?:个|家)[^，。？?！!\s]{1,4}(?:比较|最|更)(?:好|靠谱)"
)
"""哪家好 / 哪个比较好 / 哪家代理比较靠谱: a citizen asking for a recommendation, which no hotline ticket
answers (on the real hotline sets one message of 10,760 matches)."""
_TICKET = re.compile(r"工单|单号|12345|投诉|举报|反映|诉求|留言|回复")
"""Words of a genuine ticket-status question: it stays a ticket look-up."""
_PROCEDURE = re.compile(
    r"备案|报备|登记|审批|批准|许可|核准|预核|申请|申领|办理|手续|补助|补贴|资格|资质|证书|执照|注销|变更|"
    r"年审|年检|验收|认定|核定|鉴定|裁决|领取|怎么领|报名"
)
"""What a question about a procedure names: a filing, a registration, a permit, a subsidy, a licence."""
_GRIEVANCE = re.compile(
    r"为什么|为何|凭什么|没人|不管|不给|不予|不发|乱|违规|违法|非法|扰民|噪音|拖欠|欠薪|克扣|骗|差|坏|堵|漏|臭|脏|吵|偷|"
    r"拒|推诿|刁难|态度"
)
"""What a grievance says: a complaint asking 为什么没人管 is the hotline's, whatever procedure it names."""
_ASKS = re.compile(r"是不是|要不要|用不用|需不需要|需要不|有没有|咋|谁|[不没吧]\s*[?？]?\s*$")
"""Ways of asking that ``is_question`` leaves out (是不是要备案, 网上能弄不, 要先备案吧)."""


def is_account(text: str) -> bool:
    """Several sentences, or one long one: what a citizen writes to the hotline, not to the guide."""
    text = text.strip()
    return len(text) >= ACCOUNT_CHARS or len([s for s in _SENTENCE.split(text) if s.strip()]) >= 3


_FOLLOW_UP_WORDS = re.compile(
    r"那么|那|这个|这|它|还有|请问|我想问|想问|问一下|一下|需要|要|得|大概|多久|多长时间|几天|几个工作日|时限|"
    r"在哪里|在哪儿|在哪|哪里|哪儿|去哪|地点|地址|窗口|时间|多少钱|收费|费用|要钱|免费|网上|线上|手机上|"
    r"能不能|可不可以|办好|办下来|办完|下来|可以|能|跑几次|几次|几趟|什么|哪些|条件|流程|步骤|怎么|如何|办理|办|是|吗|呢|啊|呀|的|了|[\s，。？?！!、]"
)


def is_follow_up(text: str) -> bool:
    """那要多久 / 在哪办: a facet question that names nothing, so it is about the conversation's matter."""
    return not _FOLLOW_UP_WORDS.sub("", text)


def facet_matter(found: Answer, current: str | None, text: str) -> str | None:
    """The matter a facet question is about, or None (ask which): the gate's one matter; else the
    conversation's matter when the question names nothing else or the search of it ranks that matter;
    never the conversation's matter for a question about something else (房子过户要多久 after 燃气过户)."""
    if found.kind == "present":
        return found.decision.hits[0].external_id
    if not current or (found.kind in ("clarify", "ask_region") and current not in found.external_ids):
        return None
    searched = found.searched.hits if found.searched else []
    return current if is_follow_up(text) or current in {hit.external_id for hit in searched} else None


def guide_gate(found: Answer) -> bool:
    """Whether the answer may show a matter (a guide, a choice of matters or an FAQ): never a guess."""
    return found.kind in ("present", "clarify", "ask_region")


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


DIGRESSION_INTENTS = GUIDE_INTENTS | HOTLINE_INTENTS | {"check_ticket", "out_of_scope", "request_human", "goodbye"}
"""Intents whose rule takes the citizen somewhere else; small talk and yes/no are answers (or unclear)."""
ELSEWHERE_INTENTS = GUIDE_INTENTS | {"check_ticket", "out_of_scope"}
"""Intents whose rule answers a question elsewhere (a guide, a facet, a ticket's status, a decline): the
questions that are no answer to an open question of the complaint form."""
ANSWER_INTENTS = frozenset({"affirm", "deny"})
SMALL_TALK_INTENTS = frozenset({"greet", "thank", "chitchat"})
_ACKNOWLEDGE = re.compile(r"(好的|好吧|好滴|知道了|明白了|收到|了解了?|ok|OK)[，。！!~～\s]*(谢谢|多谢)?[。！!~～\s]*")


def is_digression(
    intent: str | None, text: str, understood: bool, *, free_text: bool = False, guide_fits: bool = False
) -> bool:
    """Whether a message in the middle of a form's question is a new request rather than a reply to it.

    ``understood``: the form's own reading of the text found an answer (有 / 没有 / 确认 / a correction).
    A question is a digression unless the classifier reads it as yes/no (有没有更快的办法？ starts with
    有, but is a question); an understood reply otherwise stays an answer.

    ``free_text``: the form asked an open question (what happened, where, when, a name, a phone), so any
    statement answers it, and so does a question that tells of the problem (a hotline intent or an
    account: 路灯坏了一个月，为什么没人修？). A question is new there when its intent's rule answers it
    elsewhere (a guide, a facet, a ticket's status, out of scope), or when the NLU could not place it
    but a guide of the catalogue fits it (``guide_fits``: the fallback then gives that guide)."""
    if text.startswith("/"):
        return intent not in ANSWER_INTENTS  # a button says exactly what was chosen
    if free_text:
        if not is_question(text) or is_account(text):
            return False
        return intent in ELSEWHERE_INTENTS or (intent == "nlu_fallback" and guide_fits)
    if is_question(text) and intent not in ANSWER_INTENTS:
        return True
    return not understood and intent in DIGRESSION_INTENTS


def is_small_talk(intent: str | None, text: str, understood: bool = False) -> bool:
    """谢谢 / 你好 / 好的 in the middle of a form: manners, not an answer and not a new request. The form
    answers politely and asks its question again. ``understood``: the form's own reading found an answer
    (有的，谢谢 answers, whatever the classifier says); a bare acknowledgement (好的, 知道了) answers
    nothing, though 好 reads as yes."""
    if text.startswith("/") or is_question(text):
        return False
    if _ACKNOWLEDGE.fullmatch(text.strip()):
        return True
    return intent in SMALL_TALK_INTENTS and not understood


_NUMBER_TYPED = re.compile(r"\d[\d\s\-－—–]{4,}\d")
"""Six or more digits (dashes and spaces between them allowed): a ticket number or a phone, however
malformed (12345热线 is no number typed)."""


def leaves_lookup(intent: str | None, confidence: float, text: str, *, guide_fits: bool = False) -> bool:
    """Whether a reply to the ticket look-up's question (the ticket number, then the phone) is something
    else: a new question or request, answered by its intent's rule while the look-up is left. A number
    typed, however malformed, never is (it gets the format hint; digits alone may read as goodbye);
    nor is a reply the NLU could not place or read as a ticket question (我不记得了, 工单号找不到了),
    unless it is a question ``route`` would give a confident guide (``guide_fits``, as the fallback
    would). Another intent leads elsewhere when it is 转人工, asks a question, or is sure of itself
    (``SURE_STATEMENT``): a statement it is unsure of stays, and gets the hint."""
    if text.startswith("/"):
        return intent not in ANSWER_INTENTS  # a button says exactly what was chosen
    if intent == "request_human":
        return True
    if _NUMBER_TYPED.search(text) or intent not in DIGRESSION_INTENTS | {"nlu_fallback"}:
        return False
    if intent in ("nlu_fallback", "check_ticket"):
        return guide_fits and is_question(text)
    return is_question(text) or confidence >= SURE_STATEMENT


def bare_phone(text: str) -> str | None:
    """The mobile number when the message is nothing else (13900001111, 139-0000-1111)."""
    return normalise_phone(text.strip().strip("。.，,！!"))


def account_to_intake(intent: str | None, text: str) -> bool:
    """An account of a problem (``is_account``) that the NLU could not place goes to the hotline intake,
    typed by the hotline classifier, rather than to 没太理解: real citizens' long messages about a school
    place, a broken registration page or a pyramid scheme in their estate are what the hotline takes, and
    a citizen who wrote one will not rephrase it. (A short message keeps the fallback: it asks again.)"""
    return intent == "nlu_fallback" and is_account(text)


def unsure_question(intent: str | None, confidence: float, text: str) -> bool:
    """A short question that a hotline or ticket-status intent reads without being sure of it
    (开饭店要办食品经营许可证吗 as complain 0.45, 快递丢了找谁赔 as seek_help 0.60, 手机话费怎么查 as
    check_ticket 0.45): a question about a matter, not a report of a problem nor a ticket's number.
    It goes to the find-guide action, which answers it when the catalogue holds it and otherwise
    declines honestly, with the hotline's 转人工 and 留言咨询 offered; a question in the hotline's own
    words (怎么投诉, 工单) keeps its intent. On the dev file every real complaint short enough to ask
    this is a statement, and every short question these intents took was a guide question or out of
    the catalogue. A question asking which one is best (驾校哪家好) is unsure however sure the intent
    is: the classifier reads the complaint's vocabulary (a school, a shop), the citizen wants advice."""
    if intent not in HOTLINE_INTENTS | {"check_ticket"} or is_account(text) or _TICKET.search(text):
        return False
    if asks_about_procedure(text):
        return True
    return is_question(text) and (confidence < SURE_STATEMENT or bool(_WHICH_IS_BEST.search(text)))


def asks_about_procedure(text: str) -> bool:
    """A question about a filing, a permit, a registration or a subsidy, without a grievance (塔吊验收后要去
    登记吗, 多招人的补助怎么领, 是不是还要去环保局备个案): a business owner or a citizen asking what to
    do, which DIET, having learnt from real complaints that name the same offices, reads as a complaint
    however sure it is. Short only: an account (``is_account``) stays the hotline's. On the real hotline
    sets (10,760 messages of 30–1000 characters) 72 match: 55 consultations, 9 泰迪杯, 5 complaints or
    requests for help, 3 suggestions."""
    asks = is_question(text) or bool(_ASKS.search(text))
    return asks and bool(_PROCEDURE.search(text)) and not _GRIEVANCE.search(text) and not is_account(text)


def route(intent: str | None, confidence: float, text: str, found: Answer) -> Route:
    """``guide`` when the catalogue's answer should be given instead of what the intent's rule does."""
    if intent == "check_ticket" and has_id_number(text) and not _TICKET.search(text):
        return "guide"
    if not guide_gate(found) and unsure_question(intent, confidence, text):
        return "guide"  # nothing to show: the find-guide action declines, with the hotline offered
    if not intent or intent not in DIVERTIBLE or not guide_gate(found) or is_account(text):
        return "intent"
    if found.elsewhere:
        return "intent"  # another region's matter is not confident enough to override what the citizen said
    sure = intent in HOTLINE_INTENTS and confidence >= SURE_STATEMENT
    if sure and not is_question(text) and not asks_about_procedure(text):
        return "intent"
    if intent == "check_ticket" and _TICKET.search(text):
        return "intent"
    return "guide"
