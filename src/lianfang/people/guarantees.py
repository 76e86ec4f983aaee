"""The four guarantees (有人管、有人问、有药用、有医治) of one red or yellow person, with why.

- in charge: a named responsible person is assigned;
- checked on: contacted, and the next check-in is not yet overdue (red daily, yellow every
  3 days, green weekly for those who opted in);
- medicine on hand: the grade's kit was delivered (a red kit also covers yellow);
- place to be treated: a designated hospital is assigned and has every capability the person needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lianfang.i18n import Text, _, listing
from lianfang.people.choices import Capability, Condition, DiseaseState, Grade, Guarantee

CHECK_INTERVAL_DAYS = {Grade.red: 1, Grade.yellow: 3, Grade.green: 7}
KIT_RANK = {Grade.red: 2, Grade.yellow: 1, Grade.green: 0}
KIT_CONTENTS = {
    Grade.red: _("antipyretics, antivirals as prescribed, a finger oximeter"),
    Grade.yellow: _("antipyretics, an oximeter when needed"),
}
CHILD_AGE = 14


def interval_days(grade: Grade, opted_in: bool) -> int | None:
    """Days allowed between check-ins, or None when the person is not followed up."""
    if grade is Grade.green and not opted_in:
        return None
    return CHECK_INTERVAL_DAYS[grade]


def due_on(
    grade: Grade, opted_in: bool, last_contact: date | None, registered: date
) -> date | None:
    """The day by which the next check-in is due (from registration when never contacted)."""
    days = interval_days(grade, opted_in)
    if days is None:
        return None
    return (last_contact or registered) + timedelta(days=days)


def needed_capabilities(
    grade: Grade, conditions: dict[Condition, DiseaseState], age: int
) -> frozenset[Capability]:
    """What the designated hospital must be able to do for this person."""
    needed = {Capability.general}
    if grade is Grade.red:
        needed.add(Capability.icu)
    if Condition.kidney in conditions:
        needed.add(Capability.dialysis)
    if Condition.pregnancy in conditions:
        needed.add(Capability.obstetrics)
    if age < CHILD_AGE:
        needed.add(Capability.paediatrics)
    return frozenset(needed)


def kit_covers(kit: Grade | None, grade: Grade) -> bool:
    """True when a delivered kit is the one this grade needs (or a fuller one)."""
    return kit is not None and KIT_RANK[kit] >= KIT_RANK[grade]


@dataclass(frozen=True)
class GuaranteeState:
    """Whether one guarantee holds for a person, and why."""

    guarantee: Guarantee
    met: bool
    text: Text

    @property
    def zh(self) -> str:
        """Why, in Chinese."""
        return self.text.in_language("zh")

    @property
    def en(self) -> str:
        """Why, in English."""
        return self.text.in_language("en")


@dataclass(frozen=True)
class Facts:
    """What the four guarantees of one person are judged on."""

    grade: Grade
    opted_in: bool
    responsible: str | None
    last_contact: date | None
    due: date | None
    kit: Grade | None
    kit_on: date | None
    hospital: str | None
    hospital_capabilities: frozenset[Capability]
    needed: frozenset[Capability]


def _in_charge(f: Facts) -> GuaranteeState:
    if f.responsible:
        return GuaranteeState(
            Guarantee.in_charge, True, _("responsible: %(name)s", name=f.responsible)
        )
    return GuaranteeState(Guarantee.in_charge, False, _("no responsible person"))


def _checked_on(f: Facts, today: date) -> GuaranteeState:
    days = interval_days(f.grade, f.opted_in)
    if days is None or f.due is None:
        return GuaranteeState(Guarantee.checked_on, True, _("no follow-up required"))
    if f.last_contact is None:
        never = (
            _("never contacted (every %(days)s d), overdue", days=days)
            if today > f.due
            else _("never contacted (every %(days)s d)", days=days)
        )
        return GuaranteeState(Guarantee.checked_on, False, never)
    if today > f.due:
        late = (today - f.due).days
        return GuaranteeState(
            Guarantee.checked_on,
            False,
            _(
                "last contact %(last)s, %(late)s d overdue (every %(days)s d)",
                last=f.last_contact,
                late=late,
                days=days,
            ),
        )
    return GuaranteeState(
        Guarantee.checked_on,
        True,
        _("last contact %(last)s, next by %(due)s", last=f.last_contact, due=f.due),
    )


def _medicine(f: Facts) -> GuaranteeState:
    if f.grade is Grade.green:
        return GuaranteeState(Guarantee.medicine, True, _("no kit for green"))
    contents = KIT_CONTENTS[f.grade]
    if kit_covers(f.kit, f.grade):
        return GuaranteeState(
            Guarantee.medicine,
            True,
            _("delivered %(day)s: %(contents)s", day=f.kit_on, contents=contents),
        )
    if f.kit is not None:
        return GuaranteeState(
            Guarantee.medicine,
            False,
            _(
                "%(kit)s kit delivered, %(grade)s kit needed: %(contents)s",
                kit=f.kit.text,
                grade=f.grade.text,
                contents=contents,
            ),
        )
    return GuaranteeState(
        Guarantee.medicine, False, _("no kit delivered (%(contents)s)", contents=contents)
    )


def _treatment(f: Facts) -> GuaranteeState:
    if not f.hospital:
        return GuaranteeState(Guarantee.treatment, False, _("no designated hospital"))
    missing = sorted(f.needed - f.hospital_capabilities)
    if missing:
        return GuaranteeState(
            Guarantee.treatment,
            False,
            _(
                "%(hospital)s lacks: %(missing)s",
                hospital=f.hospital,
                missing=listing(c.text for c in missing),
            ),
        )
    return GuaranteeState(
        Guarantee.treatment, True, _("designated hospital: %(hospital)s", hospital=f.hospital)
    )


def states(facts: Facts, today: date) -> tuple[GuaranteeState, ...]:
    """The four guarantees of one person on a day."""
    return (_in_charge(facts), _checked_on(facts, today), _medicine(facts), _treatment(facts))


def medicine_ok(grade: Grade, kit: Grade | None) -> bool:
    """The stored 'medicine on hand' flag: the kit covers the grade (green needs none)."""
    return grade is Grade.green or kit_covers(kit, grade)


def treatment_ok(
    hospital: str | None, capabilities: frozenset[Capability], needed: frozenset[Capability]
) -> bool:
    """The stored 'place to be treated' flag."""
    return bool(hospital) and needed <= capabilities
