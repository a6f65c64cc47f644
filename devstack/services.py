"""Command lines and readiness checks for the local services.

Used by `make run` (devstack.run) and by the pytest fixtures, so
the tests start exactly what users run.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from devstack import dynamodb_local
from functions.registry import emulator_function_configs, function_registry


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for_http(url: str, timeout: float = 60.0, process=None) -> None:
    """Wait until `url` answers (any HTTP status counts as up)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - http URLs we built
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError) as error:
            last_error = error
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not come up within {timeout:.0f}s: {last_error}")


def wait_for_port(port: int, timeout: float = 30.0, process=None) -> None:
    """Wait until something listens on 127.0.0.1:`port` (a non-HTTP service such as the SMTP sink)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for port {port} exited with code {process.returncode}")
        if port_open(port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def mail_sink_command(*, port: int, folder: Path) -> list[str]:
    return [sys.executable, "-m", "devstack.mail_sink", "--port", str(port), "--dir", str(folder)]


def dynamodb_command(var_dir: Path, port: int, db_path: Path | None) -> list[str]:
    return dynamodb_local.command(var_dir, port, db_path)


def emulator_command(
    *,
    port: int,
    gateway_url: str,
    store_path: Path | None,
    functions: list[str] | None = None,
    skip_time: bool = False,
    region: str = "us-east-1",
) -> list[str]:
    registry = function_registry(functions)
    store = ["--store-type", "sqlite", "--store-path", str(store_path)] if store_path else ["--store-type", "memory"]
    return [
        sys.executable,
        "-c",
        "import sys; from aws_durable_execution_sdk_python_testing.cli import main; sys.exit(main())",
        "start-server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lambda-endpoint",
        gateway_url,
        "--local-runner-endpoint",
        f"http://127.0.0.1:{port}",
        "--local-runner-region",
        region,
        "--log-level",
        "WARNING",
        *store,
        "--function-configs",
        json.dumps(emulator_function_configs(registry)),
        "--skip-time" if skip_time else "--no-skip-time",
    ]


def gateway_command(*, port: int, emulator_url: str, functions: list[str] | None = None) -> list[str]:
    extra = [arg for spec in functions or [] for arg in ("--function", spec)]
    return [sys.executable, "-m", "functions.gateway", "--port", str(port), "--emulator", emulator_url, *extra]
