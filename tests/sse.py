"""Reading a server-sent-event body in tests: TestClient returns a stream whole once it has ended."""

from __future__ import annotations


def events(body: str) -> list[dict[str, str | None]]:
    """The events with data, in order, as {event, data, id}; comment lines (the keep-alive pings) are skipped."""
    found = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in fields:
            found.append({"event": fields.get("event", "message"), "data": fields["data"], "id": fields.get("id")})
    return found
