"""Roles, permissions and audit actions."""

from __future__ import annotations

from lianfang.choices import Choice


class Permission(Choice):
    areas_read = ("areas.read", "查看区划", "read areas")
    areas_manage = ("areas.manage", "维护区划与坐标", "manage areas and coordinates")
    users_manage = ("users.manage", "管理用户", "manage users")
    audit_read = ("audit.read", "查看审计日志", "read the audit log")
    pii_reveal = ("pii.reveal", "查看完整个人信息", "reveal personal data")
    forecast_run = ("forecast.run", "运行疫情预测", "run forecasts")
    people_read = ("people.read", "查看重点人群", "read the key-population registry")
    people_edit = ("people.edit", "登记与随访重点人群", "register and follow up key people")
    people_export = ("people.export", "导出重点人群", "export the key-population registry")
    people_grade = ("people.grade", "人工调整风险等级", "override risk grades")


class Role(Choice):
    admin = ("admin", "系统管理员", "administrator", "#464646")
    city_commander = ("city_commander", "市指挥部", "city commander", "#c23531")
    district_operator = ("district_operator", "县区操作员", "district operator", "#2f4554")
    town_operator = ("town_operator", "乡镇操作员", "town operator", "#61a0a8")
    village_worker = ("village_worker", "村医/网格员", "village worker", "#d48265")
    hospital_operator = ("hospital_operator", "医院操作员", "hospital operator", "#91c7ae")
    safety_inspector = ("safety_inspector", "安全生产检查员", "safety inspector", "#749f83")
    viewer = ("viewer", "只读用户", "viewer", "#ca8622")

    @property
    def permissions(self) -> frozenset[Permission]:
        """What this role may do (always within its area scope)."""
        return ROLE_PERMISSIONS[self]

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
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.city_commander: _READ
    | {
        Permission.users_manage,
        Permission.audit_read,
        Permission.pii_reveal,
        Permission.forecast_run,
        Permission.people_read,
        Permission.people_export,
    },
    Role.district_operator: _READ
    | _PEOPLE
    | {
        Permission.users_manage,
        Permission.audit_read,
        Permission.forecast_run,
        Permission.people_grade,
    },
    Role.town_operator: _READ | _PEOPLE | {Permission.people_grade},
    Role.village_worker: _READ | _PEOPLE,
    Role.hospital_operator: _READ,
    Role.safety_inspector: _READ,
    Role.viewer: _READ | {Permission.people_read},
}


class AuditAction(Choice):
    sign_in = ("sign_in", "登录", "sign in")
    sign_in_failed = ("sign_in_failed", "登录失败", "failed sign-in", "#ee6666")
    sign_out = ("sign_out", "退出", "sign out")
    create = ("create", "新增", "create")
    update = ("update", "修改", "update")
    delete = ("delete", "删除", "delete", "#ee6666")
    load = ("load", "导入", "import")
    export = ("export", "导出", "export")
    reveal = ("reveal", "查看完整个人信息", "reveal personal data", "#ee6666")
    token_issued = ("token_issued", "签发令牌", "issue API token")
    lookup = ("lookup", "按身份证号查找", "look up by ID number")
