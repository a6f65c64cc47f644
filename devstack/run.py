"""`make run`: start the whole local system and supervise it.

DynamoDB Local, the durable-execution emulator, the Lambda gateway (running the
order-approval function), a Celery worker, Celery beat, the Django dashboard and,
unless EMAIL_URL is set, an SMTP sink that keeps the console's emails under var/mail/,
in one log stream with a prefix per process. Ctrl-C stops everything it started.
Data lives under var/ and survives restarts.

Push, then poll: the functions in the gateway report to the dashboard's
/ingest/operations through the durable-console plugin, and the gateway sends the
EventBridge status change events AWS would to /ingest/eventbridge, both with the
ingest token of this run (INGEST_TOKEN if set, else a fresh one), which the web
and Celery processes get as INGEST_TOKEN.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from devstack import dynamodb_local, services
from devstack.paths import PROJECT_DIR, var_dir

# The in-function push plugin (functions/console_push): its entry point, as the durable-execution SDK finds it.
PUSH_PLUGIN = "durable-console"
PUSH_PLUGIN_GROUP = "aws_durable_execution.plugins"
CONSOLE_PROCESSES = ("web", "worker", "beat")  # the processes that check the ingest token

COLOURS = ["\033[36m", "\033[33m", "\033[35m", "\033[32m", "\033[34m", "\033[31m", "\033[37m"]
RESET = "\033[0m"


@dataclass(frozen=True)
class Ports:
    dashboard: int
    gateway: int
    dynamodb: int
    emulator: int
    mail: int | None  # the SMTP sink's port; None when EMAIL_URL names another server

    @classmethod
    def from_env(cls) -> Ports:
        return cls(
            dashboard=int(os.environ.get("DASHBOARD_PORT", "8000")),
            gateway=int(os.environ.get("LAMBDA_GATEWAY_PORT", "3001")),
            dynamodb=int(os.environ.get("DYNAMODB_LOCAL_PORT", "8100")),
            emulator=int(os.environ.get("DURABLE_EMULATOR_PORT", "5000")),
            mail=None if os.environ.get("EMAIL_URL") else int(os.environ.get("MAIL_SINK_PORT", "1025")),
        )


def ingest_token(environ: Mapping[str, str]) -> str:
    """The ingest token of this run: INGEST_TOKEN if set, else a fresh random one."""
    return environ.get("INGEST_TOKEN", "").strip() or secrets.token_urlsafe(32)


def push_plugin_installed() -> bool:
    """Whether the SDK would find the push plugin; naming a plugin it cannot find fails every durable function."""
    return bool(metadata.entry_points(group=PUSH_PLUGIN_GROUP, name=PUSH_PLUGIN))


def process_environments(
    *, dashboard_port: int, token: str, plugin_installed: bool, environ: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """What each process gets on top of the shared environment: the ingest token for the console's processes;
    for the gateway (where the functions run) the push plugin and the EventBridge events, both to this dashboard."""
    console = f"http://127.0.0.1:{dashboard_port}"
    plugins = environ.get("DURABLE_EXECUTION_PLUGINS", PUSH_PLUGIN if plugin_installed else "")
    gateway = {
        "DURABLE_EXECUTION_PLUGINS": plugins,
        "DURABLE_CONSOLE_PUSH_URL": f"{console}/ingest/operations",
        "DURABLE_CONSOLE_PUSH_TOKEN": token,
        "LOCAL_EVENTBRIDGE_URL": f"{console}/ingest/eventbridge",
        "LOCAL_EVENTBRIDGE_TOKEN": token,
    }
    return {"gateway": gateway, **{name: {"INGEST_TOKEN": token} for name in CONSOLE_PROCESSES}}


class Supervisor:
    def __init__(self, env: dict[str, str], process_env: dict[str, dict[str, str]] | None = None):
        self.env = env
        self.process_env = process_env or {}  # name -> variables only that process gets
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()
        self.failed = False
        self.lock = threading.Lock()
        self.width = 9

    def log(self, name: str, line: str) -> None:
        prefix = f"{name:<{self.width}}| "
        if sys.stdout.isatty():
            prefix = f"{COLOURS[sum(map(ord, name)) % len(COLOURS)]}{prefix}{RESET}"
        with self.lock:
            sys.stdout.write(prefix + line.rstrip("\n") + "\n")
            sys.stdout.flush()

    def start(self, name: str, command: list[str], cwd: Path = PROJECT_DIR) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env={**self.env, **self.process_env.get(name, {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
            bufsize=1,
        )
        self.processes[name] = process
        threading.Thread(target=self._pump, args=(name, process), daemon=True).start()
        return process

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.log(name, line)
        code = process.wait()
        if not self.stopping.is_set():
            self.log(name, f"exited with code {code}; stopping everything")
            self.failed = True
            self.stopping.set()

    def run_once(self, name: str, command: list[str]) -> None:
        """Run a set-up command to completion, streaming its output; fail loudly."""
        process = subprocess.run(command, cwd=PROJECT_DIR, env=self.env, capture_output=True, text=True)
        for line in (process.stdout + process.stderr).splitlines():
            self.log(name, line)
        if process.returncode != 0:
            raise SystemExit(f"{name} failed with code {process.returncode}")

    def stop(self) -> None:
        """SIGTERM each process (not its group: Celery's warm shutdown stops its own pool),
        then SIGKILL whatever is left of each process group."""
        self.stopping.set()
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _check_ports_free(ports: Ports) -> None:
    taken = [f"{label} {port}" for label, port in vars(ports).items() if port and services.port_open(port)]
    if taken:
        raise SystemExit(
            "These ports are already in use: "
            + ", ".join(taken)
            + ". Is another `make run` still running? Stop it, or choose other ports with "
            "DASHBOARD_PORT / LAMBDA_GATEWAY_PORT / DYNAMODB_LOCAL_PORT / DURABLE_EMULATOR_PORT / MAIL_SINK_PORT."
        )


def main() -> int:
    ports = Ports.from_env()
    var = var_dir()
    python = sys.executable
    try:
        dynamodb_command = dynamodb_local.command(var, ports.dynamodb, var / "dynamodb")
    except dynamodb_local.LocalStackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    _check_ports_free(ports)

    gateway_url = f"http://127.0.0.1:{ports.gateway}"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DURABLE_CONSOLE_ENV": "local",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{ports.dynamodb}",
        "AWS_ENDPOINT_URL_LAMBDA": gateway_url,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", os.environ.get("AWS_REGION", "us-east-1")),
        "AWS_REGION": os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
    }
    if ports.mail:
        env["MAIL_SINK_PORT"] = str(ports.mail)
    plugin_installed = push_plugin_installed()
    process_env = process_environments(
        dashboard_port=ports.dashboard, token=ingest_token(os.environ), plugin_installed=plugin_installed, environ=env
    )
    supervisor = Supervisor(env, process_env)
    if not plugin_installed:
        supervisor.log(
            "run",
            f"the push plugin ({PUSH_PLUGIN}) is not installed: the functions do not report their progress "
            "(pip install -e ./functions/console_push); the gateway's status events and the poller still run",
        )
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stopping.set())
    try:
        if ports.mail:
            supervisor.start("mail", services.mail_sink_command(port=ports.mail, folder=var / "mail"))
            services.wait_for_port(ports.mail, process=supervisor.processes["mail"])
        supervisor.start("dynamodb", dynamodb_command, cwd=dynamodb_local.working_dir(var))
        supervisor.start(
            "emulator",
            services.emulator_command(
                port=ports.emulator,
                gateway_url=gateway_url,
                store_path=var / "durable-executions.sqlite3",
                region=env["AWS_REGION"],
            ),
        )
        supervisor.start(
            "gateway", services.gateway_command(port=ports.gateway, emulator_url=f"http://127.0.0.1:{ports.emulator}")
        )
        for name, url, probe in (
            ("dynamodb", f"http://127.0.0.1:{ports.dynamodb}", ""),
            ("emulator", f"http://127.0.0.1:{ports.emulator}", "/health"),
            ("gateway", gateway_url, "/health"),
        ):
            services.wait_for_http(url + probe, process=supervisor.processes[name])
            supervisor.log(name, f"ready on {url}")

        supervisor.run_once("migrate", [python, "manage.py", "migrate", "--noinput"])
        supervisor.run_once("bootstrap", [python, "manage.py", "bootstrap_local"])
        seeded_marker = var / ".seeded"
        if not seeded_marker.exists():
            supervisor.run_once(
                "seed", [python, "manage.py", "seed_orders", "--count", os.environ.get("SEED_ORDERS", "6")]
            )
            seeded_marker.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))

        supervisor.start(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                os.environ.get("CELERY_CONCURRENCY", "2"),
                "--hostname",
                "worker@%h",
            ],
        )
        supervisor.start(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(var / "celerybeat-schedule"),
            ],
        )
        supervisor.start("web", [python, "manage.py", "runserver", "--noreload", f"127.0.0.1:{ports.dashboard}"])
        services.wait_for_http(f"http://127.0.0.1:{ports.dashboard}/healthz", process=supervisor.processes["web"])

        password_file = var / "demo-password"
        password = os.environ.get("DEMO_PASSWORD") or (
            password_file.read_text().strip() if password_file.exists() else "(see bootstrap output above)"
        )
        plugin_state = (
            "plugin -> /ingest/operations" if process_env["gateway"]["DURABLE_EXECUTION_PLUGINS"] else "plugin off"
        )
        token_source = "INGEST_TOKEN" if os.environ.get("INGEST_TOKEN", "").strip() else "generated for this run"
        banner = [
            "",
            f"Durable Console is up: http://127.0.0.1:{ports.dashboard}/",
            f"  sign in as approver, operator or admin — password: {password}",
            f"  health: http://127.0.0.1:{ports.dashboard}/healthz   Lambda gateway: {gateway_url}"
            f"   DynamoDB Local: http://127.0.0.1:{ports.dynamodb}",
            (
                f"  emails: var/mail/*.eml (SMTP sink on 127.0.0.1:{ports.mail})"
                if ports.mail
                else "  emails: sent through EMAIL_URL"
            ),
            f"  push: {plugin_state}, gateway status events -> /ingest/eventbridge; ingest token: {token_source}",
            "  Ctrl-C stops everything; data stays under var/.",
            "",
        ]
        for line in banner:
            supervisor.log("run", line)
        while not supervisor.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except (SystemExit, TimeoutError, RuntimeError) as error:
        supervisor.log("run", f"error: {error}")
        supervisor.stop()
        return 1
    finally:
        supervisor.log("run", "stopping ...")
        supervisor.stop()
    return 1 if supervisor.failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
