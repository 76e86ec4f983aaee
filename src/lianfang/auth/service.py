"""Users, passwords (Argon2), web sessions and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from lianfang.areas import codes
from lianfang.areas.models import Area
from lianfang.auth import audit
from lianfang.auth.choices import AuditAction, Permission, Role
from lianfang.auth.models import ApiToken, User, UserSession
from lianfang.auth.schemas import UserCreate, UserUpdate
from lianfang.auth.scope import Actor
from lianfang.db.engine import begin_write, release
from lianfang.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDenied,
)
from lianfang.i18n import _
from lianfang.timeutil import utcnow

PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
"""Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): about 25 ms of
one core a sign-in, where argon2-cffi's defaults (64 MiB, 3 passes, 4 lanes) take about 200 ms
of CPU over both cores of a small server, so that a morning's sign-ins stall every other
request. A hash made with other parameters is renewed at the next sign-in."""
_BAD_SIGN_IN = AuthenticationError(_("wrong username or password"))


def digest(secret: str) -> str:
    """The SHA-256 of a random secret, as stored (the secret itself never is)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def actor_for(user: User, ip: str | None = None) -> Actor:
    """The actor a signed-in user acts as."""
    return Actor(
        user_id=user.id, username=user.username, role=user.role, area_code=user.area_code, ip=ip
    )


def create_user(*, session: Session, actor: Actor, user_in: UserCreate) -> User:
    """Create a user inside the actor's scope with a role no more senior than the actor's."""
    actor.require(Permission.users_manage)
    area_code = codes.normalise(user_in.area_code) if user_in.area_code else None
    _check_grant(session, actor, user_in.role, area_code)
    if session.scalar(select(User.id).where(User.username == user_in.username)) is not None:
        raise ConflictError(_("username %(username)s is taken", username=user_in.username))
    user = User(
        username=user_in.username,
        display_name=user_in.display_name,
        role=user_in.role,
        area_code=area_code,
        password_hash=PASSWORDS.hash(user_in.password),
        active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.create,
        entity_type="user",
        entity_id=str(user.id),
        area_code=area_code,
        detail={"username": user.username, "role": user.role.value},
    )
    return user


def _check_grant(session: Session, actor: Actor, role: Role, area_code: str | None) -> None:
    if role.rank < actor.role.rank:
        raise PermissionDenied(
            _("cannot create a more senior role (%(role)s)", role=role.text),
        )
    if area_code is None:
        if role is not Role.admin:
            raise InvalidInputError(
                _("every user but an administrator needs an area (area_code; --area in the CLI)"),
            )
        return
    if session.get(Area, area_code) is None:
        raise InvalidInputError(
            _("area %(short)s is not loaded", short=codes.short(area_code)),
        )
    actor.require_area(area_code)


def get_user_by_id(*, session: Session, actor: Actor, user_id: int) -> User:
    """Get a user the actor may manage."""
    actor.require(Permission.users_manage)
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(_("no user with id %(user_id)s", user_id=user_id))
    _require_manageable(actor, user)
    return user


def _require_manageable(actor: Actor, user: User) -> None:
    if user.area_code is None and actor.area_code is not None:
        raise PermissionDenied(_("only an administrator may change one"))
    if user.area_code is not None:
        actor.require_area(user.area_code)
    if user.role.rank < actor.role.rank:
        raise PermissionDenied(
            _("cannot change a more senior user (%(role)s)", role=user.role.text),
        )


def update_user(*, session: Session, actor: Actor, user: User, user_in: UserUpdate) -> User:
    """Change a user's name, role, scope or status; deactivating ends their sessions and tokens."""
    _require_manageable(actor, user)
    changes = user_in.model_dump(exclude_unset=True, exclude_none=True)
    if "area_code" in changes:
        changes["area_code"] = codes.normalise(changes["area_code"])
    if "role" in changes or "area_code" in changes:
        _check_grant(
            session, actor, changes.get("role", user.role), changes.get("area_code", user.area_code)
        )
    _keep_an_administrator(session, user, changes)
    for field, value in changes.items():
        setattr(user, field, value)
    if changes.get("active") is False:
        session.execute(delete(UserSession).where(UserSession.user_id == user.id))
        session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.update,
        entity_type="user",
        entity_id=str(user.id),
        area_code=user.area_code,
        detail={k: str(v) for k, v in changes.items()},
    )
    return user


def _keep_an_administrator(session: Session, user: User, changes: dict[str, object]) -> None:
    """Refuse to disable or demote the last active administrator (themself included)."""
    if user.role is not Role.admin or not user.active:
        return
    if changes.get("active", True) and changes.get("role", Role.admin) is Role.admin:
        return
    # Lock the active administrators (PostgreSQL; SQLite writers are serialised already), so two
    # administrators disabling each other at once cannot both succeed.
    admins = session.scalars(
        select(User.id).where(User.role == Role.admin, User.active.is_(True)).with_for_update()
    ).all()
    if set(admins) <= {user.id}:
        raise ConflictError(
            _(
                "cannot disable or demote the last active administrator: "
                "activate or add another administrator first"
            )
        )


def list_users(*, session: Session, actor: Actor) -> list[User]:
    """Users whose scope lies within the actor's (all of them for an administrator)."""
    actor.require(Permission.users_manage)
    statement = select(User).order_by(User.id)
    if actor.prefix:
        statement = statement.where(actor.area_filter(User.area_code))
    return list(session.scalars(statement))


def authenticate(*, session: Session, username: str, password: str, ip: str | None) -> User:
    """Check a username and password; every attempt is audited.

    The slow password hash is checked holding no connection and no lock; the audit row (and a
    re-hash) are then written in a short transaction of their own that begins as a writer, so
    many people signing in at once queue for the write lock briefly, and for a connection
    briefly, instead of holding either through the hash."""
    user = session.scalar(select(User).where(User.username == username))
    release(session)  # no connection is held through the hash
    ok = _password_matches(user, password)
    begin_write(session)
    if not ok or user is None:
        who = Actor(
            user_id=user.id if user else None,
            username=username[:64],
            role=Role.viewer,
            area_code=None,
            ip=ip,
        )
        audit.record(
            session=session,
            actor=who,
            action=AuditAction.sign_in_failed,
            entity_type="user",
            area_code=user.area_code if user else None,
        )
        raise _BAD_SIGN_IN
    if PASSWORDS.check_needs_rehash(user.password_hash):
        user.password_hash = PASSWORDS.hash(password)
    audit.record(
        session=session,
        actor=actor_for(user, ip),
        action=AuditAction.sign_in,
        entity_type="user",
        entity_id=str(user.id),
    )
    return user


def _password_matches(user: User | None, password: str) -> bool:
    if user is None or not user.active:
        PASSWORDS.hash(password)  # same cost whether or not the user exists
        return False
    try:
        return PASSWORDS.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class NewSession:
    """A fresh web session: the cookie value is only known here."""

    cookie: str
    csrf_token: str


def open_session(*, session: Session, user: User, hours: float, ip: str | None) -> NewSession:
    """Start a web session for a signed-in user."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id_hash=digest(cookie),
            user_id=user.id,
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(hours=hours),
            ip=ip,
        )
    )
    session.flush()
    return NewSession(cookie=cookie, csrf_token=csrf)


def resolve_session(*, session: Session, cookie: str) -> tuple[User, UserSession] | None:
    """The user and session behind a cookie, None when unknown, expired or deactivated."""
    row = session.execute(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id_hash == digest(cookie))
    ).first()
    if row is None:
        return None
    user, web = row
    if web.expires_at <= utcnow() or not user.active:
        return None
    return user, web


def close_session(*, session: Session, cookie: str, actor: Actor) -> None:
    """End a web session."""
    session.execute(delete(UserSession).where(UserSession.id_hash == digest(cookie)))
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.sign_out,
        entity_type="user",
        entity_id=str(actor.user_id),
    )


def issue_token(
    *, session: Session, user: User, name: str, days: int, ip: str | None
) -> tuple[str, ApiToken]:
    """Issue an API bearer token; the plain token is returned once and stored hashed."""
    plain = "lf_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(plain),
        expires_at=utcnow() + timedelta(days=days),
    )
    session.add(token)
    session.flush()
    audit.record(
        session=session,
        actor=actor_for(user, ip),
        action=AuditAction.token_issued,
        entity_type="api_token",
        entity_id=str(token.id),
        detail={"name": name},
    )
    return plain, token


def resolve_token(*, session: Session, plain: str) -> User | None:
    """The user behind a bearer token, None when unknown, expired, revoked or deactivated."""
    row = session.execute(
        select(User, ApiToken)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == digest(plain))
    ).first()
    if row is None:
        return None
    user, token = row
    if token.revoked_at is not None or token.expires_at <= utcnow() or not user.active:
        return None
    return user


def get_user(*, session: Session, username: str) -> User | None:
    """Get a user by username."""
    return session.scalar(select(User).where(User.username == username))


def set_password(*, session: Session, actor: Actor, user: User, password: str) -> None:
    """Set a user's password (10 characters or more)."""
    actor.require(Permission.users_manage)
    if user.area_code:
        actor.require_area(user.area_code)
    if len(password) < 10:
        raise InvalidInputError(_("a password needs 10 characters or more"))
    user.password_hash = PASSWORDS.hash(password)
    audit.record(
        session=session,
        actor=actor,
        action=AuditAction.update,
        entity_type="user",
        entity_id=str(user.id),
        area_code=user.area_code,
        detail={"password": "reset"},
    )
