"""``banshi eval dialogue``: load the cases, check the stack holds the expected matters, play every case
through the chat API, judge, print the figures and write the HTML report.

Exit codes: 0 the run completed (whatever the figures), 2 the run could not be made meaningful (bad
cases file, stack unreachable, expected matters missing, no outcomes reported by the stack).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from dialogue.evaluation.cases import Case, load_cases
from dialogue.evaluation.citizen import Transcript, converse_all, run_sync
from dialogue.evaluation.report import RATES, write_report
from dialogue.evaluation.scoring import Verdict, figures, judge

IMPORT_HINT = "banshi import ../shared/data/guides/gxzwfw-fangchenggang-raw"


@dataclass
class Catalogue:
    """The expected matters as the stack's catalogue API serves them."""

    materials: dict[str, list[str]]
    names: dict[str, str]
    missing: list[str]


async def read_catalogue(base_url: str, ids: list[str], concurrency: int) -> Catalogue:
    gate = asyncio.Semaphore(max(1, concurrency))
    found = Catalogue({}, {}, [])
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def one(external_id: str) -> None:
            async with gate:
                response = await client.get(f"/api/v1/guides/{external_id}")
            if response.status_code == 404:
                found.missing.append(external_id)
                return
            response.raise_for_status()
            matter = response.json()
            found.names[external_id] = matter.get("name") or ""
            found.materials[external_id] = [str(m.get("name")) for m in matter.get("materials") or []]

        await asyncio.gather(*(one(i) for i in ids))
    found.missing.sort()
    return found


def print_figures(console: Console, figures_: dict, title: str) -> None:
    table = Table(title=title)
    for column in ("指标", "值", "条数"):
        table.add_column(column)
    counts = {
        "guide_first_turn": "guide_cases",
        "guide_within_two_turns": "guide_cases",
        "wrong_guide": "cases",
        "declined": "decline_cases",
        "intake_reached": "intake_cases",
        "ticket_filed": "intake_cases",
        "materials_exact": "checklists_checked",
    }
    for key, label in RATES:
        value = figures_.get(key)
        shown = "-" if value is None else f"{value:.3f}"
        if key == "wrong_guide":
            shown += f"（{figures_['wrong_guide_count']} 条）"
        table.add_row(label, shown, str(figures_[counts[key]]))
    if figures_.get("ticket_type_accuracy") is not None:
        table.add_row("工单类型正确", f"{figures_['ticket_type_accuracy']:.3f}", "")
    table.add_row("清单缺少/多出材料", f"{figures_['materials_missing']} / {figures_['materials_invented']}", "")
    table.add_row(
        "每轮延迟 p50 / p95", f"{figures_['latency_p50_ms']} / {figures_['latency_p95_ms']} ms", str(figures_["turns"])
    )
    if figures_["errors"]:
        table.add_row("请求出错的用例", str(figures_["errors"]), "")
    console.print(table)


def run(
    *,
    base_url: str,
    cases_path: Path,
    shared_data: Path,
    concurrency: int,
    report_path: Path,
    as_json: bool,
    skip_missing: bool,
    out: Console,
    errors: Console,
) -> int:
    base_url = base_url.rstrip("/")
    try:
        loaded = load_cases(cases_path, shared_data)
    except ValueError as exc:
        errors.print(f"[red]{exc}[/red]")
        return 2
    for reason in loaded.skipped:
        errors.print(f"[yellow]{reason}[/yellow]")
    cases: list[Case] = loaded.cases
    if not cases:
        errors.print("[red]没有可运行的用例[/red]")
        return 2
    expected = sorted({g for case in cases for g in case.gold})
    try:
        catalogue = run_sync(read_catalogue(base_url, expected, concurrency))
    except httpx.HTTPError as exc:
        errors.print(f"[red]无法连接 {base_url}：{exc!r}。请先启动服务（banshi up）[/red]")
        return 2
    if catalogue.missing:
        errors.print(
            f"[red]{len(catalogue.missing)}/{len(expected)} 个预期事项不在该服务的事项库中"
            f"（如 {catalogue.missing[0]}）。请先导入真实事项库：{IMPORT_HINT}[/red]"
        )
        if not skip_missing:
            return 2
        gone = set(catalogue.missing)
        cases = [c for c in cases if not c.gold or not set(c.gold) <= gone]
        errors.print(f"[yellow]--skip-missing：跳过预期事项全部缺失的用例，剩 {len(cases)} 条[/yellow]")
    total = len(cases)
    done = 0

    def progress(_transcript: Transcript) -> None:
        nonlocal done
        done += 1
        if done % 25 == 0 or done == total:
            errors.print(f"已完成 {done}/{total}")

    transcripts = run_sync(converse_all(base_url, cases, concurrency, on_done=progress))
    turns = [t for tr in transcripts for t in tr.turns if not t.error]
    if turns and not any(t.reported_outcomes for t in turns):
        errors.print(
            "[red]该服务的聊天接口没有返回 outcomes（对话结果契约未实现），无法评测："
            "请使用实现了 turn_outcomes 的版本[/red]"
        )
        return 2
    verdicts: list[Verdict] = [judge(tr, catalogue.materials) for tr in transcripts]
    result = figures(verdicts, transcripts)
    if not as_json:
        for verdict in verdicts:
            if not verdict.ok:
                out.print(f"  ✗ {verdict.case_id} {verdict.failure}", markup=False)
    print_figures(out, result, f"对话评测 {cases_path.name}（{total} 条，{base_url}）")
    written = write_report(
        report_path,
        cases_file=cases_path,
        base_url=base_url,
        figures=result,
        verdicts=verdicts,
        transcripts=transcripts,
        names=catalogue.names,
    )
    out.print(f"报告：{written}")
    if as_json:
        print(json.dumps({**result, "report": str(written)}, ensure_ascii=False))
    return 0
