"""No personal data in logs: a filter that masks ID numbers and phones in every record, its
message and its traceback, installed on the handlers that write the server's and the CLI's logs.

SQL parameters never reach an error message in the first place (the engine is made with
``hide_parameters=True``); this filter catches what a database puts in its own messages (a
PostgreSQL ``DETAIL: Key (id_number)=(…)``) and anything a future bug prints.
"""

from __future__ import annotations

import logging
from typing import Any

from lianfang.pii import scrub

SERVER_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "lianfang")


class PiiFilter(logging.Filter):
    """Mask ID numbers and phones in a record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = scrub(message), ()
        if record.exc_info and record.exc_info[0] is not None:
            # Formatters take exc_text as given when it is set: format the traceback now, masked.
            record.exc_text = scrub(_formatter.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


_formatter = logging.Formatter()


def add_filter(handler: logging.Handler) -> None:
    """Put the filter on a handler once."""
    if not any(isinstance(f, PiiFilter) for f in handler.filters):
        handler.addFilter(PiiFilter())


def install(logger_names: tuple[str, ...] = SERVER_LOGGERS) -> None:
    """Filter every handler of these loggers, and the last-resort handler that writes warnings
    when no handler is configured."""
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            add_filter(handler)
    if logging.lastResort is not None:
        add_filter(logging.lastResort)


def uvicorn_config() -> dict[str, Any]:
    """Uvicorn's own logging configuration with the filter on each of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "filters": {"pii": {"()": PiiFilter}},
        "handlers": {
            name: {**handler, "filters": ["pii"]}
            for name, handler in LOGGING_CONFIG["handlers"].items()
        },
    }
    return config
