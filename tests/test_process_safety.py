"""The processes of the shared live stack (tests/browser.py), as `banshi up` starts them, keep to the
machine and keep citizens out of their logs:

- every port any of them listens on is bound to loopback (the action server listened on 0.0.0.0);
- a button payload with a newline and a phone number in it writes neither a forged line nor the
  number into ``rasa.log`` (Rasa echoes a payload it cannot parse), nor into the other logs;
- the gateway keeps a citizen's connection open across a pause between turns.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
PHONE = "13877001234"
ID_NUMBER = "450602199001011234"
FORGED = "2026-11-30 09:00:00 INFO     rasa.core.processor  - FORGED agent1 signed in"


def _session_pids(leader: int) -> set[int]:
    """The leader and everything in its session (workers the server forked or spawned)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[3]) == leader:  # after the name: state, ppid, pgrp, session
                found.add(int(entry.name))
    return found


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in (Path("/proc") / str(pid) / "fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def _listening() -> dict[str, tuple[str, int]]:
    """inode -> (address, port) of every listening TCP socket on the machine."""
    found = {}
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] != "0A":  # LISTEN
                continue
            address_hex, port_hex = fields[1].split(":")
            raw = bytes.fromhex(address_hex)
            # /proc stores each 32-bit word in host (little-endian) order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found[fields[9]] = (socket.inet_ntop(family, raw), int(port_hex, 16))
    return found


def test_every_process_listens_on_loopback_only(live_stack):
    started, ports = live_stack.processes, live_stack.ports
    listening = _listening()
    bound: dict[str, list[tuple[str, int]]] = {}
    for name, process in started.items():
        inodes = set().union(*(_socket_inodes(pid) for pid in _session_pids(process.pid)))
        bound[name] = sorted(listening[i] for i in inodes if i in listening)
    assert (ports.gateway in {p for _a, p in bound["gateway"]}) and (ports.rasa in {p for _a, p in bound["rasa"]})
    assert ports.actions in {p for _a, p in bound["actions"]}
    outside = {name: [a for a in addresses if a[0] not in ("127.0.0.1", "::1")] for name, addresses in bound.items()}
    assert outside == {name: [] for name in bound}, bound


def test_a_payload_with_a_newline_forges_no_log_line_and_leaks_no_number(live_stack):
    ports, logs = live_stack.ports, live_stack.logs
    gateway = f"http://127.0.0.1:{ports.gateway}"
    payloads = [
        # An intent the domain does not have: Rasa warns, quoting the whole line.
        f'/no_such_intent{{"ticket_phone": "{PHONE}"}}\n{FORGED}',
        # A known intent with a tail it cannot read: Rasa warns about the tail, quoting the line.
        f'/greet{{"ticket_phone": "{PHONE}"}} {ID_NUMBER}\r\n{FORGED}',
    ]
    with httpx.Client(base_url=gateway, timeout=120) as client:
        conversation = client.post("/api/v1/conversations", json={}).json()["id"]
        for text in payloads:
            pressed = {"text": "提交", "payload": text}  # a button whose payload was tampered with
            response = client.post(f"/api/v1/conversations/{conversation}/messages", json=pressed)
            assert response.status_code < 500, response.text
    for text in payloads:  # and straight to Rasa's REST channel, as any other channel would send
        httpx.post(
            f"http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook",
            json={"sender": "safety-test", "message": text},
            timeout=120,
        ).raise_for_status()

    rasa_log = (logs / "rasa.log").read_text(errors="replace")
    assert "no_such_intent" in rasa_log, "Rasa logged the payload it could not parse (the test sees that line)"
    for name in ("rasa.log", "actions.log", "gateway.log"):
        text = (logs / name).read_text(errors="replace")
        forged = [line for line in text.splitlines() if re.match(r"\s*2026-11-30 09:00:00 INFO", line)]
        assert forged == [], f"{name} holds a forged line: {forged}"
        assert PHONE not in text and ID_NUMBER not in text, f"{name} holds a citizen's number whole"
    assert "138****1234" in rasa_log, "the number is there masked: the line was written, not dropped"


def test_the_gateway_keeps_a_citizens_connection_across_a_pause(live_stack):
    """uvicorn's default closed an idle connection after 5 s, and a turn sent at that moment got no answer."""
    conn = http.client.HTTPConnection("127.0.0.1", live_stack.ports.gateway, timeout=10)
    try:
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() == b'{"status":"ok"}'
        first = conn.sock
        time.sleep(7)  # longer than uvicorn's 5 s, shorter than a citizen reading an answer
        first.setblocking(False)
        try:
            closed = first.recv(1, socket.MSG_PEEK) == b""
        except BlockingIOError:
            closed = False  # nothing to read: still open
        first.setblocking(True)
        assert not closed, "the gateway closed an idle citizen's connection"
        conn.request("GET", "/healthz")  # on the same connection
        assert conn.sock is first and conn.getresponse().status == 200
    finally:
        conn.close()
