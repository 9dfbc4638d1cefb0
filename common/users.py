"""The staff account table: tickets, handoffs, conversations and hit tests all point at a user.

Only the table and the roles live here, below every package that refers to a user; signing in,
passwords and lock-outs are ``channels.accounts``'s business.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import String, true
from sqlalchemy.orm import Mapped, mapped_column

from banshi.db import Base
from common.clock import utcnow

Role = Literal["agent", "supervisor", "editor", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
DESK_ROLES: tuple[str, ...] = ("agent", "supervisor", "admin")
"""Who answers the hotline: a supervisor is an agent who also watches the desk."""
SUPERVISING_ROLES: tuple[str, ...] = ("supervisor", "admin")
"""Who sees the desk's board, sets agents' skills and supervises (督办) tickets."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    """Switched off rather than deleted: tickets and their history keep pointing at the person."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    """Wrong passwords in a row; at ``login_max_failures`` the account is locked for a while."""
    locked_until: Mapped[datetime | None] = mapped_column()
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    """In every session token: raising it (sign-out) ends all the account's sessions at once."""
