"""The studio's files are served from the repo, and nothing outside its folder can be reached through it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from channels.app import create_app


def test_the_studio_page_and_its_scripts_are_served_offline():
    client = TestClient(create_app())
    page = client.get("/studio")
    assert page.status_code == 200 and "事项编辑工作台" in page.text
    scripts = [line.split('"')[1] for line in page.text.splitlines() if "<script src=" in line]
    assert "/studio/vendor/chart.umd.js" in scripts
    for src in scripts:
        assert client.get(src).status_code == 200, src
    assert "http" not in "".join(scripts), "every asset comes from the gateway"


def test_no_path_leaves_the_studio_folder():
    client = TestClient(create_app())
    for path in ("/studio/../routes/studio.py", "/studio/%2e%2e/%2e%2e/app.py", "/studio/nothing.js", "/studio/x.py"):
        response = client.get(path)
        assert response.status_code == 404, path
