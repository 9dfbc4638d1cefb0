"""Which matters and which real messages bench/data/dialogue_test2.jsonl is about (seed 2612), reproducibly.

The questions themselves are written by hand, blind (never run through the retriever or the bot); this
script only says which matters to write them for and which hotline records to name by reference, so that
anyone can check the picks were not chosen after seeing results. It prints JSON lines and writes nothing.

Guide matters: the real 防城港 catalogue's matters named by no dialogue_dev/test case and by no
retrieval_colloquial_* query, shuffled with the seed, kept when a citizen in their own name would ask
(``CITIZEN``: a hand judgement on the matter's name only); when those run out, matters named only by
retrieval_colloquial_test, then only by retrieval_colloquial_dev (a file tuned on), in the same order.

Hotline messages (30–1000 characters, none named by dev/test, none opening like one they name):
- MSGABench 投诉/求助 and 建言: only records in the ticket-type head's held-out 20 % split
  (``hotline.training.stratified_split``) and in the NLU's test share (``_msga_split``), so neither
  the held-out measurement nor ``banshi nlu hotline`` ever trained on them;
- 泰迪杯 labelled: only records in the category head's held-out split whose opening is not among the NLU's
  sampled training examples (computed as ``make train`` did before this file existed).
Note: the shipped classifier (``hotline/model``, ``refit_all``) is refitted on all messages; only a model
trained with ``banshi hotline train --no-refit-all`` has never seen these.

Usage: .venv/bin/python bench/sample_dialogue_cases.py [--shared-data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # before bench/, whose hotline.py would shadow the package

from hotline.training import LabelledSet, load_category_set, load_type_set, stratified_split  # noqa: E402
from nlu import hotline_examples  # noqa: E402

SEED = 2612
DATA = ROOT / "bench" / "data"
GUIDES, MSGA, TEDDY = 110, {"投诉/求助": 31, "建言": 6}, 18
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


def guide_matters(shared: Path) -> tuple[list[dict], int]:
    """The picked matters in order, and how many pool matters were skipped as not a citizen's."""
    dialogue = _named("dialogue_dev.jsonl") | _named("dialogue_test.jsonl")
    colloquial_dev, colloquial_test = (
        _named("retrieval_colloquial_dev.jsonl"),
        _named("retrieval_colloquial_test.jsonl"),
    )
    rows = sorted(_rows(shared / "guides" / "gxzwfw_fangchenggang.jsonl"), key=lambda r: r["source_item_id"])
    random.Random(SEED).shuffle(rows)
    tiers = [
        [r for r in rows if r["source_item_id"] not in dialogue | colloquial_dev | colloquial_test],
        [r for r in rows if r["source_item_id"] in colloquial_test - dialogue - colloquial_dev],
        [r for r in rows if r["source_item_id"] in colloquial_dev - dialogue],
    ]
    picked = [r for tier in tiers for r in tier if r["source_item_id"][:8] in CITIZEN][:GUIDES]
    skipped = sum(r["source_item_id"][:8] not in CITIZEN for r in tiers[0])
    return picked, skipped


def _taken() -> set[str]:
    """Record ids the dev and test files name."""
    return {c["ref"]["id"] for name in ("dialogue_dev.jsonl", "dialogue_test.jsonl")
            for c in _rows(DATA / name) if "ref" in c}  # fmt: skip


def _held_out_texts(data: LabelledSet) -> set[str]:
    """Texts in the stratified held-out split the classifier's figures are measured on."""
    return {data.texts[i] for i in stratified_split(data.labels)[1]}


def _nlu_training_openings(hotline: Path, dev_test_refs: set[str]) -> set[str]:
    """The NLU's sampled training examples as they were before this file existed (its refs not yet held)."""
    real = hotline_examples.eval_case_refs
    hotline_examples.eval_case_refs = lambda folder=None: dev_test_refs
    try:
        sample = hotline_examples.sample_training(hotline_examples.load_messages(hotline))
    finally:
        hotline_examples.eval_case_refs = real
    return {text[:24] for texts in sample.values() for text in texts}


def hotline_records(shared: Path) -> list[dict]:
    hotline = shared / "hotline"
    taken = _taken()
    taken_openings = {
        hotline_examples.clean(r["text"])[:24]
        for name in ("msgabench_citizen_messages.jsonl", "teddycup2020c_labeled.jsonl")
        for r in _rows(hotline / name)
        if r["id"] in taken
    }
    rng = random.Random(SEED)
    out: list[dict] = []

    def usable(row: dict) -> bool:
        text = row.get("text") or ""
        opening = hotline_examples.clean(text)[:24]
        return LENGTH[0] <= len(text) <= LENGTH[1] and row["id"] not in taken and opening not in taken_openings

    type_held = _held_out_texts(load_type_set(hotline))
    msga = [r for r in _rows(hotline / "msgabench_citizen_messages.jsonl")
            if usable(r) and r["text"] in type_held and hotline_examples._msga_split(r["id"]) == "test"]  # fmt: skip
    for kind, count in MSGA.items():
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
    out += [{"file": "hotline/teddycup2020c_labeled.jsonl", "id": r["id"]} for r in rng.sample(teddy, TEDDY)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared-data", type=Path, default=ROOT.parent / "shared" / "data")
    shared = parser.parse_args().shared_data
    picked, skipped = guide_matters(shared)
    print(json.dumps({"guides": len(picked), "skipped_not_citizen": skipped}, ensure_ascii=False))
    for row in picked:
        print(json.dumps({"guide": row["source_item_id"], "name": row["name"]}, ensure_ascii=False))
    for ref in hotline_records(shared):
        print(json.dumps(ref, ensure_ascii=False))


if __name__ == "__main__":
    main()
