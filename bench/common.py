"""Helpers the benchmarks share: percentiles, timestamped logging, the `wms` command, ports."""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

REPO_ROOT = Path(__file__).resolve().parent.parent


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


@dataclass
class CliCheckResult:
    wall_seconds: float
    exit_code: int
    reported_seconds: float | None
    ok: bool | None
    stderr_tail: str


def run_cli_check(url: str, *, timeout: float) -> CliCheckResult:
    """`wms check --json` against ``url`` as a subprocess: its wall time, exit code and verdict."""
    env = {**os.environ, "WMS_DATABASE_URL": url}
    started = time.perf_counter()
    proc = subprocess.run(
        [wms_executable(), "check", "--json"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - started
    reported: float | None = None
    ok: bool | None = None
    try:
        data = json.loads(proc.stdout)
        reported, ok = float(data["seconds"]), bool(data["ok"])
    except (ValueError, KeyError, TypeError):
        pass
    return CliCheckResult(wall, proc.returncode, reported, ok, proc.stderr[-2000:])
