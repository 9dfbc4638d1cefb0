"""How banshi starts the action server: ``python -m dialogue.action_server --actions dialogue.actions …``,
rasa-sdk's own CLI, with each action call run on a worker thread instead of the server's event loop.

rasa-sdk awaits an action's ``run`` on its one event loop, and ours search the catalogue, read the
database and file tickets synchronously inside it: one citizen's search held every other citizen's
turn, and the server's own ``/health`` went unanswered for over 30 s under load, so HAProxy took a
working replica out. Here every webhook call runs on a thread of a bounded pool, on an event loop of
its own, while the server's loop keeps accepting calls; the embedder, faiss and SQLite release the
GIL, so two citizens' turns also use both cores. What an action shares across calls (the search
index, the database engine) is already safe across threads: the gateway searches from a thread pool.

Streaming calls (a sink queue, bound to the server's loop) stay on the loop, as rasa-sdk runs them.
``BANSHI_ACTION_THREADS=0`` runs every call on the loop, as rasa-sdk does (``bench/chat_load.py``
compares both).
"""

from __future__ import annotations

import asyncio
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa_sdk.executor import ActionExecutor

THREADS = int(os.environ.get("BANSHI_ACTION_THREADS", "4"))
_pool: ThreadPoolExecutor | None = None


def _threads() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:  # in the Sanic worker that serves, not in the process that spawned it
        _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="action")
    return _pool


class ThreadedActionExecutor(ActionExecutor):
    """rasa-sdk's executor, each unary call on a pool thread. A subclass, not a patch of rasa-sdk: Sanic
    pickles the executor into its worker process, where the class is imported again by name."""

    async def run(self, action_call: dict[str, Any], sink: Any = None, dispatcher: Any = None) -> Any:
        if THREADS <= 0 or sink is not None:
            return await super().run(action_call, sink, dispatcher)
        call = super().run(action_call, None, dispatcher)
        return await asyncio.get_running_loop().run_in_executor(_threads(), asyncio.run, call)


def main() -> None:
    import rasa_sdk.__main__

    from dialogue import action_server  # by its name, not as __main__: the worker imports it by that name

    rasa_sdk.__main__.ActionExecutor = action_server.ThreadedActionExecutor  # the one executor its CLI builds
    sys.argv[0] = "rasa_sdk"
    rasa_sdk.__main__.main()


if __name__ == "__main__":
    main()
