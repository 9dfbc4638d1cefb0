"""Both ends of WeChat for the WeChat channel's tests.

- ``WeChatApi``: a stand-in for ``api.weixin.qq.com/cgi-bin/`` on loopback that hands out an access token
  and records every customer-service message (``message/custom/send``) the gateway sends.
- ``WeChatServer``: what WeChat's servers send the gateway: messages and events as XML, signed with the
  公众号's token as ``wechatpy.utils.check_signature`` checks it, and in the 安全模式 encrypted with
  ``wechatpy.crypto.WeChatCrypto``. Every message is parsed back with ``wechatpy.parse_message`` before it
  is sent, so the tests only send what wechatpy itself reads as that kind of message.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import xmltodict
from fastapi.testclient import TestClient
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.events import ClickEvent
from wechatpy.messages import TextMessage
from wechatpy.utils import WeChatSigner, random_string

TOKEN = "banshitoken"
APP_ID = "wx0123456789abcdef"
APP_SECRET = "0123456789abcdef0123456789abcdef"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as the 公众号 backend generates
ACCOUNT = "gh_banshi12345"
ACCESS_TOKEN = "ACCESS_TOKEN_FROM_STANDIN"


class WeChatApi:
    """``with WeChatApi() as api:`` serves on a free loopback port; ``api.base_url`` is the setting's value."""

    def __init__(self) -> None:
        self.token_requests: list[dict] = []
        self.sent: list[dict] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/token":
                    with api._lock:
                        api.token_requests.append(query)
                    if query.get("appid") == APP_ID and query.get("secret") == APP_SECRET:
                        self._json({"access_token": ACCESS_TOKEN, "expires_in": 7200})
                    else:
                        self._json({"errcode": 40125, "errmsg": "invalid appsecret"})
                    return
                self._json({"errcode": 404, "errmsg": "unknown api"})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if url.path == "/cgi-bin/message/custom/send":
                    if query.get("access_token") != ACCESS_TOKEN:
                        self._json({"errcode": 40001, "errmsg": "invalid credential"})
                        return
                    with api._lock:
                        api.sent.append(body)
                    self._json({"errcode": 0, "errmsg": "ok"})
                    return
                self._json({"errcode": 404, "errmsg": "unknown api"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/"

    def __enter__(self) -> WeChatApi:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts_to(self, openid: str) -> list[str]:
        with self._lock:
            return [m["text"]["content"] for m in self.sent if m.get("touser") == openid and m.get("msgtype") == "text"]

    def wait_for(self, openid: str, found: Callable[[list[str]], bool], timeout: float = 30.0) -> list[str]:
        """The texts sent to ``openid`` once ``found`` holds for them; fails after ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            texts = self.texts_to(openid)
            if found(texts):
                return texts
            time.sleep(0.1)
        raise AssertionError(f"WeChat API stand-in never got what was expected for {openid}: {self.texts_to(openid)}")


def signature(token: str, *parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    return signer.signature


_msg_ids = itertools.count(int(time.time()) * 1000)


class WeChatServer:
    """Sends a follower's messages to the gateway's ``/wechat`` as WeChat's servers would."""

    def __init__(
        self, client: TestClient, openid: str, *, encrypted: bool = False, api: WeChatApi | None = None
    ) -> None:
        self.client, self.openid, self.encrypted, self.api = client, openid, encrypted, api
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    # ---- building messages ----

    def text_xml(self, content: str, msg_id: int | None = None) -> tuple[str, int]:
        msg_id = msg_id or next(_msg_ids)
        xml = xmltodict.unparse(
            {
                "xml": {
                    "ToUserName": ACCOUNT,
                    "FromUserName": self.openid,
                    "CreateTime": str(int(time.time())),
                    "MsgType": "text",
                    "Content": content,
                    "MsgId": str(msg_id),
                }
            },
            full_document=False,
        )
        parsed = parse_message(xml)
        assert isinstance(parsed, TextMessage) and parsed.content == content and parsed.id == msg_id
        return xml, msg_id

    def click_xml(self, key: str, create_time: int | None = None) -> str:
        xml = xmltodict.unparse(
            {
                "xml": {
                    "ToUserName": ACCOUNT,
                    "FromUserName": self.openid,
                    "CreateTime": str(create_time or int(time.time())),
                    "MsgType": "event",
                    "Event": "CLICK",
                    "EventKey": key,
                }
            },
            full_document=False,
        )
        assert isinstance(parse_message(xml), ClickEvent)
        return xml

    # ---- sending them ----

    def post(self, xml: str, *, token: str = TOKEN, msg_token: str | None = None):
        """POSTs one message, signed with ``token`` (a wrong one for a forged request), its encrypted body
        with ``msg_token`` (the same unless given); returns the response."""
        timestamp, nonce = str(int(time.time())), random_string(10)
        params = {"timestamp": timestamp, "nonce": nonce, "signature": signature(token, timestamp, nonce)}
        body = xml
        if self.encrypted:
            envelope = xmltodict.parse(self.crypto.encrypt_message(xml, nonce, timestamp))["xml"]
            body = xmltodict.unparse(
                {"xml": {"ToUserName": ACCOUNT, "Encrypt": envelope["Encrypt"]}}, full_document=False
            )
            signed = signature(msg_token or token, timestamp, nonce, envelope["Encrypt"])
            params |= {"encrypt_type": "aes", "msg_signature": signed}
        return self.client.post("/wechat", params=params, content=body.encode(), headers={"Content-Type": "text/xml"})

    def reply_of(self, response) -> str | None:
        """The reply's text as the follower reads it, or None for WeChat's empty reply ("success")."""
        assert response.status_code == 200, response.text
        if response.text == "success":
            return None
        xml = response.text
        if self.encrypted:
            envelope = xmltodict.parse(xml)["xml"]
            xml = self.crypto.decrypt_message(xml, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
        reply = xmltodict.parse(xml)["xml"]
        assert reply["ToUserName"] == self.openid and reply["FromUserName"] == ACCOUNT and reply["MsgType"] == "text"
        return reply["Content"]

    def _sent_so_far(self) -> int:
        return len(self.api.texts_to(self.openid)) if self.api else 0

    def seen(self, response, before: int) -> str | None:
        """What the follower reads after one message: the reply, or when it is empty (the turn took longer
        than the limit, which a busy machine makes happen) the customer-service messages that follow.
        ``before`` is how many customer-service messages the follower had before the message was sent."""
        reply = self.reply_of(response)
        if reply is not None or self.api is None:
            return reply
        self.api.wait_for(self.openid, lambda texts: len(texts) > before, timeout=120)
        time.sleep(0.5)  # an answer may take several messages
        return "\n\n".join(self.api.texts_to(self.openid)[before:])

    def say(self, content: str, msg_id: int | None = None) -> str | None:
        xml, _ = self.text_xml(content, msg_id)
        before = self._sent_so_far()
        return self.seen(self.post(xml), before)

    def click(self, key: str) -> str | None:
        before = self._sent_so_far()
        return self.seen(self.post(self.click_xml(key)), before)
