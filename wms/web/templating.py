"""Jinja2 templates and static files for the web pages, with cache-busting static URLs."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from fastapi.templating import Jinja2Templates

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATE_DIR = WEB_DIR / "templates"


@lru_cache(maxsize=64)
def _version(path: str, mtime_ns: int) -> str:
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]


def static_url(path: str) -> str:
    """``/static/<path>?v=<content hash>`` so that a new release is never served from cache."""
    file = STATIC_DIR / path
    if not file.is_file():
        raise FileNotFoundError(
            f"static file {path} is missing; `make install` fetches the vendored scripts"
        )
    return f"/static/{path}?v={_version(path, file.stat().st_mtime_ns)}"


templates = Jinja2Templates(directory=str(TEMPLATE_DIR))
templates.env.globals["static_url"] = static_url
