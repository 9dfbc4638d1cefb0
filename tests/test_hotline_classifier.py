"""The hotline's type and category model: the shipped file, the run-time rules, the eval command, training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hotline.classifier import (
    CATEGORIES,
    METADATA_FILE,
    MODEL_FILE,
    OTHER_CATEGORY,
    classify,
    default_classifier,
    load_classifier,
    suggest_department,
    ticket_type,
)
from hotline.evaluation import evaluate_messages, type_matches
from hotline.training import SHARED_HOTLINE, TYPE_FILE, train
from tests.conftest import ROOT

needs_hotline_data = pytest.mark.skipif(
    not (SHARED_HOTLINE / TYPE_FILE).is_file(), reason="../shared/data/hotline is absent"
)

OBVIOUS_CATEGORIES = [
    ("楼下酒吧每天半夜噪音扰民，吵得无法入睡", "环境保护"),
    ("工厂偷排废水，河水都变黑了", "环境保护"),
    ("公司拖欠工资半年，农民工讨薪无门", "劳动和社会保障"),
    ("养老保险断缴了怎么补缴", "劳动和社会保障"),
    ("学校违规收取补课费和资料费", "教育文体"),
    ("医院乱收费，住院费用明细不清楚", "卫生计生"),
    ("出租车司机拒载还绕路", "交通运输"),
    ("超市销售过期食品", "商贸旅游"),
]


def test_the_shipped_model_is_small_numeric_and_documented():
    assert MODEL_FILE.stat().st_size < 5_000_000
    with np.load(MODEL_FILE, allow_pickle=False) as arrays:
        assert all(arrays[key].dtype.kind == "f" for key in arrays.files), "numbers only, never text"
        assert arrays["category_coef"].dtype == np.float16
    meta = json.loads(METADATA_FILE.read_text(encoding="utf-8"))
    assert tuple(meta["heads"]["category"]["classes"]) == CATEGORIES
    assert meta["heads"]["type"]["classes"] == ["咨询", "投诉/求助", "建言"]
    assert meta["heads"]["category"]["held_out"]["macro_f1"] >= 0.85
    assert meta["trained_at"] and meta["heads"]["type"]["hashing"]["n_features"] > 0


@pytest.mark.parametrize(("text", "category"), OBVIOUS_CATEGORIES)
def test_obvious_messages_get_their_category(text, category):
    prediction = classify(text)
    assert prediction.category == category, prediction
    assert 0.5 <= prediction.category_confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "ticket"),
    [
        ("我要举报某村干部贪污扶贫款", "举报"),
        ("工厂偷排废水，河水都变黑了", "举报"),
        ("建议在小区附近增设公交线路", "建议"),
        ("建议延长地铁运营时间", "建议"),
        ("请问新生儿医保怎么办理", "咨询"),
        ("护照办理要多久", "咨询"),
        ("公积金贷款能否提前还款", "咨询"),
        ("楼下酒吧每天半夜噪音扰民，吵得无法入睡", "投诉"),
        ("家里老人重病，生活困难，请求救助", "求助"),
    ],
)
def test_obvious_messages_get_their_ticket_type(text, ticket):
    assert classify(text).type == ticket


def test_the_keyword_split_applies_only_to_complaints_and_help():
    assert ticket_type("投诉/求助", "有人违规占用消防通道") == "举报"
    assert ticket_type("投诉/求助", "生活困难，希望帮忙解决") == "求助"
    assert ticket_type("投诉/求助", "小区停车收费太贵") == "投诉"
    assert ticket_type("建言", "建议整治违规停车") == "建议"
    assert ticket_type("咨询", "违规停车怎么处罚") == "咨询"


def test_unsure_categories_become_other_and_suggest_the_hotline_office():
    prediction = default_classifier().classify("你好", category_threshold=1.01)
    assert prediction.category == OTHER_CATEGORY and prediction.top_category in CATEGORIES
    assert suggest_department(OTHER_CATEGORY) == "12345热线办公室"
    assert suggest_department("环境保护") == "生态环境局"
    assert suggest_department("没有这个类别") == "12345热线办公室"


def test_msgabench_complaint_or_help_gold_accepts_all_three_split_types():
    assert all(type_matches("投诉/求助", t) for t in ("投诉", "求助", "举报"))
    assert not type_matches("投诉/求助", "咨询")
    assert type_matches("建言", "建议") and type_matches("咨询", "咨询")
    report = evaluate_messages([{"text": "我要举报有人偷排污水", "type": "投诉/求助"}])
    assert report.type_accuracy == 1.0 and report.category_macro_f1 is None


def _eval_cli(messages: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BANSHI_DATA_DIR": str(messages.parent / "var")}
    command = [sys.executable, "-m", "banshi.cli", "eval", "hotline", "--messages", str(messages), "--json"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_eval_cli_prints_predictions_and_figures_as_one_json_line(tmp_path):
    rows = [
        {"text": "公司拖欠工资半年，农民工讨薪无门", "type": "投诉", "category": "劳动和社会保障"},
        {"text": "建议在小区附近增设公交线路", "type": "建言", "category": "城乡建设"},
        {"text": "请问新生儿医保怎么办理"},
    ]
    messages = tmp_path / "messages.jsonl"
    messages.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    result = _eval_cli(messages)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(report) == {"predictions", "type_accuracy", "category_macro_f1"}
    assert [set(p) for p in report["predictions"]] == [{"text", "type", "category", "confidence"}] * 3
    assert report["predictions"][0]["category"] == "劳动和社会保障"
    assert report["type_accuracy"] == 1.0 and report["category_macro_f1"] == 1.0

    messages.write_text(json.dumps({"text": "请问新生儿医保怎么办理"}, ensure_ascii=False), encoding="utf-8")
    report = json.loads(_eval_cli(messages).stdout.strip().splitlines()[-1])
    assert report["type_accuracy"] is None and report["category_macro_f1"] is None


def test_eval_cli_rejects_a_line_without_text(tmp_path):
    messages = tmp_path / "bad.jsonl"
    messages.write_text('{"text": "你好"}\n{"type": "咨询"}\n', encoding="utf-8")
    result = _eval_cli(messages)
    assert result.returncode == 2 and "第2行" in result.stderr


@pytest.mark.shared
@needs_hotline_data
def test_training_on_a_subset_exports_a_model_that_loads_and_scores(tmp_path):
    model_file = tmp_path / "classifier.npz"
    report = train(model_file=model_file, limit=400, refit_all=False)
    assert report.category.n_test == 80 and report.type.n_test == 80
    assert report.category.macro_f1 > 0.5 and report.type.accuracy > 0.5
    loaded = load_classifier(model_file)
    assert loaded.metadata["limit"] == 400
    assert loaded.classify("公司拖欠工资半年，农民工讨薪无门").top_category == "劳动和社会保障"
    text_sample = "尊敬的"  # common in the messages; must not be anywhere in what ships
    assert text_sample not in model_file.with_suffix(".json").read_text(encoding="utf-8")


@pytest.mark.shared
@needs_hotline_data
def test_the_shipped_type_model_beats_the_majority_class_on_a_city_it_was_not_trained_on():
    from hotline.sources import type_sources

    teddy = [source for source in type_sources() if source.name.startswith("泰迪杯")]
    texts = [text for source in teddy for text in source.data.texts]
    gold = [label for source in teddy for label in source.data.labels]
    head = default_classifier().type_head
    guessed = [head.classes[i] for i in head.probabilities(texts).argmax(axis=1)]
    accuracy = sum(g == p for g, p in zip(gold, guessed, strict=True)) / len(gold)
    majority = max(gold.count(label) for label in set(gold)) / len(gold)
    assert len(gold) >= 100 and accuracy > majority + 0.05, (accuracy, majority)
    assert guessed.count("建言") / len(guessed) < 0.15, "suggestions are a few percent of a city's messages"


@pytest.mark.shared
@needs_hotline_data
def test_msgabench_with_its_own_prior_is_what_a_city_configuring_that_mix_ships():
    """``bench/hotline.py``'s own-prior row must score the head ``--prior`` would train, not a variant."""
    from bench.hotline_sources import own_prior
    from hotline.classifier import MODEL_TYPES
    from hotline.training import DEPLOYMENT_PRIOR, TYPE_RECIPE, held_out, load_type_set

    data = load_type_set(limit=400)
    default = held_out(data, TYPE_RECIPE, MODEL_TYPES, DEPLOYMENT_PRIOR)
    own_mix = tuple(default.train.prior(MODEL_TYPES))
    configured = held_out(data, TYPE_RECIPE, MODEL_TYPES, own_mix)
    texts = [*default.test.texts, "请问社保卡怎么补办？", "建议在小区门口增设公交站"]
    assert np.allclose(own_prior(default.head, default.train).logits(texts), configured.head.logits(texts), atol=1e-4)
    assert not np.allclose(default.head.logits(texts), configured.head.logits(texts), atol=1e-4)


@pytest.mark.shared
@needs_hotline_data
def test_the_knowledge_base_source_scores_its_questions_not_its_answers():
    """66 rows of the file hold the answer in ``text`` and the question in ``reply``."""
    from hotline.sources import type_sources

    kb = next(source for source in type_sources() if source.name == "MSGABench 知识库问题").data.texts
    assert len(kb) == 233
    assert "什么是建筑垃圾？" in kb
    assert not [text for text in kb if text.startswith("《北京市建筑垃圾处置管理规定》")]
