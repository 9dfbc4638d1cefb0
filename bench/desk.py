"""How long the desk takes when many citizens ask for a person at the same instant.

    .venv/bin/python bench/desk.py                                   # a fresh SQLite database in a temp dir
    .venv/bin/python bench/desk.py --database-url postgresql+psycopg://user@host/empty_db

Each citizen does what the gateway does on 转人工: ``request_handoff`` in one transaction, then
``run_desk`` in the next, all released together by a barrier, each on its own connection. It prints the
wall time until every citizen's two transactions are done, each citizen's p50 / p95 / max, and checks
the outcome the race test asserts (each assigned once, nobody over capacity). Bounded: one round.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import sessionmaker  # noqa: E402

from banshi.config import Settings  # noqa: E402
from banshi.db import make_engine, migrate  # noqa: E402
from common import conversations as conv  # noqa: E402
from common.users import User  # noqa: E402
from hotline import desk, handoffs  # noqa: E402
from hotline.assignment import run_desk  # noqa: E402
from hotline.classifier import classify  # noqa: E402
from hotline.models import Handoff  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--citizens", type=int, default=50)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--capacity", type=int, default=10)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='banshi-desk-')}/desk.db"
    migrate(url)
    engine = make_engine(url, pool_size=args.citizens, max_overflow=0)
    factory = sessionmaker(engine, expire_on_commit=False)
    rules = Settings(desk_max_conversations=args.capacity)
    classify("预热")  # the model and sklearn loaded once, before the clock starts
    with factory() as session, session.begin():
        for i in range(args.agents):
            user = User(username=f"bench-agent-{i}", display_name=f"坐席{i}", password_hash="-", role="agent")
            session.add(user)
            session.flush()
            desk.set_status(session, user.id, "online")
        ids = []
        for i in range(args.citizens):
            conversation = conv.start_conversation(session)
            conv.add_message(session, conversation.id, "citizen", "text", f"小区门口夜间施工噪音扰民，第{i}号楼")
            ids.append(conversation.id)

    took: list[float] = []
    together = threading.Barrier(args.citizens + 1, timeout=60)

    def citizen(conversation_id: str) -> None:
        with factory() as session:
            session.connection()
            together.wait()
            start = time.perf_counter()
            handoffs.request_handoff(session, conversation_id, reason="request_human")
            session.commit()
            run_desk(session, settings=rules)
            session.commit()
            took.append(time.perf_counter() - start)

    threads = [threading.Thread(target=citizen, args=(cid,)) for cid in ids]
    for thread in threads:
        thread.start()
    together.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout=300)
    wall = time.perf_counter() - start

    with factory() as session:
        rows = session.scalars(select(Handoff)).all()
    load = Counter(h.agent_id for h in rows if h.status == "claimed")
    took.sort()
    print(f"{engine.dialect.name}: {args.citizens} citizens, {args.agents} agents, capacity {args.capacity}")
    print(f"all done in {wall:.2f} s; per citizen p50 {statistics.median(took) * 1000:.0f} ms, "
          f"p95 {took[int(0.95 * (len(took) - 1))] * 1000:.0f} ms, max {took[-1] * 1000:.0f} ms")  # fmt: skip
    print(f"handoffs {len(rows)}, assigned {sum(load.values())}, most per agent {max(load.values(), default=0)}")
    engine.dispose()


if __name__ == "__main__":
    main()
