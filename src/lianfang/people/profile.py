"""One person's page as a read model: identity masked, why the grade, the four guarantees,
history, and who could be put in charge — the same for every caller that shows a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from lianfang.areas import service as areas
from lianfang.areas.schemas import AreaDetail
from lianfang.auth.choices import Permission
from lianfang.auth.scope import Actor
from lianfang.people import grading, guarantees, identity, service
from lianfang.people.choices import GradeMethod, Vaccination
from lianfang.people.models import Person, Responsible


@dataclass(frozen=True)
class Profile:
    """What is shown about one person on a day."""

    person: Person
    info: AreaDetail
    today: date
    age: int
    masked_id: str
    masked_phone: str
    reason: tuple[str, str]  # why the grade, zh and en
    states: tuple[guarantees.GuaranteeState, ...]
    vaccination: Vaccination
    history: service.History
    responsibles: list[Responsible]  # empty unless the actor may assign


def grade_reason(person: Person, today: date) -> tuple[str, str]:
    """Why a person has their grade, in both languages."""
    if person.grade_method is GradeMethod.manual and person.override_reason:
        return person.override_reason, person.override_reason
    band = grading.age_band(identity.age_on(person.birth_date, today))
    ruled = grading.grade(band, person.disease, grading.vaccination_of(person.vaccine_doses))
    return ruled.zh, ruled.en


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
    )
