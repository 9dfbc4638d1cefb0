"""`banshi eval nlu` against the trained model: predictions, gold accuracy and the JSON last line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nlu.evaluation import accuracy, intent_report, load_messages, macro_f1
from tests.conftest import ROOT
from tests.rasa_stack import trained_model

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"


def test_scores_per_intent():
    gold = ["greet", "greet", "deny", "ask_fee"]
    predicted = ["greet", "deny", "deny", None]
    assert accuracy(gold, predicted) == 0.5
    scores = {s.intent: s for s in intent_report(gold, predicted)}
    assert scores["greet"].precision == 1.0 and scores["greet"].recall == 0.5
    assert scores["deny"].precision == 0.5 and scores["deny"].recall == 1.0
    assert scores["ask_fee"].f1 == 0.0 and scores["ask_fee"].support == 1
    assert macro_f1(list(scores.values())) == pytest.approx((2 / 3 + 2 / 3 + 0) / 3)
    assert accuracy([], []) is None


def test_message_file_is_checked(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"text": "你好", "intent": "greet"}\n\n{"intent": "greet"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="第3行"):
        load_messages(path)


def test_dev_messages_cover_every_intent():
    items = load_messages(ROOT / "tests" / "data" / "nlu_messages.jsonl")
    intents = {item["intent"] for item in items}
    assert len(items) >= 100
    assert intents == {
        "greet", "goodbye", "thank", "affirm", "deny", "ask_guide", "ask_materials", "ask_location",
        "ask_time_limit", "ask_fee", "ask_online", "ask_visits", "ask_conditions", "complain", "report",
        "suggest", "seek_help", "request_human", "check_ticket", "chitchat", "out_of_scope",
    }  # fmt: skip


@pytest.mark.slow
@pytest.mark.model
@pytest.mark.skipif(not RASA_PYTHON.exists(), reason=".venv-rasa is not installed")
def test_eval_nlu_with_trained_model(tmp_path):
    model = trained_model()
    messages = tmp_path / "m.jsonl"
    lines = [
        {"text": "你好", "intent": "greet"},
        {"text": "转人工", "intent": "request_human"},
        {"text": "查一下工单12345-20261123-0007", "intent": "check_ticket"},
        {"text": "港口区的内地居民结婚登记要带什么材料"},
    ]
    messages.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "banshi.cli", "eval", "nlu", "--messages", str(messages), "--model", str(model),
         "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(result) == {"predictions", "accuracy"}
    predictions = result["predictions"]
    assert [p["text"] for p in predictions] == [line["text"] for line in lines]
    assert set(predictions[0]) == {"text", "intent", "confidence", "entities"}
    assert result["accuracy"] >= 2 / 3
    ticket = [e["value"] for e in predictions[2]["entities"] if e["entity"] == "ticket_no"]
    assert ticket == ["12345-20261123-0007"]
    last = {e["entity"]: e["value"] for e in predictions[3]["entities"]}
    assert last.get("matter") == "内地居民结婚登记" and last.get("region") == "港口区"
