"""最多跑一次 in the checklist: what the citizen need not bring is set apart, and the count they hear is
of what they must bring. The text and the card (the ``checklist`` payload) say the same."""

from __future__ import annotations

import re

from dialogue.actions.checklist import build_checklist, render_checklist
from knowledge.schema import MatterIn

MATTER = MatterIn(
    external_id="biz-1",
    name="个体工商户设立登记",
    department="防城港市市场监督管理局",
    handle_forms=["窗口办理", "网上办理"],
    online_url="https://zwfw.example.gov.cn/biz-1",
    visits=0,
    materials=[
        {"name": "个体工商户开业登记申请书", "original_count": 1},
        {"name": "经营者身份证", "e_licence": True, "original_count": 1},
        {"name": "经营场所使用证明", "data_shared": True},
        {"name": "营业执照（已有的）", "exempt": True, "exempt_by": "电子证照"},
        {"name": "婚姻状况声明", "exempt": True, "exempt_by": "告知承诺"},
    ],
)


def test_the_count_the_citizen_hears_is_of_what_they_must_bring():
    text = render_checklist(MATTER)
    assert "需要提交的材料（共2项）" in text
    assert "无需提交的材料（共3项，为您省去3份材料）" in text
    assert "经营者身份证（可用电子证照）" in text
    assert "经营场所使用证明：部门通过数据共享获取" in text
    assert "营业执照（已有的）：免提交（以电子证照代替）" in text
    assert "婚姻状况声明：免提交（以告知承诺代替）" in text


def test_fully_online_is_said_first():
    lines = render_checklist(MATTER).splitlines()
    assert lines[1] == "可全程网办，无需跑腿：https://zwfw.example.gov.cn/biz-1"
    window_only = MATTER.model_copy(update={"handle_forms": ["窗口办理"], "visits": 1})
    assert "全程网办" not in render_checklist(window_only).split("跑动次数")[0]


def test_no_material_is_listed_twice_and_the_card_agrees_with_the_text():
    text = render_checklist(MATTER)
    card = build_checklist(MATTER)
    for material in MATTER.materials:
        assert text.count(material.name) == 1, material.name
    numbered = re.findall(r"^\d+\. (\S+?)[（【]", text, flags=re.MULTILINE)
    assert numbered == [m["name"] for m in card["materials"] if m["must_bring"]]
    assert card["counts"] == {"must_bring": 2, "saved": 3, "e_licence": 1}
    assert card["fully_online"] is True
    assert {m["status"] for m in card["materials"] if not m["must_bring"]} == {"not_needed"}


def test_a_matter_without_flags_reads_as_before():
    plain = MATTER.model_copy(
        update={"materials": [m.model_copy(update={"exempt": False, "data_shared": False}) for m in MATTER.materials]}
    )
    text = render_checklist(plain)
    assert "需要提交的材料（共5项）" in text and "无需提交" not in text


def test_the_walk_asks_only_about_what_the_citizen_must_bring():
    from dialogue.actions.materials import Reply, advance, current_step, start_walk, statuses_for

    walk = start_walk(MATTER)
    step = current_step(walk)
    assert (step.number, step.total, step.name) == (1, 2, "个体工商户开业登记申请书")
    walk = advance(walk, Reply.yes)
    step = current_step(walk)
    assert (step.number, step.total, step.name, step.position) == (2, 2, "经营者身份证", 1)
    walk = advance(walk, Reply.no)
    assert current_step(walk) is None, "the shared and exempt materials are never asked about"
    statuses = statuses_for(walk, MATTER.external_id)
    assert statuses == ["have", "missing", "not_needed", "not_needed", "not_needed"]
    card = build_checklist(MATTER, statuses)
    assert [m["status"] for m in card["materials"] if m["must_bring"]] == ["have", "missing"]
