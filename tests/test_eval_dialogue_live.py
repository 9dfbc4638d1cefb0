"""``banshi eval dialogue`` against the real stack (action server, Rasa, gateway over the sample catalogue):
a known guide question is counted right with its exact checklist, an out-of-catalogue question
declined, a complaint ends in a ticket, and a cases file naming matters the stack lacks is refused
with the import command to run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from banshi.cli import app
from tests.browser import LiveStack

pytestmark = pytest.mark.slow

CASES = [
    {"id": "guide", "text": "二手房过户需要带哪些材料", "expect": {"guide": "bs-bdc-esfzy"}, "checklist": True},
    {"id": "guide2", "text": "社保卡丢了怎么补办", "expect": {"guide": "bs-sbk-bh"}},
    {"id": "decline", "text": "帮我推荐几部好看的电影", "expect": {"decline": True}},
    {
        "id": "complaint",
        "text": "我要投诉，小区楼下的烧烤摊每天晚上营业到凌晨两点，油烟和噪音很大，严重影响居民休息",
        "expect": {"intake": True, "ticket_type": ["投诉", "举报", "求助"]},
    },
]


@pytest.fixture(scope="module")
def gateway(live_stack: LiveStack) -> str:
    return live_stack.base_url


def write_cases(path: Path, cases: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in cases) + "\n", encoding="utf-8")
    return path


def test_the_figures_a_user_notices_on_the_real_stack(gateway: str, tmp_path: Path):
    report = tmp_path / "report.html"
    cases = write_cases(tmp_path / "cases.jsonl", CASES)
    args = ["eval", "dialogue", "--cases", str(cases), "--url", gateway, "--report", str(report), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["guide_within_two_turns"] == 1.0, result.output
    assert figures["wrong_guide_count"] == 0, result.output
    assert figures["declined"] == 1.0, result.output
    assert figures["intake_reached"] == 1.0 and figures["ticket_filed"] == 1.0, result.output
    assert figures["checklists_checked"] == 1 and figures["materials_exact"] == 1.0, result.output
    assert figures["latency_p95_ms"] > 0 and figures["errors"] == 0
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and "失败用例（0）" in html


def test_expected_matters_missing_from_the_stack_are_named_with_the_import_to_run(gateway: str, tmp_path: Path):
    cases = write_cases(
        tmp_path / "cases.jsonl", [{"id": "real", "text": "公积金怎么取", "expect": {"guide": "not-in-this-catalogue"}}]
    )
    result = CliRunner().invoke(app, ["eval", "dialogue", "--cases", str(cases), "--url", gateway])
    assert result.exit_code == 2
    assert "不在该服务的事项库中" in result.output and "banshi import" in result.output
