"""Numbers out of range, anywhere the API takes one, are refused with a 422 in Chinese, never a 500.

The walk reads the OpenAPI schema, so a route added later is covered without touching this file: for
every integer in a path, a query or a JSON body it sends 2^64 (and -1 for ids in a path) with an admin
signed in, so the request gets past the role wall to the validation a citizen or a client would hit.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.staff_api import PASSWORD, login

HUGE = 2**64
"""Past a 64-bit column (2^63-1): SQLite's driver raised OverflowError on it."""


@pytest.fixture
def admin(session) -> TestClient:
    from channels.accounts import UserIn, create_user
    from channels.app import create_app

    create_user(session, UserIn(username="zhou", display_name="周管理员", role="admin", password=PASSWORD))
    session.commit()
    app = create_app()
    app.state.index = SimpleNamespace()  # no route body may run: validation must refuse first
    return login(app, "zhou")


def _resolve(schema: dict, spec: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _types(schema: dict, spec: dict) -> set[str]:
    schema = _resolve(schema, spec)
    if "anyOf" in schema:
        return set().union(*(_types(s, spec) for s in schema["anyOf"]))
    return {schema.get("type", "object")}


def _sample(schema: dict, spec: dict) -> Any:
    """A plain valid-looking value, so that only the number under test is wrong."""
    schema = _resolve(schema, spec)
    if "anyOf" in schema:
        return _sample(next(s for s in schema["anyOf"] if s.get("type") != "null"), spec)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "string":
        if schema.get("pattern") == r"^[0-9a-f]{32}$":
            return "0" * 32
        return "测试内容" if schema.get("minLength", 1) <= 4 else "测试内容" * schema["minLength"]
    return {
        name: _sample(prop, spec)
        for name, prop in schema.get("properties", {}).items()
        if name in schema.get("required", [])
    }


def _cases(spec: dict) -> list[tuple[str, str, str, dict, dict | None, str]]:
    """(method, path, label, query, body, where) for every integer the API takes, set out of range."""
    cases = []
    for template, methods in spec["paths"].items():
        for method, operation in methods.items():
            params = operation.get("parameters", [])
            path_values = {p["name"]: _sample(p["schema"], spec) for p in params if p["in"] == "path"}
            query = {p["name"]: _sample(p["schema"], spec) for p in params if p["in"] == "query" and p.get("required")}
            body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            body = _sample(body_schema, spec) if body_schema else None

            def path_with(values: dict, template: str = template) -> str:
                return re.sub(r"\{([^}]+)\}", lambda m: str(values[m.group(1)]), template)

            for p in params:
                if "integer" not in _types(p["schema"], spec):
                    continue
                if p["in"] == "path":
                    for bad in (HUGE, -1):
                        where = f"{p['name']}={bad}"
                        cases.append((method, path_with({**path_values, p["name"]: bad}), where, query, body, "path"))
                elif p["in"] == "query":
                    cases.append((method, path_with(path_values), p["name"], {**query, p["name"]: HUGE}, body, "query"))
            if body_schema:
                properties = _resolve(body_schema, spec).get("properties", {})
                for name, prop in properties.items():
                    if "integer" in _types(prop, spec):
                        cases.append((method, path_with(path_values), name, query, {**body, name: HUGE}, "body"))
    return cases


def test_every_integer_the_api_takes_is_bounded(admin):
    cases = _cases(admin.app.openapi())
    assert len({c[1] for c in cases if c[5] == "path"}) >= 20, "the walk found the id routes"
    assert {"after", "page", "offset", "from"} <= {c[2] for c in cases if c[5] == "query"}
    assert {"version", "base_version", "agent_id"} <= {c[2] for c in cases if c[5] == "body"}
    failures = []
    for method, path, label, query, body, where in cases:
        response = admin.request(method.upper(), path, params=query, json=body)
        if where == "body" and response.status_code < 500:
            continue  # a body number that never reaches a column (a 1–5 rating) is the route's to refuse
        if response.status_code != 422:
            failures.append(f"{method.upper()} {path} {where} {label}: {response.status_code} {response.text[:120]}")
            continue
        message = response.json()["message"]
        if not re.search(r"[\u4e00-\u9fff]", message):
            failures.append(f"{method.upper()} {path} {label}: not a Chinese message: {message}")
    assert not failures, "\n".join(failures)


def test_an_id_out_of_range_is_explained_in_chinese(admin):
    response = admin.get(f"/api/v1/tickets/{HUGE}")
    assert response.status_code == 422
    assert response.json()["message"] == "工单编号超出范围"
    response = admin.get("/api/v1/agent/handoffs/-3")
    assert response.status_code == 422
    assert response.json()["message"] == "转人工会话编号不能小于 1"
    response = admin.get("/api/v1/matters", params={"page": HUGE})
    assert (response.status_code, response.json()["message"]) == (422, "页码超出范围")
