from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from lianfang.auth import service as auth
from lianfang.auth.choices import AuditAction, Permission, Role
from lianfang.auth.models import ApiToken, AuditEvent, UserSession
from lianfang.auth.schemas import UserCreate, UserUpdate
from lianfang.errors import AuthenticationError, ConflictError, InvalidInputError, PermissionDenied
from lianfang.timeutil import utcnow
from tests.factories import (
    COUNTY,
    OTHER_COUNTY_TOWN,
    PASSWORD,
    TOWN,
    actor_of,
    make_user,
    role_username,
)


def _last_event(session: Session) -> AuditEvent:
    event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    return event


def test_passwords_are_hashed_with_argon2(session: Session) -> None:
    user = auth.get_user(session=session, username=role_username(Role.viewer))
    assert user is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_a_hash_made_with_other_parameters_is_renewed_at_sign_in(session: Session) -> None:
    user = auth.get_user(session=session, username=role_username(Role.viewer))
    assert user is not None
    assert "m=19456,t=2,p=1" in user.password_hash  # OWASP's first setting
    user.password_hash = PasswordHasher().hash(PASSWORD)  # argon2-cffi's defaults
    session.flush()
    assert "m=65536,t=3,p=4" in user.password_hash
    auth.authenticate(session=session, username=user.username, password=PASSWORD, ip=None)
    assert "m=19456,t=2,p=1" in user.password_hash
    assert auth.PASSWORDS.verify(user.password_hash, PASSWORD)


def test_sign_in_succeeds_and_failures_are_audited(session: Session) -> None:
    username = role_username(Role.town_operator)
    user = auth.authenticate(session=session, username=username, password=PASSWORD, ip="10.0.0.9")
    assert user.role is Role.town_operator
    assert _last_event(session).action is AuditAction.sign_in
    with pytest.raises(AuthenticationError):
        auth.authenticate(session=session, username=username, password="wrong-password", ip=None)
    failed = _last_event(session)
    assert (failed.action, failed.username, failed.area_code) == (
        AuditAction.sign_in_failed,
        username,
        TOWN,
    )
    with pytest.raises(AuthenticationError):
        auth.authenticate(session=session, username="nobody", password="x", ip=None)


def test_a_deactivated_user_cannot_sign_in(session: Session) -> None:
    user = auth.get_user(session=session, username=role_username(Role.viewer))
    assert user is not None
    user.active = False
    with pytest.raises(AuthenticationError):
        auth.authenticate(session=session, username=user.username, password=PASSWORD, ip=None)


def test_operators_add_users_only_below_them_and_inside_their_area(session: Session) -> None:
    district = actor_of(Role.district_operator)
    made = make_user(
        session, username="li", role=Role.town_operator, area_code=TOWN, actor=district
    )
    assert made.area_code == TOWN
    with pytest.raises(PermissionDenied):
        make_user(
            session,
            username="li2",
            role=Role.town_operator,
            area_code=OTHER_COUNTY_TOWN,
            actor=district,
        )
    with pytest.raises(PermissionDenied):
        make_user(
            session, username="li3", role=Role.city_commander, area_code=COUNTY, actor=district
        )
    with pytest.raises(PermissionDenied):
        make_user(
            session,
            username="li4",
            role=Role.viewer,
            area_code=TOWN,
            actor=actor_of(Role.town_operator),
        )
    with pytest.raises(ConflictError):
        make_user(session, username="li", role=Role.viewer, area_code=TOWN, actor=district)
    with pytest.raises(InvalidInputError):
        make_user(
            session, username="li5", role=Role.viewer, area_code=None, actor=actor_of(Role.admin)
        )


def test_user_list_is_scoped(session: Session) -> None:
    seen = {
        u.username for u in auth.list_users(session=session, actor=actor_of(Role.district_operator))
    }
    assert role_username(Role.town_operator) in seen
    assert role_username(Role.city_commander) not in seen
    assert role_username(Role.admin) not in seen


def test_web_sessions_expire(session: Session) -> None:
    user = auth.get_user(session=session, username=role_username(Role.viewer))
    assert user is not None
    opened = auth.open_session(session=session, user=user, hours=1, ip=None)
    assert auth.resolve_session(session=session, cookie=opened.cookie) is not None
    row = session.scalars(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert row.id_hash != opened.cookie
    row.expires_at = utcnow() - timedelta(seconds=1)
    assert auth.resolve_session(session=session, cookie=opened.cookie) is None


def test_tokens_are_stored_hashed_and_expire(session: Session) -> None:
    user = auth.get_user(session=session, username=role_username(Role.viewer))
    assert user is not None
    plain, token = auth.issue_token(session=session, user=user, name="t", days=1, ip=None)
    assert token.token_hash != plain
    assert auth.resolve_token(session=session, plain=plain) is user
    assert auth.resolve_token(session=session, plain=plain + "x") is None
    session.get(ApiToken, token.id).expires_at = utcnow()  # type: ignore[union-attr]
    assert auth.resolve_token(session=session, plain=plain) is None


def test_roles_carry_labels_and_permissions() -> None:
    assert Role.city_commander.zh == "市指挥部"
    assert Permission.users_manage in Role.district_operator.permissions
    assert Permission.areas_manage not in Role.city_commander.permissions
    assert all(Permission.areas_read in role.permissions for role in Role)


def test_user_create_validates_the_username() -> None:
    with pytest.raises(ValueError, match="username"):
        UserCreate(username="有空 格", display_name="x", role=Role.viewer, password="x" * 12)


def test_disabling_a_user_ends_sessions_and_tokens(session: Session) -> None:
    user = auth.get_user(session=session, username=role_username(Role.town_operator))
    assert user is not None
    opened = auth.open_session(session=session, user=user, hours=1, ip=None)
    plain, _ = auth.issue_token(session=session, user=user, name="t", days=1, ip=None)
    auth.update_user(
        session=session,
        actor=actor_of(Role.district_operator),
        user=user,
        user_in=UserUpdate(active=False),
    )
    assert auth.resolve_session(session=session, cookie=opened.cookie) is None
    assert auth.resolve_token(session=session, plain=plain) is None
    assert session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one().revoked_at
    event = _last_event(session)
    assert (event.action, event.entity_id) == (AuditAction.update, str(user.id))
    with pytest.raises(AuthenticationError):
        auth.authenticate(session=session, username=user.username, password=PASSWORD, ip=None)


def test_nobody_changes_a_more_senior_or_out_of_scope_user(session: Session) -> None:
    commander = auth.get_user(session=session, username=role_username(Role.city_commander))
    admin = auth.get_user(session=session, username=role_username(Role.admin))
    assert commander is not None
    assert admin is not None
    district = actor_of(Role.district_operator)
    with pytest.raises(PermissionDenied):
        auth.update_user(
            session=session, actor=district, user=commander, user_in=UserUpdate(display_name="x")
        )
    with pytest.raises(PermissionDenied):
        auth.update_user(
            session=session,
            actor=actor_of(Role.city_commander),
            user=admin,
            user_in=UserUpdate(active=False),
        )
    town_user = auth.get_user(session=session, username=role_username(Role.town_operator))
    assert town_user is not None
    with pytest.raises(PermissionDenied):  # moving someone out of one's own area
        auth.update_user(
            session=session,
            actor=district,
            user=town_user,
            user_in=UserUpdate(area_code=OTHER_COUNTY_TOWN),
        )
