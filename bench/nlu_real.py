"""NLU on real citizens' messages the model never trained on: today's model (no real text) beside ours.

Figures per split (dev: for tuning; test: looked at once) and per source (nlu/hotline_examples.py
decides which messages are held out, so none of them is in nlu/generated/hotline_examples.yml):
- intake routing: the share of real complaints, reports, suggestions and requests for help whose intent
  starts the hotline intake (complain / report / suggest / seek_help); goal ≥ 0.95;
- check_ticket: the share of those taken as a ticket-status query (should be ~0);
- consultations (information only): the share routed to a guide or the intake (both can answer);
- route accuracy on a mixed set: the held-out intake messages plus the project's own guide questions
  (tests/data/retrieval_queries_fcg.jsonl with a gold guide, and the guide intents of
  tests/data/nlu_messages.jsonl), which must still reach a guide-finding intent; goal ≥ 0.95.

The baseline is an NLU-only model trained on ``--baseline-ref``'s nlu/data (default main) and the
catalogue examples, without real text; it is kept in bench/out/ and retrained when its data changes.

Usage: .venv/bin/python bench/nlu_real.py [--model models/banshi.tar.gz] [--baseline-ref main]
       [--baseline MODEL] [--per-source 150] [--split dev|test|both] [--json]
Needs ../shared/data/hotline and a trained model (make train).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.evaluation import parse_messages  # noqa: E402
from nlu.hotline_examples import INTAKE_INTENTS, RealMessage, load_messages  # noqa: E402

OUT = ROOT / "bench" / "out"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
GUIDE_INTENTS = {"ask_guide", "ask_materials", "ask_location", "ask_time_limit", "ask_fee", "ask_online",
                 "ask_visits", "ask_conditions", "choose_matter"}  # fmt: skip
SEED = 7


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _half(text: str) -> str:
    return "dev" if int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % 2 == 0 else "test"


def guide_questions(split: str) -> list[str]:
    """The project's own guide questions, halved by a hash of the text into dev and test."""
    questions = []
    for line in (ROOT / "tests" / "data" / "retrieval_queries_fcg.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line) if line.strip() else {}
        if item.get("gold"):
            questions.append(item["query"])
    for line in (ROOT / "tests" / "data" / "nlu_messages.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line) if line.strip() else {}
        if item.get("intent") in GUIDE_INTENTS:
            questions.append(item["text"])
    return [q for q in dict.fromkeys(questions) if _half(q) == split]


def baseline_model(ref: str) -> Path:
    """An NLU-only model on ``ref``'s hand-written data and the catalogue examples: no real text."""
    data = OUT / "nlu-baseline-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    names = subprocess.run(["git", "ls-tree", "--name-only", f"{ref}:nlu/data"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split()  # fmt: skip
    for name in names:
        text = subprocess.run(["git", "show", f"{ref}:nlu/data/{name}"], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout  # fmt: skip
        (data / name).write_text(text, encoding="utf-8")
    shutil.copyfile(ROOT / "nlu" / "generated" / "catalogue_examples.yml", data / "catalogue_examples.yml")
    digest = hashlib.sha1()
    for path in sorted(data.iterdir()):
        digest.update(path.read_bytes())
    digest.update((ROOT / "config.yml").read_bytes())
    model = OUT / f"nlu-baseline-{digest.hexdigest()[:10]}.tar.gz"
    if model.is_file():
        return model
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3",
           "RASA_CACHE_DIRECTORY": str(OUT / "rasa-cache")}  # fmt: skip
    log(f"training the baseline NLU model on {ref}'s nlu/data (no real text) …")
    started = time.perf_counter()
    done = subprocess.run([str(RASA), "train", "nlu", "--config", "config.yml", "--nlu", str(data), "--out", str(OUT),
                           "--fixed-model-name", model.name.removesuffix(".tar.gz")],
                          cwd=ROOT, env=env, capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0 or not model.is_file():
        raise SystemExit(f"baseline training failed:\n{done.stderr[-3000:]}")
    log(f"baseline trained in {time.perf_counter() - started:.0f} s")
    return model


def parse_cached(texts: list[str], model: Path) -> dict[str, str]:
    """Intents by text; a model file's parses are kept in bench/out so a rerun parses only new texts."""
    stat = model.resolve().stat()
    key = hashlib.sha1(f"{model.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    cache = OUT / f"nlu_real_parses_{key}.json"
    known = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else {}
    missing = [t for t in texts if t not in known]
    if missing:
        log(f"parsing {len(missing)} messages with {model} …")
        known.update({p["text"]: p["intent"] for p in parse_messages(missing, model, timeout=3600)})
        cache.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
    return {t: known[t] for t in texts}


def sample(messages: list[RealMessage], split: str, per_source: int) -> dict[str, list[RealMessage]]:
    """Per source, up to ``per_source`` intake messages and as many consultations, seeded."""
    rng = random.Random(SEED)
    by_source: dict[str, list[RealMessage]] = {}
    for source in sorted({m.source for m in messages if m.split == split}):
        held = [m for m in messages if m.split == split and m.source == source]
        intake = [m for m in held if m.intent in INTAKE_INTENTS]
        consult = [m for m in held if m.intent == "consult"]
        by_source[source] = rng.sample(intake, min(per_source, len(intake))) + rng.sample(
            consult, min(per_source // 3, len(consult))
        )
    return by_source


def score(by_source: dict[str, list[RealMessage]], guides: list[str], predicted: dict[str, str]) -> dict:
    figures: dict = {"by_source": {}}
    all_intake, all_consult = [], []
    for source, items in by_source.items():
        intake = [predicted[m.text] for m in items if m.intent in INTAKE_INTENTS]
        consult = [predicted[m.text] for m in items if m.intent == "consult"]
        all_intake += intake
        all_consult += consult
        misses = Counter(p for p in intake if p not in INTAKE_INTENTS).most_common(3)
        figures["by_source"][source] = {
            "intake_n": len(intake),
            "intake_routing": _share(intake, INTAKE_INTENTS),
            "check_ticket": _share(intake, {"check_ticket"}),
            "misses": dict(misses),
            "consult_n": len(consult),
            "consult_guide_or_intake": _share(consult, GUIDE_INTENTS | set(INTAKE_INTENTS)),
        }
    guide_predictions = [predicted[q] for q in guides]
    right = sum(p in INTAKE_INTENTS for p in all_intake) + sum(p in GUIDE_INTENTS for p in guide_predictions)
    figures.update(
        intake_n=len(all_intake),
        intake_routing=_share(all_intake, INTAKE_INTENTS),
        check_ticket=_share(all_intake, {"check_ticket"}),
        consult_guide_or_intake=_share(all_consult, GUIDE_INTENTS | set(INTAKE_INTENTS)),
        guide_n=len(guide_predictions),
        guide_routing=_share(guide_predictions, GUIDE_INTENTS),
        guide_misses=dict(Counter(p for p in guide_predictions if p not in GUIDE_INTENTS).most_common(3)),
        mixed_n=len(all_intake) + len(guide_predictions),
        mixed_route_accuracy=right / (len(all_intake) + len(guide_predictions)) if all_intake or guides else None,
    )
    return figures


def _share(predictions: list[str], allowed: set[str] | tuple[str, ...]) -> float | None:
    return sum(p in allowed for p in predictions) / len(predictions) if predictions else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _row(label: str, n: int, base: dict, ours: dict, keys: tuple[str, ...], tail: str = "") -> str:
    cells = "  ".join(f"{_fmt(base[key]):>7} {_fmt(ours[key]):>7}" for key in keys)
    return f"{label:<16}{n:>5}  {cells}  {tail}"


def show(split: str, results: dict[str, dict]) -> None:
    base, ours = results["baseline"], results["real_text"]
    keys = ("intake_routing", "check_ticket", "consult_guide_or_intake")
    print(f"\n=== {split.upper()} split ({'tuning' if split == 'dev' else 'held out, looked at once'}) ===")
    print("each figure: baseline (no real text) | ours")
    print(f"{'source':<16}{'n':>5}  {'intake':>15}  {'check_ticket':>15}  {'consult→guide/int':>15}  misses (ours)")
    for source, mine in ours["by_source"].items():
        print(_row(source, mine["intake_n"], base["by_source"][source], mine, keys, str(mine["misses"])))
    print(_row("ALL intake", ours["intake_n"], base, ours, keys, "(intake goal ≥ 0.95)"))
    misses = f"misses: base {base['guide_misses']} ours {ours['guide_misses']}"
    print(_row("guide questions", ours["guide_n"], base, ours, ("guide_routing",), misses))
    print(_row("MIXED route acc", ours["mixed_n"], base, ours, ("mixed_route_accuracy",), "(goal ≥ 0.95)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "banshi.tar.gz")
    parser.add_argument("--baseline-ref", default="main", help="git ref whose nlu/data the baseline learns")
    parser.add_argument("--baseline", type=Path, help="An already trained baseline model (skips its training)")
    parser.add_argument("--per-source", type=int, default=150)
    parser.add_argument("--split", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--json", action="store_true", help="Last line: one JSON object")
    args = parser.parse_args()

    if not args.model.is_file():
        raise SystemExit(f"{args.model} is absent: run make train first")
    messages = load_messages(max_chars=300)  # scored on messages as long as citizens write them
    if not messages:
        raise SystemExit("../shared/data/hotline is absent: nothing to measure")
    OUT.mkdir(parents=True, exist_ok=True)
    baseline = args.baseline or baseline_model(args.baseline_ref)
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    plan = {split: (sample(messages, split, args.per_source), guide_questions(split)) for split in splits}
    texts = list(dict.fromkeys(
        [m.text for by_source, _ in plan.values() for items in by_source.values() for m in items]
        + [q for _, guides in plan.values() for q in guides]
    ))  # fmt: skip
    predictions = {
        name: parse_cached(texts, model) for name, model in (("baseline", baseline), ("real_text", args.model))
    }
    figures = {
        split: {name: score(by_source, guides, predicted) for name, predicted in predictions.items()}
        for split, (by_source, guides) in plan.items()
    }
    (OUT / "nlu_real.json").write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    for split, results in figures.items():
        show(split, results)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
