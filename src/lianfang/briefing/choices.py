"""The layers of the situation overview's map and the briefing's sections."""

from __future__ import annotations

from lianfang.auth.choices import Permission
from lianfang.choices import Choice
from lianfang.i18n import _


class Layer(Choice):
    """A domain's figures on the overview map and in the briefing, shown to the roles that may
    read that domain (a domain not landed yet has no layer)."""

    coverage = ("coverage", _("coverage gaps"), "#d9363e")
    alerts = ("alerts", _("referral alerts"), "#e6a23c")
    peak = ("peak", _("forecast peak timing"), "#5470c6")
    stock = ("stock", _("stock below reserve"), "#9a60b4")
    beds = ("beds", _("bed occupancy"), "#3ba272")
    tasks = ("tasks", _("tasks behind schedule"), "#73c0de")

    @property
    def permission(self) -> Permission:
        """What a role must hold to see the layer."""
        return LAYER_PERMISSIONS[self]


LAYER_PERMISSIONS = {
    Layer.coverage: Permission.people_read,
    Layer.alerts: Permission.people_read,
    Layer.peak: Permission.areas_read,
    Layer.stock: Permission.resources_read,
    Layer.beds: Permission.resources_read,
    Layer.tasks: Permission.dispatch_read,
}
