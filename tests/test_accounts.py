"""Staff accounts: Argon2 hashes, authentication, roles, the demo admin and ``banshi user add``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from channels.accounts import (
    AccountError,
    PermissionDenied,
    UserIn,
    authenticate,
    create_user,
    ensure_demo_admin,
    has_role,
    require_role,
    verify_password,
)
from hotline.lifecycle import Actor
from tests.conftest import ROOT


def _add(session, username="zhangsan", role="agent", password="correct horse 1"):
    return create_user(session, UserIn(username=username, display_name="张三", role=role, password=password))


def test_password_is_hashed_and_verifies(session):
    user = _add(session)
    assert user.password_hash.startswith("$argon2id$") and "correct horse 1" not in user.password_hash
    assert verify_password(user.password_hash, "correct horse 1")
    assert not verify_password(user.password_hash, "correct horse 2")
    assert not verify_password("not a hash", "correct horse 1")


def test_authenticate(session):
    user = _add(session)
    assert authenticate(session, "zhangsan", "correct horse 1").id == user.id
    assert user.last_login_at is not None
    assert authenticate(session, " ZhangSan ", "correct horse 1").id == user.id  # names are case-insensitive
    assert authenticate(session, "zhangsan", "wrong password") is None
    assert authenticate(session, "nobody", "correct horse 1") is None
    user.active = False
    assert authenticate(session, "zhangsan", "correct horse 1") is None


def test_invalid_accounts_are_refused(session):
    _add(session)
    with pytest.raises(AccountError, match="已存在"):
        _add(session, username="ZHANGSAN")
    with pytest.raises(ValidationError):
        UserIn(username="张三", password="long enough")
    with pytest.raises(ValidationError):
        UserIn(username="lisi", password="short")
    with pytest.raises(ValidationError):
        UserIn(username="lisi", password="long enough", role="superuser")


def test_roles(session):
    agent, editor, admin = _add(session, "ag"), _add(session, "ed", role="editor"), _add(session, "ad", role="admin")
    assert has_role(agent, "agent") and not has_role(agent, "editor")
    assert has_role(admin, "agent") and has_role(admin, "editor")  # admins may do it all
    with pytest.raises(PermissionDenied, match="需要坐席角色"):
        require_role(editor, "agent")
    agent.active = False
    assert not has_role(agent, "agent")
    assert Actor.model_validate(admin).role == "admin"


def test_demo_admin_is_created_once(session):
    password = ensure_demo_admin(session)
    assert password and len(password) >= 12
    assert authenticate(session, "admin", password).role == "admin"
    assert ensure_demo_admin(session) is None
    assert authenticate(session, "admin", password) is not None  # the second call changed nothing


def _banshi(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BANSHI_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "banshi.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_cli_creates_users_with_given_or_generated_passwords(data_dir):
    from banshi.db import session_scope

    args = ["user", "add", "wangwu", "--role", "editor", "--password", "s3cret-pass", "--name", "王五"]
    given = _banshi(args, data_dir)
    assert given.returncode == 0, given.stderr
    assert "已创建用户 wangwu（王五，角色 editor）" in given.stdout and "s3cret-pass" not in given.stdout

    generated = _banshi(["user", "add", "Zhaoliu"], data_dir)
    assert generated.returncode == 0, generated.stderr
    password = generated.stdout.split("初始密码：", 1)[1].split()[0]

    again = _banshi(["user", "add", "wangwu"], data_dir)
    assert again.returncode == 1 and "已存在" in again.stderr
    bad = _banshi(["user", "add", "xy1", "--role", "boss", "--password", "long enough"], data_dir)
    assert bad.returncode == 2

    demo = _banshi(["user", "ensure-admin"], data_dir)
    demo_password = demo.stdout.split("的密码：", 1)[1].split()[0]
    assert "未做更改" in _banshi(["user", "ensure-admin"], data_dir).stdout

    with session_scope() as session:
        assert authenticate(session, "wangwu", "s3cret-pass").display_name == "王五"
        assert authenticate(session, "zhaoliu", password).role == "agent"
        assert authenticate(session, "admin", demo_password).role == "admin"
