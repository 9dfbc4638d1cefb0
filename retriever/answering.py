"""What the assistant answers to a question: the one decision the dialogue acts on and the hit test shows.

The find-guide action (``dialogue.actions.guide``), the facet action and the editors' hit test
(``channels.routes.hittest``) all call ``answer``; none keeps its own copy of the steps, so what an
editor sees in 命中测试 is what a citizen gets. The steps, in order:

1. a question editors ruled out of scope is declined (``out_of_scope``), whatever the search says;
2. a matter the NLU named is looked up by keyword (fast, exact), in the citizen's region first,
   unless the citizen named it by an alias that fits its family of sub-cases as well (``names_one``);
3. otherwise the question is searched, and ``decide`` turns the hits into one matter (``present``),
   a choice (``clarify``, ``ask_region``) or nothing (``none``): never a guide the retriever was not
   confident about, because a wrong guide sends a citizen to the wrong window with the wrong papers,
   and never a choice of matters below ``CLARIFY_FLOOR``; a runner-up near the top's score, a sibling
   sub-case or a matter named nearly alike (``are_twins``) is a rival, unless the question's own words
   tell it apart from the top (``told_apart``), and a lone top (nothing like it found) needs
   ``LONE_FLOOR``;
4. a published FAQ of the matters found (or of a lone top held back) that asks what the citizen asked
   is answered instead.

It is Rasa-free: it needs an index already caught up with the catalogue and a database session.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from knowledge.faqs import FaqMatch, matching_faq
from knowledge.unanswered import is_out_of_scope
from retriever.index import Hit, HybridIndex, SearchResult
from retriever.tokenize import char_pairs

CLOSE_RATIO = 0.9
"""A runner-up within 10% of the top fused score is as likely the citizen's matter: ask."""
SIBLING_RATIO = 0.75
"""Sub-cases (情形) of one parent are told apart by details the question rarely has: ask sooner."""
CLARIFY_FLOOR = 0.7
"""A choice of matters is offered only at this confidence or above; below it, nothing is offered.
A search just over the retriever's threshold whose top has rivals is the mark of a question the
catalogue does not hold (教师资格证怎么认定 → 文物的认定, 爆破作业人员资格认定…): unrelated buttons are
a worse answer than an honest decline with the hotline. Below 0.7 a choice held the citizen's matter
4 times in 9 (the dialogue dev file and the retrieval dev set together; the other 5: out of catalogue
4, right matter missing 1); the real-catalogue test's 家里要装燃气怎么申请 (0.71) keeps its choice."""

LONE_FLOOR = 0.75
"""A lone top (no runner-up near it, no sibling sub-case) is presented only at this confidence or
above; below it, nothing is offered. A barely confident search that finds one matter and nothing like
it is the mark of a question whose subject the catalogue lacks, matched on its other words
(身份证丢了在哪补办 → 证照遗失补领、换发申请: on 遗失 and 补领, not 身份证). Below 0.75 a lone top was
right 2 times in 9 (an in-process probe of the dialogue dev file and the retrieval dev set; the
other 7: out of catalogue 3, another matter 4), and a wrong guide sends a citizen to the wrong
window. A top the question's words choose among its near rivals (用气报装 over 用气过户 for
家里要装燃气, 0.71) is another thing: the catalogue holds the family asked about, so the retriever's
threshold is enough. So is a 一件事 (bundle): a life event's question is vague by nature
(宝宝出生后要跑哪些手续, 退伍军人要办什么), and both lone bundles below 0.75 in the probe were right."""

TWIN_NAME = 0.7
"""Names sharing this share of their character pairs (of the shorter name) are twins: 企业老工伤人员纳入
工伤保险统筹管理申请 and 机关事业单位老工（公）伤人员…, 国有建设用地使用权首次登记 and …地役权首次登记."""
TWIN_RATIO = 0.6
"""A twin this close to the top is a rival even below ``CLOSE_RATIO``, whatever their parents: the
fused score rewards the words the twins share, and the one word that tells them apart weighs little.
On the two dialogue dev files together (327 guide questions, an in-process probe), four wrong guides
became a choice holding the right one, and one right guide a choice (经济专业技术资格 beside 会计专业
技术资格考试报名, for 经济师职称考试)."""

DecisionKind = Literal["present", "clarify", "ask_region", "none", "out_of_scope"]
Reason = Literal["close", "region", "siblings", "name"]


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    hits: tuple[Hit, ...] = ()
    reason: Reason | None = None
    """Why a choice is offered: runners-up too close, one matter in several places, or sub-cases."""


def decide(result: SearchResult, *, named: str | None = None) -> Decision:
    """One matter, a choice (by name or by region), or nothing; pure, so the thresholds test without Rasa."""
    hits = result.hits
    if named:
        same = [hit for hit in hits if hit.name == named]
        if len(same) == 1:
            return Decision("present", (same[0],))
        if len(same) > 1:
            return Decision("ask_region", tuple(same[:5]), "region")
    if not result.confident or not hits:
        return Decision("none")
    top = hits[0]
    question = result.searched or result.query
    close, siblings, lone = [], False, True
    for hit in hits[1:]:
        if hit.external_id in top.members:
            continue  # a matter of the 一件事 found first is answered inside it
        near = hit.score >= CLOSE_RATIO * top.score
        sibling = (
            bool(top.parent_external_id)
            and hit.parent_external_id == top.parent_external_id
            and hit.score >= SIBLING_RATIO * top.score
        )
        twin = are_twins(top, hit) and hit.score >= TWIN_RATIO * top.score
        lone = lone and not (near or sibling)
        if (near or sibling or twin) and not told_apart(question, top, hit):
            close.append(hit)
            siblings = siblings or not near
    if not close:
        held_back = lone and top.kind != "bundle" and result.confidence < LONE_FLOOR
        return Decision("none") if held_back else Decision("present", (top,))
    if result.confidence < CLARIFY_FLOOR:
        return Decision("none")
    if all(hit.name == top.name for hit in close):
        return Decision("ask_region", (top, *close), "region")
    return Decision("clarify", tuple(hits[:3]), "siblings" if siblings else "close")


def are_twins(top: Hit, other: Hit) -> bool:
    """Two matters named nearly alike (``TWIN_NAME``) once the qualifiers many names share are set
    aside (（初级、中级、高级）, ——机关事业单位职工); a 一件事 is no matter's twin (it is offered by its
    own name, as a life event)."""
    if "bundle" in (top.kind, other.kind):
        return False
    mine, theirs = char_pairs(_without_qualifiers(top.name)), char_pairs(_without_qualifiers(other.name))
    return len(mine & theirs) >= TWIN_NAME * max(1, min(len(mine), len(theirs)))


def _without_qualifiers(name: str) -> str:
    return re.sub(r"[（(][^）)]*[）)]", "", name).split("——")[0]


def told_apart(question: str, top: Hit, rival: Hit) -> bool:
    """Whether the question's own words choose the top over a runner-up: it holds more of the words
    that only the top's name has than of those that only the runner-up's has.

    Sub-cases differ in a word or two (烟草专卖零售许可证补办 / …新办 / …停业): 烟草证丢了怎么补办
    says which, and asking it again is a needless turn; 新办还是补办烟草证 says both, so both stay on
    offer. Character pairs, not the segmenter's words, so a name's word is found inside the citizen's
    longer one; the question is read as searched (with the colloquial rewrite's official terms). On a
    tie of pairs single characters decide: 烟草证快到期了，怎么续期 shares no pair with 延续 but its 续
    (in an in-process probe of the dev file's questions: seven choices fewer, one wrong guide more,
    医保断了 → 社会保险费断缴补缴).
    On a tie of characters too, the plain case over the same name with a qualifier the citizen did not
    say (公司设立登记 over 分公司设立登记 and 非公司企业法人设立登记 for 我想注册一家公司), but not a name
    over another with words of its own (公积金怎么提取: 退休提取… or 租赁住房提取…, a choice).
    A namesake in another place has no words of its own: never told apart."""
    mine, theirs, asked = char_pairs(top.name), char_pairs(rival.name), char_pairs(question)
    ours, others = len(asked & (mine - theirs)), len(asked & (theirs - mine))
    if ours != others:
        return ours > others
    mine_chars, their_chars, asked_chars = set(top.name), set(rival.name), set(question)
    ours, others = len(asked_chars & (mine_chars - their_chars)), len(asked_chars & (their_chars - mine_chars))
    if ours != others:
        return ours > others
    return mine_chars < their_chars  # the runner-up is the top with a qualifier the question did not say


def names_one(said: str, named: Hit, siblings: Sequence[Hit]) -> bool:
    """Whether the citizen's words for a matter (a gazetteer alias) name that one sub-case rather than
    its family: they tell it apart from every sibling (``told_apart``).

    The gazetteer resolves an alias to one matter's name. 换身份证 → 居民身份证换领 says which (换);
    烟草零售许可证 → 烟草专卖零售许可证新办 says nothing the 延续, 变更 or 补办 sub-cases lack, and
    taking it as naming 新办 presented the wrong guide. Such an alias is no naming: the whole question
    is searched and gated like any other, so the citizen gets the one the question tells apart or the
    choice. A one-word difference (换) has no pair of its own: ``told_apart``'s characters decide it.
    An alias that shares no pair with the name (办营业执照 → 个体工商户设立登记) says nothing of the
    family's name: it is the editors' own word for this one matter, and names it."""
    if not char_pairs(said) & char_pairs(named.name):
        return True
    return all(told_apart(said, named, sibling) for sibling in siblings)


@dataclass(frozen=True)
class Answer:
    decision: Decision
    named: str | None
    region: str | None
    searched: SearchResult | None = None
    """The full search of the question, when it was searched (not for a named matter found by keyword)."""
    faq: FaqMatch | None = None
    """An editors' FAQ answer that goes before the guide."""
    elsewhere: bool = False
    """The citizen's region has no such matter and these are another region's: say so, do not decline."""

    @property
    def kind(self) -> DecisionKind:
        return self.decision.kind

    @property
    def external_ids(self) -> list[str]:
        return [hit.external_id for hit in self.decision.hits]


def find(
    index: HybridIndex, question: str, *, named: str | None, region: str | None, said: str | None = None
) -> Answer:
    """Steps 2 and 3: a named matter by keyword, otherwise the question searched and decided; in the
    citizen's region first, then anywhere in the catalogue (``elsewhere``) rather than nothing.

    ``said``: the citizen's words the NLU read as ``named``; an alias (not the name) that fits the
    matter's siblings as well is searched with the question instead (``names_one``).

    A region no matter of the catalogue belongs to (南宁市 in a 防城港 catalogue) has nothing of its
    own: whatever is found there is another region's, and the citizen is told so."""
    home = region if region and index.knows_region(region) else None
    if named:
        for place in (home, None) if home else (None,):
            decision = decide(index.search(named, 10, region=place, mode="bm25"), named=named)
            if decision.kind != "none" and said and said != named:
                top = decision.hits[0]
                if not names_one(said, top, index.siblings(top.external_id)):
                    break  # a family's alias: no naming of this one sub-case
            if decision.kind != "none":
                return Answer(decision, named, region, elsewhere=bool(region) and place is None)
    searched = index.search(question, 5, region=home)
    decision = decide(searched)
    if home and decision.kind == "none":
        anywhere = index.search(question, 5)
        if (elsewhere := decide(anywhere)).kind != "none":
            return Answer(elsewhere, named, region, anywhere, elsewhere=True)
    return Answer(decision, named, region, searched, elsewhere=bool(region) and not home and decision.kind != "none")


def answer(
    session: Session,
    index: HybridIndex,
    question: str,
    *,
    named: str | None = None,
    region: str | None = None,
    with_faq: bool = True,
    said: str | None = None,
) -> Answer:
    """The assistant's answer to ``question``; ``index`` must already be caught up with the catalogue.

    ``with_faq`` is off for a facet question (那要多久): the citizen asked for one field of the guide.
    ``said``: the citizen's own words for ``named`` (see ``find``).
    """
    if is_out_of_scope(session, question):
        return Answer(Decision("out_of_scope"), named, region)
    found = find(index, question, named=named, region=region, said=said)
    # A lone top held back by LONE_FLOOR still has its FAQs asked: an editor's question that is the
    # citizen's is the confirmation the search's confidence lacked.
    held_back = [found.searched.hits[0].external_id] if found.searched and found.searched.confident else []
    if with_faq and (found.decision.hits or held_back):
        faq = matching_faq(session, question, found.external_ids or held_back)
        if faq is not None:
            return Answer(found.decision, named, region, found.searched, faq)
    return found
