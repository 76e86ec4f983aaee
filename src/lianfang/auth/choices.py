"""Roles, permissions and audit actions."""

from __future__ import annotations

from lianfang.choices import Choice
from lianfang.i18n import _


class Permission(Choice):
    areas_read = ("areas.read", _("read areas"))
    areas_manage = ("areas.manage", _("manage areas and coordinates"))
    users_manage = ("users.manage", _("manage users"))
    audit_read = ("audit.read", _("read the audit log"))
    pii_reveal = ("pii.reveal", _("reveal personal data"))
    forecast_run = ("forecast.run", _("run forecasts"))
    forecast_adopt = ("forecast.adopt", _("adopt an area's planning forecast"))
    people_read = ("people.read", _("read the key-population registry"))
    people_edit = ("people.edit", _("register and follow up key people"))
    people_export = ("people.export", _("export the key-population registry"))
    people_grade = ("people.grade", _("override risk grades"))
    resources_read = ("resources.read", _("read facilities, capacity and stock"))
    resources_report = (
        "resources.report",
        _("report capacity and move stock at any facility of the area"),
    )
    resources_report_own = (
        "resources.report_own",
        _("report capacity and move stock at the facilities one operates"),
    )
    resources_manage = (
        "resources.manage",
        _("manage facilities, reserve targets, pairing and resource imports"),
    )
    dispatch_read = ("dispatch.read", _("read directives and tasks"))
    dispatch_issue = ("dispatch.issue", _("issue directives and split tasks"))
    dispatch_work = ("dispatch.work", _("carry out tasks: accept, report, comment"))
    notify_manage = ("notify.manage", _("manage notification channels (e-mail, webhooks, robots)"))
    dispatch_verify = ("dispatch.verify", _("verify tasks others carried out"))
    duty_manage = ("duty.manage", _("arrange duty rosters"))


class Role(Choice):
    admin = ("admin", _("administrator"), "#464646")
    city_commander = ("city_commander", _("city commander"), "#c23531")
    district_operator = ("district_operator", _("district operator"), "#2f4554")
    town_operator = ("town_operator", _("town operator"), "#61a0a8")
    village_worker = ("village_worker", _("village worker"), "#d48265")
    hospital_operator = ("hospital_operator", _("hospital operator"), "#91c7ae")
    safety_inspector = ("safety_inspector", _("safety inspector"), "#749f83")
    viewer = ("viewer", _("viewer"), "#ca8622")

    @property
    def permissions(self) -> frozenset[Permission]:
        """What this role may do (always within its area scope)."""
        return ROLE_PERMISSIONS[self]

    @property
    def uses_api(self) -> bool:
        """Whether the pages link to the API docs for this role: those who load and pull data
        in bulk (a county's or town's systems); a village worker, a viewer and the roles
        without a domain yet work on the pages only (docs/api.md)."""
        return self in API_ROLES

    @property
    def rank(self) -> int:
        """Lower is more senior; a user may create users of the same or a higher rank number."""
        return list(Role).index(self)


_READ = frozenset({Permission.areas_read})
_PEOPLE = frozenset(
    {
        Permission.people_read,
        Permission.people_edit,
        Permission.people_export,
        Permission.pii_reveal,
    }
)
_RESOURCES = frozenset({Permission.resources_read, Permission.resources_report})
_WORK = frozenset({Permission.dispatch_read, Permission.dispatch_work})
_DISPATCH = _WORK | {
    Permission.dispatch_issue,
    Permission.dispatch_verify,
    Permission.duty_manage,
}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.city_commander: _READ
    | {
        Permission.users_manage,
        Permission.audit_read,
        Permission.pii_reveal,
        Permission.forecast_run,
        Permission.forecast_adopt,
        Permission.people_read,
        Permission.people_export,
        Permission.resources_read,
        Permission.resources_manage,
        Permission.notify_manage,
    }
    | _DISPATCH,
    Role.district_operator: _READ
    | _PEOPLE
    | {
        Permission.users_manage,
        Permission.audit_read,
        Permission.forecast_run,
        Permission.forecast_adopt,
        Permission.people_grade,
        Permission.resources_manage,
        Permission.notify_manage,
    }
    | _RESOURCES
    | _DISPATCH,
    Role.town_operator: _READ | _PEOPLE | _RESOURCES | _DISPATCH | {Permission.people_grade},
    Role.village_worker: _READ | _PEOPLE | _RESOURCES | _WORK,
    Role.hospital_operator: _READ
    | _WORK
    | {Permission.resources_read, Permission.resources_report_own},
    Role.safety_inspector: _READ | _WORK,
    Role.viewer: _READ
    | {Permission.people_read, Permission.resources_read, Permission.dispatch_read},
}


API_ROLES = frozenset({Role.admin, Role.city_commander, Role.district_operator, Role.town_operator})


class AuditAction(Choice):
    sign_in = ("sign_in", _("sign in"))
    sign_in_failed = ("sign_in_failed", _("failed sign-in"), "#ee6666")
    sign_out = ("sign_out", _("sign out"))
    create = ("create", _("create"))
    update = ("update", _("update"))
    delete = ("delete", _("delete"), "#ee6666")
    load = ("load", _("import"))
    export = ("export", _("export"))
    reveal = ("reveal", _("reveal personal data"), "#ee6666")
    token_issued = ("token_issued", _("issue API token"))
    lookup = ("lookup", _("look up by ID number"))
