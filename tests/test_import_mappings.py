"""Any platform's export, by a mapping: value maps, splitting and day parsing; a broken mapping refused in
Chinese; the 广西 export through its mapping equals the old code importer; two fictional 浙江 exports (nested
JSON, CSV) import through their own mappings and live beside the 广西 catalogue, searchable by region."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from knowledge import store
from knowledge.importers import import_path, read_source
from knowledge.importers.mapping import ValueRefused, map_record
from knowledge.importers.mapping_spec import MappingError, load_mapping, parse_mapping
from knowledge.schema import MatterIn
from tests.conftest import GUIDES_JSONL, GUIDES_RAW, ROOT, SAMPLE_CATALOGUE, needs_shared

SAMPLES = ROOT / "knowledge" / "sample" / "zjzwfw"
ZJ_JSON, ZJ_MAPPING = SAMPLES / "zjzwfw_hangzhou_xihu.json", SAMPLES / "zjzwfw.yml"
ZJ_CSV, ZJ_CSV_MAPPING = SAMPLES / "zjzwfw_ningbo_haishu.csv", SAMPLES / "zjzwfw-csv.yml"

SMALL = """
name: test
records: data.list
constants: {province: 浙江省}
fields:
  external_id: TASK_GUID
  name: TASK_NAME
  department: DEPT_NAME
  processing_type: {path: PROMISE_TYPE, map: {"1": 即办件, "2": 承诺件}, unmapped: refuse}
  applicant_types: {path: SERVICE_OBJECT, parse: list, map: {自然人: 个人, 法人: 企业}}
  time_limit_legal_days: {path: legal_time_limit, parse: days}
  time_limit_promised_days: {path: handle_time_limit, parse: days, at_most: time_limit_legal_days}
  fee: {path: IS_CHARGE, map: {true: 收费, false: 不收费}}
  handle_forms: {path: HANDLE_TYPE, parse: list, split: '[;；]'}
materials:
  path: material_intro
  split: '[；;]'
  fields:
    name: {path: $, pattern: '^(.+?)(?:（[^（）]*）)?$'}
    original_or_copy: {path: $, pattern: '（(原件|复印件)'}
    required: {path: $, pattern: '(可选)', map: {可选: false}, default: true}
    exempt: {path: $, contains: [免提交], default: false}
    exempt_by: {path: $, pattern: '(电子证照|数据共享|告知承诺)免提交', only_if: exempt}
    data_shared: {path: $, contains: [数据共享], default: false}
"""


def record(**overrides) -> dict:
    data = {
        "TASK_GUID": "zj-1",
        "TASK_NAME": "个体工商户设立登记",
        "DEPT_NAME": "杭州市西湖区市场监督管理局",
        "PROMISE_TYPE": "2",
        "SERVICE_OBJECT": "自然人,法人",
        "legal_time_limit": "15(工作日)",
        "handle_time_limit": "30(工作日)",
        "IS_CHARGE": False,
        "HANDLE_TYPE": "窗口办理;网上办理",
        "material_intro": "申请书（原件）；身份证明（原件，数据共享免提交，数据共享）；委托书（复印件，可选）",
    }
    return {**data, **overrides}


def test_value_maps_splitting_and_day_parsing():
    mapping = parse_mapping(SMALL)
    data = map_record(mapping, record())
    item = MatterIn.model_validate(data)
    assert (item.province, item.processing_type, item.applicant_types, item.fee) == (
        "浙江省",
        "承诺件",
        ["个人", "企业"],
        "不收费",
    )
    assert (item.time_limit_legal_days, item.time_limit_promised_days) == (15, 15), "30(工作日) read, then kept ≤ 法定"
    assert item.handle_forms == ["窗口办理", "网上办理"]
    assert [(m.name, m.original_or_copy, m.required) for m in item.materials] == [
        ("申请书", "原件", True),
        ("身份证明", "原件", True),
        ("委托书", "复印件", False),
    ]
    shared = item.materials[1]
    assert (shared.exempt, shared.exempt_by, shared.data_shared, shared.must_bring) == (True, "数据共享", True, False)
    assert (item.materials[0].exempt, item.materials[0].exempt_by) == (False, None), "exempt_by only when exempt"

    same_day = map_record(mapping, record(PROMISE_TYPE="1", legal_time_limit="即办", handle_time_limit="60(自然日)"))
    assert (same_day["processing_type"], same_day["time_limit_legal_days"], same_day["time_limit_promised_days"]) == (
        "即办件",
        0,
        0,
    )
    with pytest.raises(ValueRefused) as unlisted:
        map_record(mapping, record(PROMISE_TYPE="3"))
    assert unlisted.value.field == "processing_type" and "无法识别的取值：3" in unlisted.value.message
    with pytest.raises(ValueRefused) as days:
        map_record(mapping, record(legal_time_limit="另行通知"))
    assert days.value.field == "time_limit_legal_days" and "无法识别的时限" in days.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nfields: [unclosed", "不是合法的 YAML：第3行第1列附近有语法错误"),
        ("- just a list", "应为键值对"),
        ("name: x\nfields: {external_id: ID, name: N, dept: D}", "未知的目标字段：dept"),
        ("name: x\nfields: {external_id: ID, name: {path: N, pattern: '(['}}", "正则表达式无效"),
        (
            "name: x\nfields: {external_id: ID, name: {path: N, parse: date}}",
            "parse：取值不在允许范围内（可选：text、int、days、bool、list、url）",
        ),
        ("name: x\nfields: {external_id: ID}", "必须给出 external_id（外部编号）和 name（事项名称）"),
        (
            "name: x\nfields: {external_id: ID, name: N, fee: {path: F, only_if: free}}",
            "引用的字段 free 没有在同一部分中给出",
        ),
        ("name: x\nfields: {external_id: ID, name: N}\nmaterial: {path: M}", "material：未知的设置项"),
        ("name: x\nfields: {external_id: ID, name: {clean: true}}", "path（取值路径）、value（常量）或 default"),
    ],
)
def test_a_broken_mapping_file_gets_a_clear_chinese_error(text, expected):
    with pytest.raises(MappingError) as error:
        parse_mapping(text, "broken.yml")
    assert "broken.yml" in str(error.value) and expected in str(error.value)
    assert not any(english in str(error.value) for english in ("Field required", "Input should", "Extra inputs"))


def test_rows_the_mapping_cannot_read_are_refused_with_their_reasons(session, tmp_path):
    export = {
        "data": {
            "list": [
                record(),
                record(TASK_GUID="zj-2", PROMISE_TYPE="9"),
                record(TASK_GUID="zj-3", handle_time_limit="另行通知"),
                record(TASK_GUID="zj-4", DEPT_NAME=None),
                "not a record",
            ]
        }
    }
    source = tmp_path / "export.json"
    source.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "m.yml").write_text(SMALL, encoding="utf-8")

    report = import_path(session, source, mapping=load_mapping(tmp_path / "m.yml"))
    assert report.created == ["zj-1"]
    errors = {e.row: e for e in report.errors}
    assert (errors["2"].field, errors["3"].field, errors["4"].field) == (
        "processing_type",
        "time_limit_promised_days",
        "department",
    )
    assert str(errors["2"]) == "export.json 第2行 字段 processing_type：无法识别的取值：9（映射文件的 map 中没有列出）"
    assert errors["4"].message == "缺少必填字段" and "对象" in errors["5"].message


def gxzwfw_oracle(folder: Path) -> dict[str, dict]:
    from tests.gxzwfw_code_importer import read_raw_folder

    return {m["external_id"]: MatterIn.model_validate(m).content_key() for m in read_raw_folder(folder)}


@needs_shared
def test_the_gxzwfw_mapping_gives_the_same_catalogue_as_the_code_importer():
    """All 781 matters, every field including the 免提交 / 数据共享 / 电子证照 flags of each material."""
    from tests.gxzwfw_code_importer import read_clean_jsonl

    expected = gxzwfw_oracle(GUIDES_RAW)
    explicit = {r.matter.external_id: r.matter.content_key() for r in read_source(GUIDES_RAW, load_mapping("gxzwfw"))}
    detected = {r.matter.external_id: r.matter.content_key() for r in read_source(GUIDES_RAW)}
    assert len(expected) == 781
    assert explicit == expected and detected == expected
    flags = [(m["exempt"], m["data_shared"], m["e_licence"]) for k in expected.values() for m in k["materials"]]
    assert [sum(f[i] for f in flags) for i in range(3)] == [96, 1338, 638]

    clean = {m["external_id"]: MatterIn.model_validate(m).content_key() for m in read_clean_jsonl(GUIDES_JSONL)}
    assert {r.matter.external_id: r.matter.content_key() for r in read_source(GUIDES_JSONL)} == clean


def test_the_fictional_zhejiang_exports_import_through_their_own_mappings(session):
    nested = import_path(session, ZJ_JSON, mapping=load_mapping(ZJ_MAPPING))
    table = import_path(session, ZJ_CSV, mapping=load_mapping(ZJ_CSV_MAPPING))
    assert (len(nested.created), nested.errors, len(table.created), table.errors) == (6, [], 4, [])

    marriage = store.to_schema(store.get_by_external_id(session, "zj330106-0002"))
    assert (marriage.region, marriage.processing_type, marriage.time_limit_promised_days) == (
        "浙江省杭州市西湖区",
        "即办件",
        0,
    )
    assert [(m.name, m.exempt_by) for m in marriage.materials if m.exempt] == [("无配偶声明", "告知承诺")]
    licence = store.to_schema(store.get_by_external_id(session, "zj330106-0001"))
    assert [m.name for m in licence.materials if m.must_bring] == [
        "个体工商户登记（备案）申请书",
        "经营者身份证明",
        "委托代理人身份证明",
    ]
    assert [s.name for s in licence.process_steps] == ["申请", "审核", "发照"] and licence.fee == "不收费"
    mortgage = store.to_schema(store.get_by_external_id(session, "nb330203-104"))
    assert (mortgage.region, mortgage.time_limit_legal_days, mortgage.fee) == ("浙江省宁波市海曙区", 30, "收费")
    assert [(m.name, m.exempt, m.exempt_by, m.required) for m in mortgage.materials][1:4:2] == [
        ("不动产权证书", True, "数据共享", True),
        ("营业执照", False, None, False),
    ]
    again = import_path(session, ZJ_JSON, mapping=load_mapping(ZJ_MAPPING))
    assert len(again.unchanged) == 6, "re-importing the same export changes nothing"


def test_the_same_mappings_read_xlsx_and_jsonl(session, tmp_path):
    import csv

    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "导出说明"
    book.active.append(["本表由浙江政务服务网导出"])
    sheet = book.create_sheet("事项")
    with ZJ_CSV.open(encoding="utf-8") as handle:
        for values in csv.reader(handle):
            sheet.append([int(v) if v.isdigit() else v or None for v in values])
    book.save(tmp_path / "宁波.xlsx")
    mapping = load_mapping(ZJ_CSV_MAPPING).model_copy(update={"sheet": "事项"})
    from_sheet = {r.matter.external_id: r.matter for r in read_source(tmp_path / "宁波.xlsx", mapping)}
    from_csv = {r.matter.external_id: r.matter for r in read_source(ZJ_CSV, load_mapping(ZJ_CSV_MAPPING))}
    assert len(from_sheet) == 4 and from_sheet == from_csv

    lines = json.loads(ZJ_JSON.read_text(encoding="utf-8"))["data"]["list"]
    (tmp_path / "西湖.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lines), encoding="utf-8")
    assert len(import_path(session, tmp_path / "西湖.jsonl", mapping=load_mapping(ZJ_MAPPING)).created) == 6


def test_several_platforms_live_side_by_side_and_are_searched_by_region(session, use_embedder):
    from retriever import HybridIndex, rebuild

    assert not import_path(session, SAMPLE_CATALOGUE).errors
    import_path(session, ZJ_JSON, mapping=load_mapping(ZJ_MAPPING))
    import_path(session, ZJ_CSV, mapping=load_mapping(ZJ_CSV_MAPPING))
    provinces = {m.province for m in store.published(session)}
    assert provinces == {"广西壮族自治区", "浙江省"}

    index = HybridIndex(use_embedder)
    rebuild(session, index)
    first = {place: index.search("个体工商户设立登记", region=place).hits[0] for place in ("西湖区", "宁波", "东兴市")}
    assert {place: hit.external_id for place, hit in first.items()} == {
        "西湖区": "zj330106-0001",
        "宁波": "nb330203-101",
        "东兴市": "bs-gtgsh-sl",
    }
    assert first["宁波"].region == "浙江省宁波市海曙区"
    marriages = index.search("结婚登记", k=10, region="杭州").hits
    assert marriages[0].external_id == "zj330106-0002"
    assert all(h.region.startswith("浙江省杭州市") for h in marriages)


# -- the studio's import and the CLI ----------------------------------------------------------------


@pytest.fixture
def editor(session):
    from channels.accounts import UserIn, create_user
    from channels.app import create_app
    from tests.staff_api import PASSWORD, login

    create_user(session, UserIn(username="editor1", display_name="编辑", role="editor", password=PASSWORD))
    create_user(session, UserIn(username="agent1", display_name="坐席", role="agent", password=PASSWORD))
    session.commit()
    app = create_app()
    return app, login(app, "editor1")


def test_the_studio_imports_another_platform_through_a_chosen_or_uploaded_mapping(editor, data_dir):
    from tests.staff_api import assert_guarded, operations

    app, client = editor
    assert_guarded(app, operations(app, ("/api/v1/import-mappings",)), denied="agent1", allowed="editor1")
    (data_dir / "mappings").mkdir()
    (data_dir / "mappings" / "xihu.yml").write_bytes(ZJ_MAPPING.read_bytes())
    (data_dir / "mappings" / "broken.yml").write_text("name: [", encoding="utf-8")
    offered = {m["name"]: m for m in client.get("/api/v1/import-mappings").json()}
    assert set(offered) == {"gxzwfw", "gxzwfw-jsonl", "xihu"}, "a stored mapping that does not load is not offered"
    assert offered["gxzwfw"]["title"].startswith("广西") and offered["xihu"]["stored"]
    stored = client.post(
        "/api/v1/imports", files={"file": (ZJ_JSON.name, ZJ_JSON.read_bytes())}, data={"mapping_name": "xihu"}
    )
    assert stored.json()["new"] == 6

    broken = client.post(
        "/api/v1/imports",
        files={"file": (ZJ_CSV.name, ZJ_CSV.read_bytes()), "mapping": ("m.yml", b"name: x\nfields: {external_id: A}")},
    )
    assert broken.status_code == 422 and "映射文件 m.yml 有误" in broken.json()["detail"][0]["msg"]
    unknown = client.post(
        "/api/v1/imports", files={"file": (ZJ_CSV.name, ZJ_CSV.read_bytes())}, data={"mapping_name": "火星"}
    )
    assert unknown.status_code == 422 and "没有名为 火星 的映射" in unknown.json()["detail"][0]["msg"]

    rows = ZJ_CSV.read_text(encoding="utf-8").splitlines()
    rows.append(rows[1].replace("nb330203-101", "nb330203-199").replace(",否,", ",面议,"))
    upload = {"file": ("宁波.csv", "\n".join(rows).encode()), "mapping": ("浙江.yml", ZJ_CSV_MAPPING.read_bytes())}
    dry = client.post("/api/v1/imports", files=upload).json()
    assert (dry["mapping"], dry["new"], dry["invalid"]) == ("浙江政务服务网（示例，CSV 表格）", 4, 1)
    [bad] = [r for r in dry["rows"] if r["outcome"] == "invalid"]
    assert (bad["row"], bad["external_id"]) == ("6", "nb330203-199")
    assert bad["errors"] == ["收费：无法识别的取值：面议（映射文件的 map 中没有列出）"]
    became = {r["external_id"]: r["became"] for r in dry["rows"] if r["outcome"] == "new"}
    assert (
        became["nb330203-104"] == "浙江省宁波市海曙区 · 宁波市自然资源和规划局海曙分局 · 承诺件 · 承诺 1 个工作日 · "
        "材料 4 项（其中 1 项无需提交）"
    )

    done = client.post(f"/api/v1/imports/{dry['id']}/confirm", json={"publish": True}).json()
    assert len(done["created"]) == 4 and len(done["errors"]) == 1, "the confirm reads through the same mapping"
    assert client.get("/api/v1/matters/nb330203-104").json()["live"]["county"] == "海曙区"

    platform = {
        "source_platform": "gxzwfw",
        "items": [{"service": {"service_name": "用气过户", "source_item_id": "g"}}],
    }
    recognised = client.post("/api/v1/imports", files={"file": ("gx.json", json.dumps(platform).encode())}).json()
    assert recognised["mapping"] == "广西数字政务一体化平台（按部门导出的 JSON）" and recognised["invalid"] == 1
    assert recognised["rows"][0]["row"] == "items[1]" and "实施部门：缺少必填字段" in recognised["rows"][0]["errors"]

    by_name = client.post(
        "/api/v1/imports", files={"file": ("x.json", io.BytesIO(ZJ_JSON.read_bytes()))}, data={"mapping_name": "gxzwfw"}
    ).json()
    assert by_name["invalid"] == 1 and "应为记录列表" in by_name["rows"][0]["errors"][0], "the wrong mapping says why"


def test_the_cli_imports_through_a_mapping_and_refuses_a_broken_one(tmp_path):
    from tests.test_cli import run

    data = tmp_path / "var"
    imported = run(["import", str(ZJ_JSON), "--mapping", str(ZJ_MAPPING)], data)
    assert imported.returncode == 0, imported.stderr
    assert "新增 6" in imported.stdout and "出错 0" in imported.stdout
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\nfields:\n  external_id: ID\n  name: N\n  deadline: D\n", encoding="utf-8")
    refused = run(["import", str(ZJ_JSON), "--mapping", str(broken)], data)
    assert refused.returncode == 2 and "映射文件 broken.yml 有误" in refused.stderr and "deadline" in refused.stderr
