"""The stock ledger: every movement is one final line, and each facility × item balance is kept
as a running row changed in the same transaction.

A movement that takes stock out is one conditional UPDATE (``balance >= quantity``): on
PostgreSQL the row lock makes a second clerk wait for the first, then re-checks the condition
against the committed balance; on SQLite writers hold the write lock from their start
(``begin_write``). Either way, two clerks issuing the last units cannot both succeed, and the
CHECK constraint ``balance >= 0`` stands behind it. Movements that touch two balances (a
transfer, the correction of one) lock both rows in key order first, so they cannot deadlock.
A mistake is corrected by a counter-movement, never by editing a line; every line is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.db.engine import begin_write
from lianfang.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDenied
from lianfang.i18n import _
from lianfang.people.models import Person
from lianfang.resources.choices import MovementKind
from lianfang.resources.models import (
    Facility,
    FacilityOperator,
    Item,
    StockBalance,
    StockMovement,
)

MAX_QUANTITY = 10_000_000
TAKES = frozenset({MovementKind.issue, MovementKind.transfer_out})


@dataclass(frozen=True)
class Line:
    """One line to append: a signed quantity at a facility."""

    facility: Facility
    item: Item
    kind: MovementKind
    quantity: int
    counterpart_id: int | None = None
    person_id: int | None = None
    ward: str = ""
    reverses_id: int | None = None
    pair_id: int | None = None


def require_report(session: Session, actor: Actor, facility: Facility) -> None:
    """Refuse unless the actor may report for this facility: any facility of their area with
    ``resources.report``, or one they are named operator of with ``resources.report_own``."""
    if actor.can(Permission.resources_report):
        actor.require_area(facility.area_code)
        return
    if actor.can(Permission.resources_report_own):
        if _operates(session, actor, facility):
            return
        raise PermissionDenied(
            _(
                "you report only for the facilities you operate, not %(name)s",
                name=facility.name,
            )
        )
    actor.require(Permission.resources_report)


def facility(session: Session, actor: Actor, facility_id: int) -> Facility:
    """A facility the actor can see (404 otherwise)."""
    actor.require(Permission.resources_read)
    found = session.get(Facility, facility_id)
    if found is None or not (actor.reaches(found.area_code) or _operates(session, actor, found)):
        raise NotFoundError(_("no facility with id %(id)s", id=facility_id))
    return found


def _operates(session: Session, actor: Actor, found: Facility) -> bool:
    if actor.user_id is None or not actor.can(Permission.resources_report_own):
        return False
    return session.get(FacilityOperator, (found.id, actor.user_id)) is not None


def item(session: Session, item_id: int) -> Item:
    """An item of the catalogue."""
    found = session.get(Item, item_id)
    if found is None:
        raise NotFoundError(_("no item with id %(id)s", id=item_id))
    return found


def item_by_code(session: Session, code: str) -> Item:
    """An item by its code (``ibuprofen``) or its name (布洛芬)."""
    text = code.strip()
    found = session.scalar(select(Item).where((Item.code == text) | (Item.name == text)))
    if found is None:
        known = session.scalars(select(Item.code).order_by(Item.code)).all()
        raise NotFoundError(
            _("no item '%(code)s'; known: %(known)s", code=text, known=", ".join(known))
        )
    return found


def _quantity(quantity: int) -> int:
    if not 0 < quantity <= MAX_QUANTITY:
        raise InvalidInputError(
            _("quantity must be from 1 to %(max)s, not %(quantity)s", max=MAX_QUANTITY,
              quantity=quantity)
        )  # fmt: skip
    return quantity


def _ensure_rows(
    session: Session, keys: Sequence[tuple[Facility, Item]], at: datetime, *, lock: bool = True
) -> None:
    """Make the balance rows exist (at zero), then lock them in key order (unless ``lock`` is
    false: a single row is locked by the UPDATE that changes it)."""
    rows = [
        {"facility_id": f.id, "item_id": i.id, "area_code": f.area_code, "balance": 0,
         "moved_at": at}
        for f, i in keys
    ]  # fmt: skip
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StockBalance)
    session.execute(insert.on_conflict_do_nothing(), rows)
    if dialect == "postgresql" and lock:
        pairs = sorted({(f.id, i.id) for f, i in keys})
        session.execute(
            select(StockBalance.facility_id)
            .where(tuple_(StockBalance.facility_id, StockBalance.item_id).in_(pairs))
            .order_by(StockBalance.facility_id, StockBalance.item_id)
            .with_for_update()
        )


def _apply(session: Session, line: Line, at: datetime) -> int:
    """Change one balance by a signed quantity; return the balance after. Refuses (409) a
    change that would take it below zero, naming what is left."""
    key = and_(StockBalance.facility_id == line.facility.id, StockBalance.item_id == line.item.id)
    condition = [key]
    if line.quantity < 0:
        condition.append(StockBalance.balance >= -line.quantity)
    after = session.execute(
        update(StockBalance)
        .where(*condition)
        .values(balance=StockBalance.balance + line.quantity, moved_at=at)
        .returning(StockBalance.balance)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    if after is None:
        left = session.scalar(select(StockBalance.balance).where(key)) or 0
        raise ConflictError(
            _(
                "%(facility)s holds only %(left)s %(unit)s of %(item)s; cannot take %(quantity)s",
                facility=line.facility.name, left=left, unit=line.item.unit,
                item=line.item.name, quantity=-line.quantity,
            )
        )  # fmt: skip
    return int(after)


def append(
    *, session: Session, actor: Actor, lines: Sequence[Line], note: str = "",
    moved_at: datetime | None = None,
) -> list[StockMovement]:  # fmt: skip
    """Apply lines to their balances and write them to the ledger, with one audit row each,
    all in the caller's transaction. The first line of a pair (a transfer) is the one the
    second names as ``pair_id``."""
    begin_write(session)
    at = moved_at or timeutil.now()
    if len(lines) > 1:
        _ensure_rows(session, [(line.facility, line.item) for line in lines], at)
    elif lines[0].quantity > 0:  # one row: its UPDATE locks it, no lock to take in order first
        _ensure_rows(session, [(lines[0].facility, lines[0].item)], at, lock=False)
    # a single line that takes needs no row made: without one it is refused, holding nothing
    written: list[StockMovement] = []
    for line in lines:
        after = _apply(session, line, at)
        movement = StockMovement(
            facility_id=line.facility.id, item_id=line.item.id, area_code=line.facility.area_code,
            kind=line.kind, quantity=line.quantity, balance_after=after,
            counterpart_id=line.counterpart_id, person_id=line.person_id, ward=line.ward,
            reverses_id=line.reverses_id,
            pair_id=line.pair_id if line.pair_id else (written[0].id if written else None),
            note=note, moved_at=at, username=actor.username,
        )  # fmt: skip
        session.add(movement)
        session.flush()
        written.append(movement)
    audit.record_many(
        session=session,
        actor=actor,
        entries=[
            audit.Entry(
                AuditAction.create, "stock_movement", str(m.id), m.area_code,
                {"kind": m.kind.value, "item": line.item.code, "quantity": m.quantity,
                 "balance_after": m.balance_after, "facility_id": m.facility_id,
                 **({"reverses": m.reverses_id} if m.reverses_id else {})},
            )
            for m, line in zip(written, lines, strict=True)
        ],
    )  # fmt: skip
    return written


def _recipient(session: Session, actor: Actor, person_id: int | None, ward: str) -> None:
    if person_id is None and not ward.strip():
        raise InvalidInputError(_("an issue names a person or a ward it goes to"))
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None or not actor.reaches(person.area_code):
            raise NotFoundError(_("no person with id %(person_id)s", person_id=person_id))


def receive(
    *, session: Session, actor: Actor, facility_id: int, item_id: int, quantity: int,
    note: str = "",
) -> StockMovement:  # fmt: skip
    """Stock delivered to a facility."""
    place = facility(session, actor, facility_id)
    require_report(session, actor, place)
    line = Line(place, item(session, item_id), MovementKind.receipt, _quantity(quantity))
    return append(session=session, actor=actor, lines=[line], note=note)[0]


def issue(
    *, session: Session, actor: Actor, facility_id: int, item_id: int, quantity: int,
    person_id: int | None = None, ward: str = "", note: str = "",
) -> StockMovement:  # fmt: skip
    """Stock handed out to a person or a ward; refused (409) beyond the balance."""
    place = facility(session, actor, facility_id)
    require_report(session, actor, place)
    _recipient(session, actor, person_id, ward)
    line = Line(
        place, item(session, item_id), MovementKind.issue, -_quantity(quantity),
        person_id=person_id, ward=ward.strip(),
    )  # fmt: skip
    return append(session=session, actor=actor, lines=[line], note=note)[0]


def transfer(
    *, session: Session, actor: Actor, facility_id: int, to_facility_id: int, item_id: int,
    quantity: int, note: str = "",
) -> tuple[StockMovement, StockMovement]:  # fmt: skip
    """Stock sent from one facility to another: a line out at the sender, a line in at the
    receiver, in one transaction."""
    sender = facility(session, actor, facility_id)
    require_report(session, actor, sender)
    receiver = session.get(Facility, to_facility_id)
    if receiver is None:
        raise NotFoundError(_("no facility with id %(id)s", id=to_facility_id))
    if receiver.id == sender.id:
        raise InvalidInputError(_("a transfer goes to another facility"))
    thing, qty = item(session, item_id), _quantity(quantity)
    out, into = append(
        session=session, actor=actor, note=note,
        lines=[Line(sender, thing, MovementKind.transfer_out, -qty, counterpart_id=receiver.id),
               Line(receiver, thing, MovementKind.transfer_in, qty, counterpart_id=sender.id)],
    )  # fmt: skip
    return out, into


def count(
    *, session: Session, actor: Actor, facility_id: int, item_id: int, counted: int,
    note: str = "",
) -> StockMovement | None:  # fmt: skip
    """A stock count: the difference from the balance becomes an adjustment line (none when the
    count agrees; the balance is then marked as reported now)."""
    place = facility(session, actor, facility_id)
    require_report(session, actor, place)
    if not 0 <= counted <= MAX_QUANTITY:
        raise InvalidInputError(_("a count must be from 0 to %(max)s", max=MAX_QUANTITY))
    thing = item(session, item_id)
    begin_write(session)
    at = timeutil.now()
    _ensure_rows(session, [(place, thing)], at)
    held = session.scalar(
        select(StockBalance.balance).where(
            StockBalance.facility_id == place.id, StockBalance.item_id == thing.id
        )
    )
    difference = counted - int(held or 0)
    if difference == 0:
        session.execute(
            update(StockBalance)
            .where(StockBalance.facility_id == place.id, StockBalance.item_id == thing.id)
            .values(moved_at=at)
        )
        audit.record(
            session=session, actor=actor, action=AuditAction.update, entity_type="stock_balance",
            entity_id=f"{place.id}:{thing.id}", area_code=place.area_code,
            detail={"counted": counted, "item": thing.code},
        )  # fmt: skip
        return None
    line = Line(place, thing, MovementKind.adjustment, difference)
    return append(session=session, actor=actor, lines=[line], note=note, moved_at=at)[0]


def reverse(*, session: Session, actor: Actor, movement_id: int, note: str) -> list[StockMovement]:
    """Correct a mistaken line by its counter-movement (and its pair's, for a transfer). A line
    is reversed at most once; a correction cannot take a balance below zero."""
    original = session.get(StockMovement, movement_id)
    if original is None or not actor.reaches(original.area_code):
        raise NotFoundError(_("no stock movement with id %(id)s", id=movement_id))
    if not note.strip():
        raise InvalidInputError(_("a correction needs a reason (note)"))
    if original.kind is MovementKind.correction:
        raise InvalidInputError(_("a correction is not corrected; record a new movement"))
    originals = [original]
    pair = session.scalars(
        select(StockMovement).where(
            (StockMovement.id == original.pair_id) | (StockMovement.pair_id == original.id)
        )
    ).all()
    originals.extend(pair)
    taken = session.scalar(
        select(StockMovement.id).where(StockMovement.reverses_id.in_([m.id for m in originals]))
    )
    if taken is not None:
        raise ConflictError(_("movement %(id)s was already corrected", id=movement_id))
    lines = []
    for line in sorted(originals, key=lambda m: m.id):
        place = session.get(Facility, line.facility_id)
        assert place is not None
        if line is original:
            require_report(session, actor, place)
        lines.append(
            Line(place, item(session, line.item_id), MovementKind.correction, -line.quantity,
                 counterpart_id=line.counterpart_id, reverses_id=line.id)
        )  # fmt: skip
    # A kit issued to a person is their 有药用: lock them first (the order every writer of
    # people keeps), and derive their kit again once the correction is written.
    from lianfang.people import kits

    people = sorted({m.person_id for m in originals if m.person_id is not None})
    kits.prepare(session, people)
    written = append(session=session, actor=actor, lines=lines, note=note.strip())
    if people:
        kits.refresh(
            session=session, actor=actor,
            people=list(session.scalars(select(Person).where(Person.id.in_(people)))),
        )  # fmt: skip
    return written
