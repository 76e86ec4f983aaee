"""The four guarantees (有人管、有人问、有药用、有医治) of one red or yellow person, with why.

- in charge: a named responsible person is assigned;
- checked on: contacted, and the next check-in is not yet overdue (red daily, yellow every
  3 days, green weekly for those who opted in);
- medicine on hand: the grade's kit was delivered (a red kit also covers yellow);
- place to be treated: the designated hospital (a facility) is open and has every capability the
  person needs (``needed_capabilities``, the rule of docs/people.md and its source).
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
    conditions: dict[Condition, DiseaseState], age: int
) -> frozenset[Capability]:
    """What the designated hospital must be able to do for this person, by the rule of the
    December 2022 notices (docs/people.md): a ward that admits patients for everyone; dialysis
    for chronic kidney disease (cases needing haemodialysis go to designated hospitals,
    联防联控机制综发〔2022〕144号); obstetrics in pregnancy and paediatrics under 14 (care of
    pregnant women and children kept open, 联防联控机制综发〔2022〕120号). The grade alone asks
    for no intensive care: a severe case is sent on by its referral alert."""
    needed = {Capability.general}
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
class Hospital:
    """What 有医治 reads of a designated hospital: its name, capabilities and whether it is
    open (a closed facility, or one with an outbreak, does not count)."""

    id: int
    name: str
    capabilities: frozenset[Capability]
    usable: bool
    status: Text


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
    hospital: Hospital | None
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
    hospital = f.hospital
    if hospital is None:
        return GuaranteeState(Guarantee.treatment, False, _("no designated hospital"))
    if not hospital.usable:
        return GuaranteeState(
            Guarantee.treatment,
            False,
            _(
                "%(hospital)s is %(status)s and does not count",
                hospital=hospital.name,
                status=hospital.status,
            ),
        )
    missing = sorted(f.needed - hospital.capabilities)
    if missing:
        return GuaranteeState(
            Guarantee.treatment,
            False,
            _(
                "%(hospital)s lacks: %(missing)s",
                hospital=hospital.name,
                missing=listing(c.text for c in missing),
            ),
        )
    return GuaranteeState(
        Guarantee.treatment, True, _("designated hospital: %(hospital)s", hospital=hospital.name)
    )


def states(facts: Facts, today: date) -> tuple[GuaranteeState, ...]:
    """The four guarantees of one person on a day."""
    return (_in_charge(facts), _checked_on(facts, today), _medicine(facts), _treatment(facts))


def medicine_ok(grade: Grade, kit: Grade | None) -> bool:
    """The stored 'medicine on hand' flag: the kit covers the grade (green needs none)."""
    return grade is Grade.green or kit_covers(kit, grade)


def treatment_ok(hospital: Hospital | None, needed: frozenset[Capability]) -> bool:
    """The stored 'place to be treated' flag: an open hospital that can do what is needed."""
    return hospital is not None and hospital.usable and needed <= hospital.capabilities
