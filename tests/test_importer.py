"""Importing the catalogue: every format, bad rows reported precisely, re-imports in place."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from knowledge import store
from knowledge.importers import import_path, read_source
from knowledge.models import Matter, MatterVersion
from tests.conftest import GUIDES_JSONL, GUIDES_RAW, SAMPLE_CATALOGUE, needs_shared


def matter(external_id: str = "t-1", **overrides) -> dict:
    data = {
        "external_id": external_id,
        "name": "个体工商户设立登记",
        "aliases": ["开个体户", "办营业执照"],
        "department": "防城港市市场监督管理局",
        "province": "广西壮族自治区",
        "city": "防城港市",
        "materials": [
            {"name": "经营者身份证", "original_or_copy": "原件", "original_count": 1, "source": "申请人自备"},
            {"name": "授权委托书", "required": False, "condition": "委托他人代办时"},
        ],
        "time_limit_legal_days": 15,
        "time_limit_promised_days": 1,
        "fee": "不收费",
        "visits": 0,
    }
    data.update(overrides)
    return data


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


def test_jsonl_bad_rows_are_named_and_the_rest_imports(session, tmp_path):
    source = write_jsonl(
        tmp_path / "catalogue.jsonl",
        [
            matter("a"),
            matter("b", name=""),
            "{not json",
            matter("c", materials=[{"name": "身份证", "original_count": -1}]),
            matter("d", time_limit_legal_days=1, time_limit_promised_days=5),
            matter("e", online_url="www.example.gov.cn"),
            matter("f"),
        ],
    )
    report = import_path(session, source)

    assert sorted(report.created) == ["a", "f"]
    by_row = {e.row: e for e in report.errors}
    assert set(by_row) == {"2", "3", "4", "5", "6"}
    assert by_row["2"].field == "name" and by_row["2"].file == "catalogue.jsonl"
    assert "JSON" in by_row["3"].message
    assert by_row["4"].field == "materials.0.original_count" and "负数" in by_row["4"].message
    assert "承诺办结时限" in by_row["5"].message
    assert by_row["6"].field == "online_url"
    assert str(by_row["2"]).startswith("catalogue.jsonl 第2行 字段 name")


def test_reimport_updates_in_place_and_keeps_history(session, tmp_path):
    source = write_jsonl(tmp_path / "c.jsonl", [matter("a"), matter("b")])
    first = import_path(session, source)
    again = import_path(session, source)
    assert (len(first.created), len(again.unchanged), len(again.created)) == (2, 2, 0)

    changed = matter("a", materials=[{"name": "经营者身份证"}, {"name": "经营场所证明"}])
    third = import_path(session, write_jsonl(source, [changed, matter("b")]))
    assert third.updated == ["a"] and third.unchanged == ["b"]

    assert session.scalar(select(func.count()).select_from(Matter)) == 2
    a = store.get_by_external_id(session, "a")
    assert a.version == 2
    assert [m.name for m in a.materials] == ["经营者身份证", "经营场所证明"]
    versions = session.scalars(select(MatterVersion.version).where(MatterVersion.matter_id == a.id)).all()
    assert sorted(versions) == [1, 2]


def test_duplicate_external_id_in_one_file_is_an_error(session, tmp_path):
    report = import_path(session, write_jsonl(tmp_path / "d.jsonl", [matter("a"), matter("a", name="另一个名称")]))
    assert report.created == ["a"]
    assert report.errors[0].field == "external_id" and report.errors[0].row == "2"


def test_json_list_and_drafts_are_not_published(session, tmp_path):
    source = tmp_path / "c.json"
    source.write_text(json.dumps({"matters": [matter("a"), matter("b")]}, ensure_ascii=False), encoding="utf-8")
    report = import_path(session, source, publish=False)
    assert len(report.created) == 2
    assert store.published(session) == []
    assert store.count_by_status(session) == {"draft": 2}


def test_csv_with_chinese_headers(session, tmp_path):
    source = tmp_path / "c.csv"
    with source.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["外部编号", "事项名称", "别名", "实施部门", "法定时限", "承诺时限", "跑动次数", "申请材料"])
        writer.writerow(
            [
                "a",
                "居民身份证换领",
                "换身份证、身份证过期",
                "防城港市公安局",
                "60个工作日",
                "30",
                "1",
                json.dumps([{"name": "居民户口簿"}], ensure_ascii=False),
            ]
        )
        writer.writerow(["b", "结婚登记", "", "防城港市民政局", "", "", "两次", ""])
        writer.writerow(["c", "离婚登记", "", "防城港市民政局", "", "", "", "[broken"])
    report = import_path(session, source)
    assert report.created == ["a"]
    assert {(e.row, e.field) for e in report.errors} == {("3", "visits"), ("4", "materials")}
    a = store.to_schema(store.get_by_external_id(session, "a"))
    assert a.aliases == ["换身份证", "身份证过期"]
    assert (a.time_limit_legal_days, a.time_limit_promised_days) == (60, 30)


def test_xlsx_with_a_materials_sheet(session, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = "事项"
    sheet.append(["外部编号", "事项名称", "实施部门", "服务对象", "办理流程"])
    sheet.append(["a", "个体工商户注销登记", "防城港市市场监督管理局", "个人、企业", "申请：提交材料\n审核：当场办结"])
    sheet.append(["b", "", "防城港市市场监督管理局", None, None])
    materials = book.create_sheet("材料")
    materials.append(["外部编号", "材料名称", "是否必需", "原件/复印件", "原件份数", "适用情形"])
    materials.append(["a", "注销登记申请书", "是", "原件", 1, None])
    materials.append(["a", "授权委托书", "否", "原件", 1, "委托代理人办理时"])
    source = tmp_path / "c.xlsx"
    book.save(source)

    report = import_path(session, source)
    assert report.created == ["a"]
    assert [(e.row, e.field) for e in report.errors] == [("事项!3", "name")]
    a = store.to_schema(store.get_by_external_id(session, "a"))
    assert a.applicant_types == ["个人", "企业"]
    assert [s.name for s in a.process_steps] == ["申请", "审核"]
    assert [(m.name, m.required, m.condition) for m in a.materials] == [
        ("注销登记申请书", True, None),
        ("授权委托书", False, "委托代理人办理时"),
    ]


def test_unsupported_file_is_refused_in_chinese(tmp_path):
    from knowledge.importers.runner import UnsupportedSource

    (tmp_path / "c.txt").write_text("x", encoding="utf-8")
    with pytest.raises(UnsupportedSource, match="不支持的文件类型"):
        list(read_source(tmp_path / "c.txt"))


def test_platform_export_is_detected_and_cleaned(session, tmp_path):
    raw = {
        "source_platform": "gxzwfw",
        "source_region_code": "1",
        "items": [
            {
                "service": {
                    "service_name": "用气过户",
                    "department": "防城港市住房和城乡建设局",
                    "promise_days": 3,
                    "legal_days": 5,
                    "on_site_times": 1,
                    "is_charge": False,
                    "item_type": "承诺件",
                    "accept_condition": "户内燃气设施符合安全使用条件。...展开",
                    "handle_address": "防城港市港口区兴港大道\n...展开\n更多地点",
                    "handle_time": "工作日 08:30-17:30...展开",
                    "handle_form": "窗口办理,网上办理",
                    "consult_way": "0770-2825999...展开",
                    "source_item_id": "gx-1",
                    "source_url": "https://zwfw.gxzf.gov.cn/eportal/ui?itemDetailId=gx-1",
                },
                "materials": [
                    {
                        "material_name": "身份证",
                        "is_required": True,
                        "material_form": "纸质",
                        "original_num": 1,
                        "copy_num": 0,
                        "note": "类型：原件\n来源渠道：申请人自备\n填报须知：真实有效\n是否需要签章：否",
                    }
                ],
                "processes": [{"step_name": "受理", "step_desc": "办理步骤\n当场受理...展开", "sort": 1}],
                "raw_payload": {
                    "list_item": {"parentId": "p-1", "obj": {"onlineUrl": "无"}},
                    "detail_extract": {"parent_name": "获得用气服务"},
                },
            }
        ],
    }
    source = tmp_path / "gxzwfw_services_1.json"
    source.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")

    assert import_path(session, source).created == ["gx-1"]
    m = store.to_schema(store.get_by_external_id(session, "gx-1"))
    assert m.location == "防城港市港口区兴港大道"
    assert m.conditions == "户内燃气设施符合安全使用条件。"
    assert "展开" not in (m.hours or "") + (m.phone or "") + (m.process_steps[0].desc or "")
    assert (m.province, m.city, m.parent_external_id, m.parent_name) == (
        "广西壮族自治区",
        "防城港市",
        "p-1",
        "获得用气服务",
    )
    assert (m.time_limit_promised_days, m.visits, m.fee, m.online_url) == (3, 1, "不收费", None)
    material = m.materials[0]
    assert (material.original_or_copy, material.source, material.note) == ("原件", "申请人自备", "填报须知：真实有效")


def test_sample_catalogue_is_complete(session):
    report = import_path(session, SAMPLE_CATALOGUE)
    assert not report.errors
    matters = store.published(session)
    assert len(matters) >= 60
    assert all(m.materials for m in matters)
    assert sum(any(x.condition for x in m.materials) for m in matters) >= 10
    assert sum(bool(m.parent_external_id) for m in matters) >= 6


@needs_shared
@pytest.mark.parametrize("source", [GUIDES_RAW, GUIDES_JSONL], ids=["raw-export", "clean-jsonl"])
def test_real_catalogue_imports_whole(session, source):
    report = import_path(session, source)
    assert (len(report.created), len(report.errors)) == (781, 0)
    matters = store.published(session)
    text = json.dumps([m.model_dump(mode="json") for m in matters], ensure_ascii=False)
    assert "...展开" not in text and "更多地点" not in text
    assert sum(bool(m.parent_external_id) for m in matters) == 519
    assert len(import_path(session, source).unchanged) == 781


@needs_shared
def test_the_platform_export_keeps_every_material_source_flag(session):
    """96 免提交, 1,338 shared by data and 638 electronic-licence materials: the figures of the export itself."""
    import_path(session, GUIDES_RAW)
    materials = [m for matter in store.published(session) for m in matter.materials]
    assert sum(m.exempt for m in materials) == 96
    assert sum(m.data_shared for m in materials) == 1338
    assert sum(m.e_licence for m in materials) == 638
    assert all(m.exempt_by for m in materials if m.exempt)
    assert {m.exempt_by for m in materials if m.exempt} == {"电子证照", "数据共享", "告知承诺", "其他"}


def test_material_sources_round_trip_through_an_xlsx_with_chinese_headers(session, tmp_path):
    book = Workbook()
    book.active.title = "事项"
    book.active.append(["外部编号", "事项名称", "实施部门"])
    book.active.append(["a", "企业开办", "防城港市市场监督管理局"])
    materials = book.create_sheet("材料")
    materials.append(["外部编号", "材料名称", "免提交", "免提交方式", "数据共享获取", "可用电子证照"])
    materials.append(["a", "营业执照", "是", "电子证照", "否", "是"])
    materials.append(["a", "身份证", "否", None, "是", "否"])
    materials.append(["a", "申请书", None, None, None, None])
    source = tmp_path / "c.xlsx"
    book.save(source)

    assert import_path(session, source).created == ["a"]
    a = store.to_schema(store.get_by_external_id(session, "a"))
    assert [(m.exempt, m.exempt_by, m.data_shared, m.e_licence) for m in a.materials] == [
        (True, "电子证照", False, True),
        (False, None, True, False),
        (False, None, False, False),
    ]
    assert [m.must_bring for m in a.materials] == [False, False, True]
