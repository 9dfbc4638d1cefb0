"""Staff sign-in and sign-out: the console keeps the session in an HttpOnly cookie, apps send it as a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from banshi.config import get_settings
from channels import auth, sign_in_throttle
from channels.accounts import ROLE_LABELS, UserOut, authenticate
from channels.commit_first import CommitFirstRoute
from channels.deps import SIGNED_IN, CurrentUser, SessionDep, TokenDep
from hotline import desk

router = APIRouter(route_class=CommitFirstRoute, prefix="/api/v1/auth", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=200)


class MeOut(UserOut):
    role_label: str


class LoginOut(BaseModel):
    token: str
    """The same value as the cookie, for clients that send ``Authorization: Bearer``."""
    expires_in: int
    user: MeOut


def _me(user: UserOut) -> MeOut:
    return MeOut(**user.model_dump(), role_label=ROLE_LABELS.get(user.role, user.role))


def client_address(request: Request) -> str:
    """The connection's peer; behind a trusted proxy uvicorn has already put the forwarded client here."""
    return request.client.host if request.client else "unknown"


@router.post(
    "/login",
    response_model=LoginOut,
    responses={
        401: {"description": "用户名或密码错误"},
        429: {"description": "该地址或账号登录失败次数过多，Retry-After 秒后再试"},
    },
)
def login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> LoginOut:
    limits, address = sign_in_throttle.Limits.of(get_settings()), client_address(request)
    try:
        sign_in_throttle.check(session, address, body.username, limits)
    except sign_in_throttle.Throttled as exc:
        retry = {"Retry-After": str(exc.retry_after)}
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, detail=str(exc), headers=retry) from exc
    user = authenticate(session, body.username, body.password)
    if user is None:
        sign_in_throttle.record_failure(session, address, body.username, limits)
        session.commit()  # the failed attempt counts even though this request fails
        # One message for a wrong name and a wrong password: nobody learns which accounts exist.
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="用户名或密码错误")
    sign_in_throttle.record_success(session, address, body.username)
    token = auth.issue_token(user)
    max_age = auth.max_age_seconds()
    response.set_cookie(
        auth.COOKIE_NAME,
        token,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return LoginOut(token=token, expires_in=max_age, user=_me(UserOut.model_validate(user)))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(response: Response, session: SessionDep, token: TokenDep) -> Response:
    """Ends the user's sessions and drops the cookie; open to anyone, so an expired console can still clear it."""
    if token:
        user = auth.user_from_token(session, token)
        auth.revoke_sessions(session, token)
        if user is not None:
            desk.sign_off(session, user.id)  # an agent who signs out is given no more work
    response.status_code = status.HTTP_204_NO_CONTENT
    response.delete_cookie(auth.COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me", response_model=MeOut, responses=SIGNED_IN)
def me(user: CurrentUser) -> MeOut:
    return _me(user)
