"""Duty rosters: arranging who is on duty (with the two rules every headquarters keeps — nobody
twice at once, one leader per area and shift), who is on duty now or tonight (falling back to
the nearest level above), and handover notes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.areas import codes
from lianfang.areas.choices import AreaLevel
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.models import User
from lianfang.auth.scope import Actor
from lianfang.duty.choices import HOURS, DutyRole, Shift
from lianfang.duty.models import DutyHandover, DutyShift
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError
from lianfang.i18n import _
from lianfang.pii import mask_phone

NAME_MAX, PHONE_MAX, NOTE_MAX, HANDOVER_MAX = 100, 20, 1000, 4000
MAX_DAYS = 92
"""The longest date range a list or an export covers (a quarter)."""
TONIGHT = time(22)
"""The moment "tonight's duty" is read at: who is on duty at 22:00 of the day."""
PHONE_CHARS = frozenset("0123456789-")


@dataclass(frozen=True)
class ShiftIn:
    """What a duty shift is arranged or changed with (None: keep, on a change)."""

    area_code: str | None = None
    on_date: date | None = None
    shift: Shift | None = None
    role: DutyRole | None = None
    name: str | None = None
    user_id: int | None = None
    username: str | None = None  # names the user instead of user_id (imports)
    phone: str | None = None
    note: str | None = None
    start: time | None = None  # the shift's own hours instead of its usual ones
    end: time | None = None


def window(
    on_date: date, shift: Shift, start: time | None = None, end: time | None = None
) -> tuple[datetime, datetime]:
    """When a shift of a day starts and ends (aware UTC); an end not after the start is the
    next day."""
    usual_start, usual_end = HOURS[shift]
    begin = datetime.combine(on_date, start or usual_start, tzinfo=timeutil.LOCAL_TZ)
    finish = datetime.combine(on_date, end or usual_end, tzinfo=timeutil.LOCAL_TZ)
    if finish <= begin:
        finish += timedelta(days=1)
    return begin.astimezone(UTC), finish.astimezone(UTC)


def shown_phone(actor: Actor, phone: str) -> str:
    """A duty phone as this actor may see it: whole with ``pii.reveal``, else masked."""
    if not phone or actor.can(Permission.pii_reveal):
        return phone
    return mask_phone(phone)


# --- arranging -------------------------------------------------------------------------------


def _area(session: Session, actor: Actor, raw: str) -> Area:
    code = codes.normalise(raw)
    area = session.get(Area, code)
    if area is None:
        raise NotFoundError(_("no area %(code)s", code=raw))
    actor.require_area(code, area.name)
    return area


def _user(session: Session, data: ShiftIn) -> User | None:
    if data.user_id is not None:
        user = session.get(User, data.user_id)
        if user is None:
            raise NotFoundError(_("no user %(id)s", id=data.user_id))
        return user
    if data.username:
        user = session.scalar(select(User).where(User.username == data.username.strip()))
        if user is None:
            raise NotFoundError(_("no user %(username)s", username=data.username))
        return user
    return None


def _phone(raw: str) -> str:
    phone = raw.strip().replace(" ", "").removeprefix("+86")
    if phone and ("*" in phone or not set(phone) <= PHONE_CHARS or not 7 <= len(phone) <= 20):
        raise InvalidInputError(
            _("not a phone number: %(value)s (digits and '-', 7 to 20 of them; a masked number "
              "cannot be stored)", value=mask_phone(phone)),
            fields={"phone": _("a phone number")},
        )  # fmt: skip
    return phone


def create(*, session: Session, actor: Actor, data: ShiftIn) -> DutyShift:
    """Put a person on duty in an area for a day's shift."""
    actor.require(Permission.duty_manage)
    if data.area_code is None or data.on_date is None or data.shift is None or data.role is None:
        raise InvalidInputError(_("a duty shift needs an area, a date, a shift and a role"))
    area = _area(session, actor, data.area_code)
    user = _user(session, data)
    name = (data.name or (user.display_name if user else "")).strip()
    row = DutyShift(
        area_code=area.code, on_date=data.on_date, shift=data.shift, role=data.role,
        user_id=user.id if user else None, name=name[:NAME_MAX], phone=_phone(data.phone or ""),
        note=(data.note or "").strip()[:NOTE_MAX], created_by=actor.username,
    )  # fmt: skip
    row.starts_at, row.ends_at = window(data.on_date, data.shift, data.start, data.end)
    _check(session, row)
    session.add(row)
    session.flush()
    _audit(session, actor, AuditAction.create, row)
    return row


def get(*, session: Session, actor: Actor, shift_id: int) -> DutyShift:
    """A duty shift of an area in scope."""
    actor.require(Permission.dispatch_read)
    row = session.get(DutyShift, shift_id)
    if row is None or not actor.reaches(row.area_code):
        raise NotFoundError(_("no duty shift %(id)s", id=shift_id))
    return row


def update(*, session: Session, actor: Actor, shift_id: int, data: ShiftIn) -> DutyShift:
    """Change a duty shift: its person, phone, note, role, day or hours."""
    actor.require(Permission.duty_manage)
    row = get(session=session, actor=actor, shift_id=shift_id)
    if data.area_code is not None:
        row.area_code = _area(session, actor, data.area_code).code
    if data.user_id is not None or data.username:
        user = _user(session, data)
        row.user_id = user.id if user else None
        row.name = (data.name or (user.display_name if user else row.name)).strip()[:NAME_MAX]
    elif data.name is not None:
        row.name = data.name.strip()[:NAME_MAX]
    if data.phone is not None:
        row.phone = _phone(data.phone)
    if data.note is not None:
        row.note = data.note.strip()[:NOTE_MAX]
    if data.role is not None:
        row.role = data.role
    timing = (data.on_date, data.shift, data.start, data.end)
    if any(v is not None for v in timing):
        row.on_date, row.shift = data.on_date or row.on_date, data.shift or row.shift
        start = data.start or timeutil.local(row.starts_at).time()
        end = data.end or timeutil.local(row.ends_at).time()
        if data.start is None and data.end is None:
            start, end = HOURS[row.shift]
        row.starts_at, row.ends_at = window(row.on_date, row.shift, start, end)
    _check(session, row)
    session.flush()
    _audit(session, actor, AuditAction.update, row)
    return row


def delete(*, session: Session, actor: Actor, shift_id: int) -> None:
    """Take a person off a duty shift."""
    actor.require(Permission.duty_manage)
    row = get(session=session, actor=actor, shift_id=shift_id)
    _audit(session, actor, AuditAction.delete, row)
    session.delete(row)
    session.flush()


def _check(session: Session, row: DutyShift) -> None:
    """A named person, nobody twice at once, one leader per area and shift."""
    if not row.name:
        raise InvalidInputError(_("a person on duty needs a name"), fields={"name": _("required")})
    overlapping = and_(DutyShift.starts_at < row.ends_at, DutyShift.ends_at > row.starts_at)
    others = [overlapping] + ([DutyShift.id != row.id] if row.id is not None else [])
    clash = session.scalar(select(DutyShift).where(*others, _same_person(row)).limit(1))
    if clash is not None:
        raise ConflictError(
            _("%(name)s is already on duty then: %(when)s in %(area)s", name=row.name,
              when=_when(clash), area=_area_name(session, clash.area_code))
        )  # fmt: skip
    row.leader_key = None
    if row.role is DutyRole.leader:
        leader = session.scalar(
            select(DutyShift)
            .where(*others, DutyShift.area_code == row.area_code,
                   DutyShift.role == DutyRole.leader)
            .limit(1)
        )  # fmt: skip
        if leader is not None:
            raise ConflictError(
                _("%(area)s already has a leader on duty then: %(name)s (%(when)s)",
                  area=_area_name(session, row.area_code), name=leader.name, when=_when(leader))
            )  # fmt: skip
        row.leader_key = f"{row.area_code}:{row.on_date.isoformat()}:{row.shift.value}"


def _same_person(row: DutyShift) -> ColumnElement[bool]:
    """The same person: the same user; else the same phone; else the same name in the area."""
    if row.user_id is not None:
        return DutyShift.user_id == row.user_id
    if row.phone:
        return DutyShift.phone == row.phone
    return and_(DutyShift.name == row.name, DutyShift.area_code == row.area_code)


def _when(row: DutyShift) -> str:
    start, end = timeutil.local(row.starts_at), timeutil.local(row.ends_at)
    return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"


def _area_name(session: Session, code: str) -> str:
    return session.scalar(select(Area.name).where(Area.code == code)) or code


def _audit(session: Session, actor: Actor, action: AuditAction, row: DutyShift) -> None:
    """The audit row of a change: who, where, when and as what; never the phone."""
    audit.record(
        session=session, actor=actor, action=action, entity_type="duty_shift",
        entity_id=str(row.id), area_code=row.area_code,
        detail={"date": row.on_date.isoformat(), "shift": row.shift.value,
                "role": row.role.value, "name": row.name, "user_id": row.user_id},
    )  # fmt: skip


# --- reading ---------------------------------------------------------------------------------


def check_range(start: date, end: date) -> None:
    """A date range a list covers: in order, at most ``MAX_DAYS`` days."""
    if end < start:
        raise InvalidInputError(_("the range ends before it starts"), fields={"to": _("too early")})
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInputError(
            _("at most %(days)s days at a time", days=MAX_DAYS), fields={"to": _("too late")}
        )


def listed(
    *, session: Session, actor: Actor, area_code: str, start: date, end: date,
    depth: int | None = None,
) -> list[DutyShift]:  # fmt: skip
    """The duty shifts of an area and the areas below it (``depth`` levels down; all when None)
    between two days, by area, day, start and role (leader first)."""
    actor.require(Permission.dispatch_read)
    check_range(start, end)
    area = _area(session, actor, area_code)
    query = select(DutyShift).where(
        codes.in_subtree(DutyShift.area_code, codes.short(area.code)),
        DutyShift.on_date.between(start, end),
    )
    if depth is not None:
        levels = list(AreaLevel)[area.level.depth : area.level.depth + depth + 1]
        query = query.join(Area, Area.code == DutyShift.area_code).where(Area.level.in_(levels))
    order = (DutyShift.area_code, DutyShift.on_date, DutyShift.starts_at, DutyShift.role,
             DutyShift.id)  # fmt: skip
    return list(session.scalars(query.order_by(*order)))


@dataclass(frozen=True)
class OnDuty:
    """Who is on duty for an area at a moment: the leader first, then the staff. ``source`` is
    the area whose roster answered — the area itself, or the nearest one above with someone on
    duty. ``handover`` is the last note handed over in ``source`` before the moment."""

    area: Area
    at: datetime
    source: Area | None
    shifts: list[DutyShift] = field(default_factory=list)
    handover: DutyHandover | None = None

    @property
    def fallback(self) -> bool:
        """True when nobody is on duty in the area itself and a level above answered."""
        return self.source is not None and self.source.code != self.area.code


def _covering(session: Session, area_codes: Sequence[str], at: datetime) -> list[DutyShift]:
    return list(
        session.scalars(
            select(DutyShift)
            .where(
                DutyShift.area_code.in_(area_codes),
                DutyShift.starts_at <= at,
                DutyShift.ends_at > at,
            )
            .order_by(DutyShift.area_code, DutyShift.role, DutyShift.starts_at, DutyShift.id)
        )
    )


def chain(code: str) -> list[str]:
    """An area's code and those of the areas above it, nearest first."""
    out = [code]
    while (parent := codes.parent_of(out[-1])) is not None:
        out.append(parent)
    return out


def on_duty_at(session: Session, area_code: str, at: datetime) -> list[DutyShift]:
    """Who is on duty at a moment for an area, else for the nearest area above with someone:
    what alert routing reads (no actor: it runs for the system)."""
    above = chain(area_code)
    found = _covering(session, above, at)
    for code in above:
        mine = [s for s in found if s.area_code == code]
        if mine:
            return mine
    return []


def on_duty(
    *, session: Session, actor: Actor, area_code: str, at: datetime | None = None
) -> OnDuty:
    """Who is on duty for an area now (or at a moment), falling back to the level above."""
    actor.require(Permission.dispatch_read)
    area = _area(session, actor, area_code)
    moment = at or timeutil.now()
    shifts = on_duty_at(session, area.code, moment)
    source = area if not shifts or shifts[0].area_code == area.code else None
    if shifts and source is None:
        source = session.get(Area, shifts[0].area_code)
    handover = None
    if source is not None:
        handover = session.scalar(
            select(DutyHandover)
            .where(DutyHandover.area_code == source.code, DutyHandover.created_at <= moment)
            .order_by(DutyHandover.created_at.desc(), DutyHandover.id.desc())
            .limit(1)
        )
    return OnDuty(area=area, at=moment, source=source if shifts else None, shifts=shifts,
                  handover=handover)  # fmt: skip


def tonight_at(day: date) -> datetime:
    """The moment tonight's duty is read at (22:00 of the day, aware UTC)."""
    return datetime.combine(day, TONIGHT, tzinfo=timeutil.LOCAL_TZ).astimezone(UTC)


def tonight(*, session: Session, actor: Actor, area_code: str, day: date | None = None) -> OnDuty:
    """Who is on duty for an area tonight (22:00 of the day, today by default)."""
    return on_duty(
        session=session, actor=actor, area_code=area_code,
        at=tonight_at(day or timeutil.today()),
    )  # fmt: skip


def tonight_list(
    session: Session, area_codes: Iterable[str], day: date
) -> dict[str, list[DutyShift]]:
    """Per area, who is on duty there at 22:00 of the day (its own roster only): the
    briefing's duty list."""
    wanted = list(area_codes)
    out: dict[str, list[DutyShift]] = {code: [] for code in wanted}
    for row in _covering(session, wanted, tonight_at(day)):
        out[row.area_code].append(row)
    return out


@dataclass(frozen=True)
class DutyMap:
    """Who is on duty everywhere at one moment, read once: for a job that tells many areas."""

    staffed: frozenset[str]  # areas with anyone on duty
    users: dict[str, frozenset[int]]  # of them, the accounts on duty

    def user_ids(self, area_code: str) -> list[int]:
        """The accounts on duty for an area, else for the nearest area above with anyone."""
        for code in chain(area_code):
            if code in self.staffed:
                return sorted(self.users.get(code, frozenset()))
        return []


def duty_map(session: Session, at: datetime | None = None) -> DutyMap:
    """Everyone on duty at a moment (now by default)."""
    moment = at or timeutil.now()
    rows = session.execute(
        select(DutyShift.area_code, DutyShift.user_id).where(
            DutyShift.starts_at <= moment, DutyShift.ends_at > moment
        )
    ).all()
    users: dict[str, set[int]] = {}
    for code, user_id in rows:
        users.setdefault(code, set())
        if user_id is not None:
            users[code].add(user_id)
    return DutyMap(frozenset(users), {c: frozenset(u) for c, u in users.items()})


def user_ids_on_duty(session: Session, area_code: str, at: datetime | None = None) -> list[int]:
    """The users on duty for an area at a moment (now by default), with the fallback above:
    whom an alert or an escalation there is also told."""
    moment = at or timeutil.now()
    return sorted({s.user_id for s in on_duty_at(session, area_code, moment) if s.user_id})


# --- handover --------------------------------------------------------------------------------


def hand_over(
    *, session: Session, actor: Actor, area_code: str, on_date: date, shift: Shift, text: str
) -> DutyHandover:
    """The outgoing shift's note to the incoming one."""
    actor.require(Permission.dispatch_work)
    area = _area(session, actor, area_code)
    text = text.strip()
    if not text:
        raise InvalidInputError(_("a handover note needs text"), fields={"text": _("required")})
    row = DutyHandover(
        area_code=area.code, on_date=on_date, shift=shift, text=text[:HANDOVER_MAX],
        written_by=actor.user_id, written_by_name=actor.username,
        created_at=timeutil.now(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session=session, actor=actor, action=AuditAction.create, entity_type="duty_handover",
        entity_id=str(row.id), area_code=area.code,
        detail={"date": on_date.isoformat(), "shift": shift.value},
    )  # fmt: skip
    return row


def handovers(
    *, session: Session, actor: Actor, area_code: str, start: date, end: date
) -> list[DutyHandover]:
    """The handover notes of an area (only its own) between two days, newest first."""
    actor.require(Permission.dispatch_read)
    check_range(start, end)
    area = _area(session, actor, area_code)
    return list(
        session.scalars(
            select(DutyHandover)
            .where(DutyHandover.area_code == area.code, DutyHandover.on_date.between(start, end))
            .order_by(DutyHandover.created_at.desc(), DutyHandover.id.desc())
        )
    )


def mark_handovers_read(
    *, session: Session, actor: Actor, handover_ids: Sequence[int]
) -> list[DutyHandover]:
    """The incoming person has read these notes (the first reader of each is kept); a note of
    an area out of scope is not found."""
    actor.require(Permission.dispatch_work)
    wanted = sorted(set(handover_ids))
    found = {
        h.id: h for h in session.scalars(select(DutyHandover).where(DutyHandover.id.in_(wanted)))
    }
    for handover_id in wanted:
        row = found.get(handover_id)
        if row is None or not actor.reaches(row.area_code):
            raise NotFoundError(_("no handover note %(id)s", id=handover_id))
        if row.read_at is None:
            row.read_by, row.read_by_name = actor.user_id, actor.username
            row.read_at = timeutil.now()
    session.flush()
    return [found[i] for i in wanted]
