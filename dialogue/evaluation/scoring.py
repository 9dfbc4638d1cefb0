"""From the recorded conversations to per-case verdicts and the run's figures; pure, so it is tested
over API responses built from the outcome contract without a stack.

Definitions (docs/eval_dialogue.md says the same for readers):
- A matter is *presented* by ``guide_presented``, ``facet_answered``, ``faq_answered``, ``walk_started``
  or ``checklist_shown`` carrying its ``matter_id``.
- Right on the first turn: the first turn presents an expected matter and no other.
- Right within two turns: the same over the first two turns (one click on an offered button allowed).
- Wrong guide presented: any turn presents a matter that is not expected (for an out-of-catalogue
  question or a complaint, any matter at all). Counted over all cases; it is the worst outcome.
- Declined: the first turn of an out-of-catalogue question says ``not_found``, ``out_of_scope`` or
  ``misunderstood`` and presents nothing.
- Intake reached: the first turn of a complaint says ``intake_started``; filed: a later ``ticket_filed``.
- Materials exact: the ``checklist`` payload of the presented matter lists exactly the catalogue's
  materials by name (none missing, none invented), the catalogue read through ``GET /api/v1/guides/{id}``;
  checked when the case asks for it and the right guide's walk started (a facet answer has none).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from dialogue.evaluation.cases import CaseKind
from dialogue.evaluation.citizen import Transcript, presented

DECLINING = frozenset({"not_found", "out_of_scope", "misunderstood"})
TELLING = (
    "guide_presented",
    "faq_answered",
    "facet_answered",
    "clarification_offered",
    "intake_started",
    "not_found",
    "out_of_scope",
    "misunderstood",
    "handoff",
)
"""A turn's leading outcome: what the citizen saw first-hand (a form's question or a walk's start follow it)."""


@dataclass
class ChecklistCheck:
    matter_id: str
    shown: bool
    missing: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return self.shown and not self.missing and not self.invented


@dataclass
class Verdict:
    case_id: str
    kind: CaseKind
    first_outcome: str
    """The first turn's leading outcome kind (or 'none' / 'error'), for the outcome bars."""
    ok: bool
    failure: str | None = None
    first_turn_right: bool = False
    within_two_right: bool = False
    wrong_matter: str | None = None
    declined: bool = False
    intake_reached: bool = False
    ticket_filed: bool = False
    ticket_type: str | None = None
    ticket_type_ok: bool | None = None
    checklist: ChecklistCheck | None = None


def first_outcome(transcript: Transcript) -> str:
    if not transcript.turns:
        return "error"
    turn = transcript.turns[0]
    if turn.error:
        return "error"
    kinds = [str(o.get("kind")) for o in turn.outcomes]
    return next((k for k in TELLING if k in kinds), kinds[0] if kinds else "none")


def check_checklist(transcript: Transcript, matter_id: str, catalogue: list[str] | None) -> ChecklistCheck:
    """The walk's checklist against the catalogue's material names, as multisets."""
    shown = [
        reply["checklist"]
        for turn in transcript.turns
        for reply in turn.replies
        if reply.get("kind") == "checklist"
        and isinstance(reply.get("checklist"), dict)
        and (reply["checklist"].get("matter") or {}).get("external_id") == matter_id
    ]
    if not shown or catalogue is None:
        return ChecklistCheck(matter_id, shown=False)
    listed = Counter(str(m.get("name")) for m in shown[-1].get("materials") or [])
    wanted = Counter(catalogue)
    return ChecklistCheck(
        matter_id,
        shown=True,
        missing=sorted((wanted - listed).elements()),
        invented=sorted((listed - wanted).elements()),
    )


def judge(transcript: Transcript, catalogue: dict[str, list[str]]) -> Verdict:
    """``catalogue`` maps an expected external id to its material names as the catalogue API gives them."""
    case = transcript.case
    turns = transcript.turns
    verdict = Verdict(case.id, case.kind, first_outcome(transcript), ok=False)
    if transcript.error and not turns:
        verdict.failure = transcript.error
        return verdict
    shown_all = presented(turns)
    wrong = [m for m in shown_all if m not in case.gold]
    verdict.wrong_matter = wrong[0] if wrong else None
    first_kinds = turns[0].kinds() if turns else set()
    if case.kind == "guide":
        first, two = presented(turns[:1]), presented(turns[:2])
        verdict.first_turn_right = bool(first) and all(m in case.gold for m in first)
        verdict.within_two_right = bool(two) and all(m in case.gold for m in two)
        walked = any(o.get("kind") in ("walk_started", "checklist_shown") for t in turns for o in t.outcomes)
        if case.checklist and verdict.within_two_right and walked:  # a facet or FAQ answer has no checklist
            verdict.checklist = check_checklist(transcript, two[0], catalogue.get(two[0]))
        verdict.ok = verdict.within_two_right and not wrong and (verdict.checklist is None or verdict.checklist.exact)
        if wrong:
            verdict.failure = f"错误指南 {wrong[0]}"
        elif not verdict.within_two_right:
            verdict.failure = f"两轮内未给出正确指南（首轮 {verdict.first_outcome}）"
        elif verdict.checklist and not verdict.checklist.exact:
            verdict.failure = "清单材料与事项库不一致" if verdict.checklist.shown else "没有得到一次告知清单"
    elif case.kind == "decline":
        verdict.declined = bool(first_kinds & DECLINING) and not presented(turns[:1])
        verdict.ok = verdict.declined and not wrong
        if not verdict.ok:
            verdict.failure = f"错误指南 {wrong[0]}" if wrong else f"库外问题未婉拒（首轮 {verdict.first_outcome}）"
    else:
        verdict.intake_reached = "intake_started" in first_kinds
        filed = [o for t in turns for o in t.outcomes if o.get("kind") == "ticket_filed"]
        verdict.ticket_filed = bool(filed)
        if filed:
            verdict.ticket_type = filed[-1].get("ticket_type")
            if case.ticket_types:
                verdict.ticket_type_ok = verdict.ticket_type in case.ticket_types
        verdict.ok = verdict.intake_reached and verdict.ticket_filed and not wrong
        if wrong:
            verdict.failure = f"错误指南 {wrong[0]}"
        elif not verdict.intake_reached:
            verdict.failure = f"投诉未进入受理（首轮 {verdict.first_outcome}）"
        elif not verdict.ticket_filed:
            verdict.failure = "进入受理但没有生成工单"
    if transcript.error and verdict.ok:
        verdict.ok, verdict.failure = False, transcript.error
    return verdict


def percentile(values: list[float], q: float) -> float:
    """Nearest rank, as the project's benches report it (q in 0..100)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _rate(hits: int, total: int) -> float | None:
    return None if total == 0 else hits / total


def figures(verdicts: list[Verdict], transcripts: list[Transcript]) -> dict[str, Any]:
    """The run's figures; a rate is None when no case of its kind ran."""
    by_kind: dict[str, list[Verdict]] = {"guide": [], "decline": [], "intake": []}
    for verdict in verdicts:
        by_kind[verdict.kind].append(verdict)
    guides, declines, intakes = by_kind["guide"], by_kind["decline"], by_kind["intake"]
    checked = [v.checklist for v in guides if v.checklist is not None]
    typed = [v for v in intakes if v.ticket_type_ok is not None]
    latencies = [t.latency_ms for tr in transcripts for t in tr.turns if not t.error]
    wrong = sum(1 for v in verdicts if v.wrong_matter)
    return {
        "cases": len(verdicts),
        "guide_cases": len(guides),
        "decline_cases": len(declines),
        "intake_cases": len(intakes),
        "guide_first_turn": _rate(sum(v.first_turn_right for v in guides), len(guides)),
        "guide_within_two_turns": _rate(sum(v.within_two_right for v in guides), len(guides)),
        "wrong_guide": _rate(wrong, len(verdicts)),
        "wrong_guide_count": wrong,
        "declined": _rate(sum(v.declined for v in declines), len(declines)),
        "intake_reached": _rate(sum(v.intake_reached for v in intakes), len(intakes)),
        "ticket_filed": _rate(sum(v.ticket_filed for v in intakes), len(intakes)),
        "ticket_type_accuracy": _rate(sum(bool(v.ticket_type_ok) for v in typed), len(typed)),
        "checklists_checked": len(checked),
        "materials_exact": _rate(sum(c.exact for c in checked), len(checked)),
        "materials_missing": sum(len(c.missing) for c in checked),
        "materials_invented": sum(len(c.invented) for c in checked),
        "turns": len(latencies),
        "latency_p50_ms": round(percentile(latencies, 50), 1),
        "latency_p95_ms": round(percentile(latencies, 95), 1),
        "errors": sum(1 for tr in transcripts if tr.error),
    }
