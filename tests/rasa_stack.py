"""The dialogue stack for end-to-end tests: the action server and the Rasa server on free loopback
ports, over their own data directory, started the same way `banshi up` starts them (banshi.stack).

    with rasa_stack(model, data_dir) as webhook:
        httpx.post(webhook, json={"sender": "t1", "message": "你好"})
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from banshi.stack import ROOT, Ports, running, services, stack_env
from tests.services import free_port

DEFAULT_MODEL = ROOT / "models" / "banshi.tar.gz"
SAMPLE_CATALOGUE = ROOT / "knowledge" / "sample" / "catalogue.jsonl"


def model_path() -> Path:
    """The model `make train` writes; BANSHI_TEST_MODEL points elsewhere (e.g. a scratch training)."""
    return Path(os.environ.get("BANSHI_TEST_MODEL") or DEFAULT_MODEL)


def trained_model() -> Path:
    """The model to test with; the calling test skips, saying why, when none was trained, and fails when
    ``make test`` runs it in the tests that run while the model is being trained (tests/conftest.py)."""
    import pytest

    if os.environ.get("BANSHI_TESTS_WITHOUT_MODEL") == "1":
        pytest.fail("this test needs the trained model, which `make test` is still training: mark it `model`")
    model = model_path()
    if not model.is_file():
        pytest.skip(f"no trained dialogue model at {model}: run `make train` first")
    return model


def stack_environment(data_dir: Path, ports: Ports) -> dict[str, str]:
    """One data dir and one SQLite database for every process, whatever the caller's environment says."""
    return stack_env(data_dir, ports, database_url=f"sqlite:///{(data_dir / 'banshi.db').resolve()}")


def import_catalogue(data_dir: Path, source: Path = SAMPLE_CATALOGUE) -> None:
    env = {**os.environ, **stack_environment(data_dir, Ports())}
    banshi = Path(sys.executable).with_name("banshi")
    subprocess.run(
        [str(banshi), "import", str(source)], check=True, env=env, cwd=ROOT, capture_output=True, timeout=600
    )


@contextmanager
def rasa_stack(model: Path, data_dir: Path, log_dir: Path | None = None) -> Iterator[str]:
    """Starts both servers, waits until they answer, yields the REST webhook URL, stops both."""
    data_dir.mkdir(parents=True, exist_ok=True)
    ports = Ports(gateway=0, rasa=free_port(), actions=free_port())
    wanted = services(model.resolve(), ports, gateway=False)
    with running(wanted, stack_environment(data_dir, ports), log_dir or data_dir / "logs"):
        yield f"http://127.0.0.1:{ports.rasa}/webhooks/rest/webhook"


def say(webhook: str, sender: str, message: str, timeout: float = 120.0) -> list[dict]:
    """One user turn through the REST channel; returns the bot's messages (text, buttons, custom)."""
    response = httpx.post(webhook, json={"sender": sender, "message": message}, timeout=timeout)
    response.raise_for_status()
    return response.json()


def parse_on_server(rasa_url: str, texts: list[str]) -> list[dict]:
    """What ``nlu.evaluation.parse_messages`` gives, from a running Rasa's ``/model/parse`` instead of a fresh
    process: the shared live stack has the model loaded already, a subprocess would load it again (a minute)."""
    from nlu.parse_batch import reading

    with httpx.Client(base_url=rasa_url, timeout=120) as client:
        return [reading(t, client.post("/model/parse", json={"text": t}).raise_for_status().json()) for t in texts]
