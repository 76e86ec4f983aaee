"""Who is acting and what they may reach: every service call checks both."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.orm import QueryableAttribute

from lianfang.areas import codes
from lianfang.auth.choices import Permission, Role
from lianfang.errors import PermissionDenied
from lianfang.i18n import _


@dataclass(frozen=True)
class Actor:
    """The signed-in user (or the operator at the CLI) on whose behalf a service acts."""

    user_id: int | None
    username: str
    role: Role
    area_code: str | None
    ip: str | None = None

    @property
    def prefix(self) -> str:
        """The code prefix every reachable area starts with ('' for everything)."""
        return codes.short(self.area_code) if self.area_code else ""

    def can(self, permission: Permission) -> bool:
        """True when the role holds the permission."""
        return permission in self.role.permissions

    def require(self, permission: Permission) -> None:
        """Raise unless the role holds the permission."""
        if not self.can(permission):
            raise PermissionDenied(
                _(
                    "your role (%(role)s) may not %(permission)s",
                    role=self.role.text,
                    permission=permission.text,
                ),
            )

    def reaches(self, code: str) -> bool:
        """True when the area lies within this actor's scope."""
        return code.startswith(self.prefix)

    def require_area(self, code: str, name: str | None = None) -> None:
        """Raise unless the area lies within this actor's scope."""
        if not self.reaches(code):
            raise PermissionDenied(
                _(
                    "area %(name)s (%(code)s) is outside your scope",
                    name=name,
                    code=codes.short(code),
                )
                if name
                else _("area %(code)s is outside your scope", code=codes.short(code))
            )

    def area_filter(
        self, column: QueryableAttribute[str] | QueryableAttribute[str | None]
    ) -> ColumnElement[bool]:
        """A WHERE clause keeping rows whose area code lies within scope."""
        return codes.in_subtree(column, self.prefix)


SYSTEM = Actor(user_id=None, username="system", role=Role.admin, area_code=None)
"""The actor for work the operator runs at the CLI with direct database access."""
