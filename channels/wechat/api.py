"""WeChat's customer-service message API (``message/custom/send``), through wechatpy's client.

wechatpy fetches and caches the access token; the only change here is that WeChat's address comes from
settings (``BANSHI_WECHAT_API_BASE_URL``), so tests talk to a stand-in on loopback. The token is cached
per process: each replica keeps its own, which WeChat allows (a new token leaves the old one valid for
five minutes), at the cost of one token request per replica every two hours.
"""

from __future__ import annotations

import logging

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

log = logging.getLogger(__name__)


class _Client(WeChatClient):
    def __init__(self, base_url: str, app_id: str, secret: str, *, timeout: float) -> None:
        super().__init__(app_id, secret, timeout=timeout)
        self.API_BASE_URL = base_url if base_url.endswith("/") else base_url + "/"

    def fetch_access_token(self) -> dict:
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class CustomerService:
    """Sends text to a follower outside a reply: a late answer, an agent's reply, a notice from the console."""

    def __init__(self, base_url: str, app_id: str | None, secret: str | None, *, timeout: float = 10.0) -> None:
        self.client = _Client(base_url, app_id, secret, timeout=timeout) if app_id and secret else None

    def send_text(self, openid: str, text: str) -> bool:
        """False (and logged) when WeChat refuses, e.g. the citizen has not written for 48 hours."""
        if self.client is None:
            log.error("WeChat customer-service message not sent: BANSHI_WECHAT_APP_ID / _APP_SECRET are unset")
            return False
        try:
            self.client.message.send_text(openid, text)
        except (WeChatClientException, OSError) as exc:
            log.error("WeChat customer-service message to %s… not sent: %r", openid[:6], exc)
            return False
        return True
