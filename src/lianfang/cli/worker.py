"""``lianfang worker``: the periodic jobs (escalation, reminders, ...) outside the web server."""

from __future__ import annotations

from typing import Annotated

import typer

from lianfang.cli.common import DbOption, JsonOption, open_engine, say
from lianfang.i18n import _


def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Run every due job once, then exit (for cron).")
    ] = False,
    job: Annotated[
        list[str] | None,
        typer.Option("--job", help="Only this job (repeatable); with --once, run it due or not."),
    ] = None,
    tick: Annotated[
        float, typer.Option(help="Seconds between looks for due jobs.", min=1, max=3600)
    ] = 30.0,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Run the periodic jobs: escalation, reminders, alert rules, regrading, notifications.

    Overdue tasks escalate and their owners are reminded, the alert rules run, grades are
    renewed on birthdays, notifications are delivered. Where several web processes serve
    (LIANFANG_JOBS=false on them), one worker runs the jobs; the lease table keeps each job to
    one process at a time, so a second worker does no harm."""
    import json

    from lianfang import jobs, logs
    from lianfang.db.engine import make_sessionmaker
    from lianfang.errors import InvalidInputError

    logs.install()
    engine = open_engine(db)
    factory = make_sessionmaker(engine)
    registry = jobs.load()
    if job:
        unknown = [name for name in job if name not in registry]
        if unknown:
            raise InvalidInputError(
                _(
                    "no job %(names)s; the jobs are %(known)s",
                    names=", ".join(unknown), known=", ".join(sorted(registry)),
                )
            )  # fmt: skip
    if once:
        outcome = jobs.run_due(factory, names=job, force=bool(job))
        if as_json:
            print(json.dumps({"ran": outcome.ran, "skipped": outcome.skipped,
                              "failed": outcome.failed}, ensure_ascii=False))  # fmt: skip
        else:
            for name, changed in outcome.ran.items():
                say(_("%(job)s: %(n)s records changed", job=name, n=changed))
            for name in outcome.skipped:
                say(_("%(job)s: not due, or running elsewhere", job=name))
            for name, error in outcome.failed.items():
                say(_("%(job)s failed: %(error)s", job=name, error=error))
        if outcome.failed:
            raise typer.Exit(1)
        return
    say(_("lianfang worker: running %(n)s jobs (Ctrl+C to stop)", n=len(registry)))
    jobs.Runner(factory, tick=tick).loop()
