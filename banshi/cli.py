"""``banshi``: the one entry point for every job on the catalogue and the index."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from banshi.config import get_settings
from banshi.db import get_engine, migrate, session_scope
from banshi.eval_cli import eval_app
from channels.users_cli import user_app
from hotline.cli import hotline_app

app = typer.Typer(help="办事 banshi: 政务服务事项库与智能问答", no_args_is_help=True, add_completion=False)
app.add_typer(eval_app, name="eval")
nlu_app = typer.Typer(help="NLU resources generated from the catalogue.", no_args_is_help=True)
app.add_typer(nlu_app, name="nlu")
app.add_typer(hotline_app, name="hotline")
app.add_typer(user_app, name="user")
console = Console()
errors = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=not sys.stderr.isatty(),
        disable=not sys.stderr.isatty(),
    )


@app.command("migrate")
def migrate_command() -> None:
    """Create or upgrade the database schema."""
    migrate()
    console.print(f"数据库已是最新：{get_settings().resolved_database_url}")


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="File or folder: JSON/JSONL/CSV/XLSX or a platform export")],
    draft: Annotated[bool, typer.Option(help="Keep imported changes as drafts instead of publishing")] = False,
    author: Annotated[str, typer.Option(help="Recorded in each matter's history")] = "import",
    mapping: Annotated[
        str | None,
        typer.Option(help="Another platform's export: a mapping file (YAML) or a shipped mapping's name"),
    ] = None,
) -> None:
    """Import matters; re-importing the same source updates them in place."""
    from knowledge.importers import import_path
    from knowledge.importers.mapping_spec import MappingError, load_mapping
    from knowledge.importers.runner import UnsupportedSource

    try:
        rules = load_mapping(mapping) if mapping else None
    except MappingError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    migrate()
    try:
        with _progress() as progress, session_scope() as session:
            task = progress.add_task(f"导入 {path.name}", total=None)
            report = import_path(
                session,
                path,
                author=author,
                publish=not draft,
                on_row=lambda _row: progress.advance(task),
                mapping=rules,
            )
    except UnsupportedSource as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    for error in report.errors:
        errors.print(f"[yellow]错误[/yellow] {error}")
    console.print(
        f"新增 {len(report.created)}，更新 {len(report.updated)}，未变 {len(report.unchanged)}，"
        f"出错 {len(report.errors)}" + ("（草稿，未发布）" if draft else "")
    )
    if not report.ok and report.errors:
        raise typer.Exit(1)


@app.command("index")
def index_command() -> None:
    """(Re)build the search index from the published catalogue."""
    from banshi.runtime import index_options
    from retriever import HybridIndex, make_embedder, rebuild

    settings = get_settings()
    migrate()
    index = HybridIndex(make_embedder(settings.embedder), **index_options(settings))
    with _progress() as progress, session_scope(get_engine()) as session:
        from knowledge.store import count_by_status

        task = progress.add_task("建立索引", total=count_by_status(session).get("published", 0))
        rebuild(session, index, progress=lambda n: progress.advance(task, n))
    index.save(settings.index_dir)
    console.print(f"索引已建立：{len(index)} 个已发布事项，向量模型 {index.embedder.name}，位于 {settings.index_dir}")


@app.command("search")
def search_command(
    query: Annotated[str, typer.Argument(help="The citizen's question")],
    k: Annotated[int, typer.Option("--k", min=1, max=100)] = 5,
    region: Annotated[str | None, typer.Option(help="Only matters for this place, e.g. 港口区")] = None,
    department: Annotated[str | None, typer.Option(help="Only this department (substring)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list")] = False,
) -> None:
    """Ranked matters for a question."""
    from banshi.runtime import load_index

    result = load_index().search(query, k, region=region, department=department)
    if as_json:
        print(
            json.dumps(
                [
                    {"external_id": h.external_id, "name": h.name, "department": h.department, "score": h.score}
                    for h in result.hits
                ],
                ensure_ascii=False,
            )
        )
        return
    table = Table(title=f"{query}（置信度 {result.confidence:.2f}{'' if result.confident else '，低于阈值'}）")
    for column in ("#", "事项", "部门", "外部编号", "融合分", "BM25", "向量"):
        table.add_column(column)
    for rank, hit in enumerate(result.hits, start=1):
        table.add_row(
            str(rank),
            hit.name,
            hit.department,
            hit.external_id,
            f"{hit.score:.4f}",
            "-" if hit.bm25 is None else f"{hit.bm25:.2f}",
            "-" if hit.dense is None else f"{hit.dense:.3f}",
        )
    console.print(table)
    if not result.hits:
        console.print("没有找到相关事项。")


@nlu_app.command("export")
def nlu_export(
    out: Annotated[Path, typer.Option(help="Folder for gazetteer.json, jieba/ and catalogue_examples.yml")] = Path(
        "nlu/generated"
    ),
) -> None:
    """Write the gazetteer, jieba dictionary and templated examples; unchanged files are left alone."""
    from nlu.gazetteer import export_published

    report = export_published(out)
    for path in report.written:
        console.print(f"已写入 {path}")
    console.print(
        f"{report.matters} 个已发布事项，{report.examples} 条模板例句；写入 {len(report.written)} 个文件，"
        f"未变 {len(report.unchanged)} 个"
    )


@nlu_app.command("hotline")
def nlu_hotline(
    out: Annotated[Path, typer.Option(help="The generated Rasa training file")] = Path(
        "nlu/generated/hotline_examples.yml"
    ),
    data: Annotated[
        Path | None, typer.Option(help="Folder of the real messages (default ../shared/data/hotline)")
    ] = None,
) -> None:
    """Write real citizens' messages as training examples for the hotline intents (empty without the data)."""
    from nlu.hotline_examples import SHARED_HOTLINE, export

    report = export(out, data or SHARED_HOTLINE)
    if not report.available:
        errors.print(f"没有找到真实留言数据 {data or SHARED_HOTLINE}：写入空的训练文件")
    counts = "，".join(f"{intent} {n}" for intent, n in report.examples.items()) or "无"
    console.print(f"{'已写入' if report.written else '未变'} {out}：{counts}")


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Serve the search API (the chat gateway replaces this once the dialogue lands)."""
    import uvicorn

    from channels.app import create_app

    uvicorn.run(create_app(), host=host, port=port)


@app.command("up")
def up_command(
    host: Annotated[str, typer.Option(help="Where the gateway listens")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The gateway's port")] = 8000,
    rasa_port: Annotated[int, typer.Option()] = 5005,
    actions_port: Annotated[int, typer.Option()] = 5055,
    model: Annotated[Path, typer.Option(help="Trained Rasa model (make train)")] = Path("models/banshi.tar.gz"),
    endpoints: Annotated[str, typer.Option(help="endpoints.scale.yml: trackers in PostgreSQL, locks in Redis")] = (
        "endpoints.yml"
    ),
) -> None:
    """Start the action server, the Rasa server and the gateway; Ctrl-C stops them all."""
    import signal
    import time

    def _stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Ctrl-C, and a supervisor's TERM, stop every process; a shell that started us in the background
    # would otherwise have left SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    from banshi.stack import Ports, StackError, running, services, stack_env

    if not model.is_file():
        errors.print(f"[red]没有找到对话模型 {model}：请先运行 make train[/red]")
        raise typer.Exit(2)
    settings = get_settings()
    migrate()
    ports = Ports(gateway=port, rasa=rasa_port, actions=actions_port)
    log_dir = settings.data_dir / "logs"
    console.print(f"启动中（日志在 {log_dir}）…")
    wanted = services(model.resolve(), ports, host=host, endpoints=endpoints)
    try:
        with running(wanted, stack_env(settings.data_dir, ports), log_dir) as procs:
            console.print(f"Rasa 服务器     http://127.0.0.1:{rasa_port}  (REST: /webhooks/rest/webhook)")
            console.print(f"动作服务器      http://127.0.0.1:{actions_port}")
            console.print(f"市民对话页      http://{host}:{port}/")
            console.print(f"坐席工作台      http://{host}:{port}/console")
            console.print(f"编辑工作台      http://{host}:{port}/studio")
            console.print(f"接口文档        http://{host}:{port}/docs")
            console.print("按 Ctrl-C 停止全部服务。")
            while all(p.poll() is None for p in procs.values()):
                time.sleep(1)
            gone = [name for name, p in procs.items() if p.poll() is not None]
            errors.print(f"[red]{', '.join(gone)} 已退出，正在停止其余服务；日志在 {log_dir}[/red]")
            raise typer.Exit(1)
    except StackError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        console.print("已停止。")


@app.command("cluster")
def cluster_command(
    replicas: Annotated[int, typer.Option(min=1, max=16, help="Gateways, Rasa servers and action servers each")] = 2,
    host: Annotated[str, typer.Option(help="Where HAProxy's gateway front listens")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HAProxy's gateway port")] = 8000,
    rasa_port: Annotated[int, typer.Option(help="HAProxy's port in front of the Rasa servers")] = 5005,
    actions_port: Annotated[int, typer.Option(help="HAProxy's port in front of the action servers")] = 5055,
    stats_port: Annotated[int, typer.Option(help="HAProxy's status page, on loopback")] = 8404,
    model: Annotated[Path, typer.Option(help="Trained Rasa model (make train)")] = Path("models/banshi.tar.gz"),
    redis_url: Annotated[str | None, typer.Option(help="Default: BANSHI_REDIS_URL or a local Redis")] = None,
) -> None:
    """N replicas of each process behind HAProxy, on PostgreSQL (DATABASE_URL) and Redis.

    A replica that dies is started again; HAProxy sends its traffic to the others meanwhile.
    """
    import signal
    import time

    from banshi.cluster import Cluster, Layout
    from banshi.stack import Ports, StackError

    def _stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    settings = get_settings()
    if not settings.resolved_database_url.startswith("postgresql"):
        errors.print("[red]多副本部署需要 PostgreSQL：请设置 DATABASE_URL=postgresql+psycopg://…[/red]")
        raise typer.Exit(2)
    if not model.is_file():
        errors.print(f"[red]没有找到对话模型 {model}：请先运行 make train[/red]")
        raise typer.Exit(2)
    layout = Layout.numbered(replicas, Ports(port, rasa_port, actions_port), stats=stats_port, host=host)
    cluster = Cluster(
        layout,
        model.resolve(),
        settings.data_dir,
        settings.resolved_database_url,
        redis_url or settings.redis_url or "redis://127.0.0.1:6379/0",
        settings.data_dir / "logs",
    )
    console.print(f"启动 {replicas} 组副本（日志在 {cluster.log_dir}）…")
    try:
        with cluster:
            console.print(f"市民对话页      http://{host}:{port}/   （HAProxy，{replicas} 个网关）")
            console.print(f"HAProxy 状态    http://127.0.0.1:{stats_port}/")
            console.print("按 Ctrl-C 停止全部服务。")
            while True:
                for name in cluster.dead():
                    errors.print(f"[yellow]{name} 已退出，正在重启[/yellow]")
                    try:
                        cluster.restart(name)
                    except StackError as exc:
                        errors.print(f"[red]{exc}[/red]")
                time.sleep(1)
    except StackError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        console.print("已停止。")


if __name__ == "__main__":
    app()
