"""Parse many messages with a trained Rasa model: JSONL in on stdin, JSONL out on stdout.

Runs in .venv-rasa (``.venv-rasa/bin/python -m nlu.parse_batch models/banshi.tar.gz < in > out``),
because rasa cannot be imported in the core virtualenv; ``banshi eval nlu`` calls it through a pipe.
Each input line is ``{"text": ...}``; each output line is ``{"text", "intent", "confidence", "entities"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

ENTITY_KEYS = ("entity", "value", "start", "end", "extractor", "confidence_entity")


async def parse_all(model_path: str, texts: list[str]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    from dialogue import fast_model_load

    fast_model_load.install()  # as the server loads it: about a minute less per evaluation
    agent = Agent.load(model_path)
    return [reading(text, await agent.parse_message(text)) for text in texts]


def reading(text: str, parsed: dict[str, Any]) -> dict[str, Any]:
    """One output line from Rasa's parse result (``Agent.parse_message`` or a server's ``/model/parse``)."""
    intent = parsed.get("intent") or {}
    return {
        "text": text,
        "intent": intent.get("name"),
        "confidence": float(intent.get("confidence") or 0.0),
        "entities": [{key: e[key] for key in ENTITY_KEYS if key in e} for e in parsed.get("entities", [])],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m nlu.parse_batch MODEL.tar.gz < messages.jsonl", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR)
    texts = [json.loads(line)["text"] for line in sys.stdin if line.strip()]
    for result in asyncio.run(parse_all(argv[1], texts)):
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
