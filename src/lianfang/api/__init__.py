"""The HTTP application: create_app(), dependencies, error mapping."""
