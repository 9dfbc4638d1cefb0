"""Editors never block citizens: a long hit-test set run leaves the database free for chat turns.

Measured before the fix: a 200-question set run held SQLite's write lock for the whole run, so a
citizen's message waited behind it (and failed with "database is locked" after the busy timeout),
and deleting the set during its run failed on a foreign key. The fixtures are test_hittest's: the
sample catalogue, the real SQLite database, the ``use`` embedder and a fake Rasa parse.
"""

from __future__ import annotations

import json
import threading
import time

from sqlalchemy import func, select

from tests.conftest import SAMPLE_CATALOGUE
from tests.staff_api import login
from tests.test_hittest import app, rasa, session  # noqa: F401  (the fixtures)

QUESTIONS = 200
WRITE_WITHIN = 2.0
"""Seconds a citizen's message may take to be stored while the run goes on."""


def _set_of_200(editor) -> int:
    """200 questions from the sample catalogue's names and aliases, each expecting its matter."""
    pool = []
    for line in SAMPLE_CATALOGUE.read_text(encoding="utf-8").splitlines():
        matter = json.loads(line)
        for text in [matter["name"], *matter.get("aliases", [])]:
            pool.append({"question": text[:500], "expected_external_id": matter["external_id"]})
    questions = [pool[i % len(pool)] for i in range(QUESTIONS)]
    created = editor.post("/api/v1/hittest/sets", json={"name": "两百问", "questions": questions})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _run_in_background(app, set_id: int) -> tuple[threading.Thread, dict]:  # noqa: F811
    editor, outcome = login(app, "editor1"), {}

    def run() -> None:
        started = time.monotonic()
        outcome["response"] = editor.post(f"/api/v1/hittest/sets/{set_id}/run")
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_citizens_write_freely_while_a_200_question_set_runs(app, rasa):  # noqa: F811
    editor = login(app, "editor1")
    set_id = _set_of_200(editor)
    thread, outcome = _run_in_background(app, set_id)
    while rasa.calls < 5:  # the run is under way
        time.sleep(0.01)
    waits, failures = _citizen_writes_while(thread)
    thread.join()

    response = outcome["response"]
    assert response.status_code == 201, response.text
    assert response.json()["total"] == QUESTIONS and rasa.calls >= QUESTIONS
    assert failures == []  # "database is locked" is what citizens used to get
    assert len(waits) >= 5, f"the run took {outcome['seconds']:.1f}s: too short to overlap the citizen"
    assert max(waits) < WRITE_WITHIN, f"a citizen's message waited {max(waits):.2f}s behind the run"
    shown = editor.get(f"/api/v1/hittest/sets/{set_id}/runs/{response.json()['id']}").json()
    assert shown["total"] == QUESTIONS and shown["results"][0]["expected_found"] is not None


def test_deleting_a_set_during_its_run_stops_the_run_cleanly(app, rasa, session):  # noqa: F811
    from channels.hittest import HitTest, HitTestRun

    editor = login(app, "editor1")
    set_id = _set_of_200(editor)
    thread, outcome = _run_in_background(app, set_id)
    while rasa.calls < 10:
        time.sleep(0.01)
    started = time.monotonic()
    deleted = editor.delete(f"/api/v1/hittest/sets/{set_id}")
    assert deleted.status_code == 204, deleted.text
    assert time.monotonic() - started < WRITE_WITHIN
    thread.join(60)
    assert not thread.is_alive()

    stopped = outcome["response"]
    assert stopped.status_code == 404, stopped.text
    assert stopped.json()["detail"] == "该测试集已在运行期间被删除，本次运行已停止"
    assert rasa.calls < QUESTIONS, "the run stopped instead of testing every question"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(HitTestRun)) == 0
    assert session.scalar(select(func.count()).select_from(HitTest)) == 0
    assert editor.get("/api/v1/hittest/sets").json() == []


def _citizen_writes_while(busy: threading.Thread) -> tuple[list[float], list[str]]:
    """Stores a citizen's message every 50 ms, each in its own short transaction as the relay does, until
    ``busy`` ends; how long each took and what failed."""
    from banshi.db import session_scope
    from common.conversations import add_message, start_conversation

    with session_scope() as citizen_session:
        conversation_id = start_conversation(citizen_session).id
    waits, failures = [], []
    while busy.is_alive():
        started = time.monotonic()
        try:
            with session_scope() as citizen_session:
                add_message(citizen_session, conversation_id, "citizen", "text", "身份证丢了怎么补办")
        except Exception as exc:
            failures.append(repr(exc))
        waits.append(time.monotonic() - started)
        time.sleep(0.05)
    return waits, failures


def test_citizens_write_freely_while_a_bulk_import_is_confirmed(app):  # noqa: F811
    import io

    editor = login(app, "editor1")
    originals = [json.loads(line) for line in SAMPLE_CATALOGUE.read_text(encoding="utf-8").splitlines()]
    rows = [
        {**item, "external_id": f"{item['external_id']}-{n}", "name": f"{item['name']}（{n}）"}
        for n in range(4)
        for item in originals
    ]
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).encode()
    uploaded = editor.post("/api/v1/imports", files={"file": ("批量.jsonl", io.BytesIO(content))})
    assert uploaded.status_code == 201 and uploaded.json()["new"] == len(rows), uploaded.text
    outcome = {}

    def confirm() -> None:
        started = time.monotonic()
        outcome["response"] = editor.post(f"/api/v1/imports/{uploaded.json()['id']}/confirm", json={"publish": True})
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=confirm)
    thread.start()
    time.sleep(0.2)  # the import is under way
    waits, failures = _citizen_writes_while(thread)
    thread.join()

    response = outcome["response"]
    assert response.status_code == 200, response.text
    assert len(response.json()["created"]) == len(rows) and response.json()["conflicts"] == []
    assert failures == []
    assert len(waits) >= 5, f"the import took {outcome['seconds']:.1f}s: too short to overlap the citizen"
    assert max(waits) < WRITE_WITHIN, f"a citizen's message waited {max(waits):.2f}s behind the import"
