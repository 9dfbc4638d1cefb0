"""Real citizens' text in the NLU: the generated training file, and what the trained model does with a
long complaint, a complaint full of dates and numbers, and a genuine ticket query."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nlu.hotline_examples import INTAKE_INTENTS, SHARED_HOTLINE, clean, eval_case_refs, export, load_messages
from tests.conftest import ROOT
from tests.rasa_stack import parse_on_server

# Written for this test in the style of a 12345 message: a place, a date, an amount, several sentences.
LONG_COMPLAINT = (
    "我是港口区白沙万街道的居民，2026年10月12日在小区门口的一家超市买了一桶花生油，花了89元，回家一看已经过期三个月了。"
    "第二天拿着小票去找老板要求退换，老板不承认是他家卖的，还说出了门就不管，态度非常恶劣。"
    "我打了好几次市场监管的电话都没人接，到现在半个多月了也没人处理，希望有关部门尽快查处这家超市，保障消费者的权益。"
)
DATED_COMPLAINT = "11月3日我在防城区一家药店买了两盒感冒药，被多收了45元，店员不给退"
TICKET_QUERY = "我想查询一下上周提交的工单现在处理得怎么样了"


def _write(folder: Path, name: str, rows: list[dict]) -> None:
    (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A small stand-in for ../shared/data/hotline, in the sources' own field names."""
    folder = tmp_path / "hotline"
    folder.mkdir()
    kinds = ["投诉/求助", "建言", "咨询"]
    _write(folder, "msgabench_citizen_messages.jsonl", [
        {"id": f"m{i}", "request_type": kinds[i % 3], "label": "城建",
         "text": f"****小区第{i}栋门口的路[坑](address)了半年没人修，电话13877012345，身份证45060219850312001X"}
        for i in range(60)
    ])  # fmt: skip
    _write(folder, "fuzhou_leader_message_board.jsonl", [
        {"id": "f1", "title": "工地夜间施工扰民", "text": "某某路工地每天夜里十二点还在施工，噪音很大，请管一管。"}
    ])  # fmt: skip
    return folder


def test_clean_text_keeps_the_story_and_drops_numbers_and_markup():
    text = clean("1、****小区门口[路灯](address)坏了{x}，电话 138 7701 2345，身份证45060219850312001X。" + "很久" * 100)
    assert "13877012345" not in text.replace(" ", "") and "45060219850312001X" not in text
    assert not set("[](){}*") & set(text)
    assert text.startswith("某小区门口") and len(text) <= 50


def test_training_file_holds_real_text_but_never_a_held_out_message(shared, tmp_path):
    out = tmp_path / "hotline_examples.yml"
    report = export(out, shared)
    assert report.available and report.written
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    lines = {intent["intent"]: intent["examples"] for intent in data["nlu"]}
    assert set(lines) <= set(INTAKE_INTENTS) and "complain" in lines and "suggest" in lines
    written = "".join(lines.values())
    assert "13877012345" not in written and "45060219850312001X" not in written
    held = [m for m in load_messages(shared) if m.split != "train"]
    assert held and not any(f"- {m.text}\n" in written for m in held)
    assert export(out, shared).written is False  # unchanged content leaves the file (and make) alone


@pytest.mark.skipif(not SHARED_HOTLINE.is_dir(), reason="../shared/data is absent")
def test_the_messages_banshi_eval_dialogue_plays_are_never_trained_on(tmp_path):
    refs = eval_case_refs()
    assert len(refs) >= 100  # the dev and test files' real hotline messages
    messages = load_messages()
    played = [m for m in messages if m.id in refs]
    assert played and all(m.split == "eval" for m in played)
    out = tmp_path / "hotline_examples.yml"
    export(out)
    written = out.read_text(encoding="utf-8")
    assert not any(f"- {m.text}\n" in written for m in played)
    assert not any(m.split == "train" and m.text[:24] in {p.text[:24] for p in played} for m in messages)


def test_without_shared_data_an_empty_valid_file_is_written(tmp_path):
    out = tmp_path / "generated" / "hotline_examples.yml"
    done = subprocess.run(
        [sys.executable, "-m", "banshi.cli", "nlu", "hotline", "--out", str(out), "--data", str(tmp_path / "absent")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "没有找到真实留言数据" in done.stderr
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == {"version": "3.1", "nlu": []}


@pytest.fixture(scope="module")
def parsed(live_stack) -> dict[str, dict]:
    """The trained model's reading of each message, from the shared stack's Rasa (skips untrained)."""
    texts = [LONG_COMPLAINT, DATED_COMPLAINT, TICKET_QUERY]
    return {p["text"]: p for p in parse_on_server(live_stack.env["BANSHI_RASA_URL"], texts)}


@pytest.mark.slow
def test_long_real_complaint_starts_the_intake(parsed):
    assert len(LONG_COMPLAINT) >= 150
    assert parsed[LONG_COMPLAINT]["intent"] == "complain"


@pytest.mark.slow
def test_complaint_with_a_date_and_an_amount_is_not_a_ticket_query(parsed):
    assert parsed[DATED_COMPLAINT]["intent"] in INTAKE_INTENTS


@pytest.mark.slow
def test_a_genuine_ticket_query_still_is_one(parsed):
    assert parsed[TICKET_QUERY]["intent"] == "check_ticket"
