"""The conversation's messages as WeChat text, and a citizen's typed answer back to the button it picks.

A WeChat text reply has no buttons: a bot's buttons become numbered choices the citizen answers with
a digit (or the title), a button carrying a web address becomes a link, and the checklist becomes a
short line plus a link to its page. Everything is built from the stored payloads, not the bot's wording.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.conversations import ChatMessage

MAX_BYTES = 2000
"""WeChat cuts a text message at 2048 bytes (UTF-8); longer answers go out as several messages."""
CHOICE_HINT = "（回复数字即可选择）"
NON_TEXT = "抱歉，目前只能处理文字消息，请用文字描述您要办理的事情或反映的问题。"

ChecklistLink = Callable[[int], str]


def _is_link(payload: str) -> bool:
    return payload.startswith(("http://", "https://"))


def _buttons(message: ChatMessage) -> str:
    buttons = (message.payload or {}).get("buttons") or []
    lines, number = [], 0
    for button in buttons:
        title, payload = str(button.get("title") or ""), str(button.get("payload") or "")
        if _is_link(payload):
            lines.append(f"{title}：{payload}")
        else:
            number += 1
            lines.append(f"{number}. {title}")
    head = [message.text] if message.text else []
    hint = [CHOICE_HINT] if number else []
    return "\n".join([*head, *lines, *hint])


def _checklist(message: ChatMessage, link: ChecklistLink) -> str:
    payload = message.payload or {}
    matter = payload.get("matter") or {}
    name = matter.get("name") or "办事事项"
    department = f"（{matter['department']}）" if matter.get("department") else ""
    materials = payload.get("materials") or []
    missing = [str(m.get("name")) for m in materials if m.get("status") == "missing"]
    lines = [f"【一次告知】{name}{department}", f"共需准备{len(materials)}项材料。"]
    if missing:
        lines.append(f"您还缺：{'、'.join(missing)}。")
    if payload.get("location"):
        lines.append(f"办理地点：{payload['location']}")
    if payload.get("online_url"):
        lines.append(f"网上办理：{payload['online_url']}")
    lines.append(f"完整清单（材料、时限、收费）：{link(message.id)}")
    return "\n".join(lines)


def _ticket(message: ChatMessage, before: Sequence[str]) -> str | None:
    payload = message.payload or {}
    number = str(payload.get("number") or "")
    if message.text:
        return message.text
    if not number or any(number in text for text in before):
        return None  # the bot's own sentence already gave the number
    status = f"，当前状态：{payload['status']}" if payload.get("status") else ""
    return f"工单编号：{number}{status}。可凭编号和手机号码查询办理进度。"


def wechat_texts(messages: Sequence[ChatMessage], link: ChecklistLink) -> list[str]:
    """Each message the citizen should read, as WeChat text (their own messages and ratings left out)."""
    texts: list[str] = []
    for message in messages:
        if message.sender == "citizen" or message.kind == "rating":
            continue
        if message.kind == "buttons":
            text = _buttons(message)
        elif message.kind == "checklist":
            text = _checklist(message, link)
        elif message.kind == "ticket":
            text = _ticket(message, texts)
        else:
            text = message.text
        if text:
            texts.append(text)
    return texts


def split_for_wechat(texts: Sequence[str], max_bytes: int = MAX_BYTES) -> list[str]:
    """Joins the texts into as few WeChat messages as fit, cutting an over-long one at line ends."""
    pieces: list[str] = []
    for text in texts:
        line_buffer = ""
        for line in text.split("\n"):
            while len(line.encode()) > max_bytes:  # one line too long for a message: cut it hard
                cut = len(line.encode()[:max_bytes].decode(errors="ignore"))
                pieces.append(line[:cut])
                line = line[cut:]
            candidate = f"{line_buffer}\n{line}" if line_buffer else line
            if len(candidate.encode()) > max_bytes:
                pieces.append(line_buffer)
                candidate = line
            line_buffer = candidate
        if line_buffer:
            pieces.append(line_buffer)
    out: list[str] = []
    for piece in pieces:
        joined = f"{out[-1]}\n\n{piece}" if out else piece
        if out and len(joined.encode()) <= max_bytes:
            out[-1] = joined
        else:
            out.append(piece)
    return out


_NUMBER = re.compile(r"^(\d{1,2})[.。、)）]?$")


def chosen_button(session: Session, conversation_id: str, text: str) -> tuple[str, str] | None:
    """(payload, title) of the last buttons offered that the citizen's answer picks: its number or its title.

    Only buttons of the bot's last turn count (those after the citizen's last message), so a "1" long
    after a question is just a "1".
    """
    last_citizen = session.scalar(
        select(ChatMessage.id)
        .where(ChatMessage.conversation_id == conversation_id, ChatMessage.sender == "citizen")
        .order_by(ChatMessage.id.desc())
        .limit(1)
    )
    offered = session.scalar(
        select(ChatMessage)
        .where(
            ChatMessage.conversation_id == conversation_id,
            ChatMessage.sender.in_(("bot", "system")),  # system: the gateway's 留言 offer out of hours
            ChatMessage.kind == "buttons",
            ChatMessage.id > (last_citizen or 0),
        )
        .order_by(ChatMessage.id.desc())
        .limit(1)
    )
    if offered is None:
        return None
    choices = [
        (str(b.get("payload")), str(b.get("title")))
        for b in (offered.payload or {}).get("buttons") or []
        if b.get("payload") and not _is_link(str(b["payload"]))
    ]
    answer = unicodedata.normalize("NFKC", text).strip()
    number = _NUMBER.match(answer)
    if number and 1 <= int(number.group(1)) <= len(choices):
        return choices[int(number.group(1)) - 1]
    return next(((p, t) for p, t in choices if t == answer), None)
