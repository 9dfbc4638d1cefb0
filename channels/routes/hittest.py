"""命中测试 API for editors: test a question, read the history, keep and re-run named test sets.

The search runs on the gateway's own index (caught up first, so a publish a second ago counts), or
with ``drafts`` on a preview of it that adds the latest drafts. NLU comes from the running Rasa
server through the relay's pooled client; when Rasa is down the response says so and still shows
the retrieval part, which is what an editor can fix.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banshi.db import hold_write_lock
from channels import hittest
from channels.accounts import UserOut
from channels.commit_first import CommitFirstRoute
from channels.deps import CONFLICT, GUARDED, NOT_FOUND, IndexDep, RelayDep, SessionDep, require_role
from channels.hittest import HitTestRun, HitTestSet, NluParse
from channels.params import Id, Offset
from common.clock import UtcDateTime
from knowledge.faqs import FaqMatch
from retriever import HybridIndex, catch_up

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/api/v1/hittest",
    tags=["hittest"],
    responses={**GUARDED, **NOT_FOUND, **CONFLICT},
    dependencies=[Depends(require_role("editor", "admin"))],
)
EditorUser = Annotated[UserOut, Depends(require_role("editor", "admin"))]


def _question(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("不能为空")
    return value


class HitTestIn(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    drafts: bool = False
    """Search the published catalogue plus the latest drafts (a preview; citizens still see the published one)."""
    region: str | None = Field(default=None, max_length=50)
    """Where the citizen said they are (the dialogue's ``region`` slot); otherwise the NLU's region entity."""

    _strip = field_validator("question")(_question)


class NluOut(BaseModel):
    available: bool
    intent: str | None
    intent_confidence: float | None
    intent_ranking: list[dict]
    entities: list[dict]
    error: str | None


class HitOut(BaseModel):
    rank: int
    external_id: str
    name: str
    department: str
    region: str
    parent_name: str | None
    score: float
    """The fused (RRF) score that ranks the list."""
    bm25: float | None
    dense: float | None
    draft: bool
    """The hit comes from a draft (only with drafts on)."""


class DecisionOut(BaseModel):
    kind: str
    label: str
    external_ids: list[str]
    named: str | None
    """The matter the NLU named (entity ``matter``), which the dialogue looks up by keyword first."""
    region: str | None
    elsewhere: bool = False
    """The region has no such matter: the dialogue says so and answers with another region's."""
    faq: FaqMatch | None = None
    """The published FAQ the dialogue would answer with instead of the guide (``knowledge.faqs.matching_faq``)."""


class HitTestOut(BaseModel):
    id: int
    question: str
    drafts: bool
    created_at: UtcDateTime
    nlu: NluOut
    hits: list[HitOut]
    confidence: float
    threshold: float
    confident: bool
    decision: DecisionOut


class HistoryItem(BaseModel):
    id: int
    question: str
    author: str
    created_at: UtcDateTime
    drafts: bool
    top_external_id: str | None
    top_name: str | None
    confidence: float
    confident: bool
    decision: str
    intent: str | None


class HistoryOut(BaseModel):
    total: int
    items: list[HistoryItem]


class SetQuestion(BaseModel):
    question: str = Field(min_length=1, max_length=500)
    expected_external_id: str | None = Field(default=None, max_length=100)

    _strip = field_validator("question")(_question)


class SetIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    questions: list[SetQuestion] = Field(min_length=1, max_length=500)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("不能为空")
        return value


class SetOut(BaseModel):
    id: int
    name: str
    questions: list[SetQuestion]
    author: str
    created_at: UtcDateTime
    runs: int
    last_run_id: int | None


class RunIn(BaseModel):
    drafts: bool = False


class RunResult(BaseModel):
    question: str
    expected_external_id: str | None
    top_external_id: str | None
    top_name: str | None
    confidence: float
    confident: bool
    decision: str
    shown_external_ids: list[str]
    expected_found: bool | None
    previous_top_external_id: str | None
    top_changed: bool
    regression: bool
    reasons: list[str]


class RunOut(BaseModel):
    id: int
    set_id: int
    set_name: str
    author: str
    created_at: UtcDateTime
    drafts: bool
    previous_run_id: int | None
    total: int
    regressions: int
    results: list[RunResult]


def _index_for(session: Session, index: HybridIndex, drafts: bool) -> tuple[HybridIndex, set[str]]:
    """The live index caught up with the catalogue, or a preview of it with the latest drafts."""
    catch_up(session, index)
    if not drafts:
        return index, set()
    found, faqs = hittest.latest_drafts(session)
    return index.preview(found, faqs), {m.external_id for m in found}


def _test(
    session: Session, client, index: HybridIndex, question: str, nlu: NluParse | None = None, region: str | None = None
):
    nlu = nlu or hittest.parse(client, question)
    named, place = nlu.entity("matter"), region or nlu.entity("region")
    said = nlu.said("matter", question)
    return nlu, hittest.find(session, index, question, named=named, region=place, said=said)


@router.post("", response_model=HitTestOut)
def test_question(body: HitTestIn, session: SessionDep, index: IndexDep, relay: RelayDep, user: EditorUser):
    """What the assistant would do with this question now (or once the drafts are published)."""
    searched, draft_ids = _index_for(session, index, body.drafts)
    nlu, outcome = _test(session, relay.client, searched, body.question, region=body.region)
    row = hittest.record(session, body.question, outcome, nlu, user_id=user.id, author=user.display_name,
                         drafts=body.drafts)  # fmt: skip
    result = outcome.result
    hits = [
        HitOut(
            rank=i + 1,
            external_id=h.external_id,
            name=h.name,
            department=h.department,
            region=h.region,
            parent_name=h.parent_name,
            score=h.score,
            bm25=h.bm25,
            dense=h.dense,
            draft=h.external_id in draft_ids,
        )
        for i, h in enumerate(result.hits)
    ]
    decision = outcome.decision
    found = [h.external_id for h in decision.hits]
    return HitTestOut(
        id=row.id, question=body.question, drafts=body.drafts, created_at=row.created_at,
        nlu=NluOut(**vars(nlu)), hits=hits, confidence=round(result.confidence, 4), threshold=searched.threshold,
        confident=result.confident,
        decision=DecisionOut(kind=decision.kind, label=hittest.DECISION_LABELS[decision.kind],
                             external_ids=found, named=outcome.named, region=outcome.region,
                             elsewhere=outcome.answer.elsewhere, faq=outcome.answer.faq),
    )  # fmt: skip


@router.get("/history", response_model=HistoryOut)
def test_history(
    session: SessionDep,
    user: EditorUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
    mine: bool = False,
):
    """Single tests, newest first; ``mine`` keeps only the signed-in editor's."""
    total, rows = hittest.history(session, limit=limit, offset=offset, user_id=user.id if mine else None)
    return HistoryOut(total=total, items=[HistoryItem.model_validate(r, from_attributes=True) for r in rows])


def _set_out(session: Session, item: HitTestSet) -> SetOut:
    runs = session.scalar(select(func.count()).select_from(HitTestRun).where(HitTestRun.set_id == item.id)) or 0
    last = hittest.previous_run(session, item.id)
    return SetOut(id=item.id, name=item.name, questions=item.questions, author=item.author,
                  created_at=item.created_at, runs=runs, last_run_id=last.id if last else None)  # fmt: skip


def _set_or_404(session: Session, set_id: int) -> HitTestSet:
    item = session.get(HitTestSet, set_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="未找到该测试集")
    return item


@router.post("/sets", response_model=SetOut, status_code=status.HTTP_201_CREATED)
def create_set(body: SetIn, session: SessionDep, user: EditorUser):
    if session.scalar(select(HitTestSet.id).where(HitTestSet.name == body.name)) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="已有同名的测试集，请换一个名称")
    item = HitTestSet(name=body.name, questions=[q.model_dump() for q in body.questions], author=user.display_name)
    session.add(item)
    try:
        session.flush()
    except IntegrityError as exc:  # another editor took the name in the meantime
        raise HTTPException(status.HTTP_409_CONFLICT, detail="已有同名的测试集，请换一个名称") from exc
    return _set_out(session, item)


@router.put("/sets/{set_id}", response_model=SetOut)
def update_set(set_id: Id, body: SetIn, session: SessionDep, user: EditorUser):
    """Renames a set or changes its questions; its earlier runs stay, and the next run compares with the last."""
    item = _set_or_404(session, set_id)
    taken = session.scalar(select(HitTestSet.id).where(HitTestSet.name == body.name, HitTestSet.id != set_id))
    if taken is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="已有同名的测试集，请换一个名称")
    item.name, item.questions = body.name, [q.model_dump() for q in body.questions]
    session.flush()
    return _set_out(session, item)


@router.delete("/sets/{set_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_set(set_id: Id, session: SessionDep, user: EditorUser) -> None:
    hittest.delete_set(session, _set_or_404(session, set_id))


@router.get("/sets", response_model=list[SetOut])
def list_sets(session: SessionDep):
    return [_set_out(session, s) for s in session.scalars(select(HitTestSet).order_by(HitTestSet.id.desc()))]


def _run_out(item: HitTestSet, run: HitTestRun) -> RunOut:
    return RunOut(id=run.id, set_id=item.id, set_name=item.name, author=run.author, created_at=run.created_at,
                  drafts=run.drafts, previous_run_id=run.previous_run_id, total=run.total,
                  regressions=run.regressions, results=run.results)  # fmt: skip


RUN_CHUNK = 25
"""Questions searched between two checks that the set still exists, so a deleted set stops its run soon."""
SET_GONE = "该测试集已在运行期间被删除，本次运行已停止"


def _set_still_there(session: Session, set_id: int, *, keep: bool = False) -> None:
    """404 once the set is gone; with ``keep``, PostgreSQL holds the row until the run is stored (a
    delete then waits and removes the new run with its set; SQLite's write lock already does that)."""
    query = select(HitTestSet.id).where(HitTestSet.id == set_id)
    if session.scalar(query.with_for_update(read=True, key_share=True) if keep else query) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=SET_GONE)


@router.post("/sets/{set_id}/run", response_model=RunOut, status_code=status.HTTP_201_CREATED)
def run_set(
    set_id: Id,
    session: SessionDep,
    index: IndexDep,
    relay: RelayDep,
    user: EditorUser,
    body: Annotated[RunIn | None, Body()] = None,
):
    """Tests every question of the set and compares each with the set's previous run.

    The searches only read, so they run before anything is written: the run and its tests are stored
    at the end in one short transaction, and citizens' turns never wait on the database behind a set
    of hundreds of questions. A set deleted meanwhile stops the run at the next chunk (404, nothing stored).
    """
    item = _set_or_404(session, set_id)
    drafts = bool(body and body.drafts)
    searched, _ = _index_for(session, index, drafts)
    questions = list(item.questions)
    tested, down = [], None
    for start in range(0, len(questions), RUN_CHUNK):
        _set_still_there(session, set_id)
        for question in questions[start : start + RUN_CHUNK]:
            # Once Rasa has failed, the rest of the run skips it rather than wait for each timeout.
            nlu, outcome = _test(session, relay.client, searched, question["question"], down)
            if not nlu.available:
                down = nlu
            tested.append((question, nlu, outcome))
    hold_write_lock(session)  # from here on the transaction writes, and only briefly
    _set_still_there(session, set_id, keep=True)
    before = hittest.previous_run(session, item.id)
    earlier = hittest.previous_results(before)
    run = HitTestRun(set_id=item.id, author=user.display_name, drafts=drafts,
                     previous_run_id=before.id if before else None)  # fmt: skip
    session.add(run)
    session.flush()
    results = []
    for question, nlu, outcome in tested:
        text, expected = question["question"], question.get("expected_external_id")
        hittest.record(session, text, outcome, nlu, user_id=user.id, author=user.display_name, drafts=drafts,
                       run_id=run.id, flush=False)  # fmt: skip
        results.append(hittest.compare(text, expected, outcome, earlier.get(text)))
    run.results, run.total, run.regressions = results, len(results), sum(r["regression"] for r in results)
    session.flush()
    return _run_out(item, run)


@router.get("/sets/{set_id}/runs/{run_id}", response_model=RunOut)
def get_run(set_id: Id, run_id: Id, session: SessionDep):
    item = _set_or_404(session, set_id)
    run = session.get(HitTestRun, run_id)
    if run is None or run.set_id != item.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="未找到该次运行")
    return _run_out(item, run)
