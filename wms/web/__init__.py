"""Server-rendered web pages: the scan-first handheld UI (Jinja2 templates, htmx, static assets)."""
