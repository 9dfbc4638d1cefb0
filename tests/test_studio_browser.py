"""The content staff's studio in Debian's Chromium against the whole stack, each scenario on its own:

1. An editor changes a material of a matter and publishes; a citizen asking in the chat page then sees it.
2. The editor rolls the matter back; the citizen sees the old material again.
3. (tests/test_studio_curation_browser.py: an unanswered question attached as an alias.)
4. An import dry-run of a file with one bad row shows that row's error; the confirm imports the rest.

Plus what editors rely on around them: per-field Chinese errors, the conflict when two editors save the
same matter, the field-by-field diff. Screenshots go to tests/artifacts/studio-*.png.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.browser import add_staff, screenshot, sign_in, staff_api
from tests.chat_page import checklist_for

pytestmark = pytest.mark.slow
MATTER = "bs-jdc-jynj"  # 机动车检验合格标志核发（车辆年检）: used by no other browser test
QUESTION = "车辆年检要带什么材料"
OLD_MATERIAL = "车船税纳税或免税证明"
NEW_MATERIAL = "车船税完税证明（电子版即可）"


def _sign_in(page, live_stack, username: str = "wang", role: str = "editor") -> None:
    add_staff(live_stack.database_url, username, "王编辑" if role == "editor" else "周管理员", role)
    sign_in(page, live_stack.base_url, username)


def _editor_api(live_stack, username: str = "wang"):
    """What another editor's browser does, through the same API."""
    return staff_api(live_stack, username, "王编辑")


def _open_matter(page, external_id: str) -> None:
    page.goto(page.url.split("#")[0] + f"#/matters/{external_id}")
    page.wait_for_selector("#matter-form")


def _set_material(page, old: str, new: str) -> None:
    for field in page.locator("#materials input.name").all():
        if field.input_value() == old:
            field.fill(new)
            return
    raise AssertionError(f"no material named {old}")


def _ensure_published_material(live_stack, name: str) -> None:
    """Leaves MATTER live with its third material called ``name`` (the scenarios must not depend on order)."""
    with _editor_api(live_stack) as client:
        detail = client.get(f"/api/v1/matters/{MATTER}").json()
        matter = detail["draft"]["matter"] if detail["draft"] else detail["live"]
        if detail["live"]["materials"][2]["name"] == name and not detail["draft"]:
            return
        matter["materials"][2]["name"] = name
        saved = client.put(
            f"/api/v1/matters/{MATTER}",
            json={"matter": matter, "base_version": detail["latest_version"], "note": "测试准备"},
        )
        saved.raise_for_status()
        client.post(f"/api/v1/matters/{MATTER}/publish", json={"version": saved.json()["version"]}).raise_for_status()


def test_an_edited_material_reaches_the_citizen_once_published(live_stack, desk, page):
    _ensure_published_material(live_stack, OLD_MATERIAL)
    _sign_in(desk, live_stack)
    desk.fill("[data-filter='q']", "车辆年检")
    desk.locator(f"#matter-table tr[data-id='{MATTER}']").click()
    desk.wait_for_selector("#matter-form")
    screenshot(desk, "studio-matter-edit.png")

    # A bad value is refused beside its field, in Chinese; nothing is saved.
    desk.fill("[aria-label='网办链接']", "www.example.gov.cn")
    desk.click("#save")
    error = desk.locator("[data-field='online_url'] + .field-error")
    error.wait_for()
    assert "网办链接" in error.inner_text() and "http" in error.inner_text()
    desk.fill("[aria-label='网办链接']", "")

    _set_material(desk, OLD_MATERIAL, NEW_MATERIAL)
    desk.fill("#change-note", "按新规：车船税完税证明可用电子版")
    desk.click("#save")
    desk.locator("#draft-pill").wait_for()
    # A draft is invisible to citizens.
    assert OLD_MATERIAL in checklist_for(page, live_stack, QUESTION)

    desk.click("#publish-draft")
    published_at = time.monotonic()
    desk.locator("#toast", has_text="已发布").wait_for()
    text = checklist_for(page, live_stack, QUESTION)
    seen_after = time.monotonic() - published_at
    assert NEW_MATERIAL in text and OLD_MATERIAL not in text
    print(f"publish → citizen's checklist shows it (one chat, in the browser): {seen_after:.1f} s")
    desk.locator("#history tr[data-version]").first.wait_for()
    screenshot(desk, "studio-matter-history.png")


def test_a_rollback_brings_the_old_material_back(live_stack, desk, page):
    _ensure_published_material(live_stack, NEW_MATERIAL)
    assert NEW_MATERIAL in checklist_for(page, live_stack, QUESTION)
    _sign_in(desk, live_stack)
    _open_matter(desk, MATTER)
    history = desk.locator("#history")
    # The version before the live one holds the old material: compare, then roll back to it and publish.
    rows = history.locator("tr[data-version]")
    live = history.locator("tr[data-version]", has=desk.locator(".pill.published"))
    live_version = int(live.get_attribute("data-version"))
    older = history.locator(f"tr[data-version='{live_version - 1}']")
    assert rows.count() >= 2
    diff = desk.locator("#diff-table")
    diff.wait_for()
    assert OLD_MATERIAL in diff.inner_text() and NEW_MATERIAL in diff.inner_text()
    desk.once("dialog", lambda dialog: dialog.accept())
    older.locator("[data-action='rollback-publish']").click()
    desk.locator("#toast", has_text="并发布").wait_for()
    desk.wait_for_selector(f"#history tr[data-version='{live_version + 1}'] .pill.published")
    screenshot(desk, "studio-rollback.png")
    text = checklist_for(page, live_stack, QUESTION)
    assert OLD_MATERIAL in text and NEW_MATERIAL not in text


def test_two_editors_saving_the_same_matter_get_a_conflict_not_an_overwrite(live_stack, desk):
    _sign_in(desk, live_stack)
    _open_matter(desk, "bs-bdc-cx")
    with _editor_api(live_stack, "li") as other:  # 李 saves first, from the version 王 has open
        detail = other.get("/api/v1/matters/bs-bdc-cx").json()
        matter = detail["draft"]["matter"] if detail["draft"] else detail["live"]
        matter["fee"] = "查询收费：每件10元"
        other.put(
            "/api/v1/matters/bs-bdc-cx",
            json={"matter": matter, "base_version": detail["latest_version"], "note": "改收费"},
        ).raise_for_status()
    desk.fill("[data-field='hours']", "工作日 8:30-17:30")
    desk.click("#save")
    conflict = desk.locator("#conflict")
    conflict.wait_for()
    assert "li" in conflict.inner_text() and "每件10元" in conflict.inner_text()
    screenshot(desk, "studio-conflict.png")
    desk.click("#conflict button:has-text('放弃我的修改')")
    desk.wait_for_selector("#matter-form")
    assert desk.locator("[data-field='fee']").input_value() == "查询收费：每件10元"


def test_an_import_dry_run_shows_the_bad_row_and_the_confirm_imports_the_rest(live_stack, desk, tmp_path):
    good = {
        "external_id": "imp-browser-1",
        "name": "犬只登记",
        "department": "防城港市公安局",
        "city": "防城港市",
        "materials": [{"name": "犬只免疫证明"}],
        "visits": 1,
    }
    other = {**good, "external_id": "imp-browser-2", "name": "犬只年检", "materials": [{"name": "犬只登记证"}]}
    bad = {**good, "external_id": "imp-browser-3", "name": "犬只注销", "department": "", "visits": 99}
    path = tmp_path / "新增事项.jsonl"
    path.write_text("\n".join(json.dumps(m, ensure_ascii=False) for m in (good, bad, other)) + "\n", encoding="utf-8")

    _sign_in(desk, live_stack)
    desk.click("#nav a[data-view='import']")
    desk.set_input_files("#import-file", str(path))
    desk.click("#upload")
    report = desk.locator("#dry-run")
    report.wait_for()
    counts = desk.locator("#dry-run-counts").inner_text()
    assert "新增 2" in counts and "有错误 1" in counts
    bad_row = desk.locator("#dry-run-rows tr[data-outcome='invalid']")
    assert bad_row.count() == 1
    assert "实施部门" in bad_row.inner_text() and "跑动次数" in bad_row.inner_text()
    assert "imp-browser-3" in bad_row.inner_text() and "犬只注销" in bad_row.inner_text()
    screenshot(desk, "studio-import-dry-run.png")

    desk.check("#mode-publish")
    desk.click("#confirm-import")
    result = desk.locator("#import-result")
    result.wait_for()
    assert "新增 2 个" in result.inner_text() and "已发布" in result.inner_text()
    with _editor_api(live_stack) as client:
        assert client.get("/api/v1/matters/imp-browser-1").json()["published_version"] == 1
        assert client.get("/api/v1/matters/imp-browser-3").status_code == 404

    # The export gives the catalogue back as a file the import reads.
    with desk.expect_download() as download:
        desk.click("button[data-format='xlsx']")
    assert download.value.suggested_filename == "catalogue.xlsx"


def test_another_platforms_export_imports_through_an_uploaded_mapping(live_stack, desk, tmp_path):
    """The 浙江 sample CSV with one row the mapping refuses: the dry run names the mapping, says what the
    good rows became and why the bad one was refused; the confirm imports the rest."""
    from tests.conftest import ROOT

    samples = ROOT / "knowledge" / "sample" / "zjzwfw"
    rows = (samples / "zjzwfw_ningbo_haishu.csv").read_text(encoding="utf-8").splitlines()
    rows.append(rows[1].replace("nb330203-101", "nb330203-199").replace(",否,", ",面议,"))
    export = tmp_path / "宁波导出.csv"
    export.write_text("\n".join(rows), encoding="utf-8")

    _sign_in(desk, live_stack)
    desk.click("#nav a[data-view='import']")
    desk.locator("#import-mapping option", has_text="广西").first.wait_for(state="attached")  # shipped ones offered
    desk.set_input_files("#import-mapping-file", str(samples / "zjzwfw-csv.yml"))
    desk.set_input_files("#import-file", str(export))
    desk.click("#upload")
    desk.locator("#dry-run").wait_for()
    assert "浙江政务服务网（示例，CSV 表格）" in desk.locator("#dry-run-mapping").inner_text()
    assert "新增 4" in desk.locator("#dry-run-counts").inner_text()
    bad = desk.locator("#dry-run-rows tr[data-outcome='invalid']")
    assert "nb330203-199" in bad.inner_text() and "无法识别的取值：面议" in bad.inner_text()
    mortgage = desk.locator("#dry-run-rows tr", has_text="nb330203-104").inner_text()
    assert "浙江省宁波市海曙区" in mortgage and "其中 1 项无需提交" in mortgage
    screenshot(desk, "studio-import-mapping.png")

    desk.check("#mode-publish")
    desk.click("#confirm-import")
    desk.locator("#import-result").wait_for()
    assert "新增 4 个" in desk.locator("#import-result").inner_text()
    with _editor_api(live_stack) as client:
        assert client.get("/api/v1/matters/nb330203-104").json()["live"]["city"] == "宁波市"


def test_admins_read_the_audit_log_and_editors_do_not_see_it(live_stack, desk):
    with _editor_api(live_stack) as client:  # one change of the editor's, so the log has it whatever ran before
        detail = client.get("/api/v1/matters/bs-bdc-cx").json()
        matter = detail["draft"]["matter"] if detail["draft"] else detail["live"]
        matter["hours"] = "工作日 9:00-17:00"
        client.put(
            "/api/v1/matters/bs-bdc-cx",
            json={"matter": matter, "base_version": detail["latest_version"], "note": "调整办理时间"},
        ).raise_for_status()
    _sign_in(desk, live_stack)
    assert desk.locator("#nav a[data-view='audit']").is_hidden()
    desk.click("#logout")
    _sign_in(desk, live_stack, "admin-zhou", role="admin")
    desk.click("#nav a[data-view='audit']")
    row = desk.locator("#audit-table tbody tr", has_text="调整办理时间").first
    row.wait_for()
    assert "wang" in row.inner_text() and "保存事项" in row.inner_text() and "bs-bdc-cx" in row.inner_text()
    screenshot(desk, "studio-audit.png")
