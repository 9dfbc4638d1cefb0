"""最多跑一次 over the real catalogue: how many papers a citizen is told to bring, before and after.

Before: every material of a matter is asked about and counted, as the walk-through did until the
platform's 免提交 / 数据共享 flags were kept. After: only what the citizen must carry
(``MaterialIn.must_bring``); exempt and shared materials are listed apart. Also the share of matters
the assistant can call 全程网办 (``MatterIn.fully_online``), which it never said before.

Usage: .venv/bin/python bench/papers.py [--json]     (needs ../shared/data)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from knowledge.importers import read_source  # noqa: E402
from knowledge.schema import MatterIn  # noqa: E402

CATALOGUE = ROOT.parent / "shared" / "data" / "guides" / "gxzwfw-fangchenggang-raw"


def figures(matters: list[MatterIn]) -> dict[str, float]:
    with_materials = [m for m in matters if m.materials]
    before = [len(m.materials) for m in with_materials]
    after = [sum(x.must_bring for x in m.materials) for m in with_materials]
    e_licence = [sum(x.must_bring and x.e_licence for x in m.materials) for m in with_materials]
    return {
        "matters": len(matters),
        "matters_with_materials": len(with_materials),
        "papers_before": statistics.mean(before),
        "papers_after": statistics.mean(after),
        "papers_saved_per_matter": statistics.mean(b - a for b, a in zip(before, after, strict=True)),
        "matters_with_a_paper_saved": sum(b > a for b, a in zip(before, after, strict=True)) / len(with_materials),
        "of_which_electronic_licence_ok": statistics.mean(e_licence),
        "fully_online_before": 0.0,
        "fully_online_after": sum(m.fully_online for m in matters) / len(matters),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not CATALOGUE.is_dir():
        print("../shared/data is absent: nothing to measure", file=sys.stderr)
        return
    matters = [row.matter for row in read_source(CATALOGUE) if row.matter is not None]
    result = figures(matters)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    table = Table(title=f"最多跑一次 over {result['matters']} real matters (防城港)")
    table.add_column("figure")
    table.add_column("before", justify="right")
    table.add_column("after", justify="right")
    table.add_row(
        "papers the citizen is told to bring (mean)", f"{result['papers_before']:.2f}", f"{result['papers_after']:.2f}"
    )
    table.add_row(
        "  of which an electronic licence may stand for", "-", f"{result['of_which_electronic_licence_ok']:.2f}"
    )
    table.add_row("matters with at least one paper saved", "0 %", f"{result['matters_with_a_paper_saved']:.1%}")
    table.add_row("matters told 可全程网办，无需跑腿", "0 %", f"{result['fully_online_after']:.1%}")
    Console().print(table)


if __name__ == "__main__":
    main()
