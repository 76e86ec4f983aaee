"""Server-rendered pages (Jinja2 + HTMX + ECharts) and the vendored static files."""
