"""The desk that assigns itself: who gets the next waiting conversation or new ticket.

Policy only; every move is made by its owner (``hotline.handoffs.assign_handoff`` /
``return_unanswered``, ``hotline.claims.assign_ticket``, ``hotline.desk``). The rule, per item, oldest
conversation (or most urgent ticket) first:

1. only online agents (``hotline.desk``) under their capacity: ``desk_max_conversations`` live
   conversations, ``desk_max_tickets`` tickets on their desk (待受理 / 已受理; dispatched ones are with
   the department);
2. by skill: an agent whose skills name the item's category or its department comes first; a
   generalist (no skills) next; an item with no category, or 其他, goes to anyone. Nobody else;
3. among equals, the lowest load, then the one served longest ago (round-robin).

Every run starts by locking all agents' desk rows (``desk.lock_desk``), so assigners on any number of
gateways count loads one at a time and nobody is given more than their capacity. A conversation whose
agent did not write within ``desk_answer_minutes`` goes back to the queue, and the agent is set away
(``未应答``) so it does not come straight back to them; the supervisors' board shows both.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from banshi.config import Settings, get_settings
from common.clock import utcnow
from common.users import User
from hotline import claims, desk, handoffs
from hotline.classifier import OTHER_CATEGORY
from hotline.lifecycle import Actor
from hotline.models import AgentDesk, Handoff, Ticket

log = logging.getLogger(__name__)

DESK_TICKET_STATUSES = ("待受理", "已受理")
"""The tickets that wait on an agent (rather than on a department): they count against capacity."""
ASSIGNED_STATUS = "待受理"
"""Only new tickets are assigned by the desk; one that comes back (退回) stays with its agent."""
BATCH = 200


@dataclass
class DeskRun:
    """What one run did, by id: for the logs and the tests."""

    returned: list[int] = field(default_factory=list)
    conversations: list[tuple[int, int]] = field(default_factory=list)
    """(handoff id, agent's user id)."""
    tickets: list[tuple[int, int]] = field(default_factory=list)
    """(ticket id, agent's user id)."""


def department_of(category: str | None, settings: Settings) -> str | None:
    return settings.category_departments.get(category) if category else None


def skill_rank(skills: list[str], category: str | None, department: str | None) -> int | None:
    """0: a specialist for the item; 1: may take it; None: not theirs."""
    if skills and (category in skills or (department and department in skills)):
        return 0
    if not skills or category in (None, OTHER_CATEGORY):
        return 1
    return None


def choose(
    agents: list[AgentDesk],
    load: dict[int, int],
    capacity: int,
    category: str | None,
    department: str | None,
    *,
    skip: int | None = None,
) -> AgentDesk | None:
    """The agent the rule picks, or None when every agent who may take it is full."""
    ranked = []
    for agent in agents:
        rank = skill_rank(agent.skills or [], category, department)
        if rank is None or agent.user_id == skip or load.get(agent.user_id, 0) >= capacity:
            continue
        served = agent.last_assigned_at or datetime.min
        ranked.append(((rank, load.get(agent.user_id, 0), served, agent.user_id), agent))
    return min(ranked, key=lambda pair: pair[0])[1] if ranked else None


def conversation_load(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Handoff.agent_id, func.count()).where(Handoff.status == "claimed").group_by(Handoff.agent_id)
    )
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


def ticket_load(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(Ticket.assigned_agent, func.count())
        .where(Ticket.status.in_(DESK_TICKET_STATUSES), Ticket.assigned_agent.is_not(None))
        .group_by(Ticket.assigned_agent)
    )
    return {agent_id: count for agent_id, count in rows}


def _users(session: Session, agents: list[AgentDesk]) -> dict[int, User]:
    ids = [a.user_id for a in agents]
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def _return_unanswered(session: Session, now: datetime, settings: Settings, run: DeskRun) -> None:
    cutoff = now - timedelta(minutes=settings.desk_answer_minutes)
    overdue = session.scalars(
        select(Handoff.id).where(Handoff.status == "claimed", Handoff.assigned_at <= cutoff).order_by(Handoff.id)
    ).all()
    for handoff_id in overdue:
        try:
            with session.begin_nested():
                handoff = handoffs.return_unanswered(session, handoff_id, cutoff, now=now)
        except handoffs.HandoffConflict:
            continue  # the agent answered in time after all
        run.returned.append(handoff_id)
        if handoff.returned_from is not None:
            with suppress(desk.DeskError):  # no longer desk staff: nothing to set away
                desk.set_status(session, handoff.returned_from, "away", reason=desk.MISSED, now=now)


def _assign_conversations(
    session: Session, agents: list[AgentDesk], now: datetime, settings: Settings, run: DeskRun
) -> None:
    load, users = conversation_load(session), _users(session, agents)
    waiting = session.scalars(
        select(Handoff).where(Handoff.status == "waiting").order_by(Handoff.created_at, Handoff.id).limit(BATCH)
    ).all()
    for handoff in waiting:
        category = handoff.category
        agent = choose(
            agents,
            load,
            settings.desk_max_conversations,
            category,
            department_of(category, settings),
            skip=handoff.returned_from,
        )
        if agent is None:
            continue
        try:
            with session.begin_nested():
                handoffs.assign_handoff(session, handoff.id, users[agent.user_id], now=now)
        except handoffs.HandoffError:
            continue  # claimed by hand, or closed, since the list was read
        load[agent.user_id] = load.get(agent.user_id, 0) + 1
        desk.served(agent, now)
        run.conversations.append((handoff.id, agent.user_id))


def _assign_tickets(session: Session, agents: list[AgentDesk], now: datetime, settings: Settings, run: DeskRun) -> None:
    if settings.desk_max_tickets == 0:
        return
    load, users = ticket_load(session), _users(session, agents)
    new = session.scalars(
        select(Ticket)
        .where(Ticket.status == ASSIGNED_STATUS, Ticket.assigned_agent.is_(None))
        .order_by(case((Ticket.priority == "urgent", 0), else_=1), Ticket.due_at, Ticket.id)
        .limit(BATCH)
    ).all()
    for ticket in new:
        department = ticket.department or department_of(ticket.category, settings)
        agent = choose(agents, load, settings.desk_max_tickets, ticket.category, department)
        if agent is None or not claims.assign_ticket(
            session, ticket.id, Actor.model_validate(users[agent.user_id]), now=now
        ):
            continue
        load[agent.user_id] = load.get(agent.user_id, 0) + 1
        desk.served(agent, now)
        run.tickets.append((ticket.id, agent.user_id))


def has_work(session: Session, now: datetime, settings: Settings) -> bool:
    """Cheap, without locks: whether a run could do anything, so an idle desk takes no write lock. An
    answer clock has run out; or an agent is online and a conversation waits or a new ticket is unassigned."""
    cutoff = now - timedelta(minutes=settings.desk_answer_minutes)
    work = [exists().where(Handoff.status == "waiting")]
    if settings.desk_max_tickets:
        work.append(exists().where(Ticket.status == ASSIGNED_STATUS, Ticket.assigned_agent.is_(None)))
    late = exists().where(Handoff.status == "claimed", Handoff.assigned_at <= cutoff)
    return bool(session.scalar(select(or_(late, and_(exists().where(AgentDesk.status == "online"), or_(*work))))))


def run_desk(session: Session, *, now: datetime | None = None, settings: Settings | None = None) -> DeskRun:
    """One pass of the desk, in the caller's transaction: unanswered conversations back to the queue,
    then waiting conversations and new tickets to online agents. Safe to run anywhere at any time."""
    now, settings, run = now or utcnow(), settings or get_settings(), DeskRun()
    if not has_work(session, now, settings):
        return run
    desk.lock_desk(session)  # before any handoff or ticket: one assigner at a time, one lock order
    _return_unanswered(session, now, settings, run)
    agents = desk.lock_desk(session)  # again: an agent just set away is no longer online
    if agents:
        _assign_conversations(session, agents, now, settings, run)
        _assign_tickets(session, agents, now, settings, run)
    session.flush()
    if run.returned or run.conversations or run.tickets:
        log.info(
            "desk: %d back to the queue, %d conversations and %d tickets assigned",
            len(run.returned),
            len(run.conversations),
            len(run.tickets),
        )
    return run
