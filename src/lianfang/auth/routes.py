"""API for tokens, the current user, users and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from lianfang.api.deps import (
    CurrentActor,
    Offset,
    PathId,
    Route,
    SessionDep,
    SettingsDep,
    SignInSessionDep,
    client_ip,
    sign_in,
)
from lianfang.auth import audit
from lianfang.auth import service as auth
from lianfang.auth.schemas import (
    AuditChainRead,
    AuditEventRead,
    AuditPage,
    TokenCreate,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from lianfang.errors import NotFoundError
from lianfang.i18n import _

router = APIRouter(tags=["auth 用户与权限"], route_class=Route)


@router.post("/auth/token", response_model=TokenRead, summary="Exchange a password for a token")
def create_token(
    body: TokenCreate, request: Request, session: SignInSessionDep, settings: SettingsDep
) -> TokenRead:
    """Sign in with username and password; the bearer token is shown once."""
    user = sign_in(session, request, body.username, body.password)
    plain, token = auth.issue_token(
        session=session, user=user, name=body.name, days=settings.token_days, ip=client_ip(request)
    )
    session.commit()
    return TokenRead(access_token=plain, expires_at=token.expires_at)


@router.get("/me", response_model=UserRead, summary="The signed-in user")
def me(session: SessionDep, actor: CurrentActor) -> UserRead:
    """Who you are, your role and your area scope."""
    user = auth.get_user(session=session, username=actor.username)
    if user is None:
        raise NotFoundError(_("no such user"))
    return UserRead.model_validate(user)


@router.get("/users", response_model=list[UserRead], summary="Users within your scope")
def list_users(session: SessionDep, actor: CurrentActor) -> list[UserRead]:
    """Users whose area lies within yours (needs the users.manage permission)."""
    return [UserRead.model_validate(u) for u in auth.list_users(session=session, actor=actor)]


@router.post("/users", response_model=UserRead, status_code=201, summary="Add a user")
def create_user(body: UserCreate, session: SessionDep, actor: CurrentActor) -> UserRead:
    """Add a user within your scope with a role no more senior than yours."""
    user = auth.create_user(session=session, actor=actor, user_in=body)
    session.commit()
    return UserRead.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserRead, summary="Change a user")
def update_user(
    user_id: PathId, body: UserUpdate, session: SessionDep, actor: CurrentActor
) -> UserRead:
    """Change a user's display name, role, area or status (active=false signs them out)."""
    user = auth.get_user_by_id(session=session, actor=actor, user_id=user_id)
    auth.update_user(session=session, actor=actor, user=user, user_in=body)
    session.commit()
    return UserRead.model_validate(user)


@router.get("/audit", response_model=AuditPage, summary="The audit log within your scope")
def list_audit(
    session: SessionDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> AuditPage:
    """Newest first: who did what to which record, when and from where."""
    rows, total = audit.list_events(session=session, actor=actor, limit=limit, offset=offset)
    return AuditPage(items=[AuditEventRead.model_validate(r) for r in rows], total=total)


@router.get(
    "/audit/verify", response_model=AuditChainRead, summary="Check the audit log's hash chain"
)
def verify_audit(session: SessionDep, actor: CurrentActor) -> AuditChainRead:
    """Walk the whole log (permission audit.read and every area in scope): the first row whose
    hash or link to the row before does not hold, if any."""
    verdict = audit.verify(session=session, actor=actor)
    broken = verdict.broken
    return AuditChainRead(
        ok=broken is None, rows=verdict.rows, last_id=verdict.last_id, head=verdict.head,
        broken_at=broken.row_id if broken else None, problem_zh=broken.zh if broken else None,
        problem_en=broken.en if broken else None,
    )  # fmt: skip
