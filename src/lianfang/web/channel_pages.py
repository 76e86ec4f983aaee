"""The notification channels of the areas in scope (``notify.manage``): list, add, change, send
a test message and see what became of it, remove; and the outbox below. Secrets are write-only:
never rendered back, a blank field keeps the stored one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from lianfang.alerts.choices import Severity
from lianfang.api.deps import PathId, Route, SessionDep, check_csrf
from lianfang.areas import codes
from lianfang.auth.choices import Permission
from lianfang.errors import InvalidInputError, NotFoundError
from lianfang.i18n import Text, _
from lianfang.notify import service as notify
from lianfang.notify.choices import ChannelKind
from lianfang.notify.models import NotifyChannel
from lianfang.web.pages import SignedIn, SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)
BASE = "/notifications/channels"


@dataclass
class ChannelForm:
    """What the form shows and sends back (never a secret)."""

    name: str = ""
    area_code: str = ""
    kind: str = ChannelKind.webhook.value
    target: str = ""
    min_level: str = Severity.high.value
    enabled: bool = False
    signed: bool = False  # the channel already has a secret

    @classmethod
    def of(cls, c: NotifyChannel) -> ChannelForm:
        return cls(c.name, c.area_code, c.kind.value, c.target, c.min_level.value, c.enabled,
                   c.secret is not None)  # fmt: skip


def _page(
    request: Request, session: Session, me: SignedIn, *, form: ChannelForm | None = None,
    editing: int | None = None, problems: dict[str, Text] | None = None,
    error: Text | None = None, tested: int | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    me.actor.require(Permission.notify_manage)
    channels = notify.channels(session=session, actor=me.actor)
    outbox = notify.deliveries(session=session, actor=me.actor, limit=50)
    result = next((d for d in outbox if d.id == tested), None)
    return render(request, "notify/channels.html", {
        "me": me, "channels": channels, "names": {c.id: c.name for c in channels},
        "outbox": outbox, "form": form or ChannelForm(area_code=me.user.area_code or ""),
        "editing": editing, "problems": problems or {}, "error": error, "tested": result,
        "kinds": list(ChannelKind), "levels": list(Severity), "short": codes.short,
    }, status_code=status)  # fmt: skip


@router.get(BASE, response_class=HTMLResponse)
def channels_page(
    request: Request, session: SessionDep, me: SignedInDep,
    edit: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    tested: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> HTMLResponse:  # fmt: skip
    """The channels in scope with the add (or change) form, and the outbox."""
    form = None
    if edit is not None:
        form = ChannelForm.of(notify.get_channel(session=session, actor=me.actor, channel_id=edit))
    return _page(request, session, me, form=form, editing=edit, tested=tested)


def _read(
    name: str, area_code: str, kind: str, target: str, min_level: str, enabled: str | None
) -> tuple[ChannelForm, dict[str, Text]]:
    form = ChannelForm(name.strip(), area_code.strip(), kind, target.strip(), min_level,
                       enabled is not None)  # fmt: skip
    problems: dict[str, Text] = {}
    for field, value in (("name", form.name), ("area_code", form.area_code),
                         ("target", form.target)):  # fmt: skip
        if not value:
            problems[field] = _("required")
    if kind not in {k.value for k in ChannelKind}:
        problems["kind"] = _("choose a kind")
    if min_level not in {s.value for s in Severity}:
        problems["min_level"] = _("choose a level")
    if form.area_code:
        try:
            form.area_code = codes.normalise(form.area_code)
        except InvalidInputError:
            problems["area_code"] = _("an area code, e.g. 320623")
    return form, problems


FormText = Annotated[str, Form(max_length=500)]


@router.post(BASE, response_class=HTMLResponse)
def save_channel(
    request: Request, session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()],
    name: FormText = "", area_code: FormText = "", kind: FormText = "", target: FormText = "",
    secret: Annotated[str, Form(max_length=200)] = "", min_level: FormText = "",
    enabled: Annotated[str | None, Form()] = None,
    channel_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> Response:  # fmt: skip
    """Add a channel, or change one (``channel_id``); a blank secret keeps the stored one.
    A refused form keeps its values (never the secret) and says why beside each field."""
    check_csrf(me.web, csrf_token)
    form, problems = _read(name, area_code, kind, target, min_level, enabled)
    if channel_id is not None:
        form.signed = notify.get_channel(
            session=session, actor=me.actor, channel_id=channel_id
        ).secret is not None  # fmt: skip
    if problems:
        return _page(request, session, me, form=form, editing=channel_id, problems=problems,
                     status=422)  # fmt: skip
    data = notify.ChannelIn(
        name=form.name, area_code=form.area_code, kind=ChannelKind.of(kind), target=form.target,
        secret=secret or None, min_level=Severity.of(min_level), enabled=form.enabled,
    )  # fmt: skip
    try:
        if channel_id is None:
            saved = notify.create_channel(session=session, actor=me.actor, data=data)
        else:
            saved = notify.update_channel(
                session=session, actor=me.actor, channel_id=channel_id, data=data
            )
    except (InvalidInputError, NotFoundError) as exc:
        session.rollback()
        fields = dict(exc.fields) if isinstance(exc, InvalidInputError) else {"area_code": exc.text}
        return _page(request, session, me, form=form, editing=channel_id, problems=fields,
                     error=exc.text, status=422)  # fmt: skip
    session.commit()
    return RedirectResponse(f"{BASE}?saved={saved.id}#channel-{saved.id}", status_code=303)


@router.post(BASE + "/{channel_id}/test")
def test_channel(
    channel_id: PathId, session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()]
) -> Response:
    """Queue a test message and send it at once; the page shows what became of it."""
    check_csrf(me.web, csrf_token)
    delivery = notify.send_test(session=session, actor=me.actor, channel_id=channel_id)
    session.commit()
    notify.deliver(session, only=[delivery.id])
    session.commit()
    return RedirectResponse(f"{BASE}?tested={delivery.id}#tested", status_code=303)


@router.post(BASE + "/{channel_id}/delete")
def delete_channel(
    channel_id: PathId, session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()]
) -> Response:
    """Remove a channel and its outbox (the page asks first)."""
    check_csrf(me.web, csrf_token)
    notify.delete_channel(session=session, actor=me.actor, channel_id=channel_id)
    session.commit()
    return RedirectResponse(f"{BASE}?removed=1", status_code=303)
