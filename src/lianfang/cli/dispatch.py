"""``lianfang directive`` and ``lianfang tasks``: issue a directive and cascade it, see its
roll-up per child area, list a user's tasks and take a step in one."""

from __future__ import annotations

import enum
import json
from typing import TYPE_CHECKING, Annotated

import typer

from lianfang.cli.common import DbOption, JsonOption, console, language, operator, say, unit_of_work
from lianfang.i18n import _, pgettext

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lianfang.auth.scope import Actor

directive_app = typer.Typer(
    help="部署：下达并逐级分解、查看进度 / Directives: issue and cascade, see the roll-up.",
    no_args_is_help=True,
)
tasks_app = typer.Typer(
    help="任务：我的任务、办理 / Tasks: a user's tasks, take a step.", no_args_is_help=True
)


class ToLevel(enum.StrEnum):
    county = "county"
    town = "town"
    village = "village"


class Step(enum.StrEnum):
    accept = "accept"
    start = "start"
    complete = "complete"
    verify = "verify"
    reject = "reject"


UserOption = Annotated[
    str, typer.Option("--user", help="以该用户身份 / Act as this user (username).")
]


def _as_user(session: Session, username: str) -> Actor:
    """The actor of a named, active user (the CLI operator acts on their behalf)."""
    from sqlalchemy import select

    from lianfang.auth.models import User
    from lianfang.auth.scope import Actor
    from lianfang.errors import NotFoundError

    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        raise NotFoundError(_("no active user %(name)s", name=username))
    return Actor(user_id=user.id, username=user.username, role=user.role, area_code=user.area_code)


def _print_json(payload: object) -> None:
    console.print_json(json.dumps(payload, ensure_ascii=False))


@directive_app.command("new")
def new_command(
    title: Annotated[str, typer.Option("--title", help="标题 / Title.")],
    area: Annotated[str, typer.Option("--area", help="下达单位区划代码 / Issuing area code.")],
    to_level: Annotated[
        ToLevel, typer.Option("--to-level", help="分解到哪一级 / The level it reaches.")
    ],
    deadline: Annotated[str, typer.Option("--deadline", help="截止日期 / Deadline, YYYY-MM-DD.")],
    text: Annotated[str, typer.Option("--text", help="正文 / Text.")] = "",
    target: Annotated[
        list[str] | None,
        typer.Option("--target", help="目标区划（可多个）/ Target area (repeatable); default all."),
    ] = None,
    department: Annotated[
        list[str] | None, typer.Option("--department", help="部门（可多个）/ Department.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="以该用户身份下达 / Issue as this user.")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """下达部署并逐级分解为任务 / Issue a directive and cascade it into one task per area down to
    --to-level."""
    from datetime import date

    from lianfang.areas.choices import AreaLevel
    from lianfang.dispatch import rollup, service
    from lianfang.errors import InvalidInputError

    try:
        due = date.fromisoformat(deadline)
    except ValueError:
        raise InvalidInputError(
            _("--deadline %(value)s is not a date (YYYY-MM-DD)", value=deadline)
        ) from None
    with unit_of_work(db) as session:
        actor = _as_user(session, user) if user else operator()
        data = service.DirectiveInput(
            area=area, title=title, text=text, to_level=AreaLevel.of(to_level.value), deadline=due,
            targets=tuple(target or ()), departments=tuple(department or ()),
        )  # fmt: skip
        directive = service.issue(session=session, actor=actor, data=data)
        tree = rollup.rollup(session=session, actor=actor, directive_id=directive.id)
        if as_json:
            from lianfang.dispatch.schemas import DirectiveDetail, DirectiveRead, RollupRead

            detail = DirectiveDetail(
                directive=DirectiveRead.of(directive, tree.counts), rollup=RollupRead.of(tree)
            )
            _print_json(detail.model_dump(mode="json"))
            return
        say(
            _(
                "directive %(id)s issued: %(tasks)s tasks for %(leaves)s areas, due %(deadline)s",
                id=directive.id, tasks=_task_count(session, directive.id),
                leaves=tree.counts.total, deadline=due,
            )
        )  # fmt: skip


def _task_count(session: Session, directive_id: int) -> int:
    from sqlalchemy import func, select

    from lianfang.dispatch.models import Task

    query = select(func.count()).select_from(Task).where(Task.directive_id == directive_id)
    return int(session.scalar(query) or 0)


@directive_app.command("show")
def show_command(
    directive_id: Annotated[int, typer.Argument(help="部署编号 / Directive id.", min=1)],
    area: Annotated[
        str | None, typer.Option("--area", help="在该区划下汇总 / Roll up under this area.")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="以该用户身份查看 / As this user sees it.")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """部署进度：各下级区划已完成、逾期、未开始 / A directive's roll-up per child area: done,
    late, in progress, not started, and who is responsible."""
    from rich.table import Table

    from lianfang.areas.codes import short
    from lianfang.dispatch import rollup

    with unit_of_work(db) as session:
        actor = _as_user(session, user) if user else operator()
        tree = rollup.rollup(session=session, actor=actor, directive_id=directive_id, area=area)
    if as_json:
        from lianfang.dispatch.schemas import DirectiveDetail, DirectiveRead, RollupRead

        detail = DirectiveDetail(
            directive=DirectiveRead.of(tree.directive, tree.counts), rollup=RollupRead.of(tree)
        )
        _print_json(detail.model_dump(mode="json"))
        return
    lang = language()
    d = tree.directive
    say(_("%(title)s — due %(deadline)s, issued by %(by)s", title=d.title, deadline=d.deadline,
          by=d.issued_by_name))  # fmt: skip
    table = Table(title=str(_("Progress under %(area)s", area=tree.name).in_language(lang)))
    headers = (_("area"), _("code"), pgettext("progress", "done"), _("late"), _("in progress"),
               _("not started"), _("total"), _("responsible"), _("status"))  # fmt: skip
    for header in headers:
        table.add_column(header.in_language(lang))
    for row in tree.rows:
        c = row.counts
        table.add_row(
            row.name, short(row.area_code), str(c.done), str(c.late), str(c.in_progress),
            str(c.not_started), str(c.total), row.owner or "—",
            row.status.label(lang) if row.status else "—",
        )  # fmt: skip
    c = tree.counts
    table.add_row(
        _("total").in_language(lang), "", str(c.done), str(c.late), str(c.in_progress),
        str(c.not_started), str(c.total), "", "",
    )  # fmt: skip
    console.print(table)


@directive_app.command("list")
def list_command(
    user: Annotated[
        str | None, typer.Option("--user", help="以该用户身份查看 / As this user sees them.")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """部署列表 / Directives, newest first, with their tasks counted."""
    from rich.table import Table

    from lianfang.dispatch import rollup, service
    from lianfang.dispatch.schemas import DirectiveRead

    with unit_of_work(db) as session:
        actor = _as_user(session, user) if user else operator()
        found = service.list_directives(session=session, actor=actor)
        counts = rollup.summaries(session=session, actor=actor, directive_ids=[d.id for d in found])
    if as_json:
        _print_json([DirectiveRead.of(d, counts[d.id]).model_dump(mode="json") for d in found])
        return
    lang = language()
    table = Table()
    for header in (
        _("id"),
        _("title"),
        _("deadline"),
        pgettext("progress", "done"),
        _("late"),
        _("total"),
    ):
        table.add_column(header.in_language(lang))
    for d in found:
        c = counts[d.id]
        table.add_row(str(d.id), d.title, str(d.deadline), str(c.done), str(c.late), str(c.total))
    console.print(table)


@tasks_app.command("mine")
def mine_command(
    user: UserOption,
    finished: Annotated[
        bool, typer.Option("--all", help="含已核验的 / Include verified tasks.")
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """某用户的任务（含上报给他的逾期任务）/ A user's tasks and the overdue tasks escalated to
    them: open first, the nearest deadline first."""
    from rich.table import Table

    from lianfang.dispatch import service
    from lianfang.dispatch.schemas import TaskRead

    with unit_of_work(db) as session:
        actor = _as_user(session, user)
        found = service.my_tasks(session=session, actor=actor, include_finished=finished)
        wanted = [t.directive_id for t in found if t.directive_id is not None]
        titles = service.titles(session=session, directive_ids=wanted)
        rows = [TaskRead.of(t, title=titles.get(t.directive_id or 0)) for t in found]
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    lang = language()
    table = Table()
    for header in (_("id"), _("directive"), _("area"), _("deadline"), _("status")):
        table.add_column(header.in_language(lang))
    for r in rows:
        flags = (" ⚠" if r.late else "") + (" ↑" if r.escalated else "")
        table.add_row(str(r.id), r.directive_title or r.title or "", r.area_code, str(r.deadline),
                      r.status.label(lang) + flags)  # fmt: skip
    console.print(table)


@tasks_app.command("act")
def act_command(
    task_id: Annotated[int, typer.Argument(help="任务编号 / Task id.", min=1)],
    step: Annotated[Step, typer.Argument(help="办理步骤 / The step.")],
    user: UserOption,
    reason: Annotated[str, typer.Option("--reason", help="退回原因 / Why (to reject).")] = "",
    note: Annotated[
        str,
        typer.Option("--note", help="先附上一条说明作为佐证 / Add this note as evidence first."),
    ] = "",
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """办理任务：接收、开始、完成、核验、退回 / Take a step in a task's life as a user:
    accept, start, complete (needs evidence: --note), verify, reject (--reason)."""
    from lianfang.dispatch import evidence, service
    from lianfang.dispatch.choices import TaskAction
    from lianfang.dispatch.schemas import TaskRead

    with unit_of_work(db) as session:
        actor = _as_user(session, user)
        if note:
            evidence.add(session=session, actor=actor, task_id=task_id, text=note)
        task = service.act(session=session, actor=actor, task_id=task_id,
                           action=TaskAction.of(step.value), reason=reason)  # fmt: skip
        read = TaskRead.of(task)
    if as_json:
        _print_json(read.model_dump(mode="json"))
        return
    say(_("task %(id)s is now %(status)s", id=read.id, status=read.status.text))
