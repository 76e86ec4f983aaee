"""The key-population registry: people, risk grades, the four guarantees, follow-ups, coverage."""
