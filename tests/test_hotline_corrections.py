"""An agent's correction of a ticket's type or category becomes a training example, and training uses it.

Through the real staff API with a logged-in agent and the real database; training on the shared
messages (``shared`` marker, skipped without ../shared) with the corrections the database holds.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.training import SHARED_HOTLINE, TYPE_FILE
from tests.conftest import ROOT
from tests.staff_api import login
from tests.test_console_api import _waiting_conversation, app, session  # noqa: F401  (fixtures)

needs_hotline_data = pytest.mark.skipif(
    not (SHARED_HOTLINE / TYPE_FILE).is_file(), reason="../shared/data/hotline is absent"
)

PARCEL_FEES = [  # the city's agents file parcel-locker fees under 商贸旅游; the shared model says 交通运输
    "小区快递柜超时就收费，取个快递还要另外交钱",
    "快递柜保管费太贵了，放几个小时就开始扣钱",
    "驿站取快递要收一块钱，不给钱就不让拿",
    "快递公司不送货上门，全部塞进收费的快递柜",
    "快递柜超过12小时收费，上班族根本来不及取",
    "小区里的快递驿站乱收费，每件收两元",
    "快递员不打电话直接放进快递柜，还要我付费",
    "快递柜收费不合理，希望有关部门管一管",
]
UNSEEN_PARCEL_FEE = "快递驿站乱收保管费，不交钱不给取件"


def _ticket_ids(session, texts: list[str]) -> list[int]:  # noqa: F811  (the fixture's name)
    from tests.hotline_helpers import ticket

    ids = [ticket(session, content=text, phone="13877001234").id for text in texts]
    session.commit()
    return ids


def test_an_agents_category_correction_is_stored_as_a_labelled_example(app, session):  # noqa: F811
    from hotline.corrections import labelled_examples
    from hotline.models import LabelExample

    agent = login(app, "agent1")
    [ticket_id] = _ticket_ids(session, [PARCEL_FEES[0]])
    before = agent.get(f"/api/v1/tickets/{ticket_id}").json()["category"]
    refused = agent.put(f"/api/v1/tickets/{ticket_id}/category", json={"category": "火星"})
    assert refused.status_code == 400
    assert session.scalars(select(LabelExample)).all() == [], "a refused correction teaches nothing"

    changed = agent.put(f"/api/v1/tickets/{ticket_id}/category", json={"category": "商贸旅游"})
    assert changed.status_code == 200 and changed.json()["category"] == "商贸旅游"
    session.expire_all()
    [example] = session.scalars(select(LabelExample)).all()
    assert (example.text, example.category, example.type) == (PARCEL_FEES[0], "商贸旅游", None)
    assert example.ticket_id == ticket_id and example.predicted == before and example.actor_id is not None
    examples = labelled_examples(session)
    assert (examples.category_texts, examples.category_labels) == ([PARCEL_FEES[0]], ["商贸旅游"])


def test_an_agents_type_correction_on_a_chat_ticket_is_stored_in_the_models_classes(app, session):  # noqa: F811
    from hotline.corrections import labelled_examples
    from hotline.models import LabelExample

    agent = login(app, "agent1")
    _conversation_id, handoff_id = _waiting_conversation(session)
    agent.post(f"/api/v1/agent/handoffs/{handoff_id}/claim")
    draft = agent.get(f"/api/v1/agent/handoffs/{handoff_id}/ticket-draft").json()
    assert draft["type"] == "投诉"
    made = agent.post(f"/api/v1/agent/handoffs/{handoff_id}/ticket", json={"type": "建议"})
    assert made.status_code == 201, made.text
    session.expire_all()
    [example] = session.scalars(select(LabelExample)).all()
    assert example.type == "建议" and example.predicted == "投诉" and example.ticket_id == made.json()["id"]
    assert "夜间施工噪音" in example.text and "13877001234" not in example.text, "numbers masked"
    assert labelled_examples(session).type_labels == ["建言"]  # the type head's class for 建议


@pytest.mark.shared
@needs_hotline_data
def test_banshi_hotline_train_learns_the_agents_corrections(app, session, data_dir, tmp_path):  # noqa: F811
    from hotline.classifier import HotlineClassifier, load_classifier

    def train(out: Path) -> HotlineClassifier:
        env = {**os.environ, "BANSHI_DATA_DIR": str(data_dir)}
        command = [sys.executable, "-m", "banshi.cli", "hotline", "train", "--out", str(out), "--limit", "400",
                   "--no-refit-all"]  # fmt: skip
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr
        return load_classifier(out)

    before = train(tmp_path / "before" / "classifier.npz")
    assert before.classify(UNSEEN_PARCEL_FEE).top_category != "商贸旅游"

    agent = login(app, "agent1")
    for ticket_id in _ticket_ids(session, PARCEL_FEES):
        assert agent.put(f"/api/v1/tickets/{ticket_id}/category", json={"category": "商贸旅游"}).status_code == 200
    after = train(tmp_path / "after" / "classifier.npz")
    assert after.metadata["corrections"]["category"] == len(PARCEL_FEES)
    assert after.classify(UNSEEN_PARCEL_FEE).top_category == "商贸旅游"
    assert after.classify("楼下烧烤店油烟太大，晚上开窗全是烟味").top_category != "商贸旅游", (
        "only similar messages move"
    )
