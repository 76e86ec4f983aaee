"""One person's page as a read model: identity masked, why the grade, the four guarantees,
history, and who could be put in charge — the same for every caller that shows a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from lianfang.areas import service as areas
from lianfang.areas.schemas import AreaDetail
from lianfang.auth.choices import Permission
from lianfang.auth.scope import Actor
from lianfang.i18n import Text
from lianfang.people import grading, guarantees, hospitals, identity, kits, service
from lianfang.people.choices import GradeMethod, Vaccination
from lianfang.people.models import Person, Responsible, UnmatchedHospital
from lianfang.resources.choices import FacilityType
from lianfang.resources.models import Facility


@dataclass(frozen=True)
class Profile:
    """What is shown about one person on a day."""

    person: Person
    info: AreaDetail
    today: date
    age: int
    masked_id: str
    masked_phone: str
    reason: str | Text  # why the grade (for a manual grade, the reason given, as written)
    states: tuple[guarantees.GuaranteeState, ...]
    vaccination: Vaccination
    history: service.History
    responsibles: list[Responsible]  # empty unless the actor may assign
    hospital: Facility | None  # the designated hospital
    unmatched: UnmatchedHospital | None  # a typed name the migration could not match
    hospital_choices: list[tuple[str, str]]  # (code, name) the care form offers
    kit_issues: list[kits.Issue]  # kits issued to the person, newest first
    kit_sources: list[kits.Source]  # where a kit may come from; empty unless it may be issued


def hospital_choices(session: Session, person: Person) -> list[tuple[str, str]]:
    """The hospitals and health centres of the person's county, and the city's tertiary
    hospitals: what the care form offers (any other one is accepted by code or name)."""
    county = person.area_code[:6]
    rows = session.execute(
        select(Facility.code, Facility.name)
        .where(
            Facility.type.in_(hospitals.DESIGNATED_TYPES),
            or_(
                Facility.area_code.startswith(county),
                Facility.type == FacilityType.tertiary_hospital,
            ),
        )
        .order_by(Facility.type, Facility.name)
    )
    return [(code, name) for code, name in rows]


def grade_reason(person: Person, today: date) -> str | Text:
    """Why a person has their grade (the reason given for a manual grade, as written)."""
    if person.grade_method is GradeMethod.manual and person.override_reason:
        return person.override_reason
    band = grading.age_band(identity.age_on(person.birth_date, today))
    ruled = grading.grade(band, person.disease, grading.vaccination_of(person.vaccine_doses))
    return ruled.text


def candidates(*, session: Session, actor: Actor, person: Person) -> list[Responsible]:
    """Who can be put in charge of a person: the town's responsible persons, or the village's
    for a user whose scope is the village; nobody for a user who may not assign."""
    if not actor.can(Permission.people_edit):
        return []
    town = person.area_code[:9].ljust(12, "0")
    area = town if actor.reaches(town) else person.area_code
    return service.responsibles(session=session, actor=actor, area=area)


def profile(*, session: Session, actor: Actor, person_id: int, today: date) -> Profile:
    """A person within the actor's scope, as their page shows them."""
    person = service.get(session=session, actor=actor, person_id=person_id)
    return Profile(
        person=person,
        info=areas.detail(session=session, actor=actor, code=person.area_code),
        today=today,
        age=identity.age_on(person.birth_date, today),
        masked_id=identity.mask_id(person.id_number),
        masked_phone=identity.mask_phone(person.phone) if person.phone else "",
        reason=grade_reason(person, today),
        states=service.guarantee_states(person, today),
        vaccination=grading.vaccination_of(person.vaccine_doses),
        history=service.history(session=session, actor=actor, person_id=person.id),
        responsibles=candidates(session=session, actor=actor, person=person),
        hospital=session.get(Facility, person.hospital_id) if person.hospital_id else None,
        unmatched=session.get(UnmatchedHospital, person.id),
        hospital_choices=hospital_choices(session, person)
        if actor.can(Permission.people_edit) else [],
        kit_issues=kits.issues(session=session, person=person),
        kit_sources=kits.sources(session=session, actor=actor, person=person)
        if actor.can(Permission.people_edit) and person.grade.followed
        and actor.can(Permission.resources_read) else [],
    )  # fmt: skip
