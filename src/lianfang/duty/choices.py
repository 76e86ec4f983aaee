"""Shifts and duty roles."""

from __future__ import annotations

from datetime import time

from lianfang.choices import Choice
from lianfang.i18n import pgettext


class Shift(Choice):
    """A shift of a roster: its usual hours (``HOURS``) unless a shift is given its own."""

    day = ("day", pgettext("shift", "day"), "#fac858")
    night = ("night", pgettext("shift", "night"), "#5470c6")
    full = ("full", pgettext("shift", "24 hours"), "#9a60b4")


HOURS: dict[Shift, tuple[time, time]] = {
    Shift.day: (time(8), time(20)),
    Shift.night: (time(20), time(8)),  # ends the next morning
    Shift.full: (time(8), time(8)),  # 24 hours, to the next morning
}
"""Local start and end of each shift; an end not after the start is on the next day."""


class DutyRole(Choice):
    """What a person on duty is there as: the leader in charge (带班领导) or a staff member
    (值班员). An area's shift has at most one leader."""

    leader = ("leader", pgettext("duty", "leader on duty"), "#c23531")
    staff = ("staff", pgettext("duty", "staff on duty"), "#2f4554")
