"""The HTML report of a ``banshi eval dialogue`` run: figures, plots as inline SVG (nothing fetched
from a CDN, no plotting library needed), and every failed case with its transcript."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from dialogue.evaluation.citizen import Transcript
from dialogue.evaluation.scoring import Verdict

PALETTE = ["#2f6db5", "#e0803a", "#3c9a5f", "#c94b4b", "#8a63b8", "#7a7a7a", "#b8a03a", "#3aa6b8", "#d46fae"]
RATES = [
    ("guide_first_turn", "首轮正确指南"),
    ("guide_within_two_turns", "两轮内正确指南"),
    ("wrong_guide", "错误指南（越低越好）"),
    ("declined", "库外问题婉拒"),
    ("intake_reached", "投诉进入受理"),
    ("ticket_filed", "投诉生成工单"),
    ("materials_exact", "清单材料一致"),
]


def _bar_rows(rows: list[tuple[str, float, str]], *, width: int = 640, scale: float = 1.0, unit: str = "") -> str:
    """Horizontal bars: label, value, text shown at the bar's end."""
    height = 26 * len(rows) + 10
    left, room = 170, width - 170 - 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (label, value, shown) in enumerate(rows):
        y = 6 + 26 * i
        length = 0 if scale <= 0 else room * max(0.0, value) / scale
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="20" fill="{PALETTE[i % 9]}"/>')
        parts.append(f'<text x="{left + length + 6:.1f}" y="{y + 15}" font-size="12">{escape(shown)}{unit}</text>')
    parts.append("</svg>")
    return "".join(parts)


def rate_bars(figures: dict[str, Any]) -> str:
    rows = [(label, figures[key], f"{figures[key]:.3f}") for key, label in RATES if figures.get(key) is not None]
    return _bar_rows(rows) if rows else "<p>没有可画的比率。</p>"


def outcome_bars(verdicts: list[Verdict]) -> str:
    """Per expected kind, how many cases' first turn ended in each outcome kind."""
    blocks = []
    for kind, title in (("guide", "应给指南"), ("decline", "库外问题"), ("intake", "投诉/求助")):
        counts = Counter(v.first_outcome for v in verdicts if v.kind == kind)
        if not counts:
            continue
        top = max(counts.values())
        rows = [(outcome, float(n), str(n)) for outcome, n in counts.most_common()]
        blocks.append(f"<h3>{title}：首轮结果（{sum(counts.values())} 条）</h3>{_bar_rows(rows, scale=float(top))}")
    return "".join(blocks)


def latency_histogram(latencies: list[float], *, bins: int = 20, width: int = 640, height: int = 200) -> str:
    if not latencies:
        return "<p>没有延迟数据。</p>"
    top = max(latencies)
    step = top / bins if top > 0 else 1.0
    counts = [0] * bins
    for value in latencies:
        counts[min(bins - 1, int(value / step))] += 1
    most = max(counts)
    bar = (width - 60) / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img">']
    for i, n in enumerate(counts):
        h = (height - 10) * n / most
        x = 40 + i * bar
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="#2f6db5">')
        parts.append(f"<title>{i * step:.0f}–{(i + 1) * step:.0f} ms: {n}</title></rect>")
    parts.append(f'<line x1="40" y1="{height}" x2="{width - 20}" y2="{height}" stroke="#333"/>')
    parts.append(f'<text x="40" y="{height + 18}" font-size="12">0 ms</text>')
    parts.append(f'<text x="{width - 20}" y="{height + 18}" font-size="12" text-anchor="end">{top:.0f} ms</text>')
    parts.append(f'<text x="4" y="14" font-size="12">{most}</text></svg>')
    return "".join(parts)


def _turn_html(turn) -> str:
    said = escape(turn.text) + (f" <code>{escape(turn.payload)}</code>" if turn.payload else "")
    outcomes = ", ".join(escape(json.dumps(o, ensure_ascii=False)) for o in turn.outcomes) or "（无）"
    rows = [f'<div class="me">市民：{said} <small>{turn.latency_ms:.0f} ms</small></div>']
    rows.append(f'<div class="oc">outcomes：{outcomes}</div>')
    if turn.error:
        rows.append(f'<div class="err">{escape(turn.error)}</div>')
    for reply in turn.replies:
        text = escape(reply.get("text") or "")
        if reply.get("kind") == "checklist":
            names = [m.get("name") for m in (reply.get("checklist") or {}).get("materials") or []]
            text = "一次告知清单：" + escape("；".join(str(n) for n in names))
        buttons = " ".join(
            f'<span class="btn">{escape(b.get("title", ""))} <code>{escape(b.get("payload", ""))}</code></span>'
            for b in reply.get("buttons") or []
        )
        rows.append(f'<div class="bot">{text.replace(chr(10), "<br>")} {buttons}</div>')
    return "".join(rows)


def _failure_html(verdict: Verdict, transcript: Transcript, names: dict[str, str]) -> str:
    case = transcript.case
    expected = (
        "、".join(f"{g}（{escape(names.get(g, '?'))}）" for g in case.gold)
        if case.kind == "guide"
        else ("婉拒" if case.kind == "decline" else "受理并生成工单")
    )
    extra = ""
    if verdict.checklist and (verdict.checklist.missing or verdict.checklist.invented):
        extra = (
            f"<p>清单缺少：{escape('；'.join(verdict.checklist.missing)) or '无'}；"
            f"多出：{escape('；'.join(verdict.checklist.invented)) or '无'}</p>"
        )
    turns = "".join(_turn_html(t) for t in transcript.turns)
    return (
        f"<details><summary><b>{escape(case.id)}</b> {escape(verdict.failure or '')} — "
        f"{escape((case.text or '')[:60])}</summary><p>应为：{expected}</p>{extra}{turns}</details>"
    )


STYLE = """
body{font-family:sans-serif;max-width:980px;margin:2em auto;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}
details{border:1px solid #ddd;margin:6px 0;padding:6px}.me{color:#2f6db5;margin-top:6px}
.bot{margin-left:2em;white-space:normal}.oc{margin-left:2em;color:#3c9a5f;font-size:12px}
.err{color:#c94b4b}.btn{border:1px solid #aaa;border-radius:4px;padding:0 4px;margin:0 2px;font-size:12px}
"""


def write_report(
    path: Path,
    *,
    cases_file: Path,
    base_url: str,
    figures: dict[str, Any],
    verdicts: list[Verdict],
    transcripts: list[Transcript],
    names: dict[str, str],
) -> Path:
    """Writes one self-contained HTML file and returns its path."""
    latencies = [t.latency_ms for tr in transcripts for t in tr.turns if not t.error]
    failed = [(v, t) for v, t in zip(verdicts, transcripts, strict=True) if not v.ok]
    table = "".join(
        f"<tr><td>{escape(k)}</td><td>{'-' if v is None else escape(str(v))}</td></tr>" for k, v in figures.items()
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    html = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>对话评测 {escape(cases_file.name)}</title>"
        f"<style>{STYLE}</style></head><body><h1>banshi eval dialogue</h1>"
        f"<p>{escape(str(cases_file))} · {escape(base_url)} · {stamp}</p>"
        f"<h2>指标</h2><table>{table}</table>{rate_bars(figures)}"
        f"<h2>首轮结果分布</h2>{outcome_bars(verdicts)}"
        f"<h2>每轮延迟（p50 {figures['latency_p50_ms']} ms，p95 {figures['latency_p95_ms']} ms）</h2>"
        f"{latency_histogram(latencies)}"
        f"<h2>失败用例（{len(failed)}）</h2>{''.join(_failure_html(v, t, names) for v, t in failed)}"
        "</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
