"""The demo world: real Nantong divisions with placed coordinates and synthetic figures."""
