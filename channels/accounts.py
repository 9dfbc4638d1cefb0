"""Staff accounts: agents answer the hotline, supervisors also watch the desk, editors keep the catalogue.

Citizens never log in (a ticket opens with its number and phone). Passwords are kept only as
Argon2id hashes, so a copy of the database does not give away anyone's password.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.clock import utcnow
from common.users import Role, User

ROLE_LABELS = {"agent": "坐席", "supervisor": "班长", "editor": "编辑", "admin": "管理员"}
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,50}$")
MIN_PASSWORD_LENGTH = 8
DEMO_ADMIN = "admin"

log = logging.getLogger(__name__)
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a wrong name takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about accounts that cannot be carried out; the message is for the person who asked."""


class PermissionDenied(PermissionError):
    """The user is who they say, but their role does not allow this."""


class UserIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    username: str
    display_name: str | None = Field(default=None, max_length=50)
    role: Role = "agent"
    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not USERNAME.match(value):
            raise ValueError("用户名只能包含字母、数字、下划线、点和连字符，长度 2 到 50")
        return value.lower()


class UserOut(BaseModel):
    """What other layers may see of an account: never the hash."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    active: bool


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """16 URL-safe characters: typed once by the person, then changed or stored in a password manager."""
    return secrets.token_urlsafe(12)


def get_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def create_user(session: Session, item: UserIn) -> User:
    if get_user(session, item.username) is not None:
        raise AccountError(f"用户名 {item.username} 已存在")
    user = User(
        username=item.username,
        display_name=item.display_name or item.username,
        password_hash=hash_password(item.password),
        role=item.role,
    )
    session.add(user)
    session.flush()
    log.info("user %s created with role %s", user.username, user.role)
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    user.password_hash = hash_password(password)
    session.flush()


def authenticate(session: Session, username: str, password: str, *, now: datetime | None = None) -> User | None:
    """The active user with this name and password, or None; the caller says nothing about which was wrong.

    Guessing is slowed by the caller (``channels.sign_in_throttle``, per client address), not here: a
    lock kept on the account alone let anyone lock any staff member out by sending wrong passwords.
    """
    now = now or utcnow()
    user = get_user(session, username)
    if user is None:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):  # parameters were raised since this hash was made
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.flush()
    return user


def has_role(user: User | UserOut, *roles: str) -> bool:
    """Admins may do everything a narrower role may; a supervisor may do what an agent may."""
    implied = user.role == "supervisor" and "agent" in roles
    return user.active and (user.role == "admin" or user.role in roles or implied)


def require_role(user: User | UserOut, *roles: str) -> None:
    if not has_role(user, *roles):
        wanted = "、".join(ROLE_LABELS.get(r, r) for r in roles) or ROLE_LABELS["admin"]
        raise PermissionDenied(f"{user.display_name} 没有权限：需要{wanted}角色")


def ensure_demo_admin(session: Session) -> str | None:
    """Makes `make run` usable on a fresh machine: an ``admin`` with a fresh password when no admin exists.

    Returns the password to print once, or None when an admin is already there (nothing changes).
    """
    if session.scalar(select(func.count()).select_from(User).where(User.role == "admin")):
        return None
    password = generate_password()
    existing = get_user(session, DEMO_ADMIN)
    if existing is not None:  # someone took the name with a narrower role: promote it, new password
        existing.role, existing.active = "admin", True
        set_password(session, existing, password)
    else:
        create_user(session, UserIn(username=DEMO_ADMIN, display_name="演示管理员", role="admin", password=password))
    return password
