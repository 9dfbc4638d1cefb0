"""Does RasaHQ/rasa#9213 bite? Two turns of one conversation sent at the same moment to two Rasa servers
that share a PostgreSQL tracker store and a Redis lock store (endpoints.scale.yml).

    .venv/bin/python bench/rasa_lock_race.py --rasa http://127.0.0.1:5101 http://127.0.0.1:5102 \\
        --gateway http://127.0.0.1:8000 --pairs 20

``--rasa``: each pair goes straight to the two Rasa servers' REST channel, as a load balancer that
spreads one conversation's requests would send them, with no gateway in between. Rasa's
``RedisLockStore`` issues tickets by a read-modify-write of one Redis key, so both servers can take the
lock at once; the SQL tracker store then saves only the events past the count already stored, and one
turn's events vanish. It counts conversations whose tracker lost a user message.

``--gateway``: the same pairs through the gateway's chat API (e.g. HAProxy's port in front of two
gateways), which holds one turn per conversation in Redis (``channels.turn_lock``); expected: none lost.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid

import httpx

TEXTS = ("办身份证要带什么", "换身份证要带什么材料")


async def _rasa_pair(client: httpx.AsyncClient, servers: list[str]) -> int:
    """User events Rasa kept of the two turns sent at once, one to each server."""
    sender = f"race-{uuid.uuid4().hex[:12]}"
    await asyncio.gather(
        *(
            client.post(f"{server}/webhooks/rest/webhook", json={"sender": sender, "message": text})
            for server, text in zip(servers, TEXTS, strict=True)
        )
    )
    tracker = (await client.get(f"{servers[0]}/conversations/{sender}/tracker")).json()
    return sum(1 for e in tracker["events"] if e["event"] == "user")


async def _gateway_pair(client: httpx.AsyncClient, gateway: str, rasa: str) -> int:
    cid = (await client.post(f"{gateway}/api/v1/conversations")).raise_for_status().json()["id"]
    await asyncio.gather(
        *(client.post(f"{gateway}/api/v1/conversations/{cid}/messages", json={"text": text}) for text in TEXTS)
    )
    tracker = (await client.get(f"{rasa}/conversations/{cid}/tracker")).json()
    return sum(1 for e in tracker["events"] if e["event"] == "user")


async def run(args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(timeout=120) as client:
        if args.rasa:
            kept = [await _rasa_pair(client, args.rasa) for _ in range(args.pairs)]
            lost = sum(1 for k in kept if k < 2)
            print(f"straight to two Rasa servers: {lost} of {args.pairs} conversations lost a turn ({kept})")
        if args.gateway:
            rasa = (args.rasa or [args.tracker_from])[0]
            kept = [await _gateway_pair(client, args.gateway, rasa) for _ in range(args.pairs)]
            lost = sum(1 for k in kept if k < 2)
            print(f"through the gateway (turn lock): {lost} of {args.pairs} conversations lost a turn ({kept})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rasa", nargs=2, metavar="URL", help="two Rasa servers on one tracker and lock store")
    parser.add_argument("--gateway", help="the chat API in front of the gateways")
    parser.add_argument("--tracker-from", default="http://127.0.0.1:5005", help="a Rasa server (for --gateway only)")
    parser.add_argument("--pairs", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
