"""Request dependencies: a database session per request, the shared index, and the signed-in staff member."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from banshi.db import job_session
from channels import auth
from channels.accounts import ROLE_LABELS, UserOut, has_role
from channels.relay import Relay
from hotline.lifecycle import Actor
from retriever import HybridIndex


def get_session() -> Iterator[Session]:
    """The request's session. A sync route commits it in its own thread as it returns
    (``channels.commit_first``); what is left (a read's transaction) is committed here, an error rolls back."""
    with job_session() as session:
        yield session


def get_index(request: Request) -> HybridIndex:
    return request.app.state.index


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""Committed when the route returns (``channels.commit_first``), before the reply is built, let alone sent:
a client that acts on a response (the page opening the live stream of the conversation it was just given)
must find the rows committed, and no request holds the write lock while it waits for a thread."""
IndexDep = Annotated[HybridIndex, Depends(get_index)]


_bearer = HTTPBearer(auto_error=False, description="登录返回的 token；控制台用同名 Cookie")


def get_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str | None:
    """The session token: an app's bearer token, else the console's cookie."""
    return credentials.credentials if credentials else request.cookies.get(auth.COOKIE_NAME)


TokenDep = Annotated[str | None, Depends(get_token)]


def get_current_user(session: SessionDep, token: TokenDep) -> UserOut:
    """401 without a valid session: the console shows its login form, an app asks for the password again."""
    user = auth.user_from_token(session, token) if token else None
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="请先登录", headers={"WWW-Authenticate": "Bearer"})
    return UserOut.model_validate(user)


CurrentUser = Annotated[UserOut, Depends(get_current_user)]

SIGNED_IN = {401: {"description": "请先登录（没有会话，或会话已失效）"}}
"""What a route behind ``get_current_user`` answers besides its own codes, for its OpenAPI ``responses``."""
GUARDED = {**SIGNED_IN, 403: {"description": "没有权限：登录的角色不能做这件事"}}
"""The same for a route behind ``require_role``: every staff router declares it (tests/test_api_fuzz.py checks)."""
NOT_FOUND = {404: {"description": "要操作的记录不存在（或已删除）"}}
CONFLICT = {409: {"description": "与记录的当前状态冲突（已被他人认领、已删除、重名、版本已变）"}}
BAD_VALUE = {400: {"description": "请求的值不被接受（例如不认识的状态或分类）"}}


def require_role(*roles: str):
    """A dependency that lets through these roles (and admins, who may do everything), 403 for the rest."""

    def check(user: CurrentUser) -> UserOut:
        if not has_role(user, *roles):
            wanted = "、".join(ROLE_LABELS.get(r, r) for r in roles)
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"没有权限：需要{wanted}角色")
        return user

    return check


AgentUser = Annotated[UserOut, Depends(require_role("agent"))]
"""Hotline staff: agents and admins (the console, tickets, live conversations)."""


def actor_of(user: UserOut) -> Actor:
    return Actor.model_validate(user)


def get_relay(request: Request) -> Relay:
    """The process's relay to Rasa (one pooled HTTP client), made on first use if the lifespan did not run."""
    relay = getattr(request.app.state, "relay", None)
    if relay is None:
        relay = request.app.state.relay = Relay()
    return relay


RelayDep = Annotated[Relay, Depends(get_relay)]
