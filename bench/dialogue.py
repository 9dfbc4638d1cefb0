"""Dialogue figures: training time, model load time, and the latency of one chat turn through REST.

- training: `rasa train` of the whole project into a temporary folder (skip with --no-train);
- model load: from starting the Rasa server until it answers /status with the model loaded;
- one chat turn: POST /webhooks/rest/webhook, over whole scripted conversations (a guide with the
  walk-through, a facet follow-up, a complaint), p50 and p95; measured twice in the same run, with
  Rasa started as banshi starts it (``dialogue.rasa_server``: its action-response check built once)
  and with the stock ``rasa run`` (the baseline).

Usage: .venv/bin/python bench/dialogue.py [--no-train] [--conversations 30] [--json]
Needs the trained model at models/banshi.tar.gz when --no-train is given (make train).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from rich.console import Console  # noqa: E402

from banshi.stack import DEFAULT_MODEL, RASA_BIN, Ports, running, services, stack_env  # noqa: E402
from tests.services import free_port  # noqa: E402

console = Console(stderr=True)
SCRIPTS = [
    ["你好", "公积金提取要带什么", "有", "没有", "直接告诉我全部", "那要多久", "谢谢"],
    ["身份证丢了怎么补办", "在哪里办", "收费吗", "要跑几次"],
    ["我要投诉，小区楼下烧烤店油烟太大", "港口区渔洲坪", "每天晚上", "匿名", "13877001234", "确认提交"],
]


def train(out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [str(RASA_BIN), "train", "--config", "config.yml", "--domain", "dialogue/domain.yml",
         "--data", "nlu", "dialogue/data", "--out", str(out), "--fixed-model-name", "bench", "--force"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-train", action="store_true")
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures: dict[str, float | int | None] = {"train_s": None}

    with tempfile.TemporaryDirectory(prefix="banshi-bench-") as tmp:
        data_dir = Path(tmp) / "var"
        model = DEFAULT_MODEL
        if not args.no_train:
            console.print("training …")
            figures["train_s"] = round(train(Path(tmp) / "models"), 1)
            model = Path(tmp) / "models" / "bench.tar.gz"
        env = stack_env(data_dir, ports := Ports(free_port(), free_port(), free_port()))
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "banshi"), "import", "knowledge/sample/catalogue.jsonl"],
            cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True,
        )  # fmt: skip
        actions, rasa = services(model, ports, gateway=False)
        stock = replace(rasa, argv=[str(RASA_BIN), *rasa.argv[rasa.argv.index("run") :]])
        started = time.perf_counter()
        with running([actions], env, data_dir / "logs"):
            figures["actions_start_s"] = round(time.perf_counter() - started, 1)
            for label, service in (("", rasa), ("stock_", stock)):
                started = time.perf_counter()
                with running([service], env, data_dir / "logs"):
                    figures[f"{label}model_load_s"] = round(time.perf_counter() - started, 1)
                    latencies = run_conversations(f"http://127.0.0.1:{ports.rasa}", args.conversations)
                figures.update(
                    {
                        f"{label}turns": len(latencies),
                        f"{label}p50_ms": round(statistics.median(latencies), 1),
                        f"{label}p95_ms": round(percentile(latencies, 95), 1),
                    }
                )
    for key, value in figures.items():
        Console().print(f"{key:>16}: {value}")
    if args.json:
        print(json.dumps(figures))


def run_conversations(rasa_url: str, count: int) -> list[float]:
    latencies: list[float] = []
    with httpx.Client(base_url=rasa_url, timeout=60) as client:
        for number in range(count):
            sender = f"bench-{uuid.uuid4().hex[:8]}"
            for text in SCRIPTS[number % len(SCRIPTS)]:
                started = time.perf_counter()
                response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
                response.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)
    return latencies


if __name__ == "__main__":
    main()
