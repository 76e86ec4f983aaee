"""One key person's page: identity (masked unless revealed), grade, the four guarantees, alerts,
follow-ups, and the forms that act on them (follow-up, grade override, reveal, alert closing)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.alerts import service as alert_service
from lianfang.api.deps import PathId, QueryId, Route, SessionDep, check_csrf
from lianfang.auth.choices import Permission
from lianfang.errors import (
    ConflictError,
    ImportFileError,
    InvalidInputError,
    LianfangError,
    NotFoundError,
)
from lianfang.i18n import SENTENCE_SEPARATOR, Text, _, listing
from lianfang.ids import MAX_ID
from lianfang.people import flows, followups, kits, overview, profile
from lianfang.people import service as people
from lianfang.people.choices import (
    AlertStatus,
    ChangeSource,
    Condition,
    ContactMethod,
    Grade,
    Guarantee,
    Symptom,
)
from lianfang.people.models import Person
from lianfang.resources import ledger
from lianfang.web.language import request_language
from lianfang.web.pages import SignedIn, SignedInDep, render
from lianfang.web.people_pages import choice, link

router = APIRouter(include_in_schema=False, route_class=Route)


def _context(session: Session, me: SignedIn, person_id: int) -> dict[str, Any]:
    found = profile.profile(
        session=session, actor=me.actor, person_id=person_id, today=timeutil.today()
    )
    return {
        "me": me,
        "person": found.person,
        "info": found.info,
        "today": found.today,
        "age": found.age,
        "masked_id": found.masked_id,
        "masked_phone": found.masked_phone,
        "reason": found.reason,
        "states": found.states,
        "vaccination": found.vaccination,
        "history": found.history,
        "responsibles": found.responsibles,
        "hospital": found.hospital,
        "unmatched": found.unmatched,
        "hospital_choices": found.hospital_choices,
        "kit_issues": found.kit_issues,
        "kit_sources": found.kit_sources,
        "open_alerts": overview.alerts_of(session=session, person_ids=[person_id]).get(
            person_id, []
        ),
        "token": str(uuid.uuid4()),
        "can": me.actor.can,
        "link": link,
        "Permission": Permission,
        "AlertStatus": AlertStatus,
        "ContactMethod": ContactMethod,
        "Symptom": Symptom,
        "Grade": Grade,
        "Guarantee": Guarantee,
        "Condition": Condition,
    }


def _page(
    request: Request, session: Session, me: SignedIn, person_id: int, status: int = 200,
    **extra: Any,
) -> HTMLResponse:  # fmt: skip
    context = _context(session, me, person_id) | extra
    return render(request, "people/person.html", context, status_code=status)


@router.get("/people/{person_id:int}", response_class=HTMLResponse)
def person_page(
    person_id: PathId, request: Request, session: SessionDep, me: SignedInDep, saved: str = "",
    alert: QueryId = None,
) -> HTMLResponse:  # fmt: skip
    context = _context(session, me, person_id)
    raised = next((a for a in context["open_alerts"] if a.alert_id == alert), None)
    return render(request, "people/person.html", context | {"saved": saved, "raised": raised})


# The follow-up form's fields and the ``Contact`` attribute each one fills.
FOLLOW_UP_FIELDS = {"temperature_c": "temperature", "spo2_pct": "spo2", "fever_days": "fever_days"}


def _number(text: str, kind: type[int] | type[float]) -> Any:
    text = text.strip().replace("，", ".").replace(",", ".")
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise InvalidInputError(_("'%(text)s' is not a number", text=text)) from None


def _readings(form: dict[str, Any]) -> dict[str, Any]:
    """The numbers a follow-up form carries, by ``Contact`` attribute; a value that is not a
    number is refused with the problem of each such field."""
    kinds: dict[str, type[int] | type[float]] = {
        "temperature_c": float, "spo2_pct": int, "fever_days": int,
    }  # fmt: skip
    values: dict[str, Any] = {}
    problems: dict[str, Text] = {}
    for attribute, kind in kinds.items():
        try:
            values[attribute] = _number(form[FOLLOW_UP_FIELDS[attribute]], kind)
        except InvalidInputError as exc:
            problems[attribute] = exc.text
    if problems:
        raise InvalidInputError(
            listing(list(problems.values()), SENTENCE_SEPARATOR), fields=problems
        )
    return values


@router.post("/people/{person_id:int}/follow-ups", response_class=HTMLResponse)
def follow_up(
    person_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], client_token: Annotated[str, Form()],
    method: Annotated[str, Form()], temperature: Annotated[str, Form()] = "",
    spo2: Annotated[str, Form()] = "", fever_days: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "", symptom: Annotated[list[str] | None, Form()] = None,
) -> Response:  # fmt: skip
    """Record a follow-up. A refused one answers the page with every value as entered and
    each problem beside its field; a saved one goes back to the top of the page, which says
    so and, when the reading raised a referral alert, why and what to do."""
    check_csrf(me.web, csrf_token)
    form = {
        "method": method, "temperature": temperature, "spo2": spo2, "fever_days": fever_days,
        "notes": notes, "symptoms": set(symptom or []), "client_token": client_token[:64],
    }  # fmt: skip
    try:
        contact = followups.Contact(
            method=choice(ContactMethod, method), **_readings(form),
            symptoms=frozenset(choice(Symptom, s) for s in symptom or []), notes=notes[:1000],
            client_token=client_token[:64] or None,
        )  # fmt: skip
        _, alert = flows.record_follow_up(
            session=session, actor=me.actor, person_id=person_id, contact=contact
        )
    except InvalidInputError as exc:
        session.rollback()
        fields = {FOLLOW_UP_FIELDS.get(k, k): v for k, v in exc.fields.items()}
        return _page(
            request, session, me, person_id, 422, follow_up_error=exc, follow_up_fields=fields,
            form=form, token=form["client_token"] or str(uuid.uuid4()),
        )  # fmt: skip
    session.commit()
    if alert is None:
        return RedirectResponse(f"/people/{person_id}?saved=follow-up", status_code=303)
    return RedirectResponse(f"/people/{person_id}?saved=alert&alert={alert.id}", status_code=303)


@router.post("/people/{person_id:int}/reveal", response_class=HTMLResponse)
def reveal(
    person_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], reason: Annotated[str, Form()],
) -> HTMLResponse:  # fmt: skip
    check_csrf(me.web, csrf_token)
    try:
        revealed = people.reveal(
            session=session, actor=me.actor, person_id=person_id, reason=reason
        )
    except InvalidInputError as exc:
        return _page(request, session, me, person_id, 422, reveal_error=exc)
    session.commit()
    return _page(request, session, me, person_id, revealed=revealed)


@router.post("/people/{person_id:int}/grade", response_class=HTMLResponse)
def override(
    person_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], reason: Annotated[str, Form()],
    grade: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    check_csrf(me.web, csrf_token)
    try:
        people.override_grade(
            session=session, actor=me.actor, person_id=person_id,
            grade=choice(Grade, grade) if grade else None, reason=reason,
        )  # fmt: skip
    except InvalidInputError as exc:
        session.rollback()
        return _page(request, session, me, person_id, 422, grade_error=exc)
    session.commit()
    return RedirectResponse(f"/people/{person_id}?saved=grade", status_code=303)


@router.post("/people/alerts/{alert_id:int}/close", response_class=HTMLResponse)
def close_alert(
    alert_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], person_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    note: Annotated[str, Form()],
) -> Response:  # fmt: skip
    check_csrf(me.web, csrf_token)
    try:
        alert_service.close(session=session, actor=me.actor, alert_id=alert_id, note=note)
    except LianfangError as exc:
        session.rollback()
        return _page(request, session, me, person_id, 422, alert_error=exc)
    session.commit()
    return RedirectResponse(f"/people/{person_id}?saved=closed", status_code=303)


def _care_cells(person: Person, hospital: str) -> dict[str, str]:
    """The sheet cells the care form changes (with the columns every row needs)."""
    return {
        "id_number": person.id_number, "name": person.name, "area_code": person.area_code,
        "hospital": hospital.strip(),
    }  # fmt: skip


@router.post("/people/{person_id:int}/care", response_class=HTMLResponse)
def record_care(
    person_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()],
    responsible_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    hospital: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Record who is in charge and the designated hospital (a facility, by code or name)."""
    check_csrf(me.web, csrf_token)
    person = people.get(session=session, actor=me.actor, person_id=person_id)
    cells = _care_cells(person, hospital)
    if not responsible_id and person.responsible_id is not None:
        cells["responsible"] = ""
    try:
        people.save_cells(session=session, actor=me.actor, cells=cells, source=ChangeSource.form)
        if responsible_id:
            people.assign(session=session, actor=me.actor, person_ids=[person_id],
                          responsible_id=responsible_id)  # fmt: skip
    except ImportFileError as exc:
        session.rollback()
        language = request_language(request)
        problems = [f"{e.column}：{e.problem.in_language(language)}" for e in exc.rows]
        return _page(request, session, me, person_id, 422, care_error=problems or [exc.zh])
    session.commit()
    return RedirectResponse(f"/people/{person_id}?saved=care", status_code=303)


def _kit_field(exc: LianfangError) -> str:
    """Which field of the kit form an error belongs next to."""
    if isinstance(exc, ConflictError | NotFoundError) or "clinic" in exc.text.in_language("en"):
        return "facility_id"
    return "kit"


@router.post("/people/{person_id:int}/kits", response_class=HTMLResponse)
def issue_kit(
    person_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], kit: Annotated[str, Form()] = "",
    facility_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    """Issue a red or yellow kit from a clinic's stock (发放药包): 有药用 follows the ledger."""
    check_csrf(me.web, csrf_token)
    form = {"kit": kit, "facility_id": facility_id, "note": note}
    try:
        chosen = Grade.of(kit) if kit else None
        kits.issue(session=session, actor=me.actor, person_id=person_id, kit=chosen,
                   facility_id=facility_id, note=note)  # fmt: skip
    except KeyError:
        session.rollback()
        problem = {"kit": _("choose the red or the yellow kit")}
        return _page(request, session, me, person_id, 422, kit_errors=problem, kit_form=form)
    except LianfangError as exc:
        session.rollback()
        status = 409 if isinstance(exc, ConflictError) else 422
        problem = {_kit_field(exc): exc.text}
        return _page(request, session, me, person_id, status, kit_errors=problem, kit_form=form)
    session.commit()
    return RedirectResponse(f"/people/{person_id}?saved=kit#kits", status_code=303)


@router.post("/people/{person_id:int}/kits/{movement_id:int}/correct", response_class=HTMLResponse)
def correct_kit(
    person_id: PathId, movement_id: PathId, request: Request, session: SessionDep,
    me: SignedInDep, csrf_token: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    """Correct a kit issued by mistake: a counter-movement puts it back in the clinic's stock
    and the person's 有药用 is derived again."""
    check_csrf(me.web, csrf_token)
    person = people.get(session=session, actor=me.actor, person_id=person_id)
    if not any(i.movement.id == movement_id for i in kits.issues(session=session, person=person)):
        raise NotFoundError(_("no stock movement with id %(id)s", id=movement_id))
    try:
        me.actor.require(Permission.people_edit)
        ledger.reverse(session=session, actor=me.actor, movement_id=movement_id, note=note)
    except LianfangError as exc:
        session.rollback()
        return _page(request, session, me, person_id, 422, correct_error=exc,
                     correct_id=movement_id)  # fmt: skip
    session.commit()
    return RedirectResponse(f"/people/{person_id}?saved=kit-corrected#kits", status_code=303)
