"""A citizen in the middle of a complaint while a process of the dialogue dies (issue 14).

One small stack (SQLite): gateway, Rasa, action server, with pass-throughs in this process between Rasa
and the action server and between the gateway and Rasa, so a test can kill a process at the one moment
that matters: the action has filed the ticket and answered, and Rasa has not stored the turn yet; or
Rasa has stored the turn and answered, and the gateway has not shown it yet.

- The action server killed mid-form: the citizen gets the gateway's unavailable message (never silence,
  never a fresh start), and once it is back the form goes on where it was and files one ticket.
- Rasa killed while 确认提交 is in flight: the citizen gets the unavailable message; once Rasa is back the
  repeated 确认提交 shows the ticket already filed, and the database holds it once.
- The gateway killed once Rasa stored the filing turn: the citizen saw nothing; the page's repeated
  确认提交 meets a finished form and is shown the ticket filed, and the database holds it once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from banshi.stack import Ports, Service, launch, services, wait_ready
from channels.relay import UNAVAILABLE_TEXT
from tests.rasa_stack import import_catalogue, stack_environment, trained_model
from tests.services import free_port

pytestmark = [pytest.mark.slow, pytest.mark.model]
COMPLAINT = "我要投诉港口区渔洲坪路口的路灯坏了一个月没人修"
ANSWERS = {
    "ticket_location": "港口区渔洲坪路口",
    "ticket_time": "上个月开始",
    "ticket_name": "匿名",
    "ticket_phone": "13800138000",
}
ORDER = ["ticket_content", *ANSWERS]
"""The form's slots in the order it asks for them (the complaint itself may already fill some)."""
CONFIRM = "/affirm"


class PassThrough(ThreadingHTTPServer):
    """Forwards each request to ``upstream`` (same path); ``hook`` runs once, after the upstream answered
    a request that ``picks`` and before the caller gets that answer. An upstream that cannot be reached
    is seen by the caller as a dropped connection, as it would be."""

    daemon_threads = True

    def __init__(self, upstream: str, picks: Callable[[str, bytes], bool]) -> None:
        self.upstream = upstream
        self.picks = picks
        self.hook: Callable[[], None] | None = None
        super().__init__(("127.0.0.1", 0), _Forward)

    @property
    def port(self) -> int:
        return self.server_address[1]


def _submits(_path: str, body: bytes) -> bool:
    """The action server's call that files the ticket."""
    return json.loads(body or b"{}").get("next_action") == "action_submit_ticket"


def _confirms(path: str, body: bytes) -> bool:
    """The gateway's turn that carries 确认提交 to Rasa."""
    return path.startswith("/webhooks/rest/webhook") and json.loads(body or b"{}").get("message") == CONFIRM


class _Forward(BaseHTTPRequestHandler):
    server: PassThrough

    def do_GET(self) -> None:
        self._forward("GET")

    def do_POST(self) -> None:
        self._forward("POST")

    def _forward(self, method: str) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            answer = httpx.request(
                method,
                self.server.upstream + self.path,
                content=body or None,
                headers={"Content-Type": self.headers.get("Content-Type") or "application/json"},
                timeout=120,
            )
        except httpx.TransportError:
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        hook = self.server.hook
        if hook is not None and self.server.picks(self.path, body):
            self.server.hook = None
            hook()
        try:
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("Content-Type") or "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)
        except OSError:
            self.close_connection = True  # the caller was killed by the hook

    def log_message(self, *_args: object) -> None:
        pass


@dataclass
class Proxies:
    actions: PassThrough
    """Rasa → action server."""
    rasa: PassThrough
    """Gateway → Rasa."""


@dataclass
class Stack:
    base: str
    env: dict[str, str]
    log_dir: Path
    wanted: dict[str, Service]
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str) -> None:
        service = self.wanted[name]
        self.processes[name] = launch(service, self.env, self.log_dir)
        wait_ready(service, self.processes[name], self.log_dir / f"{name}.log")

    def kill(self, name: str) -> None:
        """``kill -9`` of the whole process group, as a crash would leave it (workers included)."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def tickets(self) -> list[tuple[str, str]]:
        from hotline.models import Ticket

        engine = create_engine(self.env["DATABASE_URL"])
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(select(Ticket.conversation_id, Ticket.number))]
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Proxies]]:
    model = trained_model()
    data_dir = tmp_path_factory.mktemp("faults") / "var"
    data_dir.mkdir(parents=True)
    import_catalogue(data_dir)
    ports = Ports(gateway=free_port(), rasa=free_port(), actions=free_port())
    proxies = Proxies(
        PassThrough(f"http://127.0.0.1:{ports.actions}", _submits),
        PassThrough(f"http://127.0.0.1:{ports.rasa}", _confirms),
    )
    for proxy in (proxies.actions, proxies.rasa):
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
    # Rasa reaches the action server through the pass-through; every other setting is the stack's own.
    env = stack_environment(data_dir, Ports(ports.gateway, ports.rasa, proxies.actions.port))
    env["BANSHI_RASA_URL"] = f"http://127.0.0.1:{proxies.rasa.port}"  # only the gateway's relay reads it
    wanted = {s.name: s for s in services(model.resolve(), ports)}
    running = Stack(f"http://127.0.0.1:{ports.gateway}", env, data_dir / "logs", wanted)
    running.log_dir.mkdir(parents=True, exist_ok=True)
    try:
        for name in ("actions", "rasa", "gateway"):
            running.start(name)
        yield running, proxies
    finally:
        running.stop()
        proxies.actions.shutdown()
        proxies.rasa.shutdown()


class Citizen:
    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=180)
        self.id = self.client.post("/api/v1/conversations").json()["id"]

    def say(self, text: str) -> list[dict]:
        response = self.client.post(f"/api/v1/conversations/{self.id}/messages", json={"text": text})
        assert response.status_code == 200, response.text
        return response.json()

    def confirm(self) -> list[dict]:
        """Presses 确认提交, as the page sends a button."""
        body = {"text": "确认提交", "payload": CONFIRM}
        response = self.client.post(f"/api/v1/conversations/{self.id}/messages", json=body)
        assert response.status_code == 200, response.text
        return response.json()


def asked(messages: list[dict]) -> str | None:
    """The slot the bot asked for, as its outcome says (``slot_requested``)."""
    said = [o for m in messages if m["sender"] == "citizen" for o in m.get("outcomes") or []]
    return next((o["slot"] for o in said if o["kind"] == "slot_requested"), None)


def unavailable(messages: list[dict]) -> bool:
    """Only the gateway's own notice answered the turn: no bot message, no outcome."""
    [citizen, *answers] = messages
    return (
        citizen["sender"] == "citizen"
        and not citizen.get("outcomes")
        and [(m["sender"], m["text"]) for m in answers] == [("system", UNAVAILABLE_TEXT)]
    )


def confirmable(messages: list[dict]) -> bool:
    return any(b["payload"] == CONFIRM for m in messages for b in m.get("buttons") or [])


def filed(messages: list[dict]) -> list[str]:
    return [m["ticket"]["number"] for m in messages if m["kind"] == "ticket"]


def fill_form(citizen: Citizen, replies: list[dict]) -> list[dict]:
    """Answers whatever the form asks for until it asks for confirmation."""
    for _ in ORDER:
        if confirmable(replies):
            return replies
        slot = asked(replies)
        assert slot in ANSWERS, f"the form should ask for a slot: {replies}"
        replies = citizen.say(ANSWERS[slot])
    assert confirmable(replies), replies
    return replies


def test_the_action_server_down_mid_form_gives_the_polite_message_and_keeps_the_form(stack):
    running, _proxies = stack
    citizen = Citizen(running.base)
    first = asked(citizen.say(COMPLAINT))
    assert first in ANSWERS
    pending = asked(citizen.say(ANSWERS[first]))
    assert pending in ANSWERS and ORDER.index(pending) > ORDER.index(first), "mid-form, before the kill"

    running.kill("actions")
    for _ in range(2):  # answering again while it is down changes nothing either
        assert unavailable(citizen.say(ANSWERS[pending]))
    running.start("actions")

    replies = citizen.say(ANSWERS[pending])
    following = asked(replies)
    assert confirmable(replies) or ORDER.index(following) > ORDER.index(pending), "the form went on where it was"
    fill_form(citizen, replies)
    [number] = filed(citizen.confirm())
    assert [t for t in running.tickets() if t[0] == citizen.id] == [(citizen.id, number)]


def test_a_confirmation_repeated_after_rasa_was_killed_files_one_ticket(stack):
    running, proxies = stack
    citizen = Citizen(running.base)
    fill_form(citizen, citizen.say(COMPLAINT))

    proxies.actions.hook = lambda: running.kill("rasa")  # the ticket is filed; Rasa dies before storing the turn
    assert unavailable(citizen.confirm())
    [(_, number)] = [t for t in running.tickets() if t[0] == citizen.id]
    running.start("rasa")

    assert filed(citizen.confirm()) == [number], "the repeated 确认提交 shows the ticket already filed"
    assert [t for t in running.tickets() if t[0] == citizen.id] == [(citizen.id, number)]
    assert [t for t in running.tickets() if t[1] == number] == [(citizen.id, number)]


def test_a_confirmation_repeated_after_the_gateway_was_killed_shows_the_ticket_filed(stack):
    """Rasa stored the filing turn (the form finished) and the gateway died before showing it: the
    citizen saw nothing. The page sends the same 确认提交 once the gateway is back: the citizen sees the
    ticket filed, its number and status, and nothing is filed again."""
    running, proxies = stack
    citizen = Citizen(running.base)
    fill_form(citizen, citizen.say(COMPLAINT))

    proxies.rasa.hook = lambda: running.kill("gateway")  # Rasa answered: the turn is stored
    with pytest.raises(httpx.TransportError):
        citizen.confirm()
    [(_, number)] = [t for t in running.tickets() if t[0] == citizen.id]
    running.start("gateway")

    replies = citizen.confirm()
    assert filed(replies) == [number], "the repeated 确认提交 shows the ticket already filed"
    [shown] = [o for o in replies[0]["outcomes"] if o["kind"] == "ticket_filed"]
    assert shown["repeated"] is True, "a finished form answered it, not a second filing"
    assert [t for t in running.tickets() if t[0] == citizen.id] == [(citizen.id, number)]
