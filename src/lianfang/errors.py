"""The one family of errors that services raise, each with a Chinese and an English message.

``api/errors.py`` maps them to HTTP responses and ``cli/main.py`` to exit codes.
"""

from __future__ import annotations


class LianfangError(Exception):
    """Something the user can fix; the message says what and where."""

    status_code = 400
    exit_code = 1
    kind = "invalid"

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en

    def message(self, language: str = "zh") -> str:
        """The message in the given language."""
        return self.zh if language == "zh" else self.en


class InvalidInputError(LianfangError):
    """Input that cannot be accepted (a malformed code, a bad value)."""


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


class ImportRowError(LianfangError):
    """A row of an imported file that cannot be accepted; names file, row, column."""

    kind = "import_row"

    def __init__(self, *, sheet: str, row: int, column: str, zh: str, en: str) -> None:
        self.sheet = sheet
        self.row = row
        self.column = column
        self.problem = {"zh": zh, "en": en}  # the problem alone, for forms that name the field
        super().__init__(
            f"{sheet} 第 {row} 行「{column}」列：{zh}",
            f"{sheet}, row {row}, column {column}: {en}",
        )


class ImportFileError(LianfangError):
    """A file that cannot be imported at all, or whose rows hold errors (nothing was written)."""

    kind = "import_file"

    def __init__(self, zh: str, en: str, rows: list[ImportRowError] | None = None) -> None:
        super().__init__(zh, en)
        self.rows = rows or []
