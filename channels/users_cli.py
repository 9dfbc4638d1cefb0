"""``banshi user …``: staff accounts from the console, before any web page exists to manage them."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from banshi.db import migrate, session_scope

user_app = typer.Typer(help="Staff accounts: agents, supervisors, editors and admins.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def _ask_password() -> str | None:
    """A person at a terminal types it (empty: generate one); a script gets a generated one."""
    if not sys.stdin.isatty():
        return None
    typed = typer.prompt("密码（直接回车则自动生成）", default="", hide_input=True, show_default=False)
    if not typed:
        return None
    if typer.prompt("再次输入密码", hide_input=True) != typed:
        errors.print("[red]两次输入的密码不一致[/red]")
        raise typer.Exit(2)
    return typed


@user_app.command("add")
def add_user(
    username: Annotated[str, typer.Argument(help="Login name: letters, digits, _ . -")],
    role: Annotated[str, typer.Option(help="agent 坐席, supervisor 班长, editor 编辑 or admin 管理员")] = "agent",
    password: Annotated[str | None, typer.Option(help="Omit to be asked, or to get a generated one")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name, e.g. 张三")] = None,
) -> None:
    """Create an account; a generated password is printed once and never stored in clear."""
    from channels.accounts import AccountError, UserIn, create_user, generate_password

    given = password if password is not None else _ask_password()
    secret = given or generate_password()
    try:
        item = UserIn(username=username, display_name=name, role=role, password=secret)
    except ValidationError as exc:
        for error in exc.errors():
            errors.print(f"[red]{error['loc'][0]}：{error['msg'].removeprefix('Value error, ')}[/red]")
        raise typer.Exit(2) from exc
    migrate()
    try:
        with session_scope() as session:
            user = create_user(session, item)
            summary = f"已创建用户 {user.username}（{user.display_name}，角色 {user.role}）"
    except AccountError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(summary)
    if not given:
        console.print(f"初始密码：{secret}", markup=False)
        console.print("请妥善转交，此密码不会再次显示。")


@user_app.command("ensure-admin")
def ensure_admin() -> None:
    """For `make run`: create the demo ``admin`` with a fresh password when no admin exists yet."""
    from channels.accounts import DEMO_ADMIN, ensure_demo_admin

    migrate()
    with session_scope() as session:
        password = ensure_demo_admin(session)
    if password is None:
        console.print("已有管理员账号，未做更改。")
    else:
        console.print(f"演示管理员 {DEMO_ADMIN} 的密码：{password}", markup=False)
