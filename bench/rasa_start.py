"""Rasa's start as a citizen sees it: from starting the server to the first answered turn, one start after
another in one run:

- ``fast``: as banshi starts it: the models loaded for prediction only (``dialogue.fast_model_load``) and
  warmed up (``dialogue.rasa_server``);
- ``rasa_load``: Rasa's own model load (``BANSHI_RASA_FAST_LOAD=0``), warmed up;
- ``cold``: Rasa's own load without the warm-up (``BANSHI_RASA_WARM_UP=0`` too): Rasa as shipped.

    .venv/bin/python bench/rasa_start.py [--json]

For each: seconds until ``/status`` answers (the model is loaded, and warmed up when it is on), the first
turn's time through Rasa's REST channel, and the sum; and whether its parses of a few messages are the
same as the first start's (``same_parses``: the fast load must not change a single confidence). The
action server is started once, before all, and warmed up first (it loads its search index on its first
question): its start is not Rasa's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from banshi.stack import DEFAULT_MODEL, Ports, running, services, stack_env  # noqa: E402
from bench.loopback import SAMPLE_CATALOGUE  # noqa: E402
from tests.services import free_port  # noqa: E402


def first_turn(url: str, sender: str) -> float:
    started = time.perf_counter()
    response = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": "办身份证要带什么"},
                          timeout=300)  # fmt: skip
    response.raise_for_status()
    return time.perf_counter() - started


PROBES = ["办身份证要带什么", "我要投诉小区噪音扰民，已经反映了三次", "查一下我的工单", "谢谢再见", "渔洲坪路灯坏了"]
STARTS = {"fast": {}, "rasa_load": {"BANSHI_RASA_FAST_LOAD": "0"},
          "cold": {"BANSHI_RASA_FAST_LOAD": "0", "BANSHI_RASA_WARM_UP": "0"}}  # fmt: skip


def parses(url: str) -> list[tuple[str, float, list[tuple[str, str]]]]:
    """Intent, confidence to six places and entities: what the route decides on."""
    found = []
    for text in PROBES:
        parsed = httpx.post(f"{url}/model/parse", json={"text": text}, timeout=60).json()
        entities = [(e["entity"], e["value"]) for e in parsed["entities"]]
        found.append((parsed["intent"]["name"], round(parsed["intent"]["confidence"], 6), entities))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, float | list[float]] = {"load_before": [round(x, 2) for x in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="banshi-rasa-start-") as tmp:
        data_dir = Path(tmp) / "var"
        env = stack_env(data_dir, ports := Ports(free_port(), free_port(), free_port()))
        subprocess.run([str(Path(sys.executable).with_name("banshi")), "import", str(SAMPLE_CATALOGUE)],
                       cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)  # fmt: skip
        actions, rasa = services(DEFAULT_MODEL, ports, gateway=False)
        with running([actions], env, data_dir / "logs"):
            first: list | None = None
            for label, settings in STARTS.items():  # ours first: it pays for a cold file cache
                service = replace(rasa, env={**rasa.env, **settings})
                started = time.perf_counter()
                with running([service], env, data_dir / "logs"):
                    ready = time.perf_counter() - started
                    turn = first_turn(f"http://127.0.0.1:{ports.rasa}", f"bench-{label}")
                    parsed = parses(f"http://127.0.0.1:{ports.rasa}")
                first = first or parsed
                figures[f"{label}_same_parses"] = parsed == first
                figures[f"{label}_ready_s"] = round(ready, 1)
                figures[f"{label}_first_turn_s"] = round(turn, 2)
                figures[f"{label}_to_first_answer_s"] = round(ready + turn, 1)
            log = (data_dir / "logs" / "rasa.log").read_text(errors="replace")
            figures["rasa_banshi_lines"] = [line[-80:] for line in log.splitlines() if "rasa.banshi" in line]
    figures["load_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    for key, value in figures.items():
        print(f"{key:<28} {value}")


if __name__ == "__main__":
    main()
