"""Every log line a process writes is one line, with phone and ID numbers masked, whoever logged it.

Rasa logs what citizens type and press (a payload it cannot parse, a timeout with the message text):
a newline inside a button payload wrote a forged line into ``rasa.log``, and phone and ID numbers
landed there whole. Rasa's and rasa-sdk's log calls are not ours to edit, so the stack starts them
through this launcher instead:

    python -m banshi.safe_logging rasa run --enable-api ...
    python -m banshi.safe_logging dialogue.action_server --actions dialogue.actions ...

It replaces the logging module's record class before the program starts, so every record's message
(stdlib loggers, and structlog's, which Rasa renders through stdlib) comes out masked with CR and LF
escaped; warnings (Rasa's "Failed to parse arguments in line ...") are made safe the same way.
Tracebacks keep their lines: they are formatted apart from the message. The gateway uses the same
``safe`` on uvicorn's access log (``channels.log_masking``). Only ``common.masking`` is imported, so
this runs under Rasa's Python 3.10 as well.
"""

from __future__ import annotations

import logging
import runpy
import sys
import warnings

from common.masking import mask_text

_ESCAPES = str.maketrans({"\r": "\\r", "\n": "\\n", "\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\x85"})


def safe(text: str) -> str:
    """One line, numbers masked: what any logged text that may hold a citizen's words must become."""
    return mask_text(text).translate(_ESCAPES)


class SafeLogRecord(logging.LogRecord):
    def getMessage(self) -> str:
        return safe(super().getMessage())


def _safe_warning(message, category, filename, lineno, file=None, line=None) -> None:
    _show_warning(safe(str(message)), category, filename, lineno, file, line)


_show_warning = warnings.showwarning


def install() -> None:
    """Log records, and Python warnings too: Rasa reports a payload it cannot parse with ``warnings.warn``."""
    logging.setLogRecordFactory(SafeLogRecord)
    warnings.showwarning = _safe_warning


# Run as the program, also in the action server's workers: they are spawned processes that import this
# module again as ``__mp_main__`` (the parent's main module) instead of running main(). Imported as a
# library (the gateway's ``channels.log_masking`` uses ``safe``), it changes nothing.
if __name__ in ("__main__", "__mp_main__"):
    install()


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m banshi.safe_logging MODULE [ARGS...]")
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    # alter_sys=False keeps this module as __main__, so spawned workers import it (and install) first.
    runpy.run_module(module, run_name="__main__", alter_sys=False)


if __name__ == "__main__":
    main()
