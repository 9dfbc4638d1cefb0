"""Colloquial → official query rewriting: a life-situation question reaches its matter, and the
rewriting never turns an out-of-catalogue question into a confident answer."""

from __future__ import annotations

import pytest

from retriever.rewriters import QueryRewriter, load_rewriter
from retriever.rewriters.colloquial import parse_vocabulary
from tests.conftest import needs_shared


def test_a_rule_fires_only_when_all_its_parts_are_in_the_question():
    rewriter = QueryRewriter(parse_vocabulary("房+过户\t房屋所有权 转移登记\n水+过户\t用水过户\n"))
    assert rewriter.terms("房子过户在哪办") == ["房屋所有权", "转移登记"]
    assert rewriter.terms("水费要过户") == ["用水过户"]
    assert rewriter.terms("过户要多久") == []


def test_terms_are_added_to_the_question_never_replace_it():
    rewriter = QueryRewriter(parse_vocabulary("# a comment\n户口本\t居民户口簿  # why\n"))
    assert rewriter.rewrite("户口本丢了") == "户口本丢了 居民户口簿"
    assert QueryRewriter().rewrite("户口本丢了") == "户口本丢了"


def test_a_malformed_line_names_its_line():
    with pytest.raises(ValueError, match="line 2"):
        parse_vocabulary("社保卡\t社会保障卡\n只有短语没有官方词\n")


def test_the_packaged_vocabulary_loads_and_knows_the_issue_examples():
    rewriter = load_rewriter()
    assert len(rewriter) >= 50
    assert "社会保障卡" in rewriter.terms("社保卡丢了")
    assert "死亡" in rewriter.terms("家里老人去世了")


# Dev-set questions (bench/data/retrieval_colloquial_dev.jsonl, bench/data/dialogue_dev.jsonl,
# bench/data/dialogue_dev2.jsonl), never a test file.
COLLOQUIAL = [
    ("人死了抚恤金找谁领", "丧葬补助金和抚恤金申领"),
    ("房子的产权信息去哪查", "属地办理的不动产登记资料查询"),
    ("煤气开户", "用气报装"),
    ("新房子怎么开通燃气", "用气报装"),
    ("水费户名怎么改成我的名字", "用水过户"),
    ("领养老金的银行卡换了怎么改", "养老保险待遇发放账户维护申请"),
    ("电表能不能移个位置", "移表"),
    ("刚买的施工升降机要在工地用，使用登记怎么办", "建筑起重机械使用登记"),
    (
        "我开了个理发店，办会员充值卡，是不是要去商务局备案",
        "单用途商业预付卡规模发卡企业备案、单用途商业预付卡其他发卡企业备案",
    ),
]


@needs_shared
@pytest.mark.parametrize(("question", "expected"), COLLOQUIAL)
def test_a_colloquial_question_reaches_its_matter(real_catalogue, question, expected):
    result = real_catalogue[1].search(question, k=3)
    assert expected in [hit.name for hit in result.hits], [hit.name for hit in result.hits]
    assert result.confident


@needs_shared
@pytest.mark.parametrize("question", ["护照过期了怎么换", "离婚去哪里办", "低保怎么申请"])
def test_an_out_of_catalogue_question_is_still_declined(real_catalogue, question):
    assert not real_catalogue[1].search(question).confident
