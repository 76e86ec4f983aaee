"""Task statuses, evidence kinds and roll-up states."""

from __future__ import annotations

from lianfang.choices import Choice
from lianfang.i18n import _, pgettext


class TaskStatus(Choice):
    new = ("new", pgettext("task", "new"), "#909399")
    accepted = ("accepted", pgettext("task", "accepted"), "#5470c6")
    in_progress = ("in_progress", pgettext("task", "in progress"), "#fac858")
    done = ("done", pgettext("task", "done"), "#91cc75")
    verified = ("verified", pgettext("task", "verified"), "#3ba272")
    rejected = ("rejected", pgettext("task", "rejected"), "#ee6666")
    divided = ("split", pgettext("task", "split further down"), "#73c0de")

    @property
    def finished(self) -> bool:
        """Done or verified: the work is carried out."""
        return self in (TaskStatus.done, TaskStatus.verified)


OPEN_STATUSES = (TaskStatus.new, TaskStatus.accepted, TaskStatus.in_progress)
"""A leaf task in one of these is still to be carried out (late once past its deadline)."""


class Progress(Choice):
    """Where a leaf task stands in a roll-up (its status and its deadline together)."""

    done = ("done", pgettext("progress", "done"), "#3ba272")
    in_progress = ("in_progress", pgettext("progress", "in progress"), "#fac858")
    not_started = ("not_started", pgettext("progress", "not started"), "#909399")
    late = ("late", pgettext("progress", "late"), "#ee6666")
    rejected = ("rejected", pgettext("progress", "rejected"), "#9a60b4")


class TaskAction(Choice):
    """A step in a task's life that a user takes from its page, the API or the CLI."""

    accept = ("accept", _("accept"))
    start = ("start", _("start work"))
    complete = ("complete", _("mark done"))
    verify = ("verify", _("verify"))
    reject = ("reject", _("reject"))
