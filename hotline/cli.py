"""``banshi hotline …`` commands, and the body of ``banshi eval hotline``.

Kept out of ``banshi/cli.py`` so the hotline owns its commands; heavy imports (scikit-learn, the
model) happen inside the commands so ``banshi --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

hotline_app = typer.Typer(help="12345 热线：工单类型与类别模型。", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


@hotline_app.command("train")
def train_command(
    data: Annotated[Path | None, typer.Option(help="Folder with the hotline JSONL files")] = None,
    out: Annotated[Path | None, typer.Option(help="Model file to write (default: the shipped one)")] = None,
    refit_all: Annotated[bool, typer.Option(help="Ship a model fitted on all messages, not only the split")] = True,
    limit: Annotated[int | None, typer.Option(min=50, help="Train on a stratified subset of each set")] = None,
    corrections: Annotated[
        bool, typer.Option(help="Also learn from the agents' type and category corrections in the database")
    ] = True,
    prior: Annotated[
        str | None, typer.Option(help="This city's type mix 咨询,投诉/求助,建言, e.g. 0.3,0.65,0.05 (the default)")
    ] = None,
) -> None:
    """Retrain the type and category model from ../shared/data/hotline (and the agents' corrections)."""
    from hotline.classifier import MODEL_FILE, default_classifier
    from hotline.training import DEPLOYMENT_PRIOR, SHARED_HOTLINE, HotlineDataMissing, train

    mix = _prior(prior) if prior else DEPLOYMENT_PRIOR
    examples = _corrections() if corrections else None
    try:
        report = train(data or SHARED_HOTLINE, out or MODEL_FILE, refit_all=refit_all, limit=limit,
                       corrections=examples, deployment_prior=mix, log=errors.print)  # fmt: skip
    except HotlineDataMissing as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    default_classifier.cache_clear()
    console.print(
        f"已写入 {report.model_file}（{report.size_bytes / 1e6:.1f} MB，"
        f"{'用全部留言训练' if refit_all else '只用 80 % 训练集训练'}，{report.seconds:.1f} 秒）"
    )
    console.print(f"类别 macro-F1 {report.category.macro_f1:.4f}，类型准确率 {report.type.accuracy:.4f}（留出 20 %）")
    used = report.metadata["corrections"]
    console.print(f"用到坐席更正：类型 {used['type']} 条，类别 {used['category']} 条")


def _prior(text: str) -> tuple[float, ...]:
    """Three positive shares (咨询, 投诉/求助, 建言), normalised to sum to 1."""
    try:
        shares = tuple(float(part) for part in text.replace("，", ",").split(","))
    except ValueError:
        shares = ()
    if len(shares) != 3 or min(shares) <= 0:
        errors.print("[red]--prior 应为三个正数：咨询,投诉/求助,建言，例如 0.3,0.65,0.05[/red]")
        raise typer.Exit(2)
    return tuple(share / sum(shares) for share in shares)


def _corrections():  # -> hotline.corrections.Examples
    """The agents' corrections from the configured database (brought to the newest schema first)."""
    from banshi.db import migrate, session_scope
    from hotline.corrections import labelled_examples

    migrate()
    with session_scope() as session:
        return labelled_examples(session)


@hotline_app.command("classify")
def classify_command(text: Annotated[str, typer.Argument(help="The citizen's message")]) -> None:
    """Type, category and suggested department for one message."""
    from hotline.classifier import classify, suggest_department

    p = classify(text)
    console.print(
        f"类型 {p.type}（{p.model_type} {p.type_confidence:.2f}），类别 {p.category}（{p.top_category} "
        f"{p.category_confidence:.2f}），建议部门 {suggest_department(p.category)}",
        markup=False,
    )


def eval_hotline(messages: Path, as_json: bool) -> None:
    """Per-message predictions, then type accuracy and category macro-F1 where gold is given."""
    from hotline.evaluation import evaluate_messages, load_messages, type_matches

    try:
        items = load_messages(messages)
    except ValueError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    report = evaluate_messages(items)
    for item, p in zip(items, report.predictions, strict=True):
        marks = []
        if item.get("type"):
            marks.append("✓" if type_matches(item["type"], p.type) else f"✗类型应为{item['type']}")
        if item.get("category"):
            marks.append("✓" if item["category"] == p.category else f"✗类别应为{item['category']}")
        console.print(
            f"{' '.join(marks)} {p.type} {p.type_confidence:.2f} | {p.category} {p.category_confidence:.2f} |  ".join(
                item["text"].split()
            )[:60],
            markup=False,
        )
    table = Table(title=f"{len(items)} 条留言")
    for column in ("指标", "值", "有标注的条数"):
        table.add_column(column)
    for name, value, n in (("类型准确率", report.type_accuracy, report.type_scored),
                           ("类别 macro-F1", report.category_macro_f1, report.category_scored)):  # fmt: skip
        table.add_row(name, "-" if value is None else f"{value:.4f}", str(n))
    console.print(table)
    if as_json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
