"""One alert engine: rules from every domain raise deduplicated alerts, each turned into a task."""
