"""The desk: an agent sets themselves online or away; supervisors see the board and set agents' skills.

Routes only parse, call ``hotline.desk`` / ``hotline.assignment`` / ``hotline.board`` and shape the
answer. Going online runs the desk at once (after the status is committed, in a transaction of its
own: the run locks every agent's row, the status change only one), so an agent who comes online is
given the waiting conversations without waiting for the desk's clock.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banshi.config import get_settings
from banshi.db import session_scope
from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import BAD_VALUE, GUARDED, AgentUser, SessionDep, require_role
from channels.params import Id
from hotline import assignment, board, desk

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/desk",
    tags=["desk"],
    responses={**GUARDED, **BAD_VALUE},
    dependencies=[Depends(require_role("agent"))],
)
SupervisorUser = Annotated[UserOut, Depends(require_role("supervisor"))]
"""Supervisors and admins: the board and the agents' skills."""


class PlaceOut(BaseModel):
    """One agent's place at the desk."""

    user_id: int
    status: Literal["online", "away"]
    away_reason: str | None
    """未应答 when the desk set them away for leaving an assigned conversation unanswered."""
    skills: list[str]
    conversations: int
    tickets: int
    max_conversations: int
    max_tickets: int


class StatusIn(BaseModel):
    status: Literal["online", "away"]


class SkillsIn(BaseModel):
    skills: list[Annotated[str, Field(max_length=100)]] = Field(max_length=desk.MAX_SKILLS)
    """Ticket categories (城乡建设…) or departments (生态环境局…); empty makes a generalist."""


def _place(session: Session, user_id: int) -> PlaceOut:
    settings, row = get_settings(), desk.desk_of(session, user_id)
    return PlaceOut(
        user_id=user_id,
        status=row.status if row else "away",
        away_reason=row.away_reason if row else None,
        skills=list(row.skills or []) if row else [],
        conversations=assignment.conversation_load(session).get(user_id, 0),
        tickets=assignment.ticket_load(session).get(user_id, 0),
        max_conversations=settings.desk_max_conversations,
        max_tickets=settings.desk_max_tickets,
    )


def _refused(exc: desk.DeskError) -> HTTPException:
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc))


@router.get("/me", response_model=PlaceOut, summary="我的在线状态与负荷")
def my_place(session: SessionDep, user: AgentUser) -> PlaceOut:
    return _place(session, user.id)


@router.put("/me", response_model=PlaceOut, summary="设置在线 / 离开")
def set_my_status(body: StatusIn, user: AgentUser) -> PlaceOut:
    """Away keeps the conversations and tickets already held; online is given work at once."""
    with session_scope() as session:  # committed before the desk runs: the run locks every agent's row
        try:
            desk.set_status(session, user.id, body.status)
        except desk.DeskError as exc:
            raise _refused(exc) from exc
    with session_scope() as session:
        if body.status == "online":
            assignment.run_desk(session)
    with session_scope() as session:
        return _place(session, user.id)


@router.get("/board", response_model=board.Board, summary="班长看板：排队、接待中、坐席负荷、临近超时")
def desk_board(session: SessionDep, user: SupervisorUser) -> board.Board:
    return board.board(session)


@router.put("/agents/{user_id}/skills", response_model=PlaceOut, summary="设置坐席技能（班长）")
def set_skills(user_id: Id, body: SkillsIn, session: SessionDep, user: SupervisorUser) -> PlaceOut:
    try:
        desk.set_skills(session, user_id, body.skills)
    except desk.DeskError as exc:
        raise _refused(exc) from exc
    return _place(session, user_id)


@router.put("/agents/{user_id}/status", response_model=PlaceOut, summary="将坐席置为离开（班长）")
def set_agent_away(user_id: Id, body: StatusIn, session: SessionDep, user: SupervisorUser) -> PlaceOut:
    """A supervisor may only send an agent away (someone who left without saying); coming online is the
    agent's own click, so nobody is given work at a desk they are not at."""
    if body.status != "away":
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="只有坐席本人可以设置为在线")
    try:
        desk.set_status(session, user_id, "away")
    except desk.DeskError as exc:
        raise _refused(exc) from exc
    return _place(session, user_id)
