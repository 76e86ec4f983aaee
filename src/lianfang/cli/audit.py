"""``lianfang audit``: check that the audit log has not been changed behind the application."""

from __future__ import annotations

import json

import typer

from lianfang.cli.common import DbOption, JsonOption, console, errors, operator, say, unit_of_work

app = typer.Typer(help="审计日志 / The audit log.", no_args_is_help=True)

BROKEN_EXIT = 4
"""The exit code when the chain is broken (1–3 are taken by ordinary errors)."""


@app.command("verify")
def verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """校验审计日志的哈希链 / Walk the audit log's hash chain; name the first broken link."""
    from lianfang.auth import audit  # where it is used: the CLI starts without it

    with unit_of_work(db) as session:
        verdict = audit.verify(session=session, actor=operator())
    broken = verdict.broken
    if as_json:
        console.print_json(json.dumps({
            "ok": broken is None, "rows": verdict.rows, "last_id": verdict.last_id,
            "head": verdict.head, "broken_at": broken.row_id if broken else None,
            "problem": broken.en if broken else None,
        }))  # fmt: skip
    elif broken is None:
        say(
            f"审计日志完整：{verdict.rows} 行，末行 {verdict.last_id}，链尾哈希 {verdict.head}",
            f"the audit log is intact: {verdict.rows} rows, last id {verdict.last_id}, "
            f"head {verdict.head}",
        )
    else:
        intact = f"{verdict.rows} rows before it are intact"
        errors.print(
            f"[bold red]审计日志被改动 / audit log tampered:[/] {broken.zh} / {broken.en} "
            f"({intact})",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    if broken is not None:
        raise typer.Exit(BROKEN_EXIT)
