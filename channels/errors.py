"""Errors in Chinese: the page shows ``message`` (or ``detail``) to the citizen as it is.

The 422 body keeps FastAPI's shape (``detail``: a list of {loc, msg, type}), so clients written against
the OpenAPI schema still parse it; only ``msg`` is translated, and ``message`` joins them in one line.

A database that cannot be reached (PostgreSQL restarting, a connection cut) or is locked past its wait
is a passing state, not a bug: the request gets 503 with ``Retry-After`` and a polite sentence instead of
a 500 (bench/faults.py counted 500s while PostgreSQL restarted).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from channels.admission import database_busy, refuse_busy_database
from channels.params import MAX_INT

log = logging.getLogger(__name__)
DATABASE_UNAVAILABLE = "系统正在恢复，请稍候几秒再试"
DATABASE_RETRY_AFTER = 3

FIELD_NAMES = {
    "text": "消息",
    "score": "评分",
    "number": "工单编号",
    "comment": "评价内容",
    "after": "after",
    "channel": "来源",
    "question": "问题",
    "questions": "问题列表",
    "expected_external_id": "预期事项编号",
    "drafts": "含草稿",
    "region": "办理地点",
    "limit": "条数",
    "offset": "起始位置",
    "answer": "答复内容",
    "matter_external_id": "事项编号",
    "external_id": "事项编号",
    "name": "名称",
    "department": "实施部门",
    "city": "市",
    "county": "区县",
    "aliases": "别名",
    "note": "说明",
    "status": "状态",
    "version": "版本",
    "base_version": "基础版本",
    "publish": "是否发布",
    "handoff_id": "转人工会话编号",
    "ticket_id": "工单编号",
    "faq_id": "常见问题编号",
    "set_id": "测试集编号",
    "run_id": "测试运行编号",
    "group_id": "问题组编号",
    "agent_id": "坐席编号",
    "page": "页码",
    "size": "每页条数",
    "from": "起始版本",
    "to": "目标版本",
}


def _chinese(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing":
        return "缺少必填项"
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少需要 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"不能超过 {ctx.get('max_length')} 个字符"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于{'等于' if kind == 'greater_than' else ''} {ctx.get('ge', ctx.get('gt'))}"
    if kind == "less_than_equal" and ctx.get("le") == MAX_INT:
        return "超出范围"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于{'等于' if kind == 'less_than' else ''} {ctx.get('le', ctx.get('lt'))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "必须是整数"
    if kind in ("float_parsing", "float_type"):
        return "必须是数字"
    if kind in ("string_type",):
        return "必须是文字"
    if kind == "literal_error":
        return f"只能是 {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return "格式不正确"
    if kind in ("json_invalid", "model_attributes_type", "dict_type", "model_type"):
        return "请求内容不是有效的 JSON 对象"
    if kind == "value_error":
        return str(ctx.get("error") or error.get("msg", "")).removeprefix("Value error, ")
    return "内容不正确"


def _field(loc: tuple | list) -> str:
    names = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return "、".join(FIELD_NAMES.get(n, n) for n in names)


def unprocessable(message: str, *loc: str) -> HTTPException:
    """A 422 a route finds itself (an unreadable upload), in the validation errors' shape, so its body is
    what the OpenAPI schema says every 422 is."""
    return HTTPException(422, detail=[{"loc": list(loc), "msg": message, "type": "value_error"}])


async def validation_error_in_chinese(_request: Request, exc: RequestValidationError) -> JSONResponse:
    detail = []
    for error in exc.errors():
        field, msg = _field(error.get("loc", ())), _chinese(error)
        shown = f"{field}{msg}" if field else msg
        detail.append({"loc": error.get("loc", ()), "msg": shown, "type": error.get("type")})
    message = "；".join(d["msg"] for d in detail) or "请求内容不正确"
    return JSONResponse(status_code=422, content=jsonable_encoder({"detail": detail, "message": message}))


async def database_unavailable(request: Request, exc: OperationalError) -> JSONResponse:
    """Any database error a route did not handle: a 503 the citizen can act on, never a 500. A busy SQLite
    write lock is load (the overload refusal); anything else is the database being away (restarting)."""
    if database_busy(exc):
        return refuse_busy_database(request)
    log.error("database unavailable during %s %s: %s", request.method, request.url.path, exc.orig)
    return JSONResponse(
        {"detail": DATABASE_UNAVAILABLE, "message": DATABASE_UNAVAILABLE},
        status_code=503,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
    )
