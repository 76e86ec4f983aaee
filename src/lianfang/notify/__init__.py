"""Notifications: in-app messages to named users, and messages to the outside (e-mail, webhooks,
WeCom and DingTalk group robots) by area and severity, delivered by a job with retries."""
