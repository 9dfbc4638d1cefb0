"""Rasa on one box may run several workers (``BANSHI_RASA_WORKERS``): its endpoints name a lock store Rasa
accepts for that (``dialogue.gateway_lock_store``), which it loads from ``endpoints.yml`` as it is."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

CHECK = """
import json
from rasa.core.lock_store import LockStore
from rasa.core.utils import AvailableEndpoints, number_of_sanic_workers
endpoints = AvailableEndpoints.read_endpoints("endpoints.yml")
store = LockStore.create(endpoints.lock_store)
print(json.dumps({"store": type(store).__name__, "workers": number_of_sanic_workers(endpoints.lock_store)}))
"""


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason=".venv-rasa is not installed")
def test_rasa_accepts_two_workers_with_the_endpoints_lock_store():
    env = {**os.environ, "SANIC_WORKERS": "2", "BANSHI_ACTION_URL": "http://127.0.0.1:1/webhook",
           "BANSHI_TRACKER_DB": "/tmp/unused.db", "PYTHONPATH": str(ROOT)}  # fmt: skip
    done = subprocess.run([str(RASA_PYTHON), "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {"store": "GatewaySerializedLockStore", "workers": 2}
