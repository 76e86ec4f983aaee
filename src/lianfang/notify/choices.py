"""Channel kinds, delivery statuses and the severity scale notifications are routed by."""

from __future__ import annotations

from lianfang.choices import Choice
from lianfang.i18n import _, pgettext


class Level(Choice):
    """How urgent a notification is (the alert engine's severities use the same three values);
    a channel takes what is at least as urgent as its ``min_level``."""

    high = ("high", pgettext("severity", "high"), "#d9363e")
    medium = ("medium", pgettext("severity", "medium"), "#e6a23c")
    low = ("low", pgettext("severity", "low"), "#5470c6")

    @property
    def rank(self) -> int:
        """0 for the most urgent."""
        return list(Level).index(self)

    def at_least(self, other: Level) -> bool:
        """True when this is as urgent as ``other`` or more."""
        return self.rank <= other.rank


class ChannelKind(Choice):
    """Where a channel sends: its target is an address or a URL, by kind."""

    email = ("email", _("e-mail (SMTP)"))
    webhook = ("webhook", _("webhook (JSON)"))
    wecom = ("wecom", _("WeCom group robot"))
    dingtalk = ("dingtalk", _("DingTalk group robot"))


class DeliveryStatus(Choice):
    pending = ("pending", pgettext("delivery", "waiting"), "#e6a23c")
    sent = ("sent", pgettext("delivery", "sent"), "#3ba272")
    failed = ("failed", pgettext("delivery", "gave up"), "#d9363e")
