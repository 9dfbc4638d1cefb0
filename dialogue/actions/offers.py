"""The buttons the dialogue offers (a matter to choose, by name or by place; the hotline) and the honest
decline that offers the hotline. Shared by the find-guide and facet actions and the handoff actions.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from common.tickets import LEAVE_MESSAGE_BUTTON
from dialogue.actions.session import state_outcome
from retriever import Hit

NOT_FOUND_TEXT = (
    "抱歉，我没有在办事指南库里找到与您的问题相符的事项，不想给您错误的指引。"
    "您可以换个说法再问一次，也可以转人工客服，或者留言咨询，由12345热线工作人员答复您。"
)
HOTLINE_BUTTONS = [
    {"title": "转人工", "payload": "/request_human"},
    LEAVE_MESSAGE_BUTTON,
]


def choose_payload(external_id: str) -> str:
    return "/choose_matter" + json.dumps({"matter_id": external_id}, ensure_ascii=False)


def choose_button(hit: Hit, title: str | None = None) -> dict[str, str]:
    return {"title": title or hit.name, "payload": choose_payload(hit.external_id)}


def place_of(hit: Hit) -> str:
    """The most specific place of a hit: 港口区 out of 广西壮族自治区防城港市港口区, else the city."""
    region = re.sub(r"^.*?(自治区|省)", "", hit.region)
    city_end = region.find("市")
    if 0 <= city_end < len(region) - 1:
        return region[city_end + 1 :]
    return region or hit.department


def elsewhere_text(region: str) -> str:
    """Said before another region's matter, when the citizen's region lists no such matter."""
    return f"{region}暂未收录这个事项，以下是其他地区的办事指南，办理前请先电话确认是否可以跨区域办理。"


def decline(dispatcher: CollectingDispatcher, kind: str = "not_found") -> list[dict[str, Any]]:
    """Nothing confident (``not_found``), or a question editors ruled out of scope (``out_of_scope``):
    the citizen hears the same honest decline either way, with the hotline offered."""
    dispatcher.utter_message(text=NOT_FOUND_TEXT, buttons=HOTLINE_BUTTONS)
    state_outcome(dispatcher, kind)
    return [SlotSet("unanswered", True)]
