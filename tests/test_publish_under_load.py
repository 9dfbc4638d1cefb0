"""Publishing while citizens chat: the assistant keeps answering, and the new version is seen at once.

The real stack (action server, Rasa, gateway) over a fresh data dir with the sample catalogue. Eight
citizens keep asking guide questions about several matters (each followed by 直接告诉我全部) through
the gateway while an editor publishes four versions of 户口迁入登记, each with a new first material
and a new alias, and then an import that republishes five more matters in one request. Every turn
must come back 200 with a bot reply that names the asked-for matter: no error text, no empty reply,
no "not found" (``bench.publish.turn_failure``). After each publish, a citizen's question walks
through the new material, and the gateway's search finds the new alias, within a couple of seconds.

The pieces (citizens, the editor's requests, the probes) are bench/publish.py's, which times the same.
Skips cleanly when the trained dialogue model is missing.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from banshi.stack import Ports, running, services
from bench.chat_load import NO_RATE_LIMITS
from bench.publish import (
    BULK,
    QUESTIONS,
    TARGET,
    Tally,
    add_editor,
    bulk_publish,
    chat_shows,
    editor_client,
    fresh_alias,
    load,
    material_name,
    publish,
    save_new_version,
    search_finds,
    turn,
    until,
)
from tests.rasa_stack import import_catalogue, stack_environment, trained_model
from tests.services import free_port

pytestmark = [pytest.mark.slow, pytest.mark.model]
CITIZENS = 8
PUBLISHES = 4
VISIBLE_WITHIN = 3.0
"""Seconds; the goal is one second for the index, but the chat probe is a whole turn on a busy machine."""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = trained_model()
    data_dir: Path = tmp_path_factory.mktemp("publish-load") / "var"
    data_dir.mkdir(parents=True)
    import_catalogue(data_dir)
    ports = Ports(gateway=free_port(), rasa=free_port(), actions=free_port())
    env = {**stack_environment(data_dir, ports), **NO_RATE_LIMITS}  # 8 citizens from one address, 80 turns each
    add_editor(env["DATABASE_URL"])
    with running(services(model.resolve(), ports), env, data_dir / "logs"):
        yield f"http://127.0.0.1:{ports.gateway}"


async def _scenario(url: str) -> tuple[Tally, list[str]]:
    """Returns the citizens' tally and a line for every publish that was not seen in time."""
    late: list[str] = []
    async with await editor_client(url) as editor, httpx.AsyncClient(base_url=url, timeout=120) as probe:
        quiet = Tally()
        for question, name in QUESTIONS:  # also loads Rasa's and the embedder's lazy parts
            cid = (await probe.post("/api/v1/conversations", json={"channel": "app"})).json()["id"]
            await turn(probe, cid, question, name, quiet)
        assert quiet.failures == [], f"the quiet stack already fails: {quiet.failures}"

        tally, stop = Tally(), asyncio.Event()
        citizens = asyncio.create_task(load(url, CITIZENS, tally, stop, max_turns=80))
        await asyncio.sleep(1.5)
        used: set[str] = set()
        for n in range(1, PUBLISHES + 1):
            alias, material = await fresh_alias(probe, TARGET, used), material_name(n)
            sent = await publish(editor, TARGET, await save_new_version(editor, TARGET, material, alias))
            (_, searched), (_, chatted) = await asyncio.gather(
                until(lambda a=alias: search_finds(probe, a, TARGET), sent, VISIBLE_WITHIN),
                until(lambda m=material: chat_shows(probe, m), sent, VISIBLE_WITHIN),
            )
            if math.isinf(searched) or math.isinf(chatted):
                late.append(f"publish {n}: search {searched:.2f} s, chat {chatted:.2f} s")
            await asyncio.sleep(0.3)
        result = await bulk_publish(editor, BULK)
        assert sorted(result["updated"]) == sorted(BULK) and not result["errors"], result
        for external_id, alias in BULK.items():
            if not await search_finds(probe, alias, external_id):
                late.append(f"bulk: {alias} does not find {external_id}")
        await asyncio.sleep(1.5)  # citizens keep asking right after the bulk publish
        stop.set()
        await citizens
        assert await chat_shows(probe, material_name(PUBLISHES)), "the last version is not what citizens see"
    return tally, late


def test_publishing_under_chat_load_fails_no_turn_and_shows_at_once(gateway: str) -> None:
    # On its own thread: Playwright's sync API can leave an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        tally, late = pool.submit(asyncio.run, _scenario(gateway)).result()
    assert tally.failures == [], f"{len(tally.failures)} of {tally.turns} turns failed: {tally.failures[:5]}"
    assert tally.turns >= CITIZENS * 4, f"only {tally.turns} turns ran during the publishing"
    assert late == []
