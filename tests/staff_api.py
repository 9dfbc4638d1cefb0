"""Logging staff in through the API, and checking that a set of routes is closed to everyone else."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

PASSWORD = "correct horse 1"


def login(app: FastAPI, username: str, password: str = PASSWORD) -> TestClient:
    """No ``with``: the lifespan would load the search index from disk, which most staff tests give or never use."""
    client = TestClient(app)
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return client


def operations(app: FastAPI, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every (method, path) under the prefixes, path parameters filled with a placeholder."""
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "1", path))
        for path, methods in app.openapi()["paths"].items()
        if path.startswith(prefixes)
        for method in methods
    ]


def assert_guarded(app: FastAPI, found: list[tuple[str, str]], *, denied: str, allowed: str | None) -> None:
    """401 with no login, 403 for the ``denied`` user's role, and past the guard for the ``allowed`` user."""
    anonymous, wrong = TestClient(app), login(app, denied)
    right = login(app, allowed) if allowed else None
    for method, path in found:
        response = anonymous.request(method, path, json={})
        assert response.status_code == 401 and response.json()["detail"] == "请先登录", (method, path)
        response = wrong.request(method, path, json={})
        assert response.status_code == 403 and "没有权限" in response.json()["detail"], (method, path)
        if right is not None:
            assert right.request(method, path, json={}).status_code not in (401, 403), (method, path)
