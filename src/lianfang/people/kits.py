"""有药用 from the stock ledger: a red or yellow kit issued to a person is a line of the ledger
that takes it out of a clinic's stock, and the person's kit (``kit_grade``, ``kit_on``) is
derived from those lines — the best kit among the issues not corrected, and the opening kit
recorded before the ledger existed — never typed. Correcting an issue (``ledger.reverse``)
derives the kit again, so 有药用 goes back to what the remaining lines say."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from lianfang import timeutil
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission
from lianfang.auth.scope import Actor
from lianfang.db import locks
from lianfang.db.engine import begin_write
from lianfang.errors import InvalidInputError, NotFoundError
from lianfang.i18n import _
from lianfang.people import coverage, guarantees
from lianfang.people.choices import ChangeSource, Grade
from lianfang.people.models import Person, PersonChange
from lianfang.resources import ledger
from lianfang.resources.choices import FacilityType, MovementKind
from lianfang.resources.models import Facility, Item, StockBalance, StockMovement

KIT_ITEMS = {Grade.red: "kit_red", Grade.yellow: "kit_yellow"}
"""The catalogue's kit of each grade (红色药包, 黄色药包)."""
ISSUING_TYPES = (
    FacilityType.village_clinic, FacilityType.township_centre, FacilityType.community_centre
)  # fmt: skip
"""Where a kit is issued from: the person's village clinic by default, or a clinic or health
centre of their town chosen instead."""


@dataclass(frozen=True)
class Source:
    """A place a kit can be issued from, with its kits in stock."""

    facility: Facility
    held: dict[Grade, int]


@dataclass(frozen=True)
class Issue:
    """A kit issued to a person: the ledger line, and the kit it is."""

    movement: StockMovement
    kit: Grade
    facility: Facility
    corrected: bool


@dataclass(frozen=True)
class Issued:
    """The answer to an issue: the line, the person as they are now, and the clinic."""

    movement: StockMovement
    person: Person
    facility: Facility
    kit: Grade


def kit_items(session: Session) -> dict[int, Grade]:
    """The catalogue's kit items by id."""
    codes = {code: grade for grade, code in KIT_ITEMS.items()}
    return {
        item.id: codes[item.code]
        for item in session.scalars(select(Item).where(Item.code.in_(list(codes))))
    }


def home_clinic(session: Session, person: Person) -> Facility | None:
    """The village clinic of the person's village (the first registered, if several)."""
    return session.scalar(
        select(Facility)
        .where(Facility.area_code == person.area_code, Facility.type == FacilityType.village_clinic)
        .order_by(Facility.id)
        .limit(1)
    )


def sources(*, session: Session, actor: Actor, person: Person) -> list[Source]:
    """Where the person page offers a kit from: the village clinics of their town that the
    actor reaches, the person's own first, with their kits in stock (the API also takes a
    health centre of the town by id)."""
    actor.require(Permission.resources_read)
    town = person.area_code[:9]
    places = list(
        session.scalars(
            select(Facility)
            .where(
                Facility.area_code.startswith(town),
                Facility.type == FacilityType.village_clinic,
                actor.area_filter(Facility.area_code),
            )
            .order_by(Facility.area_code != person.area_code, Facility.name)
        )
    )
    items = kit_items(session)
    held: dict[int, dict[Grade, int]] = {p.id: dict.fromkeys(KIT_ITEMS, 0) for p in places}
    if places and items:
        for fid, iid, balance in session.execute(
            select(StockBalance.facility_id, StockBalance.item_id, StockBalance.balance).where(
                StockBalance.facility_id.in_(list(held)), StockBalance.item_id.in_(list(items))
            )
        ):
            held[fid][items[iid]] = int(balance)
    return [Source(p, held[p.id]) for p in places]


def issues(*, session: Session, person: Person) -> list[Issue]:
    """The kit issues to a person, newest first, each marked when it was corrected."""
    items = kit_items(session)
    if not items:
        return []
    fix = aliased(StockMovement)
    rows = session.execute(
        select(StockMovement, Facility, fix.id)
        .join(Facility, Facility.id == StockMovement.facility_id)
        .outerjoin(fix, fix.reverses_id == StockMovement.id)
        .where(
            StockMovement.person_id == person.id,
            StockMovement.kind == MovementKind.issue,
            StockMovement.item_id.in_(list(items)),
        )
        .order_by(StockMovement.moved_at.desc(), StockMovement.id.desc())
    ).all()
    return [Issue(m, items[m.item_id], f, fixed is not None) for m, f, fixed in rows]


def derived_kit(
    opening: tuple[Grade | None, date | None], issued: Iterable[tuple[Grade, date]]
) -> tuple[Grade | None, date | None]:
    """The kit on hand: the fullest of the opening kit and the kits issued (not corrected), and
    the day the latest of that kind came."""
    candidates = [(kit, day) for kit, day in issued]
    if opening[0] is not None and opening[1] is not None:
        candidates.append((opening[0], opening[1]))
    if not candidates:
        return None, None
    kit, day = max(candidates, key=lambda c: (guarantees.KIT_RANK[c[0]], c[1]))
    return kit, day


def _lock(session: Session, people: Sequence[Person]) -> None:
    """Take the people's rows and their villages' roll-up locks before the ledger takes the audit
    chain's: the same order as every other writer of people, so two cannot deadlock."""
    begin_write(session)
    if not people:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(Person.id)
            .where(Person.id.in_(sorted(p.id for p in people)))
            .order_by(Person.id)
            .with_for_update()
        )
    locks.hold(session, sorted({int(p.area_code) for p in people}))


def prepare(session: Session, person_ids: Iterable[int]) -> None:
    """Lock the people a correction of the ledger will touch (``ledger.reverse`` calls it)."""
    ids = sorted({i for i in person_ids if i is not None})
    if ids:
        _lock(session, list(session.scalars(select(Person).where(Person.id.in_(ids)))))


def issue(
    *, session: Session, actor: Actor, person_id: int, kit: Grade | None = None,
    facility_id: int | None = None, note: str = "",
) -> Issued:  # fmt: skip
    """Issue a kit to a person (by default the kit of their grade, from their village clinic):
    one ledger line taking it out of the clinic's stock — refused (409, with what is left) when
    the clinic holds none — and the person's 有药用 derived again, in one transaction."""
    actor.require(Permission.people_edit)
    from lianfang.people import service  # service imports the import machinery; kept lazy

    person = service.get(session=session, actor=actor, person_id=person_id)
    chosen = kit or person.grade
    if chosen is Grade.green:
        raise InvalidInputError(_("green people get no kit: there is no green kit"))
    if guarantees.KIT_RANK[chosen] < guarantees.KIT_RANK[person.grade]:
        raise InvalidInputError(
            _(
                "a %(grade)s person needs the %(grade)s kit, not the %(kit)s one",
                grade=person.grade.text, kit=chosen.text,
            )
        )  # fmt: skip
    if facility_id is None:
        place = home_clinic(session, person)
        if place is None:
            raise InvalidInputError(
                _("the person's village has no clinic in the register; choose where from")
            )
    else:
        place = ledger.facility(session, actor, facility_id)
        if place.type not in ISSUING_TYPES:
            raise InvalidInputError(
                _(
                    "%(name)s is a %(type)s; kits are issued by clinics and health centres",
                    name=place.name, type=place.type.text,
                )
            )  # fmt: skip
    try:
        thing = ledger.item_by_code(session, KIT_ITEMS[chosen])
    except NotFoundError:
        raise InvalidInputError(_("the catalogue has no %(kit)s kit", kit=chosen.text)) from None
    _lock(session, [person])
    movement = ledger.issue(
        session=session, actor=actor, facility_id=place.id, item_id=thing.id, quantity=1,
        person_id=person.id, note=note.strip(),
    )  # fmt: skip
    refresh(session=session, actor=actor, people=[person], movement=movement)
    return Issued(movement, person, place, chosen)


def refresh(
    *, session: Session, actor: Actor, people: Sequence[Person],
    movement: StockMovement | None = None,
) -> list[Person]:  # fmt: skip
    """Derive the kit of these people again from the ledger (after an issue or a correction);
    record each change (history, roll-up, audit). Returns the people whose kit changed."""
    from lianfang.people import service

    changed: list[tuple[Person, dict[str, list[object]]]] = []
    for person in people:
        lines = [
            (i.kit, timeutil.local(i.movement.moved_at).date())
            for i in issues(session=session, person=person)
            if not i.corrected
        ]
        kit, day = derived_kit((person.kit_opening, person.kit_opening_on), lines)
        if (kit, day) == (person.kit_grade, person.kit_on):
            continue
        diff: dict[str, list[object]] = {
            "kit_grade": [_plain(person.kit_grade), _plain(kit)],
            "kit_on": [_plain(person.kit_on), _plain(day)],
        }
        person.kit_grade, person.kit_on = kit, day
        service.rederive(person)
        changed.append((person, diff))
    if not changed:
        return []
    for person, diff in changed:
        session.add(
            PersonChange(
                person_id=person.id, area_code=person.area_code, username=actor.username,
                source=ChangeSource.ledger, changes=json.dumps(diff, ensure_ascii=False),
            )
        )  # fmt: skip
    session.flush()
    coverage.refresh(session=session, villages={p.area_code for p, _diff in changed})
    audit.record_many(
        session=session,
        actor=actor,
        entries=[
            audit.Entry(
                AuditAction.update, "person", str(p.id), p.area_code,
                {"source": ChangeSource.ledger.value, "fields": sorted(diff), **diff,
                 **({"movement": movement.id} if movement is not None else {})},
            )
            for p, diff in changed
        ],
    )  # fmt: skip
    return [p for p, _diff in changed]


def _plain(value: object) -> object:
    return None if value is None else str(value)
