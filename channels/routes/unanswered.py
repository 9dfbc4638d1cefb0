"""未解决问题 for editors: citizens' unanswered questions, grouped by meaning, and what to do about each group.

Groups are computed on request from the open questions with the gateway's own embedder (the one its
index uses), so no model or job runs in the background; a group is named by its first question's id,
which stays valid until the group is acted on. Every action leaves an audit entry (who, what, when) through
``knowledge.unanswered.resolve``, besides the entries its matter or FAQ change writes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from banshi.config import get_settings
from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import GUARDED, IndexDep, SessionDep, require_role
from channels.params import Id
from channels.routes.faqs import unknown_matter
from common.clock import UtcDateTime
from knowledge import curation, faqs
from knowledge import unanswered as uq
from knowledge.schema import MatterIn
from knowledge.versions import VersionError

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/unanswered",
    tags=["unanswered"],
    responses=GUARDED,
    dependencies=[Depends(require_role("editor"))],
)
EditorUser = Annotated[UserOut, Depends(require_role("editor"))]

GROUP_GONE = "未找到该问题组（可能已被处理），请刷新列表"
SHOWN_QUESTIONS = 20


class QuestionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    question: str
    reason: uq.Reason
    conversation_id: str | None
    created_at: UtcDateTime


class GroupOut(BaseModel):
    id: int
    representative: str
    count: int
    reasons: dict[str, int]
    """Reason → how many questions of the group; labels in ``reason_labels``."""
    reason_labels: dict[str, str] = Field(default_factory=lambda: dict(uq.REASON_LABELS))
    last_at: UtcDateTime
    questions: list[QuestionOut]
    """The newest few; ``count`` says how many there are."""


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AliasAction(_Action):
    action: Literal["alias"]
    external_id: str = Field(min_length=1, max_length=100, description="加为哪个事项的别名")
    aliases: list[str] | None = Field(None, description="要添加的别名；不填则用本组的代表问题")

    @field_validator("aliases")
    @classmethod
    def _sensible(cls, items: list[str] | None) -> list[str] | None:
        if items is None:
            return None
        cleaned = [item.strip() for item in items if item and item.strip()]
        if not cleaned:
            raise ValueError("别名不能为空")
        if any(len(item) > 100 for item in cleaned):
            raise ValueError("每个别名不能超过 100 个字符")
        return list(dict.fromkeys(cleaned))


class FaqAction(_Action):
    action: Literal["faq"]
    external_id: str = Field(min_length=1, max_length=100, description="答复引用的事项编号")
    answer: str = Field(min_length=1, max_length=5000)
    question: str | None = Field(None, min_length=2, max_length=300, description="不填则用本组的代表问题")


class OutOfScopeAction(_Action):
    action: Literal["out_of_scope"]
    note: str | None = Field(None, max_length=500, description="为什么不属于办事指南，例如：咨询个人纠纷")


class NewMatterAction(_Action):
    action: Literal["new_matter"]
    matter: MatterIn


ActionIn = Annotated[AliasAction | FaqAction | OutOfScopeAction | NewMatterAction, Field(discriminator="action")]


class ActionOut(BaseModel):
    action: str
    resolved: int
    """How many questions of the group were marked resolved."""
    external_id: str | None = None
    published: bool = False
    """True when citizens get the fix now (alias on a published matter, FAQ); False for a draft."""
    faq_id: int | None = None
    version: int | None = None


def _group_out(group: uq.Group) -> GroupOut:
    newest = sorted(group.questions, key=lambda q: q.id, reverse=True)[:SHOWN_QUESTIONS]
    return GroupOut(
        id=group.id,
        representative=group.representative,
        count=group.count,
        reasons=group.reasons,
        last_at=group.last_at,
        questions=[QuestionOut.model_validate(q) for q in newest],
    )


def _groups(session, index) -> list[uq.Group]:
    return uq.group_questions(session, index.embedder, get_settings().unanswered_group_threshold)


@router.get("/groups", response_model=list[GroupOut], summary="未解决问题（按相似问题分组，频次高的在前）")
def groups(
    session: SessionDep,
    index: IndexDep,
    limit: Annotated[int, Query(ge=1, le=500, description="最多返回多少组")] = 100,
) -> list[GroupOut]:
    return [_group_out(g) for g in _groups(session, index)[:limit]]


@router.post(
    "/groups/{group_id}/actions",
    response_model=ActionOut,
    responses={404: {"description": GROUP_GONE}, 409: {"description": "无法执行（例如事项编号已存在）"}},
    summary="处理一组问题：加为别名、加为常见问题、标记为不属于办事范围、新建事项草稿",
)
def act(group_id: Id, body: ActionIn, session: SessionDep, index: IndexDep, user: EditorUser):
    group = next((g for g in _groups(session, index) if any(q.id == group_id for q in g.questions)), None)
    if group is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=GROUP_GONE)
    out = ActionOut(action=body.action, resolved=group.count)
    details: dict[str, Any] = {}
    try:
        match body:
            case AliasAction():
                aliases = body.aliases or [group.representative]
                out.published = curation.add_alias(session, body.external_id, aliases, author=user.username)
                out.external_id = body.external_id
                details = {"aliases": aliases, "published": out.published}
            case FaqAction():
                item = faqs.FaqIn(
                    question=body.question or group.representative,
                    answer=body.answer,
                    matter_external_id=body.external_id,
                )
                try:
                    faq = faqs.create_faq(session, item, author=user.username)
                except faqs.UnknownMatter:
                    return unknown_matter(body.external_id, field="external_id")
                out.faq_id, out.external_id, out.published = faq.id, body.external_id, True
                details = {"faq_id": faq.id, "question": item.question}
            case OutOfScopeAction():
                added = uq.mark_out_of_scope(
                    session, [q.question for q in group.questions], author=user.username, note=body.note
                )
                details = {"note": body.note, "phrasings_added": added}
            case NewMatterAction():
                out.version = curation.new_matter_draft(session, body.matter, author=user.username)
                out.external_id = body.matter.external_id
                details = {"name": body.matter.name, "version": out.version}
    except curation.MatterMissing:
        return unknown_matter(body.external_id, field="external_id")
    except (curation.CurationError, VersionError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    uq.resolve(
        session, group.questions, body.action, author=user.username, target=out.external_id,
        representative=group.representative, details=details,
    )  # fmt: skip
    return out
