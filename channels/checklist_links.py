"""Links to one checklist for channels that cannot draw it (WeChat): a signed token naming one message.

The token holds a message id, never the conversation id: the conversation id is what the citizen's
chat API trusts, so a shared link must not carry it. The signature (the staff sessions' key, another
salt) keeps anyone from walking the ids to other citizens' checklists.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from channels.auth import session_secret

_SALT = "banshi.checklist-link"
PATH = "/checklist"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session_secret(), salt=_SALT)


def checklist_token(message_id: int) -> str:
    return _serializer().dumps({"m": message_id})


def checklist_url(base_url: str, message_id: int) -> str:
    return f"{base_url.rstrip('/')}{PATH}?t={checklist_token(message_id)}"


def message_id_from(token: str, max_age_seconds: int) -> int | None:
    """The checklist message a token names; None when it is forged, expired or malformed."""
    try:
        data = _serializer().loads(token, max_age=max_age_seconds)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("m"), int):
        return None
    return data["m"]
