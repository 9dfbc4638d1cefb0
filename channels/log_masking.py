"""The gateway's access log masks phone and ID numbers: a console search by phone puts one in the URL.

Uvicorn logs every request line (``GET /api/v1/tickets?phone=13877001234``) through the
``uvicorn.access`` logger; digits survive URL encoding, so the number would land in the log whole.
(The path is masked as sent, not URL-decoded: decoding would let a request write new lines into the log.)
"""

from __future__ import annotations

import logging

from banshi.safe_logging import safe

ACCESS_LOGGER = "uvicorn.access"


class MaskNumbers(logging.Filter):
    """Rewrites the record's arguments (uvicorn's are client, method, path, version, status) masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(safe(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = safe(record.msg)
        return True


def install() -> None:
    """Idempotent: one filter however many apps a process creates."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, MaskNumbers) for f in logger.filters):
        logger.addFilter(MaskNumbers())
