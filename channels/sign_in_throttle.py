"""Sign-in throttling by client address, so guessing passwords is slow and nobody outside can lock a staff member out.

The lock used to be per account: five wrong passwords from anywhere locked ``agent1`` for everyone, so
anyone who knew the name could keep an agent off the console. Every failed sign-in is now kept with the
address it came from, and three limits apply over a sliding window of ``login_lock_minutes``:

- one address and one account: ``login_max_failures`` wrong passwords and that address may not try that
  account again until the window has passed; the person at their own desk still signs in;
- one address, any accounts: ``login_address_max_failures`` and the address is refused altogether
  (spraying one password over many names);
- one account, all addresses: ``login_account_max_failures`` and the account is locked for everyone.
  Since one address can add at most ``login_max_failures`` per window, this takes many addresses at once.

A refusal is a ``Throttled`` with the seconds to wait (the route's ``Retry-After``). The rows live in the
database, so every gateway replica counts the same failures; a right password clears that address's
count for the account. The client address is the connection's peer, or what a trusted proxy put in
``X-Forwarded-For`` (uvicorn's ``--forwarded-allow-ips``, from the ``forwarded_allow_ips`` setting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from banshi.config import Settings
from banshi.db import Base
from knowledge.models import utcnow


class SignInFailure(Base):
    """One wrong password (or unknown name), with where it came from."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    username: Mapped[str] = mapped_column(String(50), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class Throttled(Exception):
    """Sign-in refused for now; ``retry_after`` seconds until the window lets this address try again."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    per_account_from_address: int
    per_address: int
    per_account: int
    window: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.login_max_failures,
            settings.login_address_max_failures,
            settings.login_account_max_failures,
            timedelta(minutes=settings.login_lock_minutes),
        )


def _normal(username: str) -> str:
    return username.strip().lower()[:50]


def _refusal(session: Session, where, limit: int, window: timedelta, now: datetime) -> int | None:
    """Seconds until fewer than ``limit`` failures matching ``where`` fall in the window, or None if already so."""
    since = now - window
    times = session.scalars(
        select(SignInFailure.at).where(where, SignInFailure.at > since).order_by(SignInFailure.at.desc()).limit(limit)
    ).all()
    if len(times) < limit:
        return None
    oldest_counted = times[-1]  # once it leaves the window, the count drops below the limit
    return max(1, math.ceil((oldest_counted + window - now).total_seconds()))


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def check(session: Session, address: str, username: str, limits: Limits, now: datetime | None = None) -> None:
    """Raises ``Throttled`` when this address may not try this account now; checked before the password is."""
    now, name = now or utcnow(), _normal(username)
    wait = _refusal(session, SignInFailure.address == address, limits.per_address, limits.window, now)
    if wait is not None:
        raise Throttled(f"登录尝试过于频繁，请 {_minutes(wait)} 分钟后再试", wait)
    pair = (SignInFailure.address == address) & (SignInFailure.username == name)
    wait = _refusal(session, pair, limits.per_account_from_address, limits.window, now)
    if wait is None:
        wait = _refusal(session, SignInFailure.username == name, limits.per_account, limits.window, now)
    if wait is not None:
        raise Throttled(f"密码错误次数过多，账号已暂时锁定，请 {_minutes(wait)} 分钟后再试", wait)


def record_failure(session: Session, address: str, username: str, limits: Limits, now: datetime | None = None) -> None:
    """The caller commits even though its request fails, or the failure is not counted. Rows that left the
    window are deleted on the way, so a long guessing run does not grow the table without end."""
    now = now or utcnow()
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - limits.window))
    session.add(SignInFailure(address=address[:64], username=_normal(username), at=now))
    session.flush()


def record_success(session: Session, address: str, username: str) -> None:
    """A right password starts this address's count for the account again (the other limits stay)."""
    pair = (SignInFailure.address == address) & (SignInFailure.username == _normal(username))
    session.execute(delete(SignInFailure).where(pair))


def failures(session: Session, username: str) -> int:
    """How many failures of the account are on record (tests and support)."""
    return session.scalar(select(func.count()).where(SignInFailure.username == _normal(username))) or 0
