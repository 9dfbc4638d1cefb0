"""Editing the catalogue: versions, drafts, publish, rollback, conflicts, diffs, export/import and the audit log.

Knowledge-level rules first (no HTTP), then the editor API through TestClient without the lifespan
(these routes never search), then the one test that needs an index (the ``use`` embedder, for speed).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from channels.accounts import UserIn, create_user
from knowledge import audit, drafts, store, versions
from knowledge.schema import MatterIn
from tests.conftest import SAMPLE_CATALOGUE
from tests.staff_api import PASSWORD, assert_guarded, login, operations

USERS = {"agent1": "agent", "editor1": "editor", "editor2": "editor", "boss": "admin"}
STAFF_PREFIXES = ("/api/v1/matters", "/api/v1/export", "/api/v1/imports", "/api/v1/audit")


def sample(n: int | None = None) -> list[MatterIn]:
    lines = [line for line in SAMPLE_CATALOGUE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [MatterIn.model_validate_json(line) for line in lines[:n]]


def renamed(item: MatterIn, suffix: str) -> MatterIn:
    return item.model_copy(update={"name": item.name + suffix})


# -- knowledge level ------------------------------------------------------------------------------


def test_versions_drafts_publish_and_diff(session):
    first = sample(1)[0]
    store.save_matter(session, first, author="import")
    matter = store.get_by_external_id(session, first.external_id)
    assert (matter.version, matter.published_version, matter.status) == (1, 1, "published")
    assert drafts.latest_drafts(session) == []

    edited = renamed(first, "（新）")
    edited.materials[0].copy_count = 3
    row = versions.save_draft(session, edited, author="editor1", note="改名", base_version=1)
    assert row.version == 2 and row.published_at is None
    assert [d.name for d in drafts.latest_drafts(session)] == [edited.name]
    assert store.published(session)[0].name == first.name, "citizens keep the published text"

    changes = {c.field: (c.before, c.after) for c in versions.diff(session, first.external_id, 1, 2)}
    material = first.materials[0].name
    assert changes == {"name": (first.name, edited.name), f"materials[{material}].copy_count": (0, 3)}

    versions.publish(session, first.external_id, 2, author="editor1")
    assert store.published(session)[0].name == edited.name and drafts.latest_drafts(session) == []
    states = [(v.version, v.state) for v in versions.history(session, matter)]
    assert states == [(2, "published"), (1, "history")]


def test_a_renamed_material_is_one_change_and_every_value_reads_in_chinese():
    from knowledge.matter_diff import diff_data

    first = sample(1)[0]
    edited = first.model_copy(deep=True)
    edited.materials[1].name = "居民身份证数码相片（回执）"
    edited.materials[1].e_licence = True
    edited.aliases = [*first.aliases, "身份证初次办理"]
    changes = diff_data(first, edited)
    old = first.materials[1].name
    assert [(c.field, c.label, c.kind, c.before_text, c.after_text) for c in changes] == [
        ("aliases", "别名", "changed", "、".join(first.aliases), "、".join(edited.aliases)),
        (f"materials[{old}].name", f"申请材料「{old}」材料名称", "changed", old, "居民身份证数码相片（回执）"),
        (f"materials[{old}].e_licence", f"申请材料「{old}」可用电子证照", "changed", "否", "是"),
    ]

    # Renamed and moved: still the same material, by its likeness.
    moved = first.model_copy(deep=True)
    moved.materials = [moved.materials[2], moved.materials[0], moved.materials[1]]
    moved.materials[0].name = "监护人的居民身份证"
    kinds = [(c.label, c.kind, c.before_text, c.after_text) for c in diff_data(first, moved)]
    assert ("申请材料「监护人居民身份证」材料名称", "changed", "监护人居民身份证", "监护人的居民身份证") in kinds
    assert ("申请材料「监护人居民身份证」顺序", "changed", "第3项", "第1项") in kinds
    assert all(kind == "changed" for _label, kind, _b, _a in kinds)

    # A material dropped and an unrelated one added are a deletion and an addition, spelled out in words.
    swapped = first.model_copy(deep=True)
    swapped.materials = [*swapped.materials[:2], swapped.materials[2].model_copy(update={"name": "不动产权证书"})]
    swapped.materials.append(first.materials[0].model_copy(update={"name": "委托书", "required": False}))
    swapped.materials[2].name = first.materials[2].name  # only the appended one is new
    change = diff_data(first, swapped)
    assert [(c.kind, c.label) for c in change] == [("added", "申请材料「委托书」")]
    assert change[0].before_text == "（空）" and change[0].after_text.startswith("材料名称：委托书；是否必需：否；")
    assert "原件份数：1" in change[0].after_text and "复印件份数" not in change[0].after_text
    gone = diff_data(swapped, first)
    assert [(c.kind, c.label) for c in gone] == [("removed", "申请材料「委托书」")]
    for c in [*changes, *change, *gone]:
        for text in (c.before_text, c.after_text):
            assert not any(word in text for word in ("None", "null", "True", "False", "{", "[")), text


def test_the_audit_log_reads_in_chinese_without_null(session):
    first = sample(1)[0]
    store.save_matter(session, first, author="import")
    versions.save_draft(session, renamed(first, "甲"), author="editor1", base_version=1)  # no note
    versions.publish(session, first.external_id, 2, author="editor1")
    versions.rollback(session, first.external_id, 1, author="editor1", publish_now=True)
    summaries = [(e.action, e.summary) for e in audit.entries(session, target=first.external_id)]
    assert summaries == [
        ("publish", "发布第 3 版；原线上第 2 版"),
        ("rollback", "回滚到第 1 版内容；生成第 3 版；并发布"),
        ("publish", "发布第 2 版；原线上第 1 版"),
        ("save", "生成第 2 版；基于第 1 版修改"),
    ]
    faq = audit.describe("faq_update", {"faq_id": 3, "changes": {"answer": {"before": None, "after": "可以"}}})
    assert faq == "常见问题 #3；答复：「（空）」→「可以」"
    assert "null" not in audit.describe("import", {"file": "a.csv", "publish": False, "created": [], "errors": []})


def test_a_new_matter_is_a_draft_until_published(session):
    item = sample(1)[0].model_copy(update={"external_id": "new-1"})
    versions.save_draft(session, item, author="editor1")
    assert store.get_by_external_id(session, "new-1").status == "draft"
    assert store.published(session) == [] and [d.external_id for d in drafts.latest_drafts(session)] == ["new-1"]
    versions.publish(session, "new-1", 1, author="editor1")
    assert [m.external_id for m in store.published(session)] == ["new-1"]


def test_conflict_carries_the_other_editors_version_and_diff(session):
    first = sample(1)[0]
    store.save_matter(session, first, author="import")
    versions.save_draft(session, renamed(first, "甲"), author="editor1", base_version=1)
    with pytest.raises(versions.VersionConflict) as caught:
        versions.save_draft(session, renamed(first, "乙"), author="editor2", base_version=1)
    assert caught.value.latest.version == 2 and caught.value.latest.author == "editor1"
    assert [(c.field, c.after) for c in caught.value.changes] == [("name", first.name + "甲")]


def test_rollback_adds_a_version_and_can_publish_it(session):
    first = sample(1)[0]
    store.save_matter(session, first, author="import")
    versions.save_draft(session, renamed(first, "错"), author="editor1", base_version=1)
    versions.publish(session, first.external_id, 2, author="editor1")
    row = versions.rollback(session, first.external_id, 1, author="editor1")
    assert row.version == 3 and store.published(session)[0].name == first.name + "错", "a plain rollback is a draft"
    versions.rollback(session, first.external_id, 1, author="editor1", publish_now=True)
    assert store.published(session)[0].name == first.name
    actions = [e.action for e in audit.entries(session, target=first.external_id)]
    assert actions == ["publish", "rollback", "rollback", "publish", "save"]


def test_a_draft_is_invisible_to_search_until_published(session, use_embedder):
    from retriever import HybridIndex, catch_up, rebuild

    items = sample()
    for item in items:
        store.save_matter(session, item, author="import")
    index = HybridIndex(use_embedder)
    rebuild(session, index)
    target = items[0]
    edited = target.model_copy(update={"aliases": [*target.aliases, "紫色独角兽证件"]})
    row = versions.save_draft(session, edited, author="editor1", base_version=1)
    catch_up(session, index)
    assert all(h.external_id != target.external_id for h in index.search("紫色独角兽证件", mode="bm25").hits)
    versions.publish(session, target.external_id, row.version, author="editor1")
    assert catch_up(session, index) == 1
    assert index.search("紫色独角兽证件", mode="bm25").hits[0].external_id == target.external_id


# -- the editor API -------------------------------------------------------------------------------


@pytest.fixture
def db(data_dir) -> Iterator:
    from sqlalchemy.orm import sessionmaker

    from banshi.db import get_engine, migrate

    migrate()
    with sessionmaker(get_engine(), expire_on_commit=False)() as session:
        yield session


@pytest.fixture
def app(db):
    from channels.app import create_app

    for username, role in USERS.items():
        create_user(db, UserIn(username=username, display_name=username, role=role, password=PASSWORD))
    for item in sample(3):
        store.save_matter(db, item, author="import")
    db.commit()
    return create_app()


def test_every_catalogue_route_needs_login_and_the_editor_role(app):
    found = operations(app, STAFF_PREFIXES)
    assert len(found) >= 12, found
    assert_guarded(app, found, denied="agent1", allowed=None)
    editor = login(app, "editor1")
    assert editor.get("/api/v1/audit").status_code == 403, "the audit log is for admins"
    assert editor.get("/api/v1/matters").status_code == 200


def test_edit_conflict_publish_rollback_delete_over_http(app):
    editor1, editor2, boss = login(app, "editor1"), login(app, "editor2"), login(app, "boss")
    listing = editor1.get("/api/v1/matters", params={"q": "身份证", "size": 2}).json()
    assert listing["total"] >= 2 and len(listing["items"]) == 2
    eid = listing["items"][0]["external_id"]
    loaded = editor1.get(f"/api/v1/matters/{eid}").json()
    assert loaded["draft"] is None and loaded["latest_version"] == 1
    matter = loaded["live"]

    broken = {**matter, "name": "", "visits": -1}
    bad = editor1.put(f"/api/v1/matters/{eid}", json={"matter": broken, "base_version": 1})
    assert bad.status_code == 422
    messages = " ".join(d["msg"] for d in bad.json()["detail"])
    assert "事项名称" in messages and "跑动次数" in messages

    ok = editor1.put(f"/api/v1/matters/{eid}", json={"matter": {**matter, "fee": "收费：10元"}, "base_version": 1})
    assert ok.status_code == 200 and ok.json()["version"] == 2 and ok.json()["published_version"] == 1
    stale = editor2.put(f"/api/v1/matters/{eid}", json={"matter": {**matter, "hours": "全天"}, "base_version": 1})
    assert stale.status_code == 409
    body = stale.json()
    assert body["latest_version"] == 2 and body["latest_author"] == "editor1"
    assert [(c["field"], c["after"]) for c in body["changes"]] == [("fee", "收费：10元")]

    detail = editor1.get(f"/api/v1/matters/{eid}").json()
    assert detail["draft"]["version"] == 2 and detail["live"]["fee"] != "收费：10元"
    assert editor1.get("/api/v1/matters", params={"has_draft": True}).json()["total"] == 1
    diff = editor1.get(f"/api/v1/matters/{eid}/diff", params={"from": 1, "to": 2}).json()
    assert [c["label"] for c in diff["changes"]] == ["收费"]

    assert editor1.post(f"/api/v1/matters/{eid}/publish", json={"version": 2}).json()["published_version"] == 2
    assert editor1.get(f"/api/v1/matters/{eid}").json()["live"]["fee"] == "收费：10元"
    back = editor1.post(f"/api/v1/matters/{eid}/rollback", json={"version": 1, "publish": True}).json()
    assert back["version"] == 3 and back["published_version"] == 3
    assert editor1.post(f"/api/v1/matters/{eid}/publish", json={"version": 9}).status_code == 404

    new = {**matter, "external_id": "new-http", "name": "新事项测试"}
    created = editor1.post("/api/v1/matters", json={"matter": new})
    assert created.status_code == 201 and created.json()["status"] == "draft"
    assert editor1.post("/api/v1/matters", json={"matter": new}).status_code == 409

    assert editor1.delete(f"/api/v1/matters/{eid}").status_code == 204
    assert editor1.get(f"/api/v1/matters/{eid}").json()["status"] == "deleted"
    assert editor1.get("/api/v1/matters", params={"q": eid}).json()["total"] == 0

    log = boss.get("/api/v1/audit", params={"target": eid}).json()
    assert [e["action"] for e in log] == ["delete", "publish", "rollback", "publish", "save"]
    assert all(e["actor"] == "editor1" for e in log)
    labels = boss.get("/api/v1/audit/actions").json()
    assert [e["action_label"] for e in log] == [labels[e["action"]] for e in log] and labels["delete"] == "删除事项"


@pytest.mark.parametrize("fmt", ["jsonl", "xlsx"])
def test_export_reimports_unchanged(app, fmt):
    editor = login(app, "editor1")
    exported = editor.get("/api/v1/export", params={"format": fmt})
    assert exported.status_code == 200 and exported.content
    files = {"file": (f"catalogue.{fmt}", io.BytesIO(exported.content))}
    report = editor.post("/api/v1/imports", files=files).json()
    assert (report["new"], report["changed"], report["invalid"], report["unchanged"]) == (0, 0, 0, 3), report


def test_import_dry_run_reports_a_bad_row_then_confirm_as_drafts(app):
    editor, boss = login(app, "editor1"), login(app, "boss")
    items = sample(4)
    lines = [
        json.dumps(renamed(items[0], "（改）").model_dump(mode="json"), ensure_ascii=False),  # changed
        json.dumps(items[1].model_dump(mode="json"), ensure_ascii=False),  # unchanged
        json.dumps(items[3].model_dump(mode="json"), ensure_ascii=False),  # new
        json.dumps({**items[2].model_dump(mode="json"), "visits": "很多"}, ensure_ascii=False),  # invalid
    ]
    files = {"file": ("批量.jsonl", io.BytesIO("\n".join(lines).encode()))}
    report = editor.post("/api/v1/imports", files=files).json()
    assert (report["new"], report["changed"], report["unchanged"], report["invalid"]) == (1, 1, 1, 1)
    [bad] = [r for r in report["rows"] if r["outcome"] == "invalid"]
    assert bad["row"] == "4" and "跑动次数" in bad["errors"][0]
    assert (bad["external_id"], bad["name"]) == (items[2].external_id, items[2].name), "the editor sees which matter"
    [changed] = [r for r in report["rows"] if r["outcome"] == "changed"]
    assert [c["field"] for c in changed["changes"]] == ["name"]
    assert editor.get(f"/api/v1/matters/{items[0].external_id}").json()["draft"] is None, "a dry run stores nothing"

    done = editor.post(f"/api/v1/imports/{report['id']}/confirm", json={"publish": False}).json()
    assert done["created"] == [items[3].external_id] and done["updated"] == [items[0].external_id]
    assert len(done["errors"]) == 1
    changed_matter = editor.get(f"/api/v1/matters/{items[0].external_id}").json()
    assert changed_matter["draft"]["matter"]["name"].endswith("（改）") and not changed_matter["live"]["name"].endswith(
        "（改）"
    )
    assert editor.get(f"/api/v1/matters/{items[3].external_id}").json()["status"] == "draft"
    assert editor.post(f"/api/v1/imports/{report['id']}/confirm", json={"publish": False}).status_code == 404
    assert [e["action"] for e in boss.get("/api/v1/audit", params={"action": "import"}).json()] == ["import"]


def test_upload_of_an_unknown_file_type_is_refused_in_chinese(app):
    editor = login(app, "editor1")
    response = editor.post("/api/v1/imports", files={"file": ("x.txt", io.BytesIO(b"hello"))})
    assert response.status_code == 422 and "不支持的文件类型" in response.json()["detail"][0]["msg"]


def _upload(client, name: str, items: list[dict]) -> dict:
    content = "\n".join(json.dumps(i, ensure_ascii=False) for i in items).encode()
    response = client.post("/api/v1/imports", files={"file": (name, io.BytesIO(content))})
    assert response.status_code == 201, response.text
    return response.json()


def test_confirm_leaves_out_rows_another_editor_changed_after_the_dry_run(app):
    editor1, editor2 = login(app, "editor1"), login(app, "editor2")
    items = [i.model_dump(mode="json") for i in sample(5)]
    upload = [{**items[0], "fee": "收费：5元"}, {**items[1], "fee": "收费：6元"}, items[3], items[4]]
    report = _upload(editor1, "批量.jsonl", upload)
    assert (report["changed"], report["new"]) == (2, 2)

    # Meanwhile editor2 saves a newer version of the first matter and creates the fourth one.
    first = items[0]["external_id"]
    saved = editor2.put(f"/api/v1/matters/{first}", json={"matter": {**items[0], "hours": "全天"}, "base_version": 1})
    assert saved.status_code == 200
    assert editor2.post("/api/v1/matters", json={"matter": {**items[3], "name": "抢先新建"}}).status_code == 201
    # … and the fifth exactly as the file has it: nothing of theirs would be lost, so that row imports.
    assert editor2.post("/api/v1/matters", json={"matter": items[4]}).status_code == 201

    done = editor1.post(f"/api/v1/imports/{report['id']}/confirm", json={"publish": False})
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["updated"] == [items[1]["external_id"]] and result["unchanged"] == 1
    conflicts = {c["external_id"]: c for c in result["conflicts"]}
    assert set(conflicts) == {first, items[3]["external_id"]}
    assert (conflicts[first]["checked_version"], conflicts[first]["current_version"]) == (1, 2)
    assert conflicts[first]["author"] == "editor2" and conflicts[first]["row"] == "1"
    message = conflicts[first]["message"]
    assert "预检后已被 editor2 修改为第 2 版" in message and "本行未导入" in message
    assert conflicts[items[3]["external_id"]]["checked_version"] == 0

    kept = editor1.get(f"/api/v1/matters/{first}").json()["draft"]
    assert kept["version"] == 2 and kept["matter"]["hours"] == "全天" and kept["matter"]["fee"] != "收费：5元"
    fourth = editor1.get(f"/api/v1/matters/{items[3]['external_id']}").json()
    assert fourth["latest_version"] == 1 and fourth["draft"]["matter"]["name"] == "抢先新建"
    [logged] = login(app, "boss").get("/api/v1/audit", params={"action": "import"}).json()
    assert len(logged["details"]["conflicts"]) == 2 and logged["actor"] == "editor1"


def test_an_upload_is_deleted_once_confirmed_and_expires_unconfirmed(app, data_dir):
    import os
    import time

    editor = login(app, "editor1")
    uploads = data_dir / "uploads"
    item = sample(1)[0].model_dump(mode="json")
    confirmed = _upload(editor, "a.jsonl", [{**item, "fee": "收费：1元"}])
    assert (uploads / confirmed["id"]).is_dir()
    assert editor.post(f"/api/v1/imports/{confirmed['id']}/confirm", json={}).status_code == 200
    assert not (uploads / confirmed["id"]).exists(), "a confirmed upload leaves nothing on disk"
    again = editor.post(f"/api/v1/imports/{confirmed['id']}/confirm", json={})
    assert again.status_code == 404 and "请重新上传" in again.json()["detail"]
    unknown = editor.post("/api/v1/imports/nosuchupload/confirm", json={})
    assert unknown.status_code == 404 and "找不到上传文件" in unknown.json()["detail"]

    day_old = time.time() - 25 * 3600
    stale = _upload(editor, "b.jsonl", [item])
    os.utime(uploads / stale["id"], (day_old, day_old))
    expired = editor.post(f"/api/v1/imports/{stale['id']}/confirm", json={})
    assert expired.status_code == 404 and "超过 24 小时未确认，已失效" in expired.json()["detail"]
    assert not (uploads / stale["id"]).exists()

    forgotten = _upload(editor, "c.jsonl", [item])
    os.utime(uploads / forgotten["id"], (day_old, day_old))
    fresh = _upload(editor, "d.jsonl", [item])
    assert sorted(p.name for p in uploads.iterdir()) == [fresh["id"]], "the next upload cleans the expired ones"

    broken = editor.post("/api/v1/imports", files={"file": ("坏.xlsx", io.BytesIO(b"not a spreadsheet"))})
    assert broken.status_code == 422 and "无法读取文件" in broken.json()["detail"][0]["msg"]
    assert sorted(p.name for p in uploads.iterdir()) == [fresh["id"]], "an unreadable upload is not kept"


def test_migration_0005_takes_existing_matters_as_published(data_dir):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text
    from sqlalchemy.pool import NullPool

    from banshi.db import MIGRATIONS, make_engine

    url = f"sqlite:///{data_dir / 'old.db'}"
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "0004")
    engine = make_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        for mid, status, version in ((1, "published", 2), (2, "draft", 1)):
            connection.execute(
                text(
                    "INSERT INTO matters (id, external_id, name, aliases, department, applicant_types, process_steps, "
                    f"handle_forms, updated_at, version, status) VALUES ({mid}, 'm{mid}', '事项{mid}', '[]', '某部门', "
                    f"'[]', '[]', '[]', '2026-11-20 01:00:00', {version}, '{status}')"
                )
            )
            for v in range(1, version + 1):
                connection.execute(
                    text(
                        "INSERT INTO matter_versions (matter_id, version, data, author, created_at) "
                        f"VALUES ({mid}, {v}, '{{}}', 'import', '2026-11-20 01:00:0{v}')"
                    )
                )
    command.upgrade(cfg, "0005")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT external_id, published_version FROM matters ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("m1", 2), ("m2", None)]
        query = "SELECT matter_id, version FROM matter_versions WHERE published_at IS NOT NULL"
        stamped = connection.execute(text(query))
        assert [tuple(r) for r in stamped] == [(1, 2)]
    command.downgrade(cfg, "0004")
    engine.dispose()
