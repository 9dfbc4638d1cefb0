"""``banshi eval dialogue`` judged over chat-API responses built from the outcome contract: the simulated
citizen clicks what a citizen would, and the figures say what a reader of the run would expect.

The stack here is scripted (httpx.MockTransport answering as channels/routes/chat.py does); the real
stack is driven in tests/test_eval_dialogue_live.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dialogue.evaluation.cases import Case, load_cases, read_cases
from dialogue.evaluation.citizen import ANSWERS, CONFIRM_PAYLOAD, SKIP_WALK_PAYLOAD, converse_all, run_sync
from dialogue.evaluation.report import write_report
from dialogue.evaluation.scoring import figures, judge
from tests.conftest import GUIDES_JSONL, ROOT, SHARED_DATA, needs_shared

RIGHT, OTHER, SIBLING = "m-right", "m-other", "m-sibling"
CATALOGUE = {RIGHT: ["身份证", "购房合同"], SIBLING: ["户口簿"]}
WALK_BUTTONS = [
    {"title": "有", "payload": "/affirm"},
    {"title": "没有", "payload": "/deny"},
    {"title": "直接告诉我全部", "payload": SKIP_WALK_PAYLOAD},
]


def choose(matter: str) -> dict[str, str]:
    return {"title": f"事项{matter}", "payload": "/choose_matter" + json.dumps({"matter_id": matter})}


def outcome(kind: str, **fields) -> dict:
    return {"kind": kind, **fields}


def checklist(matter: str, names: list[str]) -> dict:
    return {
        "kind": "checklist",
        "checklist": {"matter": {"external_id": matter}, "materials": [{"name": n} for n in names]},
    }


def guide(matter: str) -> tuple[list[dict], list[dict]]:
    return (
        [outcome("guide_presented", matter_id=matter), outcome("walk_started", matter_id=matter)],
        [{"kind": "text", "text": "为您找到办事指南"}, {"kind": "buttons", "text": "第1项", "buttons": WALK_BUTTONS}],
    )


Reply = tuple[list[dict], list[dict]]
"""A turn's outcomes (on the citizen's message) and the bot's messages."""


class ScriptedStack:
    """Answers each conversation from a script keyed by its first message; records what was sent."""

    def __init__(self, scripts: dict[str, Callable[[list[dict]], Reply]]) -> None:
        self.scripts = scripts
        self.first: dict[str, str] = {}
        self.sent: dict[str, list[dict]] = {}
        self.next_id = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v1/conversations":
            self.next_id += 1
            cid = f"{self.next_id:032x}"
            self.sent[cid] = []
            return httpx.Response(201, json={"id": cid, "mode": "bot"})
        cid = path.split("/")[4]
        body = json.loads(request.content)
        self.sent[cid].append(body)
        self.first.setdefault(cid, body["text"])
        outcomes, replies = self.scripts[self.first[cid]](self.sent[cid])
        mine = {"id": 1, "sender": "citizen", "kind": "text", "text": body["text"], "outcomes": outcomes}
        return httpx.Response(200, json=[mine, *({"sender": "bot", **r} for r in replies)])

    def play(self, cases: list[Case]):
        transport = httpx.MockTransport(self.handler)
        return run_sync(converse_all("http://stack", cases, 3, transport=transport))

    def sent_by_first(self, text: str) -> list[dict]:
        return next(self.sent[cid] for cid, first in self.first.items() if first == text)


def guide_with_checklist(names: list[str]) -> Callable[[list[dict]], Reply]:
    def script(sent: list[dict]) -> Reply:
        if len(sent) == 1:
            return guide(RIGHT)
        assert sent[-1]["payload"] == SKIP_WALK_PAYLOAD
        return [outcome("checklist_shown", matter_id=RIGHT)], [checklist(RIGHT, names)]

    return script


def clarify_then(offered: list[str]) -> Callable[[list[dict]], Reply]:
    def script(sent: list[dict]) -> Reply:
        if len(sent) == 1:
            buttons = [*(choose(m) for m in offered), {"title": "都不是", "payload": "/deny"}]
            return [outcome("clarification_offered", matter_ids=offered, reason="close")], [
                {"kind": "buttons", "text": "您问的可能是", "buttons": buttons}
            ]
        chosen = json.loads(sent[-1]["payload"].removeprefix("/choose_matter"))["matter_id"]
        return guide(chosen)

    return script


def complaint(sent: list[dict]) -> Reply:
    """The ticket form: asks location, time, name, phone, then shows the confirmation, then files."""
    steps = ["ticket_location", "ticket_time", "ticket_name", "ticket_phone"]
    turn = len(sent)
    if turn == 1:
        return [outcome("intake_started", ticket_type="投诉"), outcome("slot_requested", slot=steps[0])], []
    if turn <= len(steps):
        buttons = [{"title": "匿名", "payload": "匿名"}] if steps[turn - 1] == "ticket_name" else []
        return [outcome("slot_requested", slot=steps[turn - 1])], [{"kind": "buttons", "text": "?", "buttons": buttons}]
    if turn == len(steps) + 1:
        confirm = [{"title": "确认提交", "payload": CONFIRM_PAYLOAD}, {"title": "取消", "payload": "/deny"}]
        return [], [{"kind": "buttons", "text": "请核对", "buttons": confirm}]
    assert sent[-1]["payload"] == CONFIRM_PAYLOAD
    return [outcome("ticket_filed", number="12345-20261130-0001", ticket_type="投诉")], [{"kind": "ticket"}]


def case(id_: str, text: str, **expect) -> Case:
    checklist_wanted = expect.pop("checklist", False)
    return Case(id=id_, text=text, expect=expect, checklist=checklist_wanted)


def run(scripts: dict, cases: list[Case], catalogue=CATALOGUE):
    stack = ScriptedStack(scripts)
    transcripts = stack.play(cases)
    verdicts = [judge(t, catalogue) for t in transcripts]
    return stack, transcripts, verdicts, figures(verdicts, transcripts)


def test_a_guide_on_the_first_turn_with_its_exact_checklist_counts_right_everywhere():
    stack, _, verdicts, fig = run(
        {"二手房过户": guide_with_checklist(["身份证", "购房合同"])},
        [case("g1", "二手房过户", guide=RIGHT, checklist=True)],
    )
    assert verdicts[0].ok and verdicts[0].first_turn_right and verdicts[0].checklist.exact
    assert fig["guide_first_turn"] == 1.0 and fig["guide_within_two_turns"] == 1.0 and fig["materials_exact"] == 1.0
    assert stack.sent_by_first("二手房过户")[1] == {"text": "直接告诉我全部", "payload": SKIP_WALK_PAYLOAD}


def test_a_checklist_missing_or_inventing_a_material_is_not_exact():
    _, _, verdicts, fig = run(
        {"a": guide_with_checklist(["身份证"]), "b": guide_with_checklist(["身份证", "购房合同", "结婚证"])},
        [case("a", "a", guide=RIGHT, checklist=True), case("b", "b", guide=RIGHT, checklist=True)],
    )
    assert verdicts[0].checklist.missing == ["购房合同"] and not verdicts[0].ok
    assert verdicts[1].checklist.invented == ["结婚证"] and verdicts[1].checklist.missing == []
    assert fig["materials_exact"] == 0.0 and fig["materials_missing"] == 1 and fig["materials_invented"] == 1


def test_the_citizen_clicks_the_offered_right_matter_and_it_counts_within_two_turns_only():
    stack, _, verdicts, fig = run(
        {"过户": clarify_then([OTHER, RIGHT])},
        [case("c", "过户", guide=RIGHT)],
    )
    assert verdicts[0].within_two_right and not verdicts[0].first_turn_right and verdicts[0].ok
    assert stack.sent_by_first("过户")[1]["payload"] == '/choose_matter{"matter_id": "m-right"}'
    assert fig["guide_first_turn"] == 0.0 and fig["guide_within_two_turns"] == 1.0 and fig["wrong_guide"] == 0.0


def test_offered_matters_without_the_right_one_end_the_case_as_a_failure_without_a_click():
    _, transcripts, verdicts, _ = run({"过户": clarify_then([OTHER, SIBLING])}, [case("c", "过户", guide=RIGHT)])
    assert len(transcripts[0].turns) == 1 and not verdicts[0].ok
    assert verdicts[0].wrong_matter is None  # offering is not presenting


def test_a_wrong_guide_is_counted_separately_for_guides_and_out_of_catalogue_questions():
    _, _, verdicts, fig = run(
        {"x": lambda sent: guide(OTHER), "天气": lambda sent: guide(OTHER)},
        [case("g", "x", guide=RIGHT), case("o", "天气", decline=True)],
    )
    assert [v.wrong_matter for v in verdicts] == [OTHER, OTHER]
    assert fig["wrong_guide_count"] == 2 and fig["wrong_guide"] == 1.0 and fig["declined"] == 0.0


def test_an_out_of_catalogue_question_answered_not_found_is_declined():
    _, _, verdicts, fig = run(
        {"天气": lambda sent: ([outcome("not_found")], [{"kind": "buttons", "text": "抱歉", "buttons": []}])},
        [case("o", "天气", decline=True)],
    )
    assert verdicts[0].declined and verdicts[0].ok and fig["declined"] == 1.0


def test_a_complaint_is_answered_field_by_field_and_confirmed_until_its_ticket_is_filed():
    text = "小区门口的烧烤摊每天晚上油烟很大，吵到半夜"
    stack, _, verdicts, fig = run(
        {text: complaint}, [Case(id="h", text=text, expect={"intake": True, "ticket_type": ["投诉", "求助"]})]
    )
    sent = stack.sent_by_first(text)
    assert [s["text"] for s in sent[1:5]] == [
        ANSWERS["ticket_location"],
        ANSWERS["ticket_time"],
        "匿名",
        ANSWERS["ticket_phone"],
    ]
    assert sent[3]["payload"] == "匿名" and sent[5]["payload"] == CONFIRM_PAYLOAD
    assert verdicts[0].intake_reached and verdicts[0].ticket_filed and verdicts[0].ticket_type_ok
    assert fig["intake_reached"] == 1.0 and fig["ticket_filed"] == 1.0 and fig["ticket_type_accuracy"] == 1.0
    assert fig["turns"] == 6


def test_a_complaint_taken_for_something_else_never_reaches_the_intake():
    _, _, verdicts, fig = run(
        {"投诉": lambda sent: ([outcome("misunderstood")], [])}, [Case(id="h", text="投诉", expect={"intake": True})]
    )
    assert not verdicts[0].intake_reached and "未进入受理" in verdicts[0].failure
    assert fig["intake_reached"] == 0.0 and fig["ticket_filed"] == 0.0


def test_the_report_shows_plots_and_each_failure_with_its_transcript(tmp_path: Path):
    _, transcripts, verdicts, fig = run(
        {"过户": clarify_then([OTHER]), "天气": lambda sent: ([outcome("not_found")], [])},
        [case("bad", "过户", guide=RIGHT), case("good", "天气", decline=True)],
    )
    path = write_report(
        tmp_path / "r.html",
        cases_file=Path("cases.jsonl"),
        base_url="http://stack",
        figures=fig,
        verdicts=verdicts,
        transcripts=transcripts,
        names={RIGHT: "正确事项"},
    )
    html = path.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3 and "http" not in html.split("<body>")[0].replace('xmlns="http', "")
    assert "<b>bad</b>" in html and "<b>good</b>" not in html and "clarification_offered" in html


def test_real_messages_are_resolved_from_the_shared_folder_and_skipped_cleanly_without_it(tmp_path: Path):
    cases_file = tmp_path / "cases.jsonl"
    lines = [
        {"id": "h1", "ref": {"file": "hotline/x.jsonl", "id": "r2"}, "expect": {"intake": True}},
        {"id": "o1", "text": "天气", "expect": {"decline": True}},
    ]
    cases_file.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    absent = load_cases(cases_file, tmp_path / "nowhere")
    assert [c.id for c in absent.cases] == ["o1"] and "不存在" in absent.skipped[0]
    (tmp_path / "shared" / "hotline").mkdir(parents=True)
    (tmp_path / "shared" / "hotline" / "x.jsonl").write_text(
        json.dumps({"id": "r2", "text": "噪音" * 600}, ensure_ascii=False), encoding="utf-8"
    )
    present = load_cases(cases_file, tmp_path / "shared")
    assert present.cases[0].text == ("噪音" * 600)[:1000] and not present.skipped


@pytest.mark.parametrize(
    "line",
    [
        {"id": "a", "text": "x", "expect": {}},
        {"id": "a", "text": "x", "expect": {"guide": "m", "decline": True}},
        {"id": "a", "expect": {"decline": True}},
        {"id": "a", "text": "x", "expect": {"decline": True, "ticket_type": "投诉"}},
    ],
)
def test_a_malformed_case_is_a_clear_error_naming_its_line(tmp_path: Path, line: dict):
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({"id": "ok", "text": "y", "expect": {"decline": True}}) + "\n" + json.dumps(line))
    with pytest.raises(ValueError, match="第2行"):
        read_cases(path)


CASE_FILES = sorted((ROOT / "bench" / "data").glob("dialogue_*.jsonl"))


def test_every_case_file_is_found():
    names = {f"dialogue_{name}.jsonl" for name in ("dev", "dev2", "test", "test2")}
    assert names <= {p.name for p in CASE_FILES}


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_a_shipped_case_file_parses_with_every_kind_and_real_messages_only_by_reference(path: Path):
    cases = read_cases(path)
    assert len(cases) >= 100
    assert {c.kind for c in cases} == {"guide", "intake", "decline"}
    assert all(c.text is None for c in cases if c.ref)  # a real citizen's message is never copied in
    refs = [(c.ref.file, c.ref.id) for c in cases if c.ref]
    assert len(set(refs)) == len(refs)
    assert len({c.text for c in cases if c.text}) == len([c for c in cases if c.text])


def test_the_dev_file_is_the_largest_and_no_case_is_shared_across_files():
    """A test file is only blind if none of its questions, matters or messages is in another file (dev is tuned on)."""
    loaded = {p.name: read_cases(p) for p in CASE_FILES}
    assert len(loaded["dialogue_dev.jsonl"]) >= 300
    seen: dict[object, str] = {}
    for name, cases in loaded.items():
        for case in cases:
            matter = ("matter", case.gold[0]) if case.gold else None  # the matter a question is written for
            for key in (("id", case.id), ("text", case.text) if case.text else None, matter,
                        ("ref", case.ref.file, case.ref.id) if case.ref else None):  # fmt: skip
                if key is not None:
                    assert seen.setdefault(key, name) == name, f"{key} is in {seen[key]} and {name}"


@needs_shared
@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_a_shipped_case_file_names_real_matters_and_resolvable_messages(path: Path):
    catalogue = {json.loads(line)["source_item_id"] for line in GUIDES_JSONL.read_text(encoding="utf-8").splitlines()}
    cases = read_cases(path)
    unknown = {gold for c in cases for gold in c.gold} - catalogue
    assert not unknown, f"matters not in the real catalogue: {sorted(unknown)[:5]}"
    loaded = load_cases(path, SHARED_DATA)
    assert not loaded.skipped and len(loaded.cases) == len(cases)
    assert all(0 < len(c.text or "") <= 1000 for c in loaded.cases)
