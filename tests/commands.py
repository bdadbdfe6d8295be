"""Running the `wms` command as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

WMS = str(Path(sys.executable).parent / "wms")


def wms_env(**settings: str) -> dict[str, str]:
    """This process's environment without any WMS_ setting (or terminal width), plus ``settings``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WMS_") and k not in {"COLUMNS", "LINES"}
    }
    return {**env, **settings}


def run_wms(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """`wms ARGS` from ``cwd``; with no ``env``, the default settings of a first-time user."""
    return subprocess.run(
        [WMS, *args],
        env=wms_env() if env is None else env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
