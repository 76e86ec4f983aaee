"""Tonight's duty list of a briefing: for the area and each child area, the leader and the
staff on duty there at 22:00 of the briefing's day (the area's own roster, no fallback: an area
nobody covers is what a meeting must see), with phones as the reader may see them. One query
for every area (``duty.service.tonight_list``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth.choices import Permission
from lianfang.auth.scope import Actor
from lianfang.duty import service as duty
from lianfang.duty.choices import DutyRole, Shift


@dataclass(frozen=True)
class Person:
    """Someone on duty tonight: name, phone (masked unless the reader has ``pii.reveal``) and
    the shift's local hours."""

    name: str
    phone: str
    shift: Shift
    hours: str  # "20:00–08:00"


@dataclass(frozen=True)
class DutyRow:
    """An area's duty tonight: its leader(s) and staff; both empty when nobody is arranged."""

    code: str
    name: str
    leaders: list[Person] = field(default_factory=list)
    staff: list[Person] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        """True when anyone is on duty in the area tonight."""
        return bool(self.leaders or self.staff)


def _hours(start: datetime, end: datetime) -> str:
    return f"{timeutil.local(start):%H:%M}–{timeutil.local(end):%H:%M}"


def duty_list(
    session: Session, actor: Actor, areas: Sequence[tuple[str, str]], day: date
) -> list[DutyRow] | None:
    """Tonight's duty of each area (code, name), in the order given; None when the reader may
    not read duty rosters (``dispatch.read``)."""
    if not actor.can(Permission.dispatch_read):
        return None
    found = duty.tonight_list(session, [code for code, _name in areas], day)
    out = []
    for code, name in areas:
        row = DutyRow(code, name)
        for s in found.get(code, []):
            person = Person(s.name, duty.shown_phone(actor, s.phone), s.shift,
                            _hours(s.starts_at, s.ends_at))  # fmt: skip
            (row.leaders if s.role is DutyRole.leader else row.staff).append(person)
        out.append(row)
    return out
