"""End to end on the real 防城港 catalogue: import the platform export, index it, find obvious matters."""

from __future__ import annotations

import pytest

from tests.conftest import needs_shared

pytestmark = needs_shared

OBVIOUS = [
    ("失业保险金怎么申领", "失业保险金申领"),
    ("家里老人去世公积金能取吗", "职工死亡或者被宣告死亡提取"),
    ("想当律师要办执业证", "专职律师执业许可"),
    ("公司设立登记要什么材料", "公司设立登记"),
    ("燃气过户怎么弄", "用气过户"),
]


@pytest.fixture(scope="module")
def real_index(real_catalogue):
    return real_catalogue[1]


@pytest.mark.parametrize(("question", "expected"), OBVIOUS)
def test_obvious_questions_find_their_matter(real_index, question, expected):
    result = real_index.search(question, k=3)
    assert expected in [hit.name for hit in result.hits], [hit.name for hit in result.hits]
    assert result.confident


@pytest.mark.parametrize("question", ["今天天气怎么样", "你是机器人吗", "帮我订一张去北京的机票"])
def test_questions_outside_the_catalogue_get_no_confident_answer(real_index, question):
    assert not real_index.search(question).confident


def test_sub_cases_carry_their_parent(real_index):
    hits = real_index.search("公积金提取", k=10).hits
    assert sum(hit.parent_external_id is not None for hit in hits) >= 5
