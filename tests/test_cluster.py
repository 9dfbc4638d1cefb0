"""Two replicas of each process behind HAProxy (banshi.cluster), on PostgreSQL and Redis: citizens file
complaints through HAProxy's gateway port while one gateway, one Rasa server and one action server are
killed with ``kill -9``. Every conversation goes on, in order, with one ticket each; HAProxy takes the
dead replicas out and puts them back once they are restarted. The confirmations are then answered by
the restarted Rasa alone: no replica keeps a conversation in memory, and the scale-out setting (trackers
in PostgreSQL, the lock store in Redis, endpoints.scale.yml) is chosen by configuration alone. Two turns
of one conversation sent at once to the two gateways are answered one after the other, Rasa's tracker
keeps both, and a live stream on either gateway shows them.
A publish is seen by the next questions on every action server."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from banshi.cluster import Cluster, Layout, backend_status
from banshi.stack import Ports
from bench.publish import TARGET, add_editor, chat_shows, editor_client, material_name, publish, save_new_version
from tests.rasa_stack import SAMPLE_CATALOGUE, trained_model
from tests.services import free_port, postgres, postgres_bindir, redis
from tests.sse import events

pytestmark = [
    pytest.mark.slow,
    pytest.mark.model,
    pytest.mark.skipif(postgres_bindir() is None, reason="PostgreSQL is not installed"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="HAProxy is not installed (make system-packages)"),
]
CITIZENS = 4
PHONE = "13800138000"
ANSWERS = [("什么地点", "港口区渔洲坪路口"), ("什么时候", "上个月开始"), ("怎么称呼", "匿名"), ("手机号码", PHONE)]


def _ports() -> Ports:
    return Ports(gateway=free_port(), rasa=free_port(), actions=free_port())


class Citizen:
    """One citizen on the chat API through HAProxy; remembers every text it sent, in order."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=120)
        response = self.client.post("/api/v1/conversations")
        assert response.status_code == 201, response.text
        self.id = response.json()["id"]
        self.sent: list[str] = []
        self.replies: list[dict] = []

    def say(self, text: str, payload: str | None = None) -> list[dict]:
        body = {"text": text, **({"payload": payload} if payload else {})}
        response = self.client.post(f"/api/v1/conversations/{self.id}/messages", json=body)
        assert response.status_code == 200, f"{self.id}: {response.status_code} {response.text}"
        self.sent.append(text)
        self.replies = response.json()
        assert re.fullmatch("cb+", _turns(self.replies)), f"{self.id} got {self.replies}"
        return self.replies

    def answer(self) -> None:
        """The next form answer the bot asks for (nothing once it asks for confirmation)."""
        if self.confirmable:
            return
        question = "\n".join(m["text"] or "" for m in self.replies)
        answer = next((a for cue, a in ANSWERS if cue in question), None)
        assert answer, f"{self.id}: unexpected question {question!r}"
        self.say(answer)

    @property
    def confirmable(self) -> bool:
        return any(b["title"] == "确认提交" for m in self.replies for b in (m["buttons"] or []))

    def confirm(self) -> dict:
        button = next(b for m in self.replies for b in (m["buttons"] or []) if b["title"] == "确认提交")
        [ticket] = [m["ticket"] for m in self.say(button["title"], button["payload"]) if m["kind"] == "ticket"]
        return ticket


def _turns(messages: list[dict]) -> str:
    """``cbbcb``: who spoke, in order (citizen, bot, system)."""
    return "".join(m["sender"][0] for m in messages)


def _each(citizens: list[Citizen], step) -> list:
    with ThreadPoolExecutor(len(citizens)) as pool:
        return list(pool.map(step, citizens))


def _wait_status(stats: int, want: dict[str, str], seconds: float = 30) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = backend_status(stats)
        if all(status.get(server, "").startswith(state) for server, state in want.items()):
            return status
        time.sleep(0.5)
    raise AssertionError(f"HAProxy never showed {want}: {status}")


def test_killing_one_replica_of_each_kind_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    model = trained_model()
    with postgres() as database_url, redis() as redis_port:
        layout = Layout((_ports(), _ports()), _ports(), stats=free_port())
        cluster = Cluster(
            layout,
            model.resolve(),
            tmp_path / "var",
            database_url,
            f"redis://127.0.0.1:{redis_port}/0",
            tmp_path / "logs",
        )
        cluster.import_catalogue(SAMPLE_CATALOGUE)
        with cluster:
            base = f"http://127.0.0.1:{layout.front.gateway}"
            _wait_status(layout.stats, {f"{b}/{k}{i}": "UP" for b, k in _KINDS for i in (1, 2)})

            # Two turns of one conversation at the same moment, one on each gateway, while the browser's
            # live stream is on the second gateway.
            racer = Citizen(base)
            gateways = [f"http://127.0.0.1:{ports.gateway}" for ports in layout.replicas]
            texts = ["办身份证要带什么", "换身份证要带什么材料"]
            with ThreadPoolExecutor(3) as pool:
                streamed = pool.submit(
                    httpx.get, f"{gateways[1]}/api/v1/conversations/{racer.id}/stream?seconds=20", timeout=60
                )
                time.sleep(1)
                answered = list(
                    pool.map(
                        lambda pair: httpx.post(
                            f"{pair[0]}/api/v1/conversations/{racer.id}/messages", json={"text": pair[1]}, timeout=120
                        ),
                        zip(gateways, texts, strict=True),
                    )
                )
                live = [json.loads(e["data"]) for e in events(streamed.result().text) if e["event"] == "message"]
            assert [r.status_code for r in answered] == [200, 200]
            transcript = racer.client.get(f"/api/v1/conversations/{racer.id}/transcript").json()["messages"]
            assert [m["id"] for m in live] == [m["id"] for m in transcript], "the stream on gateway 2 saw every turn"
            assert re.fullmatch("(cb+){2}", _turns(transcript)), "each turn's replies follow it, not the other's"
            tracker = httpx.get(
                f"http://127.0.0.1:{layout.front.rasa}/conversations/{racer.id}/tracker", timeout=30
            ).json()
            user_texts = [e["text"] for e in tracker["events"] if e["event"] == "user"]
            assert user_texts == [m["text"] for m in transcript if m["sender"] == "citizen"], "Rasa kept both turns"

            citizens = [Citizen(base) for _ in range(CITIZENS)]
            _each(citizens, lambda c: c.say("我要投诉港口区渔洲坪路口的路灯坏了一个月没人修"))
            _each(citizens, Citizen.answer)

            for (backend, kind), name in zip(_KINDS, ("gateway-1", "rasa-1", "actions-1"), strict=True):
                cluster.kill(name)
                _each(citizens, Citizen.answer)  # the next turn right after the kill, before any check saw it
                _wait_status(layout.stats, {f"{backend}/{kind}1": "DOWN"})
                cluster.respawn(name)  # Rasa's start is slow: it loads while the conversations go on
            assert all(c.confirmable for c in citizens)

            cluster.wait_ready("gateway-1", "rasa-1", "actions-1")
            _wait_status(layout.stats, {f"{b}/{k}1": "UP" for b, k in _KINDS})
            # Only the restarted Rasa is left: the forms it never saw go on from PostgreSQL's trackers.
            cluster.kill("rasa-2")
            tickets = _each(citizens, Citizen.confirm)
            _wait_status(layout.stats, {"rasa/rasa2": "DOWN"})

            # A publish is seen by the very next question, whichever action server answers it.
            with ThreadPoolExecutor(1) as pool:
                shown = pool.submit(asyncio.run, _publish_and_ask(base, database_url)).result()
            assert shown == [True] * 4

            engine = create_engine(database_url)
            from hotline.models import Ticket

            with Session(engine) as session:
                filed = session.execute(select(Ticket.conversation_id, Ticket.number)).all()
            engine.dispose()
            assert sorted(filed) == sorted((c.id, t["number"]) for c, t in zip(citizens, tickets, strict=True))
            for citizen in citizens:
                messages = citizen.client.get(f"/api/v1/conversations/{citizen.id}/transcript").json()["messages"]
                assert [m["text"] for m in messages if m["sender"] == "citizen"] == citizen.sent
                assert "system" not in {m["sender"] for m in messages}, "no turn went unanswered"
                assert re.fullmatch(f"(cb+){{{len(citizen.sent)}}}", _turns(messages)), "each turn answered"
                assert [m["kind"] for m in messages].count("ticket") == 1


async def _publish_and_ask(base: str, database_url: str) -> list[bool]:
    add_editor(database_url)
    async with await editor_client(base) as editor:
        await publish(editor, TARGET, await save_new_version(editor, TARGET, material_name(1), "集群测试别名"))
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        return [await chat_shows(client, material_name(1)) for _ in range(4)]


_KINDS = (("gateways", "gateway"), ("rasa", "rasa"), ("actions", "actions"))
