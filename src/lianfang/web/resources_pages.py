"""Medical-resource pages: the facility list with its map, one facility's page, the reserve
dashboard per area, and the forms that work on a phone (stock movements, capacity reports).
The read models are in ``resources.views`` and ``resources.reserve``; this module only
translates them into pages and form fields into service calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang import timeutil
from lianfang.api.deps import PageNumber, PathId, Route, SessionDep, check_csrf
from lianfang.areas import codes
from lianfang.areas import service as areas
from lianfang.auth.choices import Permission
from lianfang.errors import ConflictError, InvalidInputError, LianfangError, NotFoundError
from lianfang.i18n import Text, _
from lianfang.ids import MAX_ID
from lianfang.people import identity
from lianfang.people import service as people
from lianfang.people.service import PeopleFilter
from lianfang.resources import ledger, reserve, service, views
from lianfang.resources.choices import (
    Capability,
    FacilityStatus,
    FacilityType,
    MovementKind,
    StaffRole,
)
from lianfang.resources.models import Facility, Item
from lianfang.resources.schemas import CapacityCreate
from lianfang.resources.views import FacilitySort
from lianfang.web.language import request_language
from lianfang.web.pages import SignedIn, SignedInDep, render
from lianfang.web.people_pages import _option, choice

router = APIRouter(include_in_schema=False, route_class=Route)
PAGE_SIZE = 50
SHORT_SHOWN = 100  # rows below target listed on a dashboard; the count says how many in all
CITY = "320600000000"


def _home_area(me: SignedIn, area: str | None) -> str:
    return codes.normalise(area) if area else (me.user.area_code or CITY)


@dataclass(frozen=True)
class ListQuery:
    """The facility list's filters, order and page as they appear in its address."""

    area: str
    type: str = ""
    status: str = ""
    stale: bool = False
    q: str = ""
    sort: FacilitySort = FacilitySort.name
    descending: bool = False
    page: int = 1

    def to_filter(self) -> service.FacilityFilter:
        return service.FacilityFilter(
            area=self.area,
            types=frozenset({choice(FacilityType, self.type)}) if self.type else frozenset(),
            statuses=frozenset({choice(FacilityStatus, self.status)})
            if self.status
            else frozenset(),
            q=self.q[:40],
            stale_only=self.stale,
        )

    def params(self, **changes: object) -> dict[str, str]:
        values: dict[str, Any] = {
            "area": codes.short(self.area), "type": self.type, "status": self.status,
            "stale": "1" if self.stale else "", "q": self.q,
            "sort": "" if self.sort is FacilitySort.name else self.sort.value,
            "order": "desc" if self.descending else "",
            "page": self.page if self.page > 1 else "",
        } | changes  # fmt: skip
        return {k: str(v) for k, v in values.items() if v not in (None, "", False)}

    def url(self, **changes: object) -> str:
        return "/resources?" + urlencode(self.params(**changes))

    def map_url(self) -> str:
        keep = {k: v for k, v in self.params().items() if k in ("area", "type", "status", "stale")}
        return "/resources/map?" + urlencode(keep)

    @property
    def key(self) -> str:
        return self.sort.value

    def sorted_by(self, key: str) -> str:
        """The address ordered by a column (the fullest or newest first, once more the other
        way), back on the first page."""
        sort = FacilitySort(key)
        down = not self.descending if sort is self.sort else sort in views.DESCENDING_FIRST
        return self.url(sort=sort.value, order="desc" if down else "asc", page=None)


def _list_query(
    me: SignedIn, area: str | None, type: str, status: str, stale: str, q: str, sort: str,
    order: str, page: int,
) -> ListQuery:  # fmt: skip
    key = _option(FacilitySort, sort) if sort else FacilitySort.name
    descending = order == "desc" if order else False
    return ListQuery(
        _home_area(me, area), type, status, stale == "1", q.strip(), key, descending, page
    )


def _crumbs(session: Session, me: SignedIn, code: str) -> dict[str, Any]:
    info = areas.detail(session=session, actor=me.actor, code=code)
    return {"info": info, "reachable": [me.actor.reaches(a.code) for a in info.ancestors]}


@router.get("/resources", response_class=HTMLResponse)
def facility_list(
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None,
    type: str = "", status: str = "", stale: str = "", q: str = "", sort: str = "",
    order: str = "", page: PageNumber = 1,
) -> Response:  # fmt: skip
    """The facilities of an area: filters, stale figures flagged, sortable, in pages; the map."""
    query = _list_query(me, area, type, status, stale, q, sort, order, page)
    found = views.facilities(
        session=session, actor=me.actor, f=query.to_filter(), sort=query.sort,
        descending=query.descending, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
    )  # fmt: skip
    if page > found.pages:
        return RedirectResponse(query.url(page=found.pages), status_code=303)
    context = {
        "me": me, "query": query, "found": found, "sorting": query,
        "operated": views.operated(session=session, actor=me.actor),
        "stale_hours": service.stale_after().total_seconds() / 3600,
        "FacilityType": FacilityType, "FacilityStatus": FacilityStatus,
        "type_colours": {t.value: t.colour for t in FacilityType},
    } | _crumbs(session, me, query.area)  # fmt: skip
    return render(request, "resources/list.html", context)


@router.get("/resources/map")
def facility_map(
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None,
    type: str = "", status: str = "", stale: str = "",
) -> JSONResponse:  # fmt: skip
    """The map's facilities (those with coordinates), by type, stale ones flagged."""
    query = _list_query(me, area, type, status, stale, "", "", "", 1)
    points = views.facility_points(session=session, actor=me.actor, f=query.to_filter())
    lang = request_language(request)
    return JSONResponse(
        {
            "types": [
                {"value": t.value, "name": t.label(lang), "colour": t.colour} for t in FacilityType
            ],
            "facilities": [
                {
                    "id": p.id,
                    "name": p.name,
                    "type": p.type.value,
                    "lon": p.lon,
                    "lat": p.lat,
                    "stale": p.stale,
                }
                for p in points
            ],
        }
    )


@router.get("/resources/facilities/{facility_id:int}", response_class=HTMLResponse)
def facility_page(
    facility_id: PathId, request: Request, session: SessionDep, me: SignedInDep, saved: str = "",
    movement: int | None = None,
) -> HTMLResponse:  # fmt: skip
    """One facility: capacity history, stock against its targets, staff, movements."""
    detail = views.facility_detail(session=session, actor=me.actor, facility_id=facility_id)
    lang = request_language(request)
    chart = {
        "times": [timeutil.format_local(r.reported_at, lang) for r in detail.history],
        "series": [
            {"key": key, "name": str(label.in_language(lang)),
             "data": [getattr(r, key) for r in detail.history]}
            for key, label in CAPACITY_FIELDS.items()
            if key in ("beds_total", "beds_occupied", "icu_total", "icu_occupied")
        ],
    }  # fmt: skip
    saved_line = None
    if movement is not None and 1 <= movement <= MAX_ID:
        saved_line = next((m for m in detail.movements if m.movement.id == movement), None)
    return render(
        request,
        "resources/facility.html",
        {"me": me, "d": detail, "chart": chart, "saved": saved, "saved_line": saved_line,
         "Capability": Capability, "MovementKind": MovementKind, "StaffRole": StaffRole}
        | _crumbs(session, me, detail.area.code),
    )  # fmt: skip


@router.get("/resources/reserve", response_class=HTMLResponse)
def reserve_page(
    request: Request, session: SessionDep, me: SignedInDep, area: str | None = None
) -> HTMLResponse:
    """The reserve of an area: who is below target and by how much, per child area, clickable
    down to the facility."""
    code = _home_area(me, area)
    read = reserve.reserve(session=session, actor=me.actor, area_code=code)
    short = read.short
    shown_items = [i for i in read.items if any(c.short_units.get(i.code) for c in read.children)]
    facilities = {r.facility.id for r in read.rows}
    short_facilities = {r.facility.id for r in short}
    return render(
        request,
        "resources/reserve.html",
        {"me": me, "read": read, "short": short[:SHORT_SHOWN], "short_total": len(short),
         "shown_items": shown_items, "facility_count": len(facilities),
         "short_count": len(short_facilities),
         "stale_count": sum(1 for r in read.rows if r.stale),
         "area_names": views.area_names(session, [r.facility.area_code for r in short])}
        | _crumbs(session, me, code),
    )  # fmt: skip


# ---- forms ------------------------------------------------------------------------------

CAPACITY_FIELDS: dict[str, Text] = {
    "beds_total": _("General beds"),
    "beds_occupied": _("General beds occupied"),
    "icu_total": _("ICU beds"),
    "icu_occupied": _("ICU beds occupied"),
    "fever_visits": _("Fever-clinic visits today"),
    "staff_on_duty": _("Staff on duty"),
}
MAX_COUNT = 1_000_000
MOVE_KINDS = ("receipt", "issue", "transfer", "count")


def _whole(text: str, low: int, high: int) -> tuple[int | None, Text | None]:
    """A whole number typed into a form (blank: none), or the problem with it."""
    text = text.strip().replace(",", "").replace("，", "")
    if not text:
        return None, None
    if not text.isdigit():
        return None, _("'%(text)s' is not a whole number", text=text[:20])
    value = int(text)
    if not low <= value <= high:
        return None, _("must be from %(low)s to %(high)s", low=low, high=high)
    return value, None


def _reportable(session: Session, me: SignedIn, facility_id: int) -> Facility:
    place = ledger.facility(session, me.actor, facility_id)
    ledger.require_report(session, me.actor, place)
    return place


def _capacity_page(
    request: Request, session: Session, me: SignedIn, place: Facility, form: dict[str, str],
    problems: dict[str, Text], error: Text | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    latest = service.latest_capacity(session, [place.id]).get(place.id)
    return render(
        request,
        "resources/capacity_form.html",
        {"me": me, "place": place, "form": form, "problems": problems, "error": error,
         "fields": CAPACITY_FIELDS, "latest": latest,
         "latest_stale": service.is_stale(latest.reported_at) if latest else True}
        | _crumbs(session, me, place.area_code),
        status_code=status,
    )  # fmt: skip


@router.get("/resources/facilities/{facility_id:int}/capacity", response_class=HTMLResponse)
def capacity_form(
    facility_id: PathId, request: Request, session: SessionDep, me: SignedInDep
) -> HTMLResponse:
    """The capacity report form, the totals filled in from the newest report."""
    place = _reportable(session, me, facility_id)
    latest = service.latest_capacity(session, [place.id]).get(place.id)
    form = {k: "" for k in CAPACITY_FIELDS}
    if latest is not None:
        for key in ("beds_total", "icu_total"):
            value = getattr(latest, key)
            form[key] = "" if value is None else str(value)
    return _capacity_page(request, session, me, place, form, {})


@router.post("/resources/facilities/{facility_id:int}/capacity", response_class=HTMLResponse)
def capacity_save(
    facility_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], beds_total: Annotated[str, Form()] = "",
    beds_occupied: Annotated[str, Form()] = "", icu_total: Annotated[str, Form()] = "",
    icu_occupied: Annotated[str, Form()] = "", fever_visits: Annotated[str, Form()] = "",
    staff_on_duty: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Save a capacity report; a refused one keeps every value and names each field's problem."""
    check_csrf(me.web, csrf_token)
    place = _reportable(session, me, facility_id)
    form = {
        "beds_total": beds_total, "beds_occupied": beds_occupied, "icu_total": icu_total,
        "icu_occupied": icu_occupied, "fever_visits": fever_visits,
        "staff_on_duty": staff_on_duty,
    }  # fmt: skip
    values: dict[str, int | None] = {}
    problems: dict[str, Text] = {}
    for key, text in form.items():
        values[key], problem = _whole(text[:20], 0, MAX_COUNT)
        if problem is not None:
            problems[key] = problem
    for total, used in (("beds_total", "beds_occupied"), ("icu_total", "icu_occupied")):
        t, u = values[total], values[used]
        if t is not None and u is not None and u > t and used not in problems:
            problems[used] = _("%(used)s is more than the %(total)s in all", used=u, total=t)
    error = None
    if not problems and all(v is None for v in values.values()):
        error = _("a capacity report needs at least one figure")
    if problems or error:
        return _capacity_page(request, session, me, place, form, problems, error, 422)
    service.report_capacity(
        session=session, actor=me.actor, facility_id=place.id, data=CapacityCreate(**values)
    )
    session.commit()
    return RedirectResponse(f"/resources/facilities/{place.id}?saved=capacity", status_code=303)


@dataclass
class MoveForm:
    """What the movement form holds, as typed."""

    kind: str = "receipt"
    item: str = ""
    quantity: str = ""
    recipient: str = "ward"  # an issue goes to a ward or a person
    ward: str = ""
    person_q: str = ""
    person_id: str = ""
    to: str = ""
    note: str = ""


def _transfer_targets(session: Session, me: SignedIn, place: Facility) -> list[Facility]:
    """Where a transfer may go: the open facilities of the same county the user can see that
    keep stock (hospitals, health centres, warehouses, and clinics and pharmacies of the same
    town), nearest kinds first."""
    county = codes.short(place.area_code)[:6]
    town = codes.short(place.area_code)[:9]
    stocking = [t for t in FacilityType if t is not FacilityType.ambulance_station]
    rows = session.scalars(
        select(Facility)
        .where(
            codes.in_subtree(Facility.area_code, county),
            me.actor.area_filter(Facility.area_code),
            Facility.type.in_(stocking),
            Facility.id != place.id,
        )
        .order_by(Facility.area_code, Facility.name)
    ).all()
    local = (FacilityType.village_clinic, FacilityType.pharmacy, FacilityType.testing_point)
    order = {t: i for i, t in enumerate(FacilityType)}
    kept = [f for f in rows if f.type not in local or f.area_code.startswith(town)]
    return sorted(kept, key=lambda f: (order[f.type], f.area_code, f.name))


def _move_page(
    request: Request, session: Session, me: SignedIn, place: Facility, form: MoveForm,
    problems: dict[str, Text] | None = None, error: Text | None = None,
    matches: list[Any] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    items = list(session.scalars(select(Item).order_by(Item.id)))
    held = {
        r.item.id: r for r in reserve.stock_rows(
            session=session, actor=me.actor, prefix=codes.short(place.area_code), items=items,
            facility_ids=[place.id],
        )
    }  # fmt: skip
    today = timeutil.today()
    return render(
        request,
        "resources/move_form.html",
        {"me": me, "place": place, "form": form, "problems": problems or {}, "error": error,
         "items": items, "held": held, "matches": matches,
         "targets": _transfer_targets(session, me, place) if form.kind == "transfer" else [],
         "can_find_people": me.actor.can(Permission.people_read),
         "age": lambda p: identity.age_on(p.birth_date, today), "mask": identity.mask_id,
         "kinds": MOVE_KINDS}
        | _crumbs(session, me, place.area_code),
        status_code=status,
    )  # fmt: skip


@router.get("/resources/facilities/{facility_id:int}/stock", response_class=HTMLResponse)
def move_form(
    facility_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    kind: str = "receipt", item: str = "",
) -> HTMLResponse:  # fmt: skip
    """The stock movement form (receipt, issue, transfer, count) for a phone."""
    place = _reportable(session, me, facility_id)
    if kind not in MOVE_KINDS:
        kind = "receipt"
    return _move_page(request, session, me, place, MoveForm(kind=kind, item=item[:12]))


def _people_matches(session: Session, me: SignedIn, place: Facility, q: str) -> list[Any]:
    """People of the facility's town (or the user's area) by name or whole ID number."""
    town = codes.short(place.area_code)[:9].ljust(12, "0")
    area = town if me.actor.reaches(town) else (me.user.area_code or place.area_code)
    found = people.list_people(
        session=session, actor=me.actor, f=PeopleFilter(area=area, q=q[:40]), size=10
    )
    return list(found.items)


@router.post("/resources/facilities/{facility_id:int}/stock", response_class=HTMLResponse)
def move_save(
    facility_id: PathId, request: Request, session: SessionDep, me: SignedInDep,
    csrf_token: Annotated[str, Form()], kind: Annotated[str, Form()],
    item: Annotated[str, Form()] = "", quantity: Annotated[str, Form()] = "",
    recipient: Annotated[str, Form()] = "ward", ward: Annotated[str, Form()] = "",
    person_q: Annotated[str, Form()] = "", person_id: Annotated[str, Form()] = "",
    to: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
    find: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Book a movement. "Find" looks people up by name or whole ID number and shows the form
    again with every value kept; a refused movement names each field's problem beside it."""
    check_csrf(me.web, csrf_token)
    place = _reportable(session, me, facility_id)
    if kind not in MOVE_KINDS:
        kind = "receipt"
    form = MoveForm(
        kind, item[:12], quantity[:20], recipient if recipient in ("ward", "person") else "ward",
        ward[:50], person_q[:40], person_id[:12], to[:12], note[:500],
    )  # fmt: skip
    if find:
        form.recipient = "person"
        if not form.person_q.strip():
            problems = {"person": _("type a name or a whole ID number to find")}
            return _move_page(request, session, me, place, form, problems, status=422)
        matches = _people_matches(session, me, place, form.person_q.strip())
        session.commit()  # a search by ID number is audited
        if len(matches) == 1:
            form.person_id = str(matches[0].id)
        return _move_page(request, session, me, place, form, matches=matches)
    parsed, problems = _read_move(form)
    if problems:
        return _move_page(request, session, me, place, form, problems, status=422)
    try:
        line = _book(session, me, place, form, parsed)
    except (InvalidInputError, ConflictError, NotFoundError) as exc:
        session.rollback()
        field = _field_of(exc, kind)
        if field:
            return _move_page(
                request, session, me, place, form, {field: exc.text}, status=exc.status_code
            )
        return _move_page(request, session, me, place, form, error=exc.text, status=422)
    session.commit()
    saved = f"/resources/facilities/{place.id}?saved={kind}"
    if line is not None:
        saved += f"&movement={line}"
    return RedirectResponse(saved, status_code=303)


def _field_of(exc: LianfangError, kind: str) -> str:
    """The form field a service's refusal is about."""
    if isinstance(exc, ConflictError):
        return "quantity"  # the balance holds less than asked
    if isinstance(exc, NotFoundError):
        return {"issue": "person", "transfer": "to"}.get(kind, "item")
    return ""


@dataclass(frozen=True)
class Move:
    """A movement form read into numbers."""

    item_id: int
    amount: int
    person: int | None
    target: int | None


def _read_move(form: MoveForm) -> tuple[Move, dict[str, Text]]:
    """The numbers a movement form carries, and the problem of each field that is wrong."""
    problems: dict[str, Text] = {}
    item_id, problem = _whole(form.item, 1, MAX_ID)
    if item_id is None:
        problems["item"] = problem or _("choose an item")
    amount, problem = _whole(form.quantity, 0 if form.kind == "count" else 1, ledger.MAX_QUANTITY)
    if amount is None:
        problems["quantity"] = problem or _("enter a number")
    person = target = None
    if form.kind == "issue" and form.recipient == "person":
        person, _problem = _whole(form.person_id, 1, MAX_ID)
        if person is None:
            problems["person"] = _("find the person and choose them")
    elif form.kind == "issue" and not form.ward.strip():
        problems["ward"] = _("name the ward the stock goes to")
    if form.kind == "transfer":
        target, _problem = _whole(form.to, 1, MAX_ID)
        if target is None:
            problems["to"] = _("choose the facility it goes to")
    return Move(item_id or 0, amount or 0, person, target), problems


def _book(
    session: Session, me: SignedIn, place: Facility, form: MoveForm, move: Move
) -> int | None:
    """Book the movement; the id of the line at this facility (none for a count that agrees)."""
    note, kind = form.note.strip(), form.kind
    item_id, amount, person, target = move.item_id, move.amount, move.person, move.target
    if kind == "receipt":
        return ledger.receive(
            session=session, actor=me.actor, facility_id=place.id, item_id=item_id,
            quantity=amount, note=note,
        ).id  # fmt: skip
    if kind == "issue":
        return ledger.issue(
            session=session, actor=me.actor, facility_id=place.id, item_id=item_id,
            quantity=amount, person_id=person,
            ward=form.ward if form.recipient == "ward" else "", note=note,
        ).id  # fmt: skip
    if kind == "transfer":
        assert target is not None
        out, _into = ledger.transfer(
            session=session, actor=me.actor, facility_id=place.id, to_facility_id=target,
            item_id=item_id, quantity=amount, note=note,
        )  # fmt: skip
        return out.id
    line = ledger.count(
        session=session, actor=me.actor, facility_id=place.id, item_id=item_id, counted=amount,
        note=note,
    )  # fmt: skip
    return None if line is None else line.id
