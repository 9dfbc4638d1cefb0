"""Which matters and which real messages dialogue_test2 (seed 2612) or dialogue_dev2 (3107) is about, reproducibly.

The questions themselves are written by hand, blind (never run through the retriever or the bot); this
script only says which matters to write them for and which hotline records to name by reference, so that
anyone can check the picks were not chosen after seeing results. It prints JSON lines and writes nothing.

Guide matters: the real 防城港 catalogue's matters named by no earlier dialogue file's case and by no
retrieval_colloquial_* query, shuffled with the seed, kept by a hand judgement on the matter's name only:
- test2 keeps a matter a citizen in their own name would ask (``CITIZEN``); when those run out, matters
  named only by retrieval_colloquial_test, then only by retrieval_colloquial_dev (a file tuned on);
- dev2 keeps any matter a member of the public, a small business, an institution or a licensed
  professional might ask a chat bot about, skipping only internal government procedures (``INTERNAL``).

Hotline messages (30–1000 characters, none named by an earlier file, none opening like one they name):
- MSGABench 投诉/求助 and 建言: only records in the ticket-type head's held-out 20 % split
  (``hotline.training.stratified_split``) and in the NLU's test share (``_msga_split``), so neither
  the held-out measurement nor ``banshi nlu hotline`` ever trained on them;
- 泰迪杯 labelled: only records in the category head's held-out split whose opening is not among the NLU's
  sampled training examples (computed as ``make train`` did before this file existed).
Note: the shipped classifier (``hotline/model``, ``refit_all``) is refitted on all messages; only a model
trained with ``banshi hotline train --no-refit-all`` has never seen these.

Usage: .venv/bin/python bench/sample_dialogue_cases.py [--file test2|dev2] [--shared-data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before bench/, whose hotline.py would shadow the package

from hotline.training import LabelledSet, load_category_set, load_type_set, stratified_split  # noqa: E402
from nlu import hotline_examples  # noqa: E402

DATA = ROOT / "bench" / "data"
LENGTH = (30, 1000)

# Matters a citizen asks in their own name (a resident, worker, patient, retiree, owner, farmer or fisher,
# or a professional about their own licence), by the external id's first 8 characters. Every other
# matter of the pool (a company's, an institution's, a project's, an official's) is skipped.
CITIZEN_IDS = """a713e33a 552cc6ac 78e02f29 91e63a58 e819d75b d7dfc74b 94a31d1b 059d4ca0 c68d6d26 a89c785d edf66542
    3471c212 127a4d03 93f80d33 e6f4982b d2f4fe32 51c56d6c 1f3aacbb 29fc1906 62a38f35 f34e4c03 df20f4f0
    2984593e 41758cb8 8af7f4bd 1b4873a3 03a2e6c5 a545ee1a 559d8d0f 2eac0fe1 79142469 b5667a4c 4b436f62
    3b34cb2f abc380b7 0898fec8 58bd19cd 45b362aa fd65b001 b9547b06 56bdae22 d01ed481 d8285053 65be5639
    e664e940 15e74abe 46f7c897 6b0e3bfa c505400b b9cf7306 a821bb43 515060b6 48b83f87 1df1b696 44898f28
    bfa1718f ed703e95 3a7bf428 878f8244 e198cc52 a1d20203 7f4e5075 7daef6f7 77c5dbaf c696f4dd 73c436b9
    78532e43 91f5382e a76dcfba 118adf5f 9ed8194a d577d0d7 a7820725 75c83cf3 f7c1a182 3bc20c79 4bb32d4e
    2e467ea8 3d06f6c4 3fcad635 ffb285a9 717de433 ba8cde44 42a7d689 84d1ca36 bb4accb7 7970cc04 937fbfd5
    20f6ec3c 8cd53178 58f58b2d 5648171b a6f1d8d8 19b86ca5 4c4746f0 35a061f4
    02776f7f 0f0be5a9 27b7c9a1 3ae6b461 4aa5dbbd 4e655482 52738de9 5f7a5156 73039f81 91974fe2 bfd05be8
    d50f0cbd f0ca94ca a3cee0b2 1a2a375f 67e15799 31f380de"""
CITIZEN = set(CITIZEN_IDS.split())

# Internal government procedures no member of the public or business would ask a chat bot about (awards the
# state grants, one office's report to another, secrecy and archive reviews, postal network closures), skipped by dev2.
INTERNAL = {"8cc05e88", "6e28f8c3", "65af068a", "7819557c", "213e37cd", "a39c8c6b", "e07f95f4", "91b2eced", "4ab43463"}


@dataclass(frozen=True)
class Plan:
    """One file's draw: its seed, its counts and the files written before it (whose picks it avoids)."""

    seed: int
    guides: int
    msga: dict[str, int]
    teddy: int
    earlier: tuple[str, ...]
    keep: Callable[[str], bool]  # on the external id's first 8 characters
    fallback: bool  # when the unnamed pool runs out, take matters only retrieval_colloquial_* names


PLANS = {
    "test2": Plan(2612, 110, {"投诉/求助": 31, "建言": 6}, 18, ("dialogue_dev.jsonl", "dialogue_test.jsonl"),
                  CITIZEN.__contains__, True),
    "dev2": Plan(3107, 120, {"投诉/求助": 16}, 4,
                 ("dialogue_dev.jsonl", "dialogue_test.jsonl", "dialogue_test2.jsonl"),
                 lambda short: short not in INTERNAL, False),
}  # fmt: skip


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _named(name: str) -> set[str]:
    """External ids a cases or queries file names as gold (comment lines skipped)."""
    ids: set[str] = set()
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            row = json.loads(line)
            gold = row.get("gold") or row.get("expect", {}).get("guide") or []
            ids.update([gold] if isinstance(gold, str) else gold)
    return ids


def guide_matters(shared: Path, plan: Plan) -> tuple[list[dict], int]:
    """The picked matters in order, and how many pool matters before the last pick were skipped."""
    dialogue = set().union(*(_named(name) for name in plan.earlier))
    colloquial_dev, colloquial_test = (
        _named("retrieval_colloquial_dev.jsonl"),
        _named("retrieval_colloquial_test.jsonl"),
    )
    rows = sorted(_rows(shared / "guides" / "gxzwfw_fangchenggang.jsonl"), key=lambda r: r["source_item_id"])
    random.Random(plan.seed).shuffle(rows)
    tiers = [
        [r for r in rows if r["source_item_id"] not in dialogue | colloquial_dev | colloquial_test],
        [r for r in rows if r["source_item_id"] in colloquial_test - dialogue - colloquial_dev],
        [r for r in rows if r["source_item_id"] in colloquial_dev - dialogue],
    ][: 3 if plan.fallback else 1]
    picked = [r for tier in tiers for r in tier if plan.keep(r["source_item_id"][:8])][: plan.guides]
    last = tiers[0].index(picked[-1]) + 1 if picked[-1] in tiers[0] else len(tiers[0])
    skipped = sum(not plan.keep(r["source_item_id"][:8]) for r in tiers[0][:last])
    return picked, skipped


def _taken(plan: Plan) -> set[str]:
    """Record ids the earlier files name."""
    return {c["ref"]["id"] for name in plan.earlier for c in _rows(DATA / name) if "ref" in c}


def _held_out_texts(data: LabelledSet) -> set[str]:
    """Texts in the stratified held-out split the classifier's figures are measured on."""
    return {data.texts[i] for i in stratified_split(data.labels)[1]}


def _nlu_training_openings(hotline: Path, earlier_refs: set[str]) -> set[str]:
    """The NLU's sampled training examples as they were before this file existed (its refs not yet held)."""
    real = hotline_examples.eval_case_refs
    hotline_examples.eval_case_refs = lambda folder=None: earlier_refs
    try:
        sample = hotline_examples.sample_training(hotline_examples.load_messages(hotline))
    finally:
        hotline_examples.eval_case_refs = real
    return {text[:24] for texts in sample.values() for text in texts}


def hotline_records(shared: Path, plan: Plan) -> list[dict]:
    hotline = shared / "hotline"
    taken = _taken(plan)
    taken_openings = {
        hotline_examples.clean(r["text"])[:24]
        for name in ("msgabench_citizen_messages.jsonl", "teddycup2020c_labeled.jsonl")
        for r in _rows(hotline / name)
        if r["id"] in taken
    }
    rng = random.Random(plan.seed)
    out: list[dict] = []

    def usable(row: dict) -> bool:
        text = row.get("text") or ""
        opening = hotline_examples.clean(text)[:24]
        return LENGTH[0] <= len(text) <= LENGTH[1] and row["id"] not in taken and opening not in taken_openings

    type_held = _held_out_texts(load_type_set(hotline))
    msga = [r for r in _rows(hotline / "msgabench_citizen_messages.jsonl")
            if usable(r) and r["text"] in type_held and hotline_examples._msga_split(r["id"]) == "test"]  # fmt: skip
    for kind, count in plan.msga.items():
        pool = sorted((r for r in msga if r.get("request_type") == kind), key=lambda r: r["id"])
        wanted = ["投诉", "求助", "举报"] if kind == "投诉/求助" else ["建议"]
        out += [{"file": "hotline/msgabench_citizen_messages.jsonl", "id": r["id"], "ticket_type": wanted}
                for r in rng.sample(pool, count)]  # fmt: skip
    category_held = _held_out_texts(load_category_set(hotline))
    nlu_openings = _nlu_training_openings(hotline, taken)
    teddy = sorted(
        (r for r in _rows(hotline / "teddycup2020c_labeled.jsonl")
         if usable(r) and r["text"] in category_held and hotline_examples.clean(r["text"])[:24] not in nlu_openings),
        key=lambda r: r["id"],
    )  # fmt: skip
    out += [{"file": "hotline/teddycup2020c_labeled.jsonl", "id": r["id"]} for r in rng.sample(teddy, plan.teddy)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", choices=sorted(PLANS), default="test2", help="which file's draw")
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    plan = PLANS[args.file]
    picked, skipped = guide_matters(args.shared_data, plan)
    print(json.dumps({"guides": len(picked), "skipped": skipped}, ensure_ascii=False))
    for row in picked:
        print(json.dumps({"guide": row["source_item_id"], "name": row["name"]}, ensure_ascii=False))
    for ref in hotline_records(args.shared_data, plan):
        print(json.dumps(ref, ensure_ascii=False))


if __name__ == "__main__":
    main()
