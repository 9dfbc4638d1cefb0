"""The WeChat official account (公众号) channel: what the gateway and its routes use of it."""

from channels.wechat.channel import Inbound, WechatChannel, inbound_of
from channels.wechat.state import CHANNEL, WechatFollower, WechatInbound

__all__ = ["CHANNEL", "Inbound", "WechatChannel", "WechatFollower", "WechatInbound", "inbound_of"]
