"""一件事: a life event gets its matters in order and one checklist in which no paper is listed twice.

The combining and the wording run on the sample catalogue's own bundle (新生儿出生“一件事”), without
Rasa; the editors' rules run on a real database; the search runs on the real index.
"""

from __future__ import annotations

import json
import re

import pytest

from dialogue.actions.checklist import build_checklist, render_checklist
from knowledge import store, versions
from knowledge.bundles import combine, material_key, resolve
from knowledge.schema import MatterIn
from retriever import HybridIndex, rebuild
from retriever.answering import answer
from tests.conftest import SAMPLE_CATALOGUE, needs_shared

NEWBORN = "bs-yjs-xsecs"


def _sample() -> dict[str, MatterIn]:
    lines = SAMPLE_CATALOGUE.read_text(encoding="utf-8").splitlines()
    return {item.external_id: item for item in (MatterIn.model_validate(json.loads(line)) for line in lines)}


def _newborn():
    sample = _sample()
    bundle = sample[NEWBORN]
    return combine(bundle, [sample[e] for e in bundle.bundle])


def test_the_newborn_bundle_lists_each_paper_once_with_the_matters_that_need_it():
    found = _newborn()
    sample = _sample()
    listed = sum(len(sample[e].materials) for e in found.guide.bundle) + len(sample[NEWBORN].materials)
    keys = [material_key(m.name) for m in found.guide.materials]
    assert len(keys) == len(set(keys)) < listed  # some papers were needed by several matters
    card = build_checklist(found.guide, None, found)
    assert [m["name"] for m in card["bundle"]["matters"]] == [
        "出生医学证明首次签发",
        "出生登记（新生儿落户）",
        "新生儿参加城乡居民医保",
        "社会保障卡申领",
    ]
    by_name = {m["name"]: m for m in card["materials"]}
    assert by_name["出生医学证明"]["matters"] == ["出生登记（新生儿落户）", "新生儿参加城乡居民医保"]
    assert set(by_name["授权委托书"]["matters"]) == {"出生医学证明首次签发", "出生登记（新生儿落户）", "社会保障卡申领"}

    text = render_checklist(found.guide, None, found)
    for material in found.guide.materials:
        line = rf"^(\d+\. |- ){re.escape(material.name)}[（【：]"
        assert len(re.findall(line, text, re.MULTILINE)) == 1, material.name
    assert "1. 出生医学证明首次签发（" in text and "4. 社会保障卡申领（" in text
    assert "出生登记（新生儿落户）、新生儿参加城乡居民医保共用，只需准备一份" in text
    assert f"需要提交的材料（共{card['counts']['must_bring']}项）" in text


def test_a_paper_one_matter_fetches_itself_is_still_brought_when_another_wants_it_in_hand():
    base = {"department": "某部门"}
    first = MatterIn(external_id="a", name="甲事项", materials=[{"name": "户口簿", "data_shared": True}], **base)
    second = MatterIn(external_id="b", name="乙事项", materials=[{"name": "《户口簿》", "copy_count": 1}], **base)
    third = MatterIn(external_id="c", name="丙事项", materials=[{"name": "户口 簿", "data_shared": True}], **base)
    bundle = MatterIn(external_id="x", name="某某“一件事”", bundle=["a", "b", "c"], **base)
    found = combine(bundle, [first, second, third])
    assert [m.name for m in found.guide.materials] == ["《户口簿》"]  # described as the matter wanting it in hand
    assert found.guide.materials[0].must_bring and found.guide.materials[0].copy_count == 1
    assert found.needed_by == (("a", "b", "c"),)
    spared = combine(bundle, [first, third])
    assert not spared.guide.materials[0].must_bring
    assert "无需提交的材料（共1项" in render_checklist(spared.guide, None, spared)


def _editor_matters(session):
    base = {"department": "防城港市某局", "materials": [{"name": "居民身份证"}]}
    for n in (1, 2, 3):
        store.save_matter(session, MatterIn(external_id=f"m{n}", name=f"事项{n}", **base), author="t")
    store.save_matter(session, MatterIn(external_id="m4", name="草稿事项", **base), author="t", publish=False)
    store.save_matter(session, MatterIn(external_id="b0", name="已有的一件事", bundle=["m1"], **base), author="t")


def test_editors_compose_bundles_of_catalogue_matters_only(session):
    _editor_matters(session)
    department = "防城港市某局"
    for members, refused in (
        (["m1", "nope"], "nope 不存在"),
        (["m1", "b0"], "不能包含另一个一件事"),
    ):
        item = MatterIn(external_id="b1", name="开店一件事", department=department, bundle=members)
        with pytest.raises(versions.BundleInvalid, match=refused):
            versions.save_draft(session, item, author="editor")
    with pytest.raises(ValueError, match="不能包含它自己"):
        MatterIn(external_id="b1", name="开店一件事", department=department, bundle=["b1"])

    draft = MatterIn(external_id="b1", name="开店一件事", department=department, bundle=["m1", "m4"])
    row = versions.save_draft(session, draft, author="editor")
    with pytest.raises(versions.BundleInvalid, match="《草稿事项》尚未发布"):
        versions.publish(session, "b1", row.version, author="editor")
    good = draft.model_copy(update={"bundle": ["m3", "m1", "m2"], "bundle_note": "先办事项3"})
    row = versions.save_draft(session, good, author="editor", base_version=row.version)
    versions.publish(session, "b1", row.version, author="editor")
    live = store.published(session, ["b1"])[0]
    assert live.bundle == ["m3", "m1", "m2"] and live.bundle_note == "先办事项3"


def test_a_life_event_question_finds_its_bundle_and_the_bundles_matters_are_not_rivals(session, default_embedder):
    from knowledge.importers.runner import import_path

    import_path(session, SAMPLE_CATALOGUE, author="sample")
    index = HybridIndex(default_embedder)
    rebuild(session, index)
    events = (("宝宝出生后要跑哪些手续", "新生儿出生“一件事”"), ("亲人过世以后都要办什么", "个人身后“一件事”"))
    for question, name in events:
        found = answer(session, index, question)
        assert found.kind == "present", (question, found.decision)
        assert found.decision.hits[0].name == name and found.decision.hits[0].kind == "bundle"
    single = answer(session, index, "出生医学证明怎么办")
    assert single.kind == "present" and single.decision.hits[0].kind == "matter"


@pytest.mark.shared
@needs_shared
def test_the_real_catalogues_joint_matters_are_bundles_and_a_newborn_question_finds_its_own(real_catalogue):
    from banshi.db import session_scope

    engine, index = real_catalogue  # the platform export imported and indexed once for the session
    with session_scope(engine) as session:
        live = store.published(session)
        bundles = {m.name: m for m in live if m.is_bundle}
        assert len(bundles) == 33  # the platform's 一件事 matters (issue 12)
        newborn = bundles["新生儿出生“一件事”"]
        found = resolve(session, newborn)
        assert found.members == () and found.guide.materials == newborn.materials  # already one joint form
        assert sum(index.search(name, 1).hits[0].kind == "bundle" for name in bundles) == len(bundles)
        asked = answer(session, index, "宝宝出生后要跑哪些手续")
        assert asked.kind == "present" and asked.decision.hits[0].name == "新生儿出生“一件事”"
        retiring = answer(session, index, "我下个月退休")
        assert "退休“一件事”" in [hit.name for hit in retiring.decision.hits]


def test_the_wechat_checklist_page_lists_the_bundles_matters_and_its_shared_papers(data_dir):
    from fastapi.testclient import TestClient

    from banshi.db import migrate, session_scope
    from channels.app import create_app
    from channels.checklist_links import checklist_url
    from common.conversations import add_message, start_conversation

    found = _newborn()
    migrate()
    with session_scope() as session:
        conversation = start_conversation(session, "wechat")
        message = add_message(
            session, conversation.id, "bot", "checklist", None, build_checklist(found.guide, None, found)
        )
        message_id = message.id
    with TestClient(create_app()) as client:
        page = client.get(checklist_url("", message_id)).text
    order = page.index("包含的事项（请按顺序办理）")
    assert order < page.index("出生医学证明首次签发") < page.index("社会保障卡申领") < page.index("申请材料")
    assert "出生登记（新生儿落户）、新生儿参加城乡居民医保共用，只需准备一份" in page
