"""Staff sessions: a signed, time-limited token naming the user, sent as a cookie (console) or a bearer token (apps).

The token holds no permission: every request loads the user again, so an account switched off or
given another role takes effect at once. It also carries a fingerprint of the password hash, so a
password change signs out every other session, and a session version, so signing out ends the
session for good (a copied token stops working too). The signing key comes from settings or is generated
once into the data directory, which keeps sessions valid across restarts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from banshi.config import get_settings
from common.users import User

COOKIE_NAME = "banshi_session"
SECRET_FILE = "session_secret"
_SALT = "banshi.staff-session"
log = logging.getLogger(__name__)


def _read_or_create_secret(path: Path) -> str:
    """Created with O_EXCL so two processes starting together agree on one key; readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            return secret
        raise RuntimeError(f"{path} is empty: delete it or set BANSHI_SECRET_KEY") from None
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    log.info("generated a session signing key in %s", path)
    return secret


@lru_cache(maxsize=4)
def _secret_for(configured: str | None, data_dir: str) -> str:
    return configured or _read_or_create_secret(Path(data_dir) / SECRET_FILE)


def session_secret() -> str:
    settings = get_settings()
    return _secret_for(settings.secret_key, str(settings.data_dir.resolve()))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(session_secret(), salt=_SALT)


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def max_age_seconds() -> int:
    return get_settings().session_hours * 3600


def issue_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "pw": _fingerprint(user.password_hash), "sv": user.session_version})


def revoke_sessions(session: Session, token: str) -> None:
    """Ends every session of the token's user (a signed token cannot be taken back one by one)."""
    user = user_from_token(session, token)
    if user is not None:
        user.session_version += 1
        session.flush()


def user_from_token(session: Session, token: str) -> User | None:
    """The active user the token was issued to, or None when it is forged, expired, or outdated."""
    try:
        data = _serializer().loads(token, max_age=max_age_seconds())
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
        return None
    user = session.get(User, data["uid"])
    if user is None or not user.active or data.get("pw") != _fingerprint(user.password_hash):
        return None
    if data.get("sv", 0) != user.session_version:  # signed out since
        return None
    return user
