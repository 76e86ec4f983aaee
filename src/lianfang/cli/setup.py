"""``lianfang init`` and ``lianfang demo``."""

from __future__ import annotations

import enum
import secrets
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from lianfang.cli import serve as serve_cmd
from lianfang.cli.common import DbOption, console, open_engine, operator, say, settings_for
from lianfang.demo import story  # the demo's default day; imports nothing heavy
from lianfang.i18n import _

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from lianfang.auth.scope import Actor
    from lianfang.demo import accounts, directives, world
    from lianfang.demo import duty as demo_duty


class Scale(enum.StrEnum):
    demo = "demo"
    city = "city"


def _password() -> tuple[str, bool]:
    """The administrator's password from LIANFANG_ADMIN_PASSWORD, else a fresh random one."""
    given = settings_for(None).admin_password
    return (given, False) if given else (secrets.token_urlsafe(12), True)


def _prepare(db: str | None) -> None:
    """Create or upgrade the schema."""
    from lianfang.db.migrate import upgrade

    engine = open_engine(db, require_schema=False)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _has_areas(session: Session) -> bool:
    from sqlalchemy import select

    from lianfang.areas.models import Area

    return session.scalar(select(Area.code).limit(1)) is not None


def init(db: DbOption = None) -> None:
    """Create or upgrade the schema, load Nantong's areas and create the administrator."""
    from lianfang.areas.loading import DEFAULT_CITY, load_directory
    from lianfang.auth import service as auth
    from lianfang.auth.choices import Role
    from lianfang.auth.schemas import UserCreate
    from lianfang.db.engine import make_sessionmaker, transaction

    _prepare(db)
    engine = open_engine(db)
    actor = operator()
    password, generated = _password()
    admin_in = UserCreate(
        username="admin", display_name="系统管理员", role=Role.admin, password=password
    )  # checked before anything is written
    loaded = 0
    with transaction(make_sessionmaker(engine)) as session:
        if not _has_areas(session):
            with console.status("正在导入南通市区划 / loading Nantong's divisions…"):
                loaded = load_directory(session=session, actor=actor, within=DEFAULT_CITY).inserted
        created = auth.get_user(session=session, username="admin") is None
        if created:
            auth.create_user(session=session, actor=actor, user_in=admin_in)
    engine.dispose()
    if loaded:
        say(_("loaded %(loaded)s areas", loaded=loaded))
    if created:
        _announce_admin(password, generated)
    else:
        say(_("administrator 'admin' exists; password unchanged"))
    say(_("the database is ready"))


def _announce_admin(password: str, generated: bool) -> None:
    if generated:
        say(
            _(
                "created administrator 'admin' with one-time password [bold]%(password)s[/] "
                "(keep it: it is not shown again)",
                password=password,
            ),
        )
    else:
        say(
            _("created administrator 'admin' with the password in LIANFANG_ADMIN_PASSWORD"),
        )


def demo(
    db: DbOption = None,
    scale: Annotated[
        Scale,
        typer.Option(
            help="Recorded with the build: demo = a sample of key persons, city = every "
            "resident aged 65+, for the domains that generate people. Areas are the same."
        ),
    ] = Scale.demo,
    seed: Annotated[int, typer.Option(help="Seed for everything the demo generates.")] = 20230105,
    today: Annotated[
        str,
        typer.Option(
            help="The day the demo world is in (YYYY-MM-DD, from 2022-12-11): follow-ups, kits "
            "and alerts are dated in the days before it, and serving this database shows it.",
        ),
    ] = story.TODAY.isoformat(),
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build only; do not serve.")] = False,
) -> None:
    """Build the Nantong demo world and serve it.

    Real divisions with placed coordinates and synthetic figures; refuses a database that holds
    surveyed coordinates or census population. Every demo account (admin included) gets the one
    password printed at the end: LIANFANG_ADMIN_PASSWORD, else a random one."""
    from lianfang.areas.loading import DEFAULT_CITY
    from lianfang.db.engine import make_sessionmaker, transaction
    from lianfang.demo import accounts

    _prepare(db)
    engine = open_engine(db)
    actor = operator()
    password, _generated = _password()
    with transaction(make_sessionmaker(engine)) as session:
        report = _build_world(session, actor, seed, scale.value, _day(today))
        planned = accounts.plan(session=session, actor=actor, city=DEFAULT_CITY)
        accounts.ensure(session=session, actor=actor, accounts=planned, password=password)
        accounts.link_responsibles(session=session, actor=actor, accounts=planned)
        orders = _directives(session, seed, DEFAULT_CITY, report.today)
        rosters = _rosters(session, seed, DEFAULT_CITY, report.today)
    engine.dispose()
    say(
        _(
            "demo world (scale %(scale)s, seed %(seed)s, day %(today)s): %(counties)s counties, "
            "%(towns)s towns, %(villages)s villages, %(residents)s residents; town and village "
            "positions are placed, not surveyed.",
            scale=scale.value,
            seed=seed,
            today=report.today,
            counties=report.counties,
            towns=report.towns,
            villages=report.villages,
            residents=f"{report.residents:,}",
        ),
    )
    key = report.people
    say(
        _(
            "key population (invented): %(persons)s persons, %(responsibles)s responsible "
            "persons, %(follow_ups)s follow-ups, %(alerts)s referral alerts, %(overdue)s overdue "
            "for a check-in today.",
            persons=f"{key.persons:,}",
            responsibles=f"{key.responsibles:,}",
            follow_ups=f"{key.follow_ups:,}",
            alerts=f"{key.alerts:,}",
            overdue=f"{key.overdue:,}",
        ),
    )
    say(
        _(
            "directives (invented): %(directives)s issued by the city, %(tasks)s tasks down to "
            "the villages, %(done)s done, %(escalated)s overdue and escalated; %(staff)s staff "
            "accounts own them (no one signs in with those).",
            directives=orders.directives, tasks=f"{orders.tasks:,}", done=f"{orders.done:,}",
            escalated=f"{orders.escalated:,}", staff=f"{orders.staff:,}",
        ),
    )  # fmt: skip
    say(
        _(
            "duty rosters (invented): %(shifts)s shifts of %(areas)s areas from yesterday to "
            "%(ahead)s days ahead, %(accounts)s demo accounts among them, "
            "%(handovers)s handover notes.",
            shifts=f"{rosters.shifts:,}", areas=rosters.areas, ahead=story.ROSTER_DAYS_AHEAD,
            accounts=rosters.accounts, handovers=rosters.handovers,
        ),
    )  # fmt: skip
    _print_accounts(planned, password)
    if not no_serve:
        settings = settings_for(None)
        serve_cmd.start(settings.host, settings.port, settings.workers)


def _directives(session: Session, seed: int, city: str, today: date) -> directives.DirectivesReport:
    """The story's directives, issued by the demo commander and carried forward to today."""
    from lianfang.auth import service as auth
    from lianfang.demo import directives

    commander = auth.get_user(session=session, username="commander")
    assert commander is not None
    return directives.generate(
        session=session, actor=auth.actor_for(commander), seed=seed, prefix=city, today=today
    )


def _rosters(session: Session, seed: int, city: str, today: date) -> demo_duty.DutyReport:
    """A week of duty rosters for the city, its counties and towns, arranged by the commander."""
    from lianfang.auth import service as auth
    from lianfang.demo import duty as demo_duty

    commander = auth.get_user(session=session, username="commander")
    assert commander is not None
    return demo_duty.generate(
        session=session, actor=auth.actor_for(commander), seed=seed, prefix=city, today=today
    )


def _day(text: str) -> date:
    """The demo's day from ``--today``."""
    from lianfang.errors import InvalidInputError
    from lianfang.i18n import _

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            _("--today must be a date as YYYY-MM-DD, not %(text)s", text=text)
        ) from None


def _build_world(
    session: Session, actor: Actor, seed: int, scale: str, today: date
) -> world.WorldReport:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from lianfang.demo import world

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("构建演示数据 / building", total=None)

        def tick(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"构建演示数据 / {stage}", completed=done, total=total)

        return world.build(
            session=session, actor=actor, seed=seed, scale=scale, progress=tick, today=today
        )


def _print_accounts(planned: list[accounts.DemoAccount], password: str) -> None:
    from rich.table import Table

    table = Table(title="演示账号 / demo accounts")
    for header in ("用户名 username", "角色 role", "管辖 area"):
        table.add_column(header)
    for account in planned:
        table.add_row(account.username, account.role.zh, account.area_name)
    console.print(table)
    say(_("password for all of them: [bold]%(password)s[/]", password=password))
