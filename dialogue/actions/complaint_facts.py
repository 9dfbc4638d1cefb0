"""The place and the time a complaint already states, so the intake does not ask for them again.

Real complaints usually say where and when in their first sentences (「港口区渔洲坪沙潭江路的工地昨晚
11点还在施工」). The learned ``address`` entity misses many of them, so these patterns read the text
itself: a place is a named road, estate, village, market… (optionally after a district from the
catalogue's gazetteer), a time is a date, a clock time or a relative day. Both are conservative: when
unsure they return nothing and the form asks, and the confirmation shows what will be filed either way.
"""

from __future__ import annotations

import re

_CJK = r"\u4e00-\u9fa5"
# The kinds of place a citizen names; deliberately no 厂/站/路 alone after a verb (「有工厂」「一路上」).
_PLACE_KIND = (
    r"(?:路口|大道|大街|街道|路段|公路|路|街|巷|弄|小区|花园|苑|新村|村委会|村|镇|(?<!城)乡|社区|市场|广场|"
    r"小学|中学|学校|幼儿园|医院|公园|码头|口岸|大桥|大厦|商场|超市|车站|公交站|工业园|园区|景区|海滩)"
)
_NUMBER = r"(?:[0-9０-９一二三四五六七八九十百]+(?:号楼|号院|号|栋|幢|单元|巷|弄))"
_NEAR = r"(?:中段|东段|西段|南段|北段|附近|旁边|门口|对面|路段|一带|周边|里面|内)"
_PLACE = re.compile(rf"[{_CJK}A-Za-z0-9]{{2,16}}?{_PLACE_KIND}{_NUMBER}*{_NEAR}?")
# Words that sit before a place name in a sentence and are not part of it.
_LEAD = re.compile(r"^.*(?:在|位于|地址是|地址为|地址|地点|住|我家|我们|楼下|门前|靠近|是|的|要求|收到|投诉|举报|反映)")
_NOT_A_PLACE = ("马路", "道路", "公路", "一路", "走路", "这条路", "那条路", "小路", "农村", "城乡", "街道办")

_DIGITS = r"[0-9０-９]+"
_CN_NUM = r"[一二两三四五六七八九十]+"
_DAYPART = r"(?:早上|上午|中午|下午|傍晚|晚上|夜里|夜间|半夜|深夜|凌晨)"
_TIME = re.compile(
    "|".join(
        [
            rf"{_DIGITS}年(?:{_DIGITS}月(?:{_DIGITS}[日号])?)?",
            rf"(?:{_DIGITS}|{_CN_NUM})月(?:份|(?:{_DIGITS}|{_CN_NUM})[日号])?",
            rf"(?<![0-9０-９路街巷弄道])(?:[0-3]?[0-9]|{_CN_NUM})[日号](?![楼院栋幢单元])",
            r"(?:今天|昨天|前天|今日|昨日|今早|今晚|昨晚|前晚|今年|去年|前年|本月|上月|上个月|这个月|本周|上周|这周|"
            r"上星期|这星期|周末|最近|近期|近日|近来|这几天|这段时间|每天|每晚|天天|长期|一直)",
            rf"(?:已经|已|有|快|近)?(?:{_DIGITS}|{_CN_NUM}|半|几|好几|多)(?:个)?(?:多)?(?:天|周|星期|个月|月|年)(?:了|前|以来|多了)",
            _DAYPART,
            rf"(?:{_DIGITS}|{_CN_NUM})(?:[:：]{_DIGITS}|点(?:半|{_DIGITS}分?|{_CN_NUM}分?)?|时)",
        ]
    )
)


def place_in(text: str, regions: list[str] | None = None, *, named: str | None = None) -> str | None:
    """The first named place in ``text`` (or ``named``, the NLU's address), with the district before it.

    ``regions`` are the districts the citizen wrote (the gazetteer's matches): 「港口区渔洲坪路口」 keeps
    its 港口区 even when the learned entity took only 「渔洲坪路口」.
    """
    written = _written_places(text)
    if named and named in text:
        at = text.index(named)
        # The learned entity may take part of a name (渔洲 of 渔洲坪沙潭江路): the written name holding it wins.
        fuller = next(((s, p) for s, p in written if s <= at < at + len(named) < s + len(p)), None)
        start, place = fuller or (at, named)
        return _with_district(text, start, place, regions)
    if written:
        return _with_district(text, *written[0], regions)
    return named


def _written_places(text: str) -> list[tuple[int, str]]:
    """(start, place) of every road, estate, village … the patterns find, in order."""
    found = []
    for match in _PLACE.finditer(text):
        place = _LEAD.sub("", match.group(0))
        if len(place) < 3 or any(place.startswith(w) or place == w for w in _NOT_A_PLACE):
            continue
        found.append((match.end() - len(place), place))
    return found


def _with_district(text: str, start: int, place: str, regions: list[str] | None) -> str:
    district = next((r for r in regions or [] if text[:start].endswith(r) and r not in place), None)
    return f"{district}{place}" if district else place


def time_in(text: str) -> str | None:
    """The time words of the first sentence that has a day, a date or a clock time, as written (「昨天晚上11点」)."""
    for sentence in re.split(r"[。！？!?；;\n]", text):
        parts = [m for m in _TIME.finditer(sentence)]
        if not parts:
            continue
        # Adjacent pieces read as one expression: 昨天 + 晚上 + 11点.
        joined, end = [parts[0].group(0)], parts[0].end()
        for part in parts[1:]:
            if part.start() - end > 1:
                break
            joined.append(part.group(0))
            end = part.end()
        if all(re.fullmatch(_DAYPART, piece) for piece in joined):
            continue  # 「夜间施工」 says how, not when: the form asks
        return "".join(joined)
    return None
