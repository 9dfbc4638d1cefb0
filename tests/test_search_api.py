"""The search API that `make run` serves until the chat gateway lands."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.test_importer import matter, write_jsonl


def test_search_and_guide_lookup(session, tmp_path):
    from channels.app import create_app
    from knowledge.importers import import_path

    import_path(session, write_jsonl(tmp_path / "c.jsonl", [matter("biz")]))
    session.commit()
    with TestClient(create_app()) as client:
        found = client.get("/api/v1/search", params={"q": "怎么办营业执照"}).json()
        assert found["hits"][0]["external_id"] == "biz"
        guide = client.get("/api/v1/guides/biz").json()
        assert guide["materials"][1]["condition"] == "委托他人代办时"
        missing = client.get("/api/v1/guides/nope")
        assert missing.status_code == 404 and "未找到" in missing.json()["detail"]
        assert client.get("/api/v1/search", params={"q": ""}).status_code == 422
