"""Users, roles, area scope, sign-in sessions, API tokens and the audit log."""
