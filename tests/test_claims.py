"""Claims decided by the database: many agents at once, exactly one winner, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from hotline import claims, handoffs
from hotline.lifecycle import Actor
from hotline.models import Handoff, Ticket, TicketEvent
from tests.hotline_helpers import bring_to, staff, ticket
from tests.services import postgres, postgres_bindir

CLAIMERS = 24


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    if postgres_bindir() is None:
        pytest.skip("PostgreSQL is not installed")
    with postgres() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, data_dir) -> str:
    """A migrated, empty database of each kind; each PostgreSQL test gets a database of its own."""
    from banshi.db import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'claims.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = server.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    return url


@pytest.fixture
def factory(database) -> Iterator[sessionmaker[Session]]:
    from banshi.db import make_engine

    engine = make_engine(database, poolclass=NullPool)  # every session its own connection
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def race(factory: sessionmaker[Session], agents: list[Actor], claim: Callable[[Session, Actor], bool]) -> list[bool]:
    """Every agent claims at the same instant from its own connection; the list says who won."""
    results: list[bool | BaseException] = [False] * len(agents)
    ready = threading.Barrier(len(agents))

    def run(index: int) -> None:
        try:
            with factory() as session:
                session.connection()  # connect before the barrier, so the claims really overlap
                ready.wait(timeout=60)
                results[index] = claim(session, agents[index])
                session.commit()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(agents))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return results


def _agents(factory: sessionmaker[Session], count: int) -> list[Actor]:
    with factory() as session, session.begin():
        return [staff(session, f"agent{i:02d}") for i in range(count)]


def test_many_agents_claim_one_ticket_and_exactly_one_wins(factory):
    agents = _agents(factory, CLAIMERS)
    with factory() as session, session.begin():
        ticket_id = ticket(session).id
    results = race(factory, agents, lambda s, agent: claims.claim_ticket(s, ticket_id, agent))
    assert results.count(True) == 1
    winner = agents[results.index(True)]
    with factory() as session:
        assert session.get(Ticket, ticket_id).assigned_agent == winner.id
        claim_events = session.scalars(select(TicketEvent).where(TicketEvent.action == "认领")).all()
        assert [(e.actor_id, e.ticket_id) for e in claim_events] == [(winner.id, ticket_id)]


def test_many_agents_claim_one_waiting_conversation_and_exactly_one_wins(factory):
    agents = _agents(factory, CLAIMERS)
    with factory() as session, session.begin():
        handoff_id = handoffs.request_handoff(
            session,
            "conv-1",
            transcript=[{"from": "citizen", "text": "我要找人工，电话13877001234"}],
            slots={"ticket_type": "投诉"},
            reason="用户要求人工",
        ).id
    results = race(factory, agents, lambda s, agent: _won(handoffs.claim_handoff, s, handoff_id, agent))
    assert results.count(True) == 1
    with factory() as session:
        handoff = session.get(Handoff, handoff_id)
        assert (handoff.status, handoff.agent_id) == ("claimed", agents[results.index(True)].id)
        assert handoff.claimed_at is not None and handoff.slots == {"ticket_type": "投诉"}


def test_release_reclaim_and_closed_tickets(factory):
    with factory() as session, session.begin():
        first, second, admin = staff(session, "a"), staff(session, "b"), staff(session, "boss", role="admin")
        item = ticket(session)
        assert claims.claim_ticket(session, item.id, first)
        assert item.assigned_agent == first.id  # the loaded object sees the claim
        assert not claims.claim_ticket(session, item.id, second)
        assert not claims.release_ticket(session, item.id, second)  # not theirs to give back
        assert claims.release_ticket(session, item.id, first)
        assert item.assigned_agent is None
        assert claims.claim_ticket(session, item.id, second)
        assert claims.release_ticket(session, item.id, admin)
        done = bring_to(session, ticket(session), admin, "已办结")
        assert not claims.claim_ticket(session, done.id, first)


def _won(move: Callable[..., object], session: Session, *args: object) -> bool:
    """True when the move was made, False when ``hotline.handoffs`` refused it (someone else was first)."""
    try:
        move(session, *args)
    except handoffs.HandoffConflict:
        return False
    return True


def test_handoff_lifecycle_and_masked_waiting_list(factory):
    with factory() as session, session.begin():
        agent, other = staff(session, "a"), staff(session, "b")
        first = handoffs.request_handoff(session, "conv-9", transcript=[{"text": "身份证450602199001011234"}])
        assert handoffs.request_handoff(session, "conv-9").id == first.id  # asking twice waits once
        [waiting] = handoffs.waiting_handoffs(session)
        assert "450602199001011234" not in waiting.model_dump_json()
        assert _won(handoffs.claim_handoff, session, first.id, agent)
        assert handoffs.waiting_handoffs(session) == []
        assert not _won(handoffs.close_handoff, session, first.id, other)
        assert _won(handoffs.close_handoff, session, first.id, agent)
        assert first.status == "closed" and first.closed_at is not None
        assert not _won(handoffs.claim_handoff, session, first.id, other)
        assert handoffs.request_handoff(session, "conv-9").id != first.id  # a new request after closing


def test_migration_from_0002_keeps_old_tickets_and_gives_them_a_history(data_dir, request):
    """Upgrade, downgrade and upgrade again on a database that already holds a ticket."""
    from alembic import command
    from alembic.config import Config

    from banshi.db import MIGRATIONS, make_engine

    urls = [f"sqlite:///{data_dir / 'old.db'}"]
    if postgres_bindir() is not None:
        urls.append(request.getfixturevalue("postgres_server"))
    for url in urls:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("sqlalchemy.url", url)
        cfg.attributes["configure_logger"] = False
        command.upgrade(cfg, "0002")
        engine = make_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO tickets (number, type, content, phone, slots, status, created_at, updated_at) "
                    "VALUES ('12345-20261120-0001', '投诉', '噪音', '13877001234', '{}', '待受理', "
                    "'2026-11-20 01:00:00', '2026-11-20 01:00:00')"
                )
            )
        command.upgrade(cfg, "head")
        with Session(engine) as session:
            old = session.scalar(select(Ticket))
            assert (old.priority, old.supervised, old.due_at, old.assigned_agent) == ("normal", False, None, None)
            [event] = session.scalars(select(TicketEvent)).all()
            assert (event.ticket_id, event.action, event.to_status) == (old.id, "登记", "待受理")
        command.downgrade(cfg, "0002")
        command.upgrade(cfg, "head")
        engine.dispose()


ROUNDS = int(os.environ.get("BANSHI_RACE_ROUNDS", "400"))
"""Each round is one conversation two agents act on at once; 400 plays each of the 75 pairs of moves
and holders 5 times (set more to hunt a rare race, fewer to try the test itself quickly)."""
MOVES = ("claim", "transfer", "close", "bot", "reply")


def _move(session: Session, move: str, handoff_id: int, actor: Actor, other: Actor) -> bool:
    """One agent's click in the console, as the route makes it; False when refused."""
    calls = {
        "claim": lambda: handoffs.claim_handoff(session, handoff_id, actor),
        "transfer": lambda: handoffs.transfer_handoff(session, handoff_id, actor, other.id),
        "close": lambda: handoffs.close_handoff(session, handoff_id, actor),
        "bot": lambda: handoffs.hand_back_to_bot(session, handoff_id, actor),
        "reply": lambda: handoffs.reply_to_handoff(session, handoff_id, actor, "您好"),
    }
    try:
        calls[move]()
    except handoffs.HandoffError:
        return False
    return True


def _disagreement(handoff: Handoff, conversation) -> str | None:
    """What the console (the handoff) and the citizen's page (the conversation) would see differently."""
    expected = {
        "waiting": (("waiting",), None),
        "claimed": (("agent",), handoff.agent_id),
        "closed": (("bot", "closed"), conversation.agent_id),
    }[handoff.status]
    if conversation.mode in expected[0] and conversation.agent_id == expected[1]:
        return None
    return f"handoff {handoff.status}/{handoff.agent_id}, conversation {conversation.mode}/{conversation.agent_id}"


@pytest.mark.slow
def test_two_agents_moving_one_conversation_always_leave_it_in_agreement(database):
    """1,000 rounds: a conversation waits (or A or B holds it), then A and B click at the same instant, each
    one of claim / transfer / close / back to bot / reply. Whatever wins, the handoff and the conversation
    must tell the same story, at most one claim succeeds, and the citizen is told of each move once."""
    from sqlalchemy import event

    from banshi.db import make_engine
    from common import conversations as conv

    engine = make_engine(database, pool_size=4)
    if engine.dialect.name == "sqlite":  # durability is not under test: no fsync per commit, so 1,000 rounds are quick
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA synchronous=OFF"))
    factory = sessionmaker(engine, expire_on_commit=False)
    holders = (None, "a", "b")  # the conversation waits, or A or B talks to the citizen when both click
    rounds = [(MOVES[i % 5], MOVES[(i // 5) % 5], holders[(i // 25) % 3]) for i in range(ROUNDS)]
    with factory() as session, session.begin():
        a, b = staff(session, "race-a"), staff(session, "race-b")
        ids = []
        for _move_a, _move_b, held in rounds:
            conversation = conv.start_conversation(session)
            conv.add_message(session, conversation.id, "citizen", "text", "转人工")
            ids.append(handoffs.request_handoff(session, conversation.id, reason="request_human").id)
            if held:
                handoffs.claim_handoff(session, ids[-1], a if held == "a" else b)
    won: dict[tuple[int, str], bool] = {}
    errors: list[BaseException] = []
    together = threading.Barrier(2, timeout=60)

    def agent(name: str, actor: Actor, other: Actor) -> None:
        try:
            for number, moves in enumerate(rounds):
                together.wait()  # both agents click on this conversation at the same instant
                with factory() as session, session.begin():
                    won[number, name] = _move(session, moves[0 if name == "a" else 1], ids[number], actor, other)
        except BaseException as exc:
            errors.append(exc)
            together.abort()

    workers = [threading.Thread(target=agent, args=args) for args in (("a", a, b), ("b", b, a))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not errors, errors
    with factory() as session:
        for number, (move_a, move_b, held) in enumerate(rounds):
            handoff = session.get(Handoff, ids[number])
            conversation = session.get(conv.Conversation, handoff.conversation_id)
            why = _disagreement(handoff, conversation)
            assert why is None, f"round {number} ({move_a} / {move_b}, held={held}): {why}"
            made = [move for move, name in ((move_a, "a"), (move_b, "b")) if won[number, name]]
            assert made.count("claim") <= 1 or held, (number, made)
            told = [m.text for m in conv.messages_since(session, conversation.id) if m.sender == "system"]
            # a claim by the agent who already holds the conversation says nothing
            moved = (held is not None) + sum(move not in ("reply", "claim") for move in made)
            assert moved <= len(told) <= moved + made.count("claim"), (number, made, told)
    engine.dispose()
