"""The ``lianfang`` command: mounts every command group; turns errors into one-line messages."""

from __future__ import annotations

import os
import sys

import typer

from lianfang import __version__
from lianfang.cli import (
    alerts,
    areas,
    audit,
    briefing,
    common,
    dispatch,
    duty,
    forecast,
    people,
    resources,
    serve,
    setup,
    users,
    worker,
)
from lianfang.errors import LianfangError
from lianfang.pii import scrub

app = typer.Typer(
    name="lianfang",
    help="联防 lianfang — joint prevention and control command and dispatch.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("init")(setup.init)
app.command("demo")(setup.demo)
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.add_typer(areas.app, name="areas")
app.add_typer(users.app, name="user")
app.add_typer(forecast.app, name="forecast")
app.add_typer(people.app, name="people")
app.add_typer(resources.app, name="resources")
app.add_typer(alerts.app, name="alerts")
app.add_typer(audit.app, name="audit")
app.add_typer(dispatch.directive_app, name="directive")
app.add_typer(dispatch.tasks_app, name="tasks")
app.add_typer(duty.app, name="duty")
app.command("briefing")(briefing.briefing)


@app.callback(invoke_without_command=True)
def main(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    """联防 lianfang — joint prevention and control command and dispatch."""
    common.language()  # chosen once, before any command makes text (JSON included)
    if version:
        common.console.print(f"lianfang {__version__}")
        raise typer.Exit()


def _fail(message: str, code: int) -> int:
    common.errors.print(f"[bold red]错误 / error:[/] {message}", highlight=False, soft_wrap=True)
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and exit with its code; no traceback reaches the user unless LIANFANG_DEBUG=1."""
    code = _run(argv)
    sys.exit(code)


def _run(argv: list[str] | None) -> int:
    """Click reports usage errors itself (exit 2); our errors become one line each."""
    try:
        app(args=argv, prog_name="lianfang")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except LianfangError as exc:
        return _fail(exc.message(common.language()), exc.exit_code)
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(scrub(str(exc)), 1)
    except KeyboardInterrupt:
        return _fail("已取消 / aborted", 130)
    except Exception as exc:  # a bug: one line, never with a person's numbers
        code = _library_error(exc)
        if code is None:
            _traceback_if_debugging()
            code = _fail(
                f"程序内部错误 / internal error: {type(exc).__name__}: {scrub(str(exc))}", 70
            )
        return code
    return 0


def _library_error(exc: Exception) -> int | None:
    """Map pydantic's and sqlalchemy's errors (imported here, not at startup, to keep the
    command quick); None for anything else. Messages are scrubbed of ID numbers and phones."""
    from pydantic import ValidationError
    from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

    if isinstance(exc, IntegrityError):  # a refused write: the 409 the API answers
        from lianfang.db.errors import conflict

        refused = conflict(exc)
        return _fail(refused.message(common.language()), refused.exit_code)
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return _fail(f"{where}: {first['msg']}", 1)
    if isinstance(exc, OperationalError):
        reason = scrub(str(exc.orig or exc).splitlines()[0])
        return _fail(f"数据库错误 / database error: {reason}", 3)
    if isinstance(exc, SQLAlchemyError):
        _traceback_if_debugging()
        return _fail(f"数据库错误 / database error: {scrub(str(exc).splitlines()[0])}", 3)
    return None


def _traceback_if_debugging() -> None:
    """With LIANFANG_DEBUG=1, the traceback of the error being handled, numbers masked."""
    if os.environ.get("LIANFANG_DEBUG") == "1":
        import traceback  # only now: it costs the command's startup some 40 ms

        common.errors.print(
            scrub(traceback.format_exc()), markup=False, highlight=False, soft_wrap=True
        )
