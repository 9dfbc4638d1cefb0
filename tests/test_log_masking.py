"""Phone and ID numbers in request URLs (a console search by phone) never reach the access log whole."""

from __future__ import annotations

import logging


def test_the_access_log_masks_numbers_in_the_request_line(caplog):
    from channels.app import create_app
    from channels.log_masking import ACCESS_LOGGER

    create_app()
    create_app()  # a second app does not stack a second filter
    logger = logging.getLogger(ACCESS_LOGGER)
    assert len(logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        # What uvicorn logs for each request: client, method, path with query, HTTP version, status.
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    "/api/v1/tickets?phone=13877001234&id=450602199001011234", "1.1", 200)  # fmt: skip
    line = caplog.records[-1].getMessage()
    assert "138****1234" in line and "450***********1234" in line
    assert "13877001234" not in line and "450602199001011234" not in line
    assert line.endswith('HTTP/1.1" 200')


WORKER = """
import logging, sys

def work():
    logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
    logging.getLogger("worker").warning("payload %s", "/greet\\nINFO forged line 13877001234")
"""
PROGRAM = """
import logging, multiprocessing, sys, warnings

import chatty_worker  # like Sanic's workers: the spawned target lives in an importable module

if __name__ == "__main__":
    logging.basicConfig(stream=sys.stdout, format="%(levelname)s %(message)s")
    logging.getLogger("main").warning("text %s", "a\\r\\nINFO forged line 450602199001011234")
    line = "/x\\nINFO forged line 13877001234"
    warnings.warn(f"Failed to parse arguments in line '{line}'")  # the source line shows, not the number
    process = multiprocessing.get_context("spawn").Process(target=chatty_worker.work)
    process.start()
    process.join()
"""


def test_the_launcher_makes_every_line_of_a_program_safe(tmp_path):
    """What Rasa and the action server run under: their own log calls, warnings, and spawned workers."""
    import subprocess
    import sys

    from banshi.stack import ROOT

    (tmp_path / "chatty.py").write_text(PROGRAM)
    (tmp_path / "chatty_worker.py").write_text(WORKER)
    env = {"PYTHONPATH": f"{ROOT}:{tmp_path}", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "banshi.safe_logging", "chatty"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    output = run.stdout + run.stderr
    assert not [line for line in output.splitlines() if line.startswith("INFO forged")], output
    assert "13877001234" not in output and "450602199001011234" not in output
    assert "WARNING text a\\r\\nINFO forged line 450***********1234" in output
    assert "WARNING payload /greet\\nINFO forged line 138****1234" in output, "the spawned worker's line too"
    assert "UserWarning: Failed to parse arguments in line '/x\\nINFO forged line 138****1234'" in output
