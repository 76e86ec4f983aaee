"""What every command shares: the database, the acting operator, console output.

The command line starts in a fraction of a second because nothing heavy (sqlalchemy, pydantic,
numpy, fastapi) is imported until a command runs: every module of ``lianfang.cli`` imports at
the top only typer, rich and the enums its options name, and imports the rest inside the
command that uses it. tests/cli/test_startup.py holds ``--help`` and ``--version`` to that."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from lianfang.i18n import Text, _, known, set_default_language

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from lianfang.auth.scope import Actor
    from lianfang.config import Settings
    from lianfang.io.sheets import Table

console = Console()
errors = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: LIANFANG_DATABASE_URL or sqlite:///lianfang.db)."
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
SheetArgument = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help=".xlsx 或 .csv / .xlsx or .csv"
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="只检查不写入 / Check every row, write nothing.")
]
SHOWN_ERRORS = 10
"""How many of a refused import's problems the terminal shows (the error workbook has all)."""


def settings_for(db: str | None) -> Settings:
    """The settings, with ``--db`` taking precedence over the environment and lianfang.toml."""
    from lianfang.config import get_settings

    if db:
        os.environ["LIANFANG_DATABASE_URL"] = db
        get_settings.cache_clear()
    return get_settings()


def open_engine(db: str | None, *, require_schema: bool = True) -> Engine:
    """Connect to the database; unless told otherwise, insist that its schema is current and
    set the process's clock (LIANFANG_TODAY, else the database's demo day, else the real date)."""
    from lianfang import logs
    from lianfang.db.engine import make_engine
    from lianfang.db.migrate import current_revision, head_revision
    from lianfang.errors import DatabaseUnavailableError

    settings = settings_for(db)
    path = settings.sqlite_path
    if require_schema and path is not None and str(path) != ":memory:" and not path.exists():
        raise DatabaseUnavailableError(
            _("database file %(path)s does not exist: run lianfang init", path=path),
        )
    logs.install()  # from here on libraries may log: never a person's numbers
    engine = make_engine(
        settings.database_url, pool_size=settings.pool_size, pool_timeout_s=settings.pool_timeout_s
    )
    if require_schema:
        current, head = current_revision(engine), head_revision(engine)
        if current != head:
            raise DatabaseUnavailableError(
                _("the database has no schema: run lianfang init")
                if current is None
                else _(
                    "the database is at %(current)s, needs %(head)s: run lianfang init",
                    current=current,
                    head=head,
                )
            )
        from lianfang import timeutil
        from lianfang.demo.service import clock_for

        timeutil.use(clock_for(engine=engine, setting=settings.today))
    return engine


@contextmanager
def unit_of_work(db: str | None) -> Iterator[Session]:
    """One all-or-nothing transaction on the configured database."""
    from lianfang.db.engine import make_sessionmaker, transaction

    engine = open_engine(db)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def operator() -> Actor:
    """The person at the terminal: they hold the database credentials, so act as administrator;
    the audit log names their operating-system account."""
    from lianfang.auth.choices import Role
    from lianfang.auth.scope import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return Actor(user_id=None, username=f"cli:{name}"[:64], role=Role.admin, area_code=None)


def language() -> str:
    """The language messages are printed in: LIANFANG_LANG, else the language setting."""
    from lianfang.config import get_settings

    chosen = os.environ.get("LIANFANG_LANG")
    current = known(chosen) if chosen else get_settings().language
    set_default_language(current)  # so choice labels and other text follow it too
    return current


def say(text: Text) -> None:
    """Print a line in the configured language."""
    console.print(text.in_language(language()))


@contextmanager
def reporting_rows(file: Path, table: Table) -> Iterator[None]:
    """An import of a sheet: when it is refused for its rows, the error workbook is written
    beside the file (``<stem>.errors.xlsx``) and the first problems are printed; the error
    then goes on (the command exits 1 with its message)."""
    from lianfang.errors import ImportFileError
    from lianfang.io import workbooks

    try:
        yield
    except ImportFileError as error:
        if error.rows:
            path = file.with_name(f"{file.stem}.errors.xlsx")
            path.write_bytes(workbooks.errors(table, error.rows))
            for row in error.rows[:SHOWN_ERRORS]:
                console.print(row.message(language()), highlight=False, soft_wrap=True)
            if len(error.rows) > SHOWN_ERRORS:
                say(_("… and %(value)s more", value=len(error.rows) - SHOWN_ERRORS))
            say(_("error report: %(path)s", path=path))
        raise
