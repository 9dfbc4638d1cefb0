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
