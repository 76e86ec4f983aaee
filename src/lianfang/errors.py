"""The one family of errors that services raise, each with one message (``_()``).

``api/errors.py`` maps them to HTTP responses and ``cli/main.py`` to exit codes.
"""

from __future__ import annotations

from lianfang.i18n import Text, _, current_language


class LianfangError(Exception):
    """Something the user can fix; the message says what and where."""

    status_code = 400
    exit_code = 1
    kind = "invalid"

    def __init__(self, message: Text) -> None:
        self.text = message
        super().__init__(message.in_language("en"))

    def message(self, language: str | None = None) -> str:
        """The message in the given language (the current one by default)."""
        return self.text.in_language(language or current_language())

    @property
    def zh(self) -> str:
        """The message in Chinese."""
        return self.message("zh")

    @property
    def en(self) -> str:
        """The message in English."""
        return self.message("en")


class InvalidInputError(LianfangError):
    """Input that cannot be accepted (a malformed code, a bad value). ``fields`` names the
    problem of each field when a form can show it beside that field."""

    def __init__(self, message: Text, *, fields: dict[str, Text] | None = None) -> None:
        super().__init__(message)
        self.fields: dict[str, Text] = dict(fields or {})


class NotFoundError(LianfangError):
    status_code = 404
    kind = "not_found"


class ConflictError(LianfangError):
    status_code = 409
    kind = "conflict"


class AuthenticationError(LianfangError):
    status_code = 401
    kind = "unauthenticated"


class PermissionDenied(LianfangError):
    status_code = 403
    kind = "forbidden"


class DatabaseUnavailableError(LianfangError):
    status_code = 503
    exit_code = 3
    kind = "database_unavailable"


class RateLimitedError(LianfangError):
    """A caller asked more often than allowed (the public lookup's per-address limit); it may
    ask again after ``retry_after_s`` seconds."""

    status_code = 429
    kind = "rate_limited"

    def __init__(self, message: Text, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, retry_after_s)


class ImportRowError(LianfangError):
    """A row of an imported file that cannot be accepted; names file, row, column."""

    kind = "import_row"

    def __init__(
        self,
        *,
        sheet: str,
        row: int,
        column: str,
        message: Text,
    ) -> None:
        self.sheet = sheet
        self.row = row
        self.column = column
        # the problem alone, for forms that name the field
        self.problem = message
        super().__init__(
            _(
                "%(sheet)s, row %(row)s, column %(column)s: %(problem)s",
                sheet=sheet,
                row=row,
                column=column,
                problem=self.problem,
            )
        )


class ImportFileError(LianfangError):
    """A file that cannot be imported at all, or whose rows hold errors (nothing was written)."""

    kind = "import_file"

    def __init__(self, message: Text, rows: list[ImportRowError] | None = None) -> None:
        super().__init__(message)
        self.rows = rows or []
