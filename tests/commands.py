"""Running the `wms` command as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Protocol

import httpx
import pytest

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


class RunningServer(Protocol):
    """A `wms serve` subprocess as the e2e and browser suites hold it."""

    process: subprocess.Popen[bytes]
    base_url: str

    def output(self) -> str: ...


def wait_until_healthy(server: RunningServer, *, within: float = 30.0) -> None:
    """Wait for `/healthz`; fail the test with the server's output if it exits or stays silent."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"the server exited with {server.process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the server did not answer /healthz within {within} s:\n{server.output()}")


def stop(process: subprocess.Popen[bytes], *, within: float = 15.0) -> int:
    """SIGTERM, then a bounded wait; a server that does not stop is killed and the test fails."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
        pytest.fail(f"the server ignored SIGTERM for {within} s")
