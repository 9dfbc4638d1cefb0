"""The place and time a complaint states are read from its text, and vague words are left to the form."""

from __future__ import annotations

import pytest

from dialogue.actions.complaint_facts import place_in, time_in

REGIONS = ["港口区", "防城区"]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("港口区渔洲坪沙潭江路的工地昨晚11点还在施工，吵得睡不着", "港口区渔洲坪沙潭江路"),
        ("楼下KTV天天噪音扰民，在港口区金花茶大道", "港口区金花茶大道"),
        ("有工厂晚上偷偷往河里排污水，在防城区江山乡", "防城区江山乡"),
        ("我家住在兴港大道中段，烧烤摊油烟太大", "兴港大道中段"),
        ("2023年5月12日我在东兴口岸附近被出租车司机乱收费", "东兴口岸附近"),
        ("我要投诉港口区渔洲坪路口的路灯坏了一个月没人修", "港口区渔洲坪路口"),
        # No named place: the form asks rather than guess.
        ("我要投诉", None),
        ("一路上都是垃圾，马路上也没人扫", None),
        ("小区物业不作为，电梯坏了两周了没人修", None),
        ("城乡建设方面的问题想反映一下", None),
    ],
)
def test_a_named_place_is_read_and_a_vague_one_is_not(text, place):
    assert place_in(text, REGIONS) == place


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("港口区渔洲坪沙潭江路的工地昨天晚上11点还在施工", "昨天晚上11点"),
        ("2023年5月12日我在东兴口岸附近被乱收费", "2023年5月12日"),
        ("6月3号晚上十点半楼下还在放音乐", "6月3号晚上十点半"),
        ("电梯坏了，已经三个月了", "已经三个月了"),
        ("每天晚上都有人在楼下烧烤", "每天晚上"),
        # A part of the day alone says how, not when; a house number is not a date.
        ("我要投诉工地夜间施工噪音太大，影响休息", None),
        ("现住康佳西路62号廉租房，房子漏水", None),
        ("我要投诉", None),
    ],
)
def test_a_stated_time_is_read_and_a_part_of_the_day_alone_is_not(text, when):
    assert time_in(text) == when


def test_the_nlus_address_keeps_the_district_written_before_it():
    text = "我要投诉，港口区渔洲坪沙潭江路的工地昨天晚上11点还在施工"
    assert place_in(text, REGIONS, named="渔洲坪沙潭江路") == "港口区渔洲坪沙潭江路"
    assert place_in(text, [], named="渔洲坪沙潭江路") == "渔洲坪沙潭江路"


def test_a_learned_entity_holding_part_of_a_written_name_gives_the_whole_name():
    # The model may take 「港口区渔洲」 of 「港口区渔洲坪沙潭江路」: the ticket names the whole road.
    text = "我要投诉，港口区渔洲坪沙潭江路的工地昨天晚上11点还在施工"
    assert place_in(text, REGIONS, named="港口区渔洲") == "港口区渔洲坪沙潭江路"
    assert place_in(text, REGIONS, named="渔洲") == "港口区渔洲坪沙潭江路"
