"""Publish-to-visible time, and citizens' chat turns while editors publish (loopback only, bounded).

    .venv/bin/python bench/publish.py            # starts action server + Rasa + gateway itself (sample catalogue)
    .venv/bin/python bench/publish.py --url http://127.0.0.1:8000 --user NAME --password PW   # a running stack

With ``--url`` the account must have the editor or admin role, and the bench really edits the stack's
catalogue (户口迁入登记 gets a made-up material and alias), so point it only at a scratch stack.

While ``--citizens`` simulated citizens keep asking guide questions (and 直接告诉我全部) through the
gateway, an editor saves and publishes ``--publishes`` versions of one matter, each with a new first
material and a new alias, then publishes an import of several matters at once. For each publish it
times, from the publish request being sent, until (a) ``/api/v1/search`` finds the new alias (the
gateway's own index has replayed the change log) and (b) a citizen's guide question walks through
the new material (the action server answered from the new version). It prints p50 / p95 / max of
both, and the chat turns' latency and failures during the publishing (see ``turn_failure``: an
error, an empty reply, the "Rasa unavailable" message, or "not found" for a matter that exists).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from banshi.stack import DEFAULT_MODEL  # noqa: E402
from bench import chat_load  # noqa: E402
from bench.chat_load import describe  # noqa: E402

EDITOR, EDITOR_PASSWORD = "bench-editor", "bench editor pass 1"
TARGET = "bs-hk-qr"
"""户口迁入登记: the matter the editor keeps changing; citizens ask about it too."""
TARGET_QUESTION = "迁户口要什么材料"
QUESTIONS: list[tuple[str, str]] = [
    (TARGET_QUESTION, "户口迁入登记"),
    ("办身份证要带什么", "居民身份证首次申领"),
    ("办护照", "普通护照签发"),
    ("领结婚证需要什么", "内地居民结婚登记"),
    ("申请低保要带什么材料", "最低生活保障审核确认"),
    ("办居住证", "居住证申领"),
    ("补办社保卡要什么", "社会保障卡补领、换领"),
    ("办营业执照需要什么材料", "个体工商户设立登记"),
]
"""Guide questions the trained dialogue answers with exactly this matter (checked on a quiet stack)."""
BULK = {
    "bs-sfz-sc": "凤凰茶馆",
    "bs-crj-hz": "麒麟书屋",
    "bs-hy-jh": "玄武渡船",
    "bs-jzz": "白泽花园",
    "bs-sbk-bh": "貔貅钱庄",
}
"""Matters that the bulk import republishes, with an alias each, while citizens ask about them."""
ALIASES = [
    "蓝鲸灯塔",
    "赤狐石桥",
    "白鹭茶园",
    "金雕渡口",
    "紫貂书院",
    "黑熊果园",
    "花豹码头",
    "灰狼山谷",
    "银杏驿站",
    "青鸾水寨",
    "锦鲤长廊",
    "雪豹古堡",
    "孔雀湖畔",
    "松鼠磨坊",
    "海獭港湾",
    "麋鹿林场",
    "仙鹤琴台",
    "白鲸冰川",
    "火狐沙丘",
    "蓝孔雀谷",
    "金丝猴岭",
    "丹霞石窟",
    "翠鸟芦荡",
    "墨竹小筑",
]
"""Made-up words sharing no token with each other or the catalogue; ``fresh_alias`` skips any that the
search already ranks first for the target (the fused ranking always has a first hit)."""
NUMERALS = "一二三四五六七八九十"
NOT_FOUND = ("没有在办事指南库里找到", "已下线或正在更新", "暂时无法回复")


def numeral(n: int) -> str:
    """Chinese numerals: the NLU reads 第7号 as a ticket number, 第七号 as words."""
    return (
        NUMERALS[n - 1]
        if n <= 10
        else ("" if n < 20 else NUMERALS[n // 10 - 1]) + "十" + (NUMERALS[n % 10 - 1] if n % 10 else "")
    )


def material_name(n: int) -> str:
    return f"压测补充材料第{numeral(n)}版"


# -- citizens ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    """Every chat turn's latency, and a line for each turn that failed."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.latencies)


def _texts(messages: list[dict]) -> str:
    """Everything the bot said, buttons and checklist material names included."""
    parts: list[str] = []
    for m in messages:
        if m.get("sender") == "citizen":
            continue
        parts.append(m.get("text") or "")
        parts += [b.get("title") or "" for b in m.get("buttons") or []]
        parts += [x.get("name") or "" for x in (m.get("checklist") or {}).get("materials") or []]
    return "\n".join(parts)


def turn_failure(response: httpx.Response, expect: str | None) -> str | None:
    """Why a turn failed, or None: the gateway answers Rasa's and the actions' failures with a 200 that
    holds a system message or no bot reply at all, so the status alone would hide them."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text[:120]}"
    messages = response.json()
    if any(m["sender"] == "system" for m in messages):
        return "system message: " + next(m["text"] for m in messages if m["sender"] == "system")
    bot = [m for m in messages if m["sender"] == "bot"]
    said = _texts(bot)
    if not bot or not said.strip():
        return "empty bot reply"
    if any(marker in said for marker in NOT_FOUND):
        return "not found: " + said[:80]
    if expect is not None and expect not in said:
        return f"expected {expect!r}, got: {said[:80]!r}"
    return None


async def turn(client: httpx.AsyncClient, cid: str, text: str, expect: str | None, tally: Tally) -> list[dict]:
    started = time.perf_counter()
    try:
        response = await client.post(f"/api/v1/conversations/{cid}/messages", json={"text": text})
    except httpx.HTTPError as exc:
        tally.failures.append(f"{text}: {exc!r}")
        return []
    tally.latencies.append(time.perf_counter() - started)
    failure = turn_failure(response, expect)
    if failure:
        tally.failures.append(f"{text}: {failure}")
        return []
    return response.json()


async def citizen(client: httpx.AsyncClient, number: int, tally: Tally, stop: asyncio.Event, max_turns: int) -> None:
    """One citizen asks guide questions in turn, each followed by 直接告诉我全部 (the checklist), until stopped."""
    created = await client.post("/api/v1/conversations", json={"channel": "app"})
    created.raise_for_status()
    cid = created.json()["id"]
    asked = 0
    while not stop.is_set() and asked < max_turns:
        question, name = QUESTIONS[(number + asked // 2) % len(QUESTIONS)]
        await turn(client, cid, question, name, tally)
        await turn(client, cid, "直接告诉我全部", "一次告知", tally)
        asked += 2


async def load(url: str, citizens: int, tally: Tally, stop: asyncio.Event, max_turns: int = 400) -> None:
    limits = httpx.Limits(max_connections=citizens + 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        await asyncio.gather(*(citizen(client, n, tally, stop, max_turns) for n in range(citizens)))


# -- the editor -------------------------------------------------------------------------------------


async def editor_client(url: str, username: str = EDITOR, password: str = EDITOR_PASSWORD) -> httpx.AsyncClient:
    """A client holding the editor's session as a bearer token (open it with ``async with``)."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
        response.raise_for_status()
    token = response.json()["token"]
    return httpx.AsyncClient(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"})


_ORIGINALS: dict[str, dict] = {}
"""Each edited matter as it was before the bench's first save."""


async def save_new_version(editor: httpx.AsyncClient, external_id: str, material: str, alias: str) -> int:
    """Saves a draft whose first material is ``material`` and whose only extra alias is ``alias``.

    Built from the matter as the bench first found it, so edits do not pile up: the previous alias
    is gone again and cannot make the new one look found before it is published."""
    detail = (await editor.get(f"/api/v1/matters/{external_id}")).raise_for_status().json()
    first = _ORIGINALS.setdefault(external_id, json.loads(json.dumps(detail["live"])))
    matter = {
        **first,
        "materials": [{**first["materials"][0], "name": material}, *first["materials"]],
        "aliases": [*first["aliases"], alias],
    }
    saved = await editor.put(
        f"/api/v1/matters/{external_id}", json={"matter": matter, "base_version": detail["latest_version"]}
    )
    saved.raise_for_status()
    return saved.json()["version"]


async def publish(editor: httpx.AsyncClient, external_id: str, version: int) -> float:
    """Publishes ``version``; returns the monotonic time the request was sent."""
    sent = time.monotonic()
    response = await editor.post(f"/api/v1/matters/{external_id}/publish", json={"version": version})
    response.raise_for_status()
    return sent


async def bulk_publish(editor: httpx.AsyncClient, aliases: dict[str, str]) -> dict:
    """Exports the catalogue, adds its alias to each matter of ``aliases``, uploads that and confirms with
    publish: the bulk path, one request publishing several matters."""
    exported = await editor.get("/api/v1/export", params={"format": "jsonl"})
    exported.raise_for_status()
    rows = [json.loads(line) for line in exported.text.splitlines() if line.strip()]
    chosen = [r for r in rows if r["external_id"] in aliases]
    for row in chosen:
        row["aliases"] = [*(row.get("aliases") or []), aliases[row["external_id"]]]
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in chosen).encode()
    upload = await editor.post("/api/v1/imports", files={"file": ("bulk.jsonl", body, "application/x-ndjson")})
    upload.raise_for_status()
    confirmed = await editor.post(f"/api/v1/imports/{upload.json()['id']}/confirm", json={"publish": True})
    confirmed.raise_for_status()
    return confirmed.json()


# -- visibility probes ------------------------------------------------------------------------------


async def search_finds(client: httpx.AsyncClient, alias: str, external_id: str) -> bool:
    response = await client.get("/api/v1/search", params={"q": alias, "k": 1})
    response.raise_for_status()
    hits = response.json()["hits"]
    return bool(hits) and hits[0]["external_id"] == external_id


async def fresh_alias(client: httpx.AsyncClient, external_id: str, used: set[str]) -> str:
    """The next unused alias that the search does not already rank first for ``external_id``."""
    for alias in ALIASES:
        if alias not in used:
            used.add(alias)
            if not await search_finds(client, alias, external_id):
                return alias
    raise RuntimeError("ran out of made-up aliases")


async def chat_shows(client: httpx.AsyncClient, material: str, tally: Tally | None = None) -> bool:
    """A new citizen asks the target's guide question; the walk-through's first item names ``material``."""
    created = (await client.post("/api/v1/conversations", json={"channel": "app"})).raise_for_status()
    replies = await turn(client, created.json()["id"], TARGET_QUESTION, "户口迁入登记", tally or Tally())
    return material in _texts(replies)


async def until(probe, sent: float, timeout: float, interval: float = 0.05) -> tuple[float, float]:
    """Seconds from ``sent`` until the first ``probe()`` that came out true was started, and until it
    returned (a chat probe is a whole turn); ``math.inf`` twice if none did within ``timeout``."""
    while time.monotonic() - sent < timeout:
        asked = time.monotonic()
        if await probe():
            return asked - sent, time.monotonic() - sent
        await asyncio.sleep(interval)
    return math.inf, math.inf


# -- the run ----------------------------------------------------------------------------------------


async def run(url: str, username: str, password: str, citizens: int, publishes: int, timeout: float) -> int:
    if not url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("bench/publish.py only sends traffic to loopback addresses")
    probe = httpx.AsyncClient(base_url=url, timeout=120)
    warm = Tally()
    async with await editor_client(url, username, password) as editor, probe:
        for question, name in QUESTIONS:  # the first turns load lazy parts of Rasa and the embedder
            cid = (await probe.post("/api/v1/conversations", json={"channel": "app"})).json()["id"]
            await turn(probe, cid, question, name, warm)
        if warm.failures:
            raise SystemExit(f"the quiet stack already fails: {warm.failures[:3]}")
        tally, stop = Tally(), asyncio.Event()
        started = time.monotonic()
        citizens_task = asyncio.create_task(load(url, citizens, tally, stop))
        await asyncio.sleep(2.0)  # the load is under way before the first publish
        to_search: list[float] = []
        to_chat: list[float] = []
        to_chat_asked: list[float] = []
        used: set[str] = set()
        publish_calls: list[float] = []
        for n in range(1, publishes + 1):
            alias, material = await fresh_alias(probe, TARGET, used), material_name(n)
            version = await save_new_version(editor, TARGET, material, alias)
            sent = await publish(editor, TARGET, version)
            publish_calls.append(time.monotonic() - sent)
            (_, searched), (chat_asked, chatted) = await asyncio.gather(
                until(lambda a=alias: search_finds(probe, a, TARGET), sent, timeout),
                until(lambda m=material: chat_shows(probe, m), sent, timeout),
            )
            to_search.append(searched)
            to_chat_asked.append(chat_asked)
            to_chat.append(chatted)
            await asyncio.sleep(0.5)
        bulk_sent = time.monotonic()
        bulk = await bulk_publish(editor, BULK)
        bulk_seconds = time.monotonic() - bulk_sent
        last_id, last_alias = list(BULK.items())[-1]
        _, bulk_visible = await until(lambda: search_finds(probe, last_alias, last_id), bulk_sent, timeout)
        await asyncio.sleep(2.0)  # citizens keep asking after the last publish
        stop.set()
        await citizens_task
        wall = time.monotonic() - started
    print(
        f"citizens {citizens}, {tally.turns} turns in {wall:.1f} s while {publishes} publishes + 1 bulk import "
        f"of {len(bulk['updated'])} matters ran"
    )
    print(describe("publish request", publish_calls))
    print(describe("publish → search finds it", to_search))
    print(describe("publish → chat shows it", to_chat), "(the turn's reply is back)")
    print(describe("  … asked in the turn sent", to_chat_asked), "(the first turn that showed it was sent)")
    print(
        f"{'bulk import confirm+publish':<28} {bulk_seconds * 1000:.0f} ms; search finds it "
        f"{bulk_visible * 1000:.0f} ms after the confirm was sent"
    )
    print(describe("chat turn while publishing", tally.latencies))
    print(f"{'failed turns':<28} {len(tally.failures)}")
    for line in tally.failures[:5]:
        print("  ", line)
    never = sum(math.isinf(v) for v in to_search + to_chat + [bulk_visible])
    if never:
        print(f"{never} publishes were not visible within {timeout:.0f} s")
    return len(tally.failures) + never


# -- a stack of our own -----------------------------------------------------------------------------


def add_editor(database_url: str, username: str = EDITOR, password: str = EDITOR_PASSWORD) -> None:
    """Creates the editor account in the stack's database, as another process would."""
    from banshi.db import make_engine, migrate, session_scope
    from channels.accounts import UserIn, create_user, get_user

    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            if get_user(session, username) is None:
                create_user(
                    session, UserIn(username=username, display_name="压测编辑", role="editor", password=password)
                )
    finally:
        engine.dispose()


def own_stack(model: Path) -> AbstractContextManager[str]:
    """The three processes over a fresh data dir with the sample catalogue and an editor; yields the URL."""
    editor = ["user", "add", EDITOR, "--role", "editor", "--password", EDITOR_PASSWORD, "--name", "压测编辑"]
    return chat_load.own_stack(model, [editor])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running gateway on loopback; without it the stack is started here")
    parser.add_argument("--user", default=EDITOR, help="an editor account of the running stack (with --url)")
    parser.add_argument("--password", default=EDITOR_PASSWORD)
    parser.add_argument("--model", type=Path, default=Path(os.environ.get("BANSHI_TEST_MODEL") or DEFAULT_MODEL))
    parser.add_argument("--citizens", type=int, default=10)
    parser.add_argument("--publishes", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=30.0, help="give up on one publish's visibility after this")
    args = parser.parse_args()

    def go(url: str) -> int:
        return asyncio.run(run(url, args.user, args.password, args.citizens, args.publishes, args.timeout))

    if args.url:
        raise SystemExit(1 if go(args.url.rstrip("/")) else 0)
    if not args.model.is_file():
        raise SystemExit(f"no trained model at {args.model}: run `make train`")
    with own_stack(args.model) as url:
        failed = go(url)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
