"""WeChat's server calls this: ``GET /wechat`` to verify the URL, ``POST /wechat`` with each message.

Every request is signed with the 公众号's token (``signature`` over token, timestamp and nonce); a
request that is not gets 403. In the 安全模式 (``encrypt_type=aes``) the message is also signed
(``msg_signature``) and AES-encrypted with the EncodingAESKey, and so is the reply.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from banshi.config import Settings, get_settings
from channels.commit_first import CommitFirstRoute
from channels.deps import get_relay
from channels.wechat import WechatChannel, inbound_of

log = logging.getLogger(__name__)

EMPTY = "success"
"""WeChat's "no reply": it shows nothing and does not ask again."""
DISABLED = "未启用微信公众号渠道"
BAD_SIGNATURE = "签名校验失败"
Signed = Annotated[str, Query(description="微信服务器的签名参数")]

router = APIRouter(
    route_class=CommitFirstRoute,
    prefix="/wechat",
    tags=["wechat"],
    responses={
        400: {"description": "无法解析的微信消息"},
        403: {"description": f"{BAD_SIGNATURE}，或未配置消息加解密密钥"},
        404: {"description": f"{DISABLED}（未配置 token）"},
    },
)


def _checked(signature: str, timestamp: str, nonce: str) -> Settings:
    settings = get_settings()
    if not settings.wechat_token:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=DISABLED)
    try:
        check_signature(settings.wechat_token, signature, timestamp, nonce)
    except InvalidSignatureException as exc:
        log.warning("WeChat request with a bad signature refused")
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=BAD_SIGNATURE) from exc
    return settings


def _crypto(settings: Settings) -> WeChatCrypto:
    if not (settings.wechat_encoding_aes_key and settings.wechat_app_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="未配置消息加解密密钥（EncodingAESKey）")
    return WeChatCrypto(settings.wechat_token, settings.wechat_encoding_aes_key, settings.wechat_app_id)


def wechat_channel(request: Request) -> WechatChannel:
    """The process's WeChat channel, made (and its outbound listener started) on first use."""
    channel = getattr(request.app.state, "wechat", None)
    if channel is None:
        channel = request.app.state.wechat = WechatChannel(get_relay(request))
        channel.start()
    return channel


@router.get("", response_class=PlainTextResponse, summary="微信服务器地址验证")
def verify(
    echostr: Signed = "", signature: Signed = "", timestamp: Signed = "", nonce: Signed = ""
) -> PlainTextResponse:
    _checked(signature, timestamp, nonce)
    return PlainTextResponse(echostr)


@router.post("", summary="接收微信消息（XML）")
async def receive(
    request: Request,
    signature: Signed = "",
    timestamp: Signed = "",
    nonce: Signed = "",
    encrypt_type: Annotated[str, Query(description="raw 明文；aes 安全模式")] = "raw",
    msg_signature: Signed = "",
) -> Response:
    deadline = time.monotonic() + get_settings().wechat_reply_seconds
    settings = _checked(signature, timestamp, nonce)
    body = await request.body()
    crypto = _crypto(settings) if encrypt_type == "aes" else None
    try:
        xml = crypto.decrypt_message(body, msg_signature, timestamp, nonce) if crypto else body
        message = parse_message(xml)
    except (InvalidSignatureException, InvalidAppIdException) as exc:
        log.warning("WeChat message with a bad msg_signature or AppID refused")
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=BAD_SIGNATURE) from exc
    except Exception as exc:  # xmltodict's ExpatError, a missing field, bad base64…
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="无法解析的微信消息") from exc
    if message is None or not getattr(message, "source", None):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail="无法解析的微信消息")
    channel = wechat_channel(request)
    text = await run_in_threadpool(channel.answer, inbound_of(message), str(request.base_url), deadline)
    if text is None:
        return PlainTextResponse(EMPTY)
    reply = TextReply(message=message, content=text).render()
    if crypto:
        reply = crypto.encrypt_message(reply, nonce, timestamp)
    return Response(reply, media_type="application/xml")
