"""Export the published catalogue as NLU resources: the gazetteer for SpacyGazetteer, a jieba user
dictionary for Rasa's JiebaTokenizer, and catalogue-templated training examples.

Runs in .venv (core side). Files are rewritten only when their content changes, so make and Rasa's
fingerprints see a new catalogue and nothing else.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.schema import MatterIn

DEFAULT_OUT = Path("nlu/generated")
SEED = 12345
MAX_EXAMPLES = 360

# Places citizens name although no matter is registered under them (yet); values as the catalogue writes them.
WELL_KNOWN_REGIONS = (
    "广西壮族自治区",
    "防城港市",
    "港口区",
    "防城区",
    "上思县",
    "东兴市",
    "南宁市",
    "柳州市",
    "桂林市",
    "梧州市",
    "北海市",
    "钦州市",
    "贵港市",
    "玉林市",
    "百色市",
    "贺州市",
    "河池市",
    "来宾市",
    "崇左市",
)
# Short forms people type → the catalogue's place name. 港口 and 防城 alone are ordinary words: left out.
REGION_ALIASES = {"广西": "广西壮族自治区", "防城港": "防城港市", "东兴": "东兴市", "上思": "上思县"}

# Aliases phrased as whole questions ("办身份证要带什么") make poor tokens and poor template slots.
_QUESTION_LIKE = re.compile(r"怎么|什么|多少|哪|吗|么|？|\?|要不要|能不能")

_TEMPLATES: dict[str, tuple[str, ...]] = {
    "ask_guide": (
        "{m}怎么办",
        "{m}怎么办理",
        "我想办{m}",
        "请问{m}的流程是什么",
        "{m}的办事指南",
        "想咨询一下{m}",
        "{r}{m}怎么弄",
        "{m}手续怎么走",
    ),
    "ask_materials": (
        "办{m}要带什么材料",
        "{m}需要准备哪些材料",
        "{m}要什么资料",
        "{m}的材料清单发我一下",
        "在{r}办{m}要带啥",
    ),
    "ask_location": (
        "{m}在哪里办",
        "{r}的{m}去哪办",
        "{m}去哪个窗口",
        "{m}的办理地点在哪",
        "{r}哪里可以办{m}",
    ),
    "ask_time_limit": ("{m}要多久", "{m}几天能办好", "{m}办理时限是多久", "{m}多长时间能拿到"),
    "ask_fee": ("{m}收费吗", "{m}要多少钱", "办{m}要交钱吗", "{m}是免费的吗"),
    "ask_online": ("{m}能网上办吗", "{m}可以在网上申请吗", "{m}能不能线上办理", "{m}手机上能办吗"),
    "ask_visits": ("{m}要跑几次", "办{m}需要去几趟", "{m}是不是只用跑一次"),
    "ask_conditions": ("{m}需要什么条件", "什么人可以申请{m}", "{m}的申请条件是什么", "我能不能办{m}"),
}


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    matters: int = 0
    examples: int = 0


def _ordered_unique(items: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(item.strip() for item in items if item and item.strip()))


def build_gazetteer(matters: list[MatterIn]) -> dict:
    """The JSON that SpacyGazetteer reads: canonical names with aliases, places, departments."""
    regions = _ordered_unique(
        [*(part for m in matters for part in (m.province, m.city, m.county)), *WELL_KNOWN_REGIONS]
    )
    return {
        "matters": [
            {"name": m.name, "aliases": [a for a in m.aliases if a != m.name], "external_id": m.external_id}
            for m in sorted(matters, key=lambda m: m.external_id)
        ],
        "regions": regions,
        "region_aliases": REGION_ALIASES,
        "departments": sorted(_ordered_unique(m.department for m in matters)),
    }


def build_userdict(gazetteer: dict) -> str:
    """jieba user-dictionary lines ``word freq tag``; question-like aliases stay out (they split better)."""
    lines: dict[str, str] = {}
    for matter in gazetteer["matters"]:
        for word in [matter["name"], *matter["aliases"]]:
            if word == matter["name"] or not _QUESTION_LIKE.search(word):
                lines.setdefault(word, "nz")
    for word in [*gazetteer["regions"], *gazetteer.get("region_aliases", {})]:
        lines.setdefault(word, "ns")
    for word in gazetteer["departments"]:
        lines.setdefault(word, "nt")
    # jieba's dictionary is whitespace-separated: a word with a space cannot be listed.
    return "".join(f"{word} 2000 {tag}\n" for word, tag in lines.items() if " " not in word)


def _entity(text: str, entity: str, value: str | None = None) -> str:
    if value is None or value == text:
        return f"[{text}]({entity})"
    return "[" + text + "]" + json.dumps({"entity": entity, "value": value}, ensure_ascii=False)


def build_examples(matters: list[MatterIn], *, limit: int = MAX_EXAMPLES, seed: int = SEED) -> dict[str, list[str]]:
    """Templated questions over a fixed-seed sample of matters, balanced across the facet intents."""
    rng = random.Random(seed)
    ordered = sorted(matters, key=lambda m: m.external_id)
    if not ordered:
        return {}
    per_intent = max(1, limit // len(_TEMPLATES))
    examples: dict[str, list[str]] = {}
    for intent, templates in _TEMPLATES.items():
        lines: list[str] = []
        pool = rng.sample(ordered, k=min(per_intent, len(ordered)))
        while len(pool) < per_intent:
            pool.append(rng.choice(ordered))
        for matter in pool:
            forms = [matter.name, *(a for a in matter.aliases if not _QUESTION_LIKE.search(a))]
            form = rng.choice(forms)
            template = rng.choice(templates)
            if form.startswith("办"):
                template = template.replace("办{m}", "{m}")
            mention = _entity(form, "matter", matter.name)
            region = matter.county or matter.city or "防城港市"
            text = template.replace("{m}", mention).replace("{r}", _entity(region, "region"))
            lines.append(text)
        examples[intent] = list(dict.fromkeys(lines))
    return examples


def render_examples(
    examples: dict[str, list[str]], source: str = "`banshi nlu export` from the published catalogue"
) -> str:
    """Rasa's NLU training YAML; ``source`` names what wrote it, in the file's header comment."""
    out = ['version: "3.1"', f"# Generated by {source}. Do not edit."]
    out.append("nlu:" if examples else "nlu: []")
    for intent, lines in examples.items():
        out.append(f"- intent: {intent}")
        out.append("  examples: |")
        out.extend(f"    - {line}" for line in lines)
    return "\n".join(out) + "\n"


def write_if_changed(path: Path, text: str, report: ExportReport) -> None:
    """Leaves the file (and its mtime) alone when the content is the same."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        report.unchanged.append(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    report.written.append(path)


def export_matters(matters: list[MatterIn], out: Path = DEFAULT_OUT, *, limit: int = MAX_EXAMPLES) -> ExportReport:
    report = ExportReport(matters=len(matters))
    gazetteer = build_gazetteer(matters)
    examples = build_examples(matters, limit=limit)
    report.examples = sum(len(lines) for lines in examples.values())
    write_if_changed(out / "gazetteer.json", json.dumps(gazetteer, ensure_ascii=False, indent=1) + "\n", report)
    write_if_changed(out / "jieba" / "userdict.txt", build_userdict(gazetteer), report)
    write_if_changed(out / "catalogue_examples.yml", render_examples(examples), report)
    return report


def export_published(out: Path = DEFAULT_OUT, *, limit: int = MAX_EXAMPLES) -> ExportReport:
    """Reads the published catalogue from the database configured in settings."""
    from banshi.db import migrate, session_scope
    from knowledge.store import published

    migrate()
    with session_scope() as session:
        matters = published(session)
    return export_matters(matters, out, limit=limit)
