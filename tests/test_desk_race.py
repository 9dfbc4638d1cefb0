"""50 citizens ask for a person at the same instant with 5 agents online, on SQLite and PostgreSQL: each
conversation is assigned once, nobody goes over capacity, and what is left waits."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from banshi.config import Settings
from common import conversations as conv
from hotline import desk, handoffs
from hotline.assignment import run_desk
from hotline.classifier import classify
from hotline.models import Handoff
from tests.hotline_helpers import staff
from tests.test_claims import database, postgres_server  # noqa: F401  (fixtures: each database kind)

CITIZENS, AGENTS, CAPACITY = 50, 5, 8
RULES = Settings(desk_max_conversations=CAPACITY)


@pytest.mark.usefixtures("database")
def test_fifty_conversations_at_once_each_assigned_once_and_nobody_over_capacity(request):
    from banshi.db import make_engine

    engine = make_engine(request.getfixturevalue("database"), pool_size=CITIZENS, max_overflow=0)
    factory = sessionmaker(engine, expire_on_commit=False)
    classify("预热")  # the model and sklearn loaded once, before the race: not what is measured
    with factory() as session, session.begin():
        agents = [staff(session, f"agent{i}") for i in range(AGENTS)]
        for agent in agents:
            desk.set_status(session, agent.id, "online")
        conversation_ids = []
        for i in range(CITIZENS):
            conversation = conv.start_conversation(session)
            conv.add_message(session, conversation.id, "citizen", "text", f"小区门口夜间施工噪音扰民，第{i}号楼")
            conversation_ids.append(conversation.id)

    errors: list[BaseException] = []
    together = threading.Barrier(CITIZENS, timeout=60)

    def citizen(conversation_id: str) -> None:
        """What the gateway does on 转人工: queue in one transaction, run the desk in the next."""
        try:
            with factory() as session:
                session.connection()
                together.wait()
                handoffs.request_handoff(session, conversation_id, reason="request_human")
                session.commit()
                run_desk(session, settings=RULES)
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=citizen, args=(cid,)) for cid in conversation_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    with factory() as session:
        rows = session.scalars(select(Handoff)).all()
        assert len(rows) == CITIZENS, "one handoff per citizen"
        load = Counter(h.agent_id for h in rows if h.status == "claimed")
        assert sorted(load) == sorted(a.id for a in agents), "every agent was given work"
        assert max(load.values()) <= CAPACITY and sum(load.values()) == AGENTS * CAPACITY
        assert Counter(h.status for h in rows) == {
            "claimed": AGENTS * CAPACITY,
            "waiting": CITIZENS - AGENTS * CAPACITY,
        }
        for handoff in rows:
            conversation = session.get(conv.Conversation, handoff.conversation_id)
            assert (conversation.mode, conversation.agent_id) == (
                ("agent", handoff.agent_id) if handoff.status == "claimed" else ("waiting", None)
            )
            joined = [m for m in conv.messages_since(session, handoff.conversation_id) if m.sender == "system"]
            assert len(joined) == (handoff.status == "claimed"), "assigned once: the citizen is told once"
        waiting_before = session.scalar(select(func.count()).where(Handoff.status == "waiting"))
    with factory() as session, session.begin():
        assert run_desk(session, settings=RULES).conversations == [], "everyone is full: nothing more"
    assert waiting_before == CITIZENS - AGENTS * CAPACITY
    engine.dispose()
