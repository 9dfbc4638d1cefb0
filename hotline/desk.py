"""Agents at the desk: online or away, their skills, and their turn in the round-robin (``AgentDesk``).

The only writer of ``agent_desk``. An agent sets themselves online or away; the desk sets them away
when they leave an assigned conversation unanswered (``hotline.assignment``); a supervisor sets their
skills. Assignment locks every row here first (``lock_desk``), so two assigners, on any number of
gateways, never count an agent's load at the same time: the row locks are the desk's one queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from banshi.db import hold_write_lock
from common.clock import utcnow
from common.users import DESK_ROLES, User
from hotline.models import AgentDesk

Status = Literal["online", "away"]
MISSED = "未应答"
"""``away_reason`` when the desk set an agent away for not answering an assigned conversation."""
MAX_SKILLS = 20


class DeskError(ValueError):
    """Not someone the desk can assign to; the message is shown as it is."""


def desk_of(session: Session, user_id: int) -> AgentDesk | None:
    return session.get(AgentDesk, user_id)


def _row(session: Session, user_id: int, now: datetime) -> AgentDesk:
    user = session.get(User, user_id)
    if user is None or not user.active or user.role not in DESK_ROLES:
        raise DeskError("该账号不是在岗坐席")
    hold_write_lock(session)
    row = session.get(AgentDesk, user_id, with_for_update=True, populate_existing=True)
    if row is None:
        row = AgentDesk(user_id=user_id, status="away", skills=[], changed_at=now)
        session.add(row)
        session.flush()
    return row


def set_status(
    session: Session, user_id: int, status: Status, *, reason: str | None = None, now: datetime | None = None
) -> AgentDesk:
    """Online: the desk may give them work from now on. Away: it gives them nothing new; what they hold stays."""
    now = now or utcnow()
    row = _row(session, user_id, now)
    if row.status != status or row.away_reason != reason:
        row.status, row.away_reason, row.changed_at = status, reason if status == "away" else None, now
        session.flush()
    return row


def sign_off(session: Session, user_id: int, *, now: datetime | None = None) -> None:
    """Signing out sets an online agent away: nobody is given work at a console nobody is looking at."""
    row = session.get(AgentDesk, user_id)
    if row is not None and row.status == "online":
        set_status(session, user_id, "away", now=now)


def set_skills(session: Session, user_id: int, skills: list[str], *, now: datetime | None = None) -> AgentDesk:
    """Categories or departments, in the order given, without blanks or repeats; empty makes a generalist."""
    cleaned = list(dict.fromkeys(s.strip() for s in skills if s.strip()))
    if len(cleaned) > MAX_SKILLS:
        raise DeskError(f"技能最多 {MAX_SKILLS} 项")
    row = _row(session, user_id, now or utcnow())
    row.skills = cleaned
    session.flush()
    return row


def lock_desk(session: Session) -> list[AgentDesk]:
    """Every agent's row, locked in one order (``FOR UPDATE``; SQLite's write lock): the online ones are
    returned (active desk staff only), fresh from the database, for one assigner to count and serve."""
    hold_write_lock(session)
    rows = session.scalars(
        select(AgentDesk).order_by(AgentDesk.user_id).with_for_update().execution_options(populate_existing=True)
    ).all()
    online = {r.user_id for r in rows if r.status == "online"}
    if not online:
        return []
    staff = set(
        session.scalars(select(User.id).where(User.id.in_(online), User.active.is_(True), User.role.in_(DESK_ROLES)))
    )
    return [r for r in rows if r.user_id in staff]


def served(row: AgentDesk, now: datetime) -> None:
    """The agent was given work: among equals, the others come first next time."""
    row.last_assigned_at = now
