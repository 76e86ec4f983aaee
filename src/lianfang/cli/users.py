"""``lianfang user``: add, list, disable and enable users."""

from __future__ import annotations

import json
import secrets
from typing import Annotated

import typer

from lianfang.auth.choices import Role
from lianfang.cli.common import DbOption, JsonOption, console, operator, say, unit_of_work

app = typer.Typer(help="Users: add, list, disable and enable.", no_args_is_help=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Username to sign in with.")],
    role: Annotated[Role, typer.Option(help="Role.", case_sensitive=False)],
    area: Annotated[
        str | None,
        typer.Option(
            help="Area code the user's scope is rooted at (required for every role but admin)."
        ),
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown in the interface.")] = None,
    password: Annotated[
        str | None,
        typer.Option(
            envvar="LIANFANG_NEW_USER_PASSWORD",
            help="Password (10+ characters); random and printed once when not given.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Add a user with a role and an area scope."""
    from lianfang.areas import codes
    from lianfang.auth import service as auth
    from lianfang.auth.schemas import UserCreate

    chosen = password or secrets.token_urlsafe(12)
    with unit_of_work(db) as session:
        user = auth.create_user(
            session=session,
            actor=operator(),
            user_in=UserCreate(
                username=name,
                display_name=display_name or name,
                role=role,
                area_code=area,
                password=chosen,
            ),
        )
    where = codes.short(user.area_code) if user.area_code else "全部/all"
    say(
        f"已创建用户 {user.username}（{user.role.zh}，管辖 {where}）",
        f"created user {user.username} ({user.role.en}, scope {where})",
    )
    if password is None:
        say(f"一次性密码：[bold]{chosen}[/]", f"one-time password: [bold]{chosen}[/]")


@app.command("list")
def list_users(as_json: JsonOption = False, db: DbOption = None) -> None:
    """List users with their role and scope."""
    from rich.table import Table

    from lianfang.areas import codes
    from lianfang.auth import service as auth
    from lianfang.auth.schemas import UserRead

    with unit_of_work(db) as session:
        users = [
            UserRead.model_validate(u) for u in auth.list_users(session=session, actor=operator())
        ]
    if as_json:
        console.print_json(
            json.dumps([u.model_dump(mode="json") for u in users], ensure_ascii=False)
        )
        return
    table = Table()
    for header in ("id", "用户名 username", "姓名 name", "角色 role", "管辖 area", "状态 active"):
        table.add_column(header)
    for user in users:
        table.add_row(
            str(user.id),
            user.username,
            user.display_name,
            user.role.zh,
            codes.short(user.area_code) if user.area_code else "全部/all",
            "启用" if user.active else "停用",
        )
    console.print(table)


def _set_active(name: str, active: bool, db: str | None) -> None:
    from lianfang.auth import service as auth
    from lianfang.auth.schemas import UserUpdate
    from lianfang.errors import NotFoundError

    with unit_of_work(db) as session:
        user = auth.get_user(session=session, username=name)
        if user is None:
            raise NotFoundError(f"没有用户名为 {name} 的用户", f"no user named {name}")
        auth.update_user(
            session=session, actor=operator(), user=user, user_in=UserUpdate(active=active)
        )
    if active:
        say(f"已启用用户 {name}", f"enabled user {name}")
    else:
        say(
            f"已停用用户 {name}，其登录和令牌均已失效",
            f"disabled user {name}; their sessions and tokens no longer work",
        )


@app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="Username.")], db: DbOption = None) -> None:
    """Disable a user: they cannot sign in, and their sessions and tokens stop working."""
    _set_active(name, False, db)


@app.command("enable")
def enable(name: Annotated[str, typer.Argument(help="Username.")], db: DbOption = None) -> None:
    """Enable a disabled user again (they sign in anew)."""
    _set_active(name, True, db)
