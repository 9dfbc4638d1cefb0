"""Schemathesis over the gateway's whole OpenAPI, without a session and signed in as each role.

Every operation gets a bounded number of generated requests (valid and invalid ones), in process, over a
fresh SQLite database with the sample catalogue, Rasa not running. What a user would notice: no request
ever gets a 5xx (a citizen's turn with Rasa down gets the polite unavailable message, not a 500), every
staff route refuses a caller with no session (401) and one with the wrong role (403), and the documented
responses are what the routes send. The wall each route should have is read from its dependencies
(``channels.deps.require_role``), not from a hand list, so a route added later is covered.

The route × role table (status codes seen) is written to ``tests/artifacts/route_roles.md``.
``BANSHI_FUZZ_EXAMPLES`` sets the examples per operation, mode and role (default 2: about four and a half
minutes on this loaded 2-core box).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.rasa_stack import import_catalogue
from tests.services import free_port
from tests.staff_api import PASSWORD

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "tests" / "artifacts" / "route_roles.md"
EXAMPLES = int(os.environ.get("BANSHI_FUZZ_EXAMPLES", "2"))
CHAT_TURN = "POST /api/v1/conversations/{conversation_id}/messages"
ROLES = ("anonymous", "agent", "editor", "admin")
STAFF = {"agent": "fuzz-agent", "editor": "fuzz-editor", "admin": "fuzz-admin"}
GENEROUS = {
    # Fuzz traffic comes from one address at machine speed: the limits would answer 429 before any route ran.
    "BANSHI_RATE_PER_ADDRESS": "0",
    "BANSHI_RATE_PER_CONVERSATION": "0",
    "BANSHI_LOGIN_MAX_FAILURES": "1000000",
    "BANSHI_LOGIN_ADDRESS_MAX_FAILURES": "1000000",
    "BANSHI_LOGIN_ACCOUNT_MAX_FAILURES": "1000000",
    # Live streams end quickly, so a fuzzed stream does not hold the run for minutes.
    "BANSHI_LIVE_STREAM_SECONDS": "0.1",
    "BANSHI_LIVE_POLL_SECONDS": "0.05",
    "BANSHI_RASA_TIMEOUT": "2",
    "BANSHI_EMBEDDER": "use",
}


@dataclass
class Fuzzed:
    """What the run saw: status codes per (operation, role), and every server error and doc mismatch."""

    walls: dict[str, tuple[str, ...] | None]
    statuses: dict[tuple[str, str], set[int]] = field(default_factory=lambda: defaultdict(set))
    server_errors: list[str] = field(default_factory=list)
    mismatches: dict[str, str] = field(default_factory=dict)  # one example per operation, status and failure
    body_mismatches: dict[str, str] = field(default_factory=dict)
    """Bodies unlike their schema: listed in the table; only their times are asserted (every time has an
    offset, ``common.clock.UtcDateTime``), the rest is left to the table."""
    cases: int = 0
    chat_replies: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))


def _roles_of(dependant) -> list[tuple[str, ...] | None]:
    """The role sets of every ``require_role`` guard under a route, and None for a bare sign-in guard."""
    from channels.deps import get_current_user

    found = []
    for sub in dependant.dependencies:
        call = sub.call
        if getattr(call, "__qualname__", "") == "require_role.<locals>.check":
            found.append(call.__closure__[0].cell_contents)
        elif call is get_current_user:
            found.append(None)
        found.extend(_roles_of(sub))
    return found


def walls(app) -> dict[str, tuple[str, ...] | None]:
    """``"METHOD /path"`` → the roles it lets in (admins always), ``()`` for any staff member; public: absent."""
    from fastapi.routing import APIRoute

    result: dict[str, tuple[str, ...] | None] = {}
    # An included router's routes carry its dependencies in their effective contexts (FastAPI ≥ 0.160).
    contexts = [
        context
        for route in app.routes
        for context in (
            route.effective_route_contexts()
            if hasattr(route, "effective_route_contexts")
            else [route]
            if isinstance(route, APIRoute)
            else []
        )
    ]
    for route in contexts:
        if not route.include_in_schema:
            continue
        guards = _roles_of(route.dependant)
        if not guards:
            continue
        role_sets = [set(g) | {"admin"} for g in guards if g is not None]
        allowed = set.intersection(*role_sets) if role_sets else set(STAFF)
        for method in route.methods:
            result[f"{method} {route.path}"] = tuple(sorted(allowed))
    return result


def _each(strategy, body, *, positive: bool) -> None:
    """Runs ``body`` on a bounded, repeatable number of generated cases; no shrinking: every case is kept."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case) -> None:
        body(case)

    try:
        run()
    except Unsatisfiable:
        if positive:
            raise  # an operation no valid request can be made for is a broken schema
        # Nothing in this operation can be made invalid (no parameters, no body): the valid cases cover it.


class _Caller:
    """Sends one operation's cases as one role, and records what came back."""

    def __init__(self, app, seen: Fuzzed) -> None:
        from fastapi.testclient import TestClient

        self.login, self.seen = TestClient(app), seen
        self.headers: dict[str, str] = {}

    def sign_in(self, role: str) -> None:
        """Keeps the role's session while it is still good: a sign-in verifies an argon2 hash, which was a
        fifth of the fuzz's time when done before every operation; the fuzz itself may end a session."""
        kept = role != "anonymous" and role == getattr(self, "role", None) and self.headers
        if kept and self.login.get("/api/v1/auth/me", headers=self.headers).status_code == 200:
            return
        self.role, self.headers = role, {}
        if role != "anonymous":
            response = self.login.post("/api/v1/auth/login", json={"username": STAFF[role], "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.headers = {"Authorization": f"Bearer {response.json()['token']}"}

    def __call__(self, case, positive: bool) -> None:
        from schemathesis.checks import (
            content_type_conformance,
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
        )
        from schemathesis.core.failures import FailureGroup

        operation = case.operation
        label = f"{operation.method.upper()} {operation.path}"
        where = f"{self.role} {'positive' if positive else 'negative'}: {case.as_curl_command()}"
        self.seen.cases += 1
        if self.headers:  # the session wins over any Authorization the generator made up for the security scheme
            case.headers = {**(case.headers or {}), **self.headers}
        started = time.perf_counter()
        try:
            response = case.call(headers=self.headers)
            self.seen.seconds[label] += time.perf_counter() - started
        except Exception as exc:  # the in-process client raises what the app raised, where a server would 500
            self.seen.statuses[(label, self.role)].add(500)
            self.seen.server_errors.append(f"{where}\n  raised {exc!r}")
            return
        self.seen.statuses[(label, self.role)].add(response.status_code)
        if label == CHAT_TURN and response.status_code == 200:
            self.seen.chat_replies.extend(message.get("text") or "" for message in response.json())
        try:
            case.validate_response(response, checks=[not_a_server_error])
        except (AssertionError, FailureGroup) as exc:
            self.seen.server_errors.append(f"{where}\n  {response.status_code} {response.text[:300]}\n{exc}")
        if positive:
            for checks, found in (
                ([status_code_conformance, content_type_conformance], self.seen.mismatches),
                ([response_schema_conformance], self.seen.body_mismatches),
            ):
                try:
                    case.validate_response(response, checks=checks)
                except FailureGroup as group:
                    for failure in group.exceptions:
                        key = f"{label} {response.status_code}: {failure.title}"
                        found.setdefault(key, f"{where}\n{str(failure)[:400]}")
        if self.headers and operation.path == "/api/v1/auth/logout":
            self.headers = {}  # the fuzz signed this role out: the next sign_in signs in again
            self.sign_in(self.role)


def _fuzz(schema, app, seen: Fuzzed, fixed: dict[str, str]) -> None:
    """Each role, each operation, valid and invalid cases; again with known ids pinned where a path takes one."""
    from schemathesis import GenerationMode

    caller = _Caller(app, seen)
    for role in ROLES:
        for result in schema.get_all_operations():
            operation = result.ok()
            caller.sign_in(role)
            names = {p.name for p in operation.path_parameters}
            pinned = {name: value for name, value in fixed.items() if name in names}
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                positive = mode == GenerationMode.POSITIVE
                for path_parameters in (None, pinned) if pinned else (None,):
                    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
                    _each(strategy, lambda case, positive=positive: caller(case, positive), positive=positive)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    from banshi.config import get_settings
    from banshi.db import get_engine

    data_dir = tmp_path_factory.mktemp("fuzz") / "var"
    with pytest.MonkeyPatch.context() as env:
        for name, value in GENEROUS.items():
            env.setenv(name, value)
        env.setenv("BANSHI_RASA_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens: Rasa is down
        import_catalogue(data_dir)
        env.setenv("BANSHI_DATA_DIR", str(data_dir))
        env.setenv("DATABASE_URL", f"sqlite:///{(data_dir / 'banshi.db').resolve()}")
        get_settings.cache_clear()
        get_engine.cache_clear()
        try:
            yield _run(data_dir)
        finally:
            get_settings.cache_clear()
            get_engine.cache_clear()


def _run(data_dir: Path) -> Fuzzed:
    from fastapi.testclient import TestClient

    from banshi.db import session_scope
    from channels.accounts import UserIn, create_user
    from channels.app import create_app

    with session_scope() as session:
        for role, username in STAFF.items():
            create_user(session, UserIn(username=username, role=role, password=PASSWORD))
    app = create_app()
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    seen = Fuzzed(walls=walls(app))
    # A real conversation, so the chat routes run past their look-up (no ``with``: the fuzz's client runs the lifespan).
    conversation = TestClient(app).post("/api/v1/conversations").json()["id"]
    _fuzz(schema, app, seen, {"conversation_id": conversation})
    _write_table(seen)
    return seen


def _write_table(seen: Fuzzed) -> None:
    operations = sorted({label for label, _ in seen.statuses}, key=lambda s: (s.split(" ", 1)[1], s))
    lines = [
        "# Route × role: HTTP status codes seen by the fuzz (tests/test_api_fuzz.py)",
        "",
        f"{seen.cases} requests, {EXAMPLES} examples per operation, mode and role; Rasa not running.",
        "",
        "| operation | wall | " + " | ".join(ROLES) + " |",
        "|---|---|" + "---|" * len(ROLES),
    ]
    for label in operations:
        wall = seen.walls.get(label)
        wall_text = "public" if wall is None else "+".join(wall)
        codes = [" ".join(str(c) for c in sorted(seen.statuses[(label, role)])) for role in ROLES]
        lines.append(f"| `{label}` | {wall_text} | " + " | ".join(codes) + " |")
    if seen.body_mismatches:
        lines += ["", "Response bodies unlike their schema (not asserted, see `Fuzzed.body_mismatches`):", ""]
        for key, example in sorted(seen.body_mismatches.items()):
            why = next((line.strip() for line in example.splitlines() if " is not " in line), "")
            lines.append(f"- `{key}`: {why}")
    slowest = sorted(seen.seconds.items(), key=lambda item: -item[1])[:5]
    lines += ["", "Slowest operations (seconds, all roles): " + ", ".join(f"`{k}` {v:.1f}" for k, v in slowest)]
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_every_time_the_api_sends_says_its_offset(fuzzed: Fuzzed) -> None:
    """A bare ``2026-11-30T21:05:34`` is read as local time by a browser: staff would see times 8 hours off."""
    bare = {key: example for key, example in fuzzed.body_mismatches.items() if 'is not a "date-time"' in example}
    assert bare == {}


def test_no_request_gets_a_server_error(fuzzed: Fuzzed) -> None:
    assert fuzzed.cases > 0
    assert not fuzzed.server_errors, f"{len(fuzzed.server_errors)} server errors:\n" + "\n\n".join(
        fuzzed.server_errors[:20]
    )


def test_a_citizen_turn_with_rasa_down_gets_the_polite_message(fuzzed: Fuzzed) -> None:
    from channels.relay import UNAVAILABLE_TEXT

    assert fuzzed.chat_replies, "no fuzzed turn reached the pinned conversation"
    assert UNAVAILABLE_TEXT in fuzzed.chat_replies


def test_staff_routes_refuse_no_session_and_the_wrong_role(fuzzed: Fuzzed) -> None:
    assert len(fuzzed.walls) > 40  # the console's, the studio's and the tickets' routes
    wrong = []
    for label, allowed in fuzzed.walls.items():
        anonymous = fuzzed.statuses[(label, "anonymous")]
        if 401 not in anonymous or any(code < 400 for code in anonymous):
            wrong.append(f"{label} anonymous: {sorted(anonymous)}")
        for role in STAFF:
            got = fuzzed.statuses[(label, role)]
            if role in allowed:
                if got and got <= {401, 403}:
                    wrong.append(f"{label} {role} (allowed) never got past the wall: {sorted(got)}")
            elif 403 not in got or any(code < 400 or code == 401 for code in got):
                wrong.append(f"{label} {role} (not allowed): {sorted(got)}")
    assert not wrong, "\n".join(wrong)


def test_the_table_covers_every_operation_and_role(fuzzed: Fuzzed) -> None:
    text = TABLE.read_text(encoding="utf-8")
    assert text.count("\n| `") == len({label for label, _ in fuzzed.statuses})
    assert all(fuzzed.statuses[(label, role)] for label, _ in fuzzed.statuses for role in ROLES)


def test_responses_match_the_documentation(fuzzed: Fuzzed) -> None:
    assert not fuzzed.mismatches, "\n".join(fuzzed.mismatches) + "\n\n" + "\n\n".join(fuzzed.mismatches.values())
