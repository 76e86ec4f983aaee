"""Alert kinds, severities, statuses, subjects and the events of an alert's history."""

from __future__ import annotations

from lianfang.choices import Choice
from lianfang.i18n import _, pgettext


class AlertKind(Choice):
    """Why an alert was raised: the rule that found it."""

    referral = ("referral", _("referral needed"), "#d9363e")
    followup_overdue = ("followup_overdue", _("follow-ups overdue"), "#e6a23c")
    stock_low = ("stock_low", _("stock below reserve"), "#e6a23c")
    beds_full = ("beds_full", _("bed occupancy above threshold"), "#d9363e")
    capacity_stale = ("capacity_stale", _("capacity report stale"), "#909399")


class Severity(Choice):
    """How urgent an alert is; its task's deadline follows from it (``DEADLINE_DAYS``)."""

    high = ("high", pgettext("severity", "high"), "#d9363e")
    medium = ("medium", pgettext("severity", "medium"), "#e6a23c")
    low = ("low", pgettext("severity", "low"), "#5470c6")

    @property
    def rank(self) -> int:
        """0 for the most urgent."""
        return list(Severity).index(self)


DEADLINE_DAYS = {Severity.high: 0, Severity.medium: 2, Severity.low: 7}
"""Days from the day an alert opens to its task's deadline: a high alert is due the same day."""


class AlertStatus(Choice):
    open = ("open", _("open"), "#d9363e")
    closed = ("closed", _("closed"), "#3ba272")


class Subject(Choice):
    """What an alert is about."""

    person = ("person", pgettext("alert subject", "person"))
    facility = ("facility", pgettext("alert subject", "facility"))
    area = ("area", pgettext("alert subject", "area"))


class EventKind(Choice):
    """One step in an alert's history."""

    opened = ("opened", pgettext("alert event", "opened"), "#d9363e")
    updated = ("updated", pgettext("alert event", "updated"), "#e6a23c")
    task = ("task", pgettext("alert event", "task assigned"), "#5470c6")
    cleared = ("cleared", pgettext("alert event", "cleared by its rule"), "#3ba272")
    closed = ("closed", pgettext("alert event", "closed"), "#3ba272")
