"""Small builders shared by the hotline tests: staff without slow hashing, tickets, and lifecycle moves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from common.users import User
from hotline import lifecycle
from hotline.lifecycle import Actor
from hotline.models import Ticket
from hotline.tickets import TicketIn, create_ticket

ADMIN = Actor(id=None, username="console-admin", display_name="小王", role="admin")
"""An admin acting from the console without an account row: enough to move a handoff in a test."""


def staff(session: Session, username: str, role: str = "agent", name: str | None = None) -> Actor:
    """A user row with a placeholder hash: these tests are about tickets, not passwords."""
    user = User(username=username, display_name=name or username, password_hash="-", role=role)
    session.add(user)
    session.flush()
    return Actor.model_validate(user)


def ticket(session: Session, *, now: datetime | None = None, **overrides) -> Ticket:
    data = {"type": "投诉", "content": "小区门口夜间施工噪音扰民", "location": "港口区渔洲坪", "phone": "13877001234"}
    return create_ticket(session, TicketIn(**{**data, **overrides}), now=now)


PATH_TO = {
    "待受理": [],
    "已受理": ["受理"],
    "已派单": ["受理", "派单"],
    "办理中": ["受理", "派单", "签收"],
    "已办结": ["受理", "派单", "签收", "办结"],
    "已回访": ["受理", "派单", "签收", "办结", "回访"],
}


def do(session: Session, item: Ticket, actor: Actor, action: str, **kwargs):
    """Runs one lifecycle action by its Chinese name, with a plausible argument where one is required."""
    match action:
        case "受理":
            return lifecycle.accept(session, item, actor, **kwargs)
        case "派单":
            department = kwargs.pop("department", "港口区住房和城乡建设局")
            return lifecycle.dispatch(session, item, actor, department, **kwargs)
        case "签收":
            return lifecycle.start(session, item, actor, **kwargs)
        case "办结":
            return lifecycle.resolve(session, item, actor, kwargs.pop("resolution", "已责令施工方夜间停工"), **kwargs)
        case "回访":
            return lifecycle.revisit(session, item, actor, kwargs.pop("rating", 5), **kwargs)
        case "退回":
            return lifecycle.send_back(session, item, actor, kwargs.pop("reason", "不属于本部门职责"), **kwargs)
        case "延期":
            return lifecycle.extend(session, item, actor, kwargs.pop("reason", "需现场勘查"), **kwargs)
        case "督办":
            return lifecycle.supervise(session, item, actor, **kwargs)
    raise AssertionError(action)


def bring_to(session: Session, item: Ticket, actor: Actor, status: str) -> Ticket:
    for action in PATH_TO[status]:
        do(session, item, actor, action)
    assert item.status == status
    return item
