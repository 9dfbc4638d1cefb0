"""``banshi eval …``: the quality figures, each over a file of questions or messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

eval_app = typer.Typer(help="Measure retrieval and NLU quality.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


@eval_app.command("retrieval")
def eval_retrieval(
    queries: Annotated[Path, typer.Option("--queries", exists=True, dir_okay=False, help="JSONL: query, gold")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense")] = "hybrid",
) -> None:
    """Recall@1/5/10, MRR@10 and out-of-catalogue rejection over a query file."""
    from banshi.runtime import load_index
    from retriever.evaluation import evaluate, load_queries, percentile

    try:
        items = load_queries(queries)
    except ValueError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    index = load_index()
    report = evaluate(items, lambda q: index.search(q, 10, mode=mode))
    figures = report.figures()
    if not as_json:
        for miss in report.misses:
            console.print(f"  未命中第1位：{miss['query']} → 排名 {miss['rank']}，首位 {miss['top']}")
    console.print(
        f"{report.answerable} 个有答案的问题，{report.out_of_scope} 个库外问题；"
        f"p50 {percentile(report.latencies_ms, 50):.1f} ms，p95 {percentile(report.latencies_ms, 95):.1f} ms"
    )
    for key, value in figures.items():
        console.print(f"{key:>12}: {'-' if value is None else f'{value:.4f}'}")
    if as_json:
        print(json.dumps(figures))


@eval_app.command("nlu")
def eval_nlu(
    messages: Annotated[Path, typer.Option("--messages", exists=True, dir_okay=False, help="JSONL: text, intent")],
    model: Annotated[Path, typer.Option("--model", help="A trained Rasa model")] = Path("models/banshi.tar.gz"),
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Intent, confidence and entities per message; accuracy and per-intent F1 when gold intents are given."""
    from nlu.evaluation import ParseError, accuracy, intent_report, load_messages, macro_f1, parse_messages

    if not model.is_file():
        errors.print(f"[red]没有找到模型 {model}：请先训练 Rasa 模型[/red]")
        raise typer.Exit(2)
    try:
        items = load_messages(messages)
        predictions = parse_messages([item["text"] for item in items], model)
    except (ValueError, ParseError) as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    for item, pred in zip(items, predictions, strict=True):
        gold = item.get("intent")
        mark = "" if gold is None else ("✓ " if gold == pred["intent"] else f"✗ (应为 {gold}) ")
        entities = "，".join(f"{e['entity']}={e['value']}" for e in pred["entities"])
        console.print(f"{mark}{pred['intent']} {pred['confidence']:.2f} {item['text']}  {entities}", markup=False)
    pairs = zip(items, predictions, strict=True)
    labelled = [(item["intent"], pred["intent"]) for item, pred in pairs if item.get("intent")]
    gold_intents, predicted = [g for g, _ in labelled], [p for _, p in labelled]
    acc = accuracy(gold_intents, predicted)
    if labelled:
        scores = intent_report(gold_intents, predicted)
        table = Table(title=f"意图准确率 {acc:.4f}（{len(labelled)} 条），macro-F1 {macro_f1(scores):.4f}")
        for column in ("意图", "精确率", "召回率", "F1", "条数"):
            table.add_column(column)
        for s in scores:
            table.add_row(s.intent, f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}", str(s.support))
        console.print(table)
    if as_json:
        print(json.dumps({"predictions": predictions, "accuracy": acc}, ensure_ascii=False))


@eval_app.command("hotline")
def eval_hotline_command(
    messages: Annotated[Path, typer.Option("--messages", exists=True, dir_okay=False, help="JSONL: text, gold?")],
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Hotline ticket type and category per message; type accuracy and category macro-F1 where gold is given."""
    from hotline.cli import eval_hotline

    eval_hotline(messages, as_json)


@eval_app.command("dialogue")
def eval_dialogue_command(
    cases: Annotated[Path, typer.Option("--cases", exists=True, dir_okay=False, help="JSONL cases")] = Path(
        "bench/data/dialogue_dev.jsonl"
    ),
    url: Annotated[str, typer.Option(help="The running stack's gateway")] = "http://127.0.0.1:8000",
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Conversations at a time")] = 4,
    shared_data: Annotated[Path, typer.Option(help="Where referenced real messages are read")] = Path("../shared/data"),
    report: Annotated[
        Path | None, typer.Option(help="HTML report (default bench/out/dialogue_eval-CASES.html)")
    ] = None,
    skip_missing: Annotated[bool, typer.Option(help="Run the cases whose matters the stack has")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """The whole conversation path through a running stack's chat API: guides, declines, complaints to tickets."""
    from dialogue.evaluation.runner import run

    code = run(
        base_url=url,
        cases_path=cases,
        shared_data=shared_data,
        concurrency=concurrency,
        report_path=report or Path("bench/out") / f"dialogue_eval-{cases.stem}.html",
        as_json=as_json,
        skip_missing=skip_missing,
        out=console,
        errors=errors,
    )
    if code:
        raise typer.Exit(code)
