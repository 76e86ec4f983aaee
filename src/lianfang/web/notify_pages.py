"""The signed-in user's notifications: newest first, unread marked, all marked read at once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lianfang.api.deps import Route, SessionDep, check_csrf
from lianfang.notify import service as notify
from lianfang.web.pages import SignedInDep, render

router = APIRouter(include_in_schema=False, route_class=Route)
PAGE = 50


@router.get("/notifications", response_class=HTMLResponse)
def notifications(
    request: Request,
    session: SessionDep,
    me: SignedInDep,
    unread: Annotated[bool, Query()] = False,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Your notifications: what reminded you, what was escalated to you, and where to act."""
    inbox = notify.inbox(
        session=session, actor=me.actor, unread_only=unread, limit=PAGE, offset=(page - 1) * PAGE
    )
    pages = max(1, -(-inbox.total // PAGE))
    return render(
        request,
        "notify/list.html",
        {"me": me, "inbox": inbox, "unread_only": unread, "page": page, "pages": pages},
    )


@router.post("/notifications/read")
def mark_all_read(
    session: SessionDep, me: SignedInDep, csrf_token: Annotated[str, Form()]
) -> Response:
    """Mark every notification of yours read, and come back to the list."""
    check_csrf(me.web, csrf_token)
    notify.mark_read(session=session, actor=me.actor)
    session.commit()
    return RedirectResponse("/notifications", status_code=303)
