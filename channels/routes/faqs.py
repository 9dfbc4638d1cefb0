"""FAQ entries for editors: a question, its answer and the matter the answer cites.

A published FAQ is searched as part of its matter, so creating, changing or deleting one reaches
every index through the catalogue change log, and every change is in the audit log (``knowledge.faqs``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import GUARDED, SessionDep, require_role
from channels.params import Id
from knowledge import faqs
from knowledge.faqs import FaqIn, FaqOut, UnknownMatter

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/faqs",
    tags=["faqs"],
    responses=GUARDED,
    dependencies=[Depends(require_role("editor"))],
)
EditorUser = Annotated[UserOut, Depends(require_role("editor"))]

NOT_FOUND = "未找到该常见问题"


def unknown_matter(external_id: str, field: str = "matter_external_id") -> JSONResponse:
    """The same 422 shape as a validation error, so the form shows it under the matter field."""
    msg = f"关联事项不存在：{external_id}"
    detail = [{"loc": ["body", field], "msg": msg, "type": "value_error"}]
    return JSONResponse(status_code=422, content=jsonable_encoder({"detail": detail, "message": msg}))


def _faq(session, faq_id: int) -> faqs.Faq:
    found = faqs.get_faq(session, faq_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    return found


@router.get("", response_model=list[FaqOut], summary="常见问题列表")
def list_faqs(
    session: SessionDep,
    matter: Annotated[str | None, Query(max_length=100, description="只看引用该事项的")] = None,
    faq_status: Annotated[Literal["published", "draft"] | None, Query(alias="status")] = None,
) -> list[FaqOut]:
    return [faqs.out(session, f) for f in faqs.list_faqs(session, matter=matter, status=faq_status)]


@router.post(
    "",
    response_model=FaqOut,
    status_code=status.HTTP_201_CREATED,
    summary="新建常见问题",
    responses={422: {"description": "内容不正确或关联事项不存在"}},
)
def create(body: FaqIn, session: SessionDep, user: EditorUser):
    try:
        faq = faqs.create_faq(session, body, author=user.username)
    except UnknownMatter:
        return unknown_matter(body.matter_external_id)
    return faqs.out(session, faq)


@router.get("/{faq_id}", response_model=FaqOut, responses={404: {"description": NOT_FOUND}}, summary="常见问题")
def show(faq_id: Id, session: SessionDep) -> FaqOut:
    return faqs.out(session, _faq(session, faq_id))


@router.put("/{faq_id}", response_model=FaqOut, responses={404: {"description": NOT_FOUND}}, summary="修改常见问题")
def update(faq_id: Id, body: FaqIn, session: SessionDep, user: EditorUser):
    found = _faq(session, faq_id)
    try:
        faq = faqs.update_faq(session, found, body, author=user.username)
    except UnknownMatter:
        return unknown_matter(body.matter_external_id)
    return faqs.out(session, faq)


@router.delete(
    "/{faq_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": NOT_FOUND}},
    summary="删除常见问题",
)
def delete(faq_id: Id, session: SessionDep, user: EditorUser) -> Response:
    faqs.delete_faq(session, _faq(session, faq_id), author=user.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
