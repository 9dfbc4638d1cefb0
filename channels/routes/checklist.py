"""The 一次告知 checklist as a page of its own, for channels that can only send a link to it (WeChat).

Read-only, and only for the one checklist message the link's signed token names (``checklist_links``).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from banshi.config import get_settings
from channels.checklist_links import PATH, message_id_from
from channels.commit_first import CommitFirstRoute
from channels.deps import SessionDep
from common.conversations import ChatMessage

router = APIRouter(route_class=CommitFirstRoute, include_in_schema=False)

STATUS = {"have": "已备齐", "missing": "还缺", "not_applicable": "不适用"}
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body{{font:17px/1.6 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0 auto;max-width:40rem;
padding:1rem;color:#1a1a1a;background:#fff}}
h1{{font-size:1.3rem;margin:.2rem 0 .8rem}} h2{{font-size:1.1rem;margin:1.2rem 0 .4rem}}
ol{{padding-left:1.4rem}} li{{margin:.4rem 0}} .note{{color:#444}} a{{color:#0b57d0}}
.have{{color:#146c2e;font-weight:600}} .missing{{color:#b3261e;font-weight:600}} .not_applicable{{color:#444}}
dl{{display:grid;grid-template-columns:max-content 1fr;gap:.3rem .8rem}} dt{{font-weight:600}} dd{{margin:0}}
</style></head>
<body><main>{body}</main></body></html>"""


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=escape(title), body=body), status_code=status_code)


def _material(item: dict[str, Any]) -> str:
    mark = STATUS.get(str(item.get("status")))
    parts = [f"<strong>{escape(str(item.get('name') or ''))}</strong>"]
    if mark:
        parts.append(f'<span class="{escape(str(item["status"]))}">【{mark}】</span>')
    if item.get("required") is False:
        parts.append("（非必需）")
    counts = [
        f"原件{item['original_count']}份" if item.get("original_count") else "",
        f"复印件{item['copy_count']}份" if item.get("copy_count") else "",
    ]
    details = [c for c in counts if c] + [
        str(item[k]) for k in ("condition", "medium", "source", "note") if item.get(k)
    ]
    shared = [str(name) for name in item.get("matters") or []]
    if len(shared) > 1:  # 一件事: one paper for several matters
        details.append(f"{'、'.join(shared)}共用，只需准备一份")
    if details:
        parts.append(f'<div class="note">{escape("；".join(details))}</div>')
    return f"<li>{' '.join(parts)}</li>"


def _bundle(checklist: dict[str, Any]) -> str:
    """一件事: its matters in the order to do them, and the editor's note."""
    bundle = checklist.get("bundle") or {}
    matters = [m for m in bundle.get("matters") or [] if isinstance(m, dict)]
    if not matters and not bundle.get("note"):
        return ""
    items = "".join(f"<li>{escape(str(m.get('name') or ''))}</li>" for m in matters)
    note = f'<p class="note">{escape(str(bundle["note"]))}</p>' if bundle.get("note") else ""
    return (f"<h2>包含的事项（请按顺序办理）</h2><ol>{items}</ol>" if items else "") + note


def _facts(checklist: dict[str, Any]) -> str:
    limit = checklist.get("time_limit") or {}
    rows = [
        ("办理地点", checklist.get("location")),
        ("办理时间", checklist.get("hours")),
        ("承诺时限", f"{limit['promised_days']}个工作日" if limit.get("promised_days") else None),
        ("法定时限", f"{limit['legal_days']}个工作日" if limit.get("legal_days") else None),
        ("收费", checklist.get("fee")),
        ("到现场次数", f"{checklist['visits']}次" if checklist.get("visits") not in (None, "") else None),
        ("咨询电话", checklist.get("phone")),
    ]
    cells = "".join(f"<dt>{name}</dt><dd>{escape(str(value))}</dd>" for name, value in rows if value)
    online = checklist.get("online_url")
    if online:
        cells += f'<dt>网上办理</dt><dd><a href="{escape(online)}">{escape(online)}</a></dd>'
    return f"<dl>{cells}</dl>" if cells else ""


@router.get(PATH, response_class=HTMLResponse)
def checklist_page(session: SessionDep, t: Annotated[str, Query(max_length=400)] = "") -> HTMLResponse:
    message_id = message_id_from(t, get_settings().wechat_link_days * 86400) if t else None
    message = session.get(ChatMessage, message_id) if message_id else None
    if message is None or message.kind != "checklist":
        body = "<h1>链接无效或已过期</h1><p>请回到对话中重新询问，助手会再发给您一份清单。</p>"
        return _page("链接无效或已过期", body, 404)
    checklist = message.payload or {}
    matter = checklist.get("matter") or {}
    name = str(matter.get("name") or "办事事项")
    department = f"（{escape(str(matter['department']))}）" if matter.get("department") else ""
    materials = "".join(_material(m) for m in checklist.get("materials") or [] if isinstance(m, dict))
    source = matter.get("source_url")
    body = (
        f"<h1>一次告知：{escape(name)}{department}</h1>"
        f"{_bundle(checklist)}"
        f"<h2>申请材料</h2><ol>{materials or '<li>无需提交材料</li>'}</ol>"
        f"<h2>办理须知</h2>{_facts(checklist)}"
        + (f'<p>办事指南原文：<a href="{escape(source)}">{escape(source)}</a></p>' if source else "")
    )
    return _page(f"一次告知：{name}", body)
