"""Helpers the benchmarks share: percentiles, timestamped logging, the `wms` command, ports."""

from __future__ import annotations

import math
import shutil
import socket
import sys
import time
from pathlib import Path

from rich.console import Console


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def log(console: Console, message: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}", highlight=False)


def wms_executable() -> str:
    """The `wms` script next to the running interpreter (the project's virtualenv)."""
    candidate = Path(sys.executable).parent / "wms"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("wms")
    if found is None:
        raise SystemExit("cannot find the `wms` command; run with the project's .venv/bin/python")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
