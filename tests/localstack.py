"""Start the real local services for a test session: DynamoDB Local, the
durable-execution emulator and our Lambda gateway, each on a free port.

Processes run in their own process group and are killed at the end of the
session (and at interpreter exit), so no process outlives the tests.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from devstack import services
from devstack.paths import PROJECT_DIR, var_dir

TEST_REGION = "us-east-1"
TEST_INGEST_TOKEN = "test-ingest-token"


def push_env(console_url: str, token: str = TEST_INGEST_TOKEN) -> dict[str, str]:
    """The gateway environment that makes its functions report to a console at `console_url`: the push plugin
    (functions/console_push) and the gateway's own EventBridge-shaped execution status events."""
    return {
        "DURABLE_EXECUTION_PLUGINS": "durable-console",
        "DURABLE_CONSOLE_PUSH_URL": f"{console_url}/ingest/operations",
        "DURABLE_CONSOLE_PUSH_TOKEN": token,
        "LOCAL_EVENTBRIDGE_URL": f"{console_url}/ingest/eventbridge",
        "LOCAL_EVENTBRIDGE_TOKEN": token,
    }


@dataclass
class LocalStack:
    dynamodb_url: str
    gateway_url: str
    emulator_url: str
    table: str
    log_dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def env(self) -> dict[str, str]:
        """Environment for processes that talk to this stack (workers, the function)."""
        return {
            "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_url,
            "AWS_ENDPOINT_URL_LAMBDA": self.gateway_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": TEST_REGION,
            "AWS_REGION": TEST_REGION,
            "ORDERS_TABLE": self.table,
        }


def _spawn(
    name: str, command: list[str], log_dir: Path, env: dict[str, str], cwd: Path = PROJECT_DIR
) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        command,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=cwd,
        env={**os.environ, **env},
        start_new_session=True,
    )


def local_stack_start(
    *,
    log_dir: Path,
    table: str = "Orders",
    functions: list[str] | None = None,
    skip_time: bool = False,
    gateway_env: dict[str, str] | None = None,
) -> LocalStack:
    """`gateway_env`: extra environment of the gateway, where the functions run (e.g. the push plugin's)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    ddb_port, emulator_port, gateway_port = services.free_port(), services.free_port(), services.free_port()
    stack = LocalStack(
        dynamodb_url=f"http://127.0.0.1:{ddb_port}",
        gateway_url=f"http://127.0.0.1:{gateway_port}",
        emulator_url=f"http://127.0.0.1:{emulator_port}",
        table=table,
        log_dir=log_dir,
    )
    atexit.register(stack.stop)
    env = {**stack.env(), "PYTHONPATH": str(PROJECT_DIR)}
    try:
        stack.processes["dynamodb"] = _spawn(
            "dynamodb", services.dynamodb_command(var_dir(), ddb_port, None), log_dir, env, cwd=log_dir
        )
        stack.processes["emulator"] = _spawn(
            "emulator",
            services.emulator_command(
                port=emulator_port,
                gateway_url=stack.gateway_url,
                store_path=None,
                functions=functions,
                skip_time=skip_time,
                region=TEST_REGION,
            ),
            log_dir,
            env,
        )
        stack.processes["gateway"] = _spawn(
            "gateway",
            services.gateway_command(port=gateway_port, emulator_url=stack.emulator_url, functions=functions),
            log_dir,
            {**env, **(gateway_env or {})},
        )
        services.wait_for_http(stack.dynamodb_url, process=stack.processes["dynamodb"])
        services.wait_for_http(f"{stack.emulator_url}/health", process=stack.processes["emulator"])
        services.wait_for_http(f"{stack.gateway_url}/health", process=stack.processes["gateway"])
    except Exception:
        stack.stop()
        for name in stack.processes:
            sys.stderr.write(f"--- {name}.log ---\n{(log_dir / f'{name}.log').read_text(errors='replace')[-3000:]}\n")
        raise
    return stack
