"""Channel kinds and delivery statuses. Notifications are routed by the alert engine's
``Severity`` (a channel takes what is at least as urgent as its ``min_level``)."""

from __future__ import annotations

from lianfang.choices import Choice
from lianfang.i18n import _, pgettext


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
